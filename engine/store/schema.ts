/**
 * Table types for Kysely. The tables themselves are created by the migrations in ./migrations;
 * this file is the one place their TypeScript shape is written down.
 */
import type { ColumnType, Generated, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, never>;
type Json<T> = ColumnType<T, string, string>;

export interface AgencyTable {
  code: string;
  name: string;
  created_at: Timestamp;
}

export interface EntityTable {
  code: string;
  name: string;
  kind: 'country' | 'region' | 'subnational';
  osce_status: 'participating' | 'partner_asian' | 'partner_mediterranean' | null;
  subregion: string | null;
  iso2: string | null;
  parent_code: string | null;
}

export interface IndicatorTable {
  code: string;
  name: string;
  unit: string;
  crime_area: string;
  polarity: 'higher_worse' | 'higher_better';
  description: string | null;
  source: string | null;
  plausible_min: number | null;
  plausible_max: number | null;
}

export interface IngestionBatchTable {
  id: Generated<number>;
  source: string;
  file_name: string;
  sha256: string;
  format: string;
  owner_agency: string;
  sharing_level: 'public' | 'restricted' | 'owner';
  /** Agencies a `restricted` batch is shared with (the owner always may read). */
  shared_with: ColumnType<string[], string[] | undefined, string[]>;
  /** Admiralty source reliability A-F (or Europol A, B, C, X). */
  source_reliability: string;
  /** Admiralty information credibility 1-6 (or Europol 1-4). */
  information_credibility: string;
  grading_scheme: 'admiralty' | 'europol_4x4';
  rows_read: number;
  rows_accepted: number;
  rows_rejected: number;
  synthetic: boolean;
  created_by: string;
  created_at: Timestamp;
  /** For a derived batch (format `derived-rate`): the batches it was computed from (migration 0002). */
  derived_from: ColumnType<number[], number[] | undefined, number[]>;
}

export interface ObservationTable {
  batch_id: number;
  entity_code: string;
  indicator_code: string;
  /** Canonical period text: `2020`, `2020-Q1`, `2020-03` (engine/period.ts). */
  period: string;
  period_kind: 'year' | 'quarter' | 'month';
  year: number;
  /** Null only when the value is censored without a bound or explicitly missing with a flag. */
  value: number | null;
  /** `<` or `>` for censored values such as `<5` (value holds the bound). */
  value_qualifier: string | null;
  /** Publisher flags and quality notes (`p` provisional, `e` estimated, ...). */
  flags: ColumnType<string[], string[] | undefined, string[]>;
  /** Row-level source as written in the file (a series can change source: a reporting break). */
  row_source: string | null;
}

export interface RiskScoreTable {
  method: string;
  year: number;
  entity_code: string;
  node_id: string;
  score: number | null;
  rank: number | null;
  indicators_used: number;
  data_version: string;
  computed_at: Timestamp;
}

export interface AssessmentTable {
  id: Generated<number>;
  entity_code: string | null;
  year: number;
  method: string;
  method_version: string;
  params_hash: string;
  data_version: string;
  code_version: string;
  seed: number | null;
  result: Json<unknown>;
  provenance: Json<unknown>;
  requested_by: string;
  purpose: string | null;
  created_at: Timestamp;
  /** The batches the assessment was computed from: reading it needs every one visible (migration 0004). */
  input_batches: ColumnType<number[], number[] | undefined, number[]>;
  /** Agency and role of who asked (migration 0004; null before). */
  requested_agency: string | null;
  requested_role: string | null;
}

/** API keys (migration 0004): only the SHA-256 of the key is stored; the key is shown once. */
export interface ApiKeyTable {
  id: string;
  name: string;
  agency: string;
  role: 'viewer' | 'analyst' | 'data_scientist' | 'oversight' | 'admin';
  secret_hash: string;
  created_by: string;
  created_at: Timestamp;
  expires_at: ColumnType<Date, Date | string, Date | string>;
  revoked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  revoked_by: string | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: Timestamp;
  actor: string;
  agency: string | null;
  role: string | null;
  action: string;
  details: Json<unknown>;
  purpose: string | null;
  outcome: string;
  /** Hash of the previous entry (hash chain; issue 6 adds verification and write protection). */
  prev_hash: string;
  hash: string;
}

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobTable {
  id: Generated<number>;
  kind: string;
  model_name: string | null;
  params: Json<Record<string, unknown>>;
  state: JobState;
  percent: ColumnType<number, number | undefined, number>;
  /** Metrics so far and the current step, for `GET /v1/jobs/:id`. */
  progress: Json<Record<string, unknown>>;
  message: string | null;
  result: Json<unknown> | null;
  error: string | null;
  requested_by: string;
  claimed_by: string | null;
  cancel_requested: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Timestamp;
  started_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  heartbeat_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  finished_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export type ModelStatus = 'candidate' | 'production' | 'retired';

export interface ModelTable {
  name: string;
  version: number;
  type: string;
  hyperparameters: Json<Record<string, unknown>>;
  seed: number;
  data_version: string;
  code_version: string;
  metrics: Json<Record<string, unknown>>;
  model_card: Json<Record<string, unknown>>;
  trained_by: string;
  status: ModelStatus;
  job_id: number | null;
  created_at: Timestamp;
  promoted_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface ModelArtifactTable {
  model_name: string;
  model_version: number;
  /** `model.json` (TensorFlow.js topology and weight manifest), `weights.bin`, `forest.json`, ... */
  kind: string;
  content_type: string;
  content: Uint8Array;
  sha256: string;
}

export interface AnomalyRunTable {
  id: Generated<number>;
  data_version: string;
  code_version: string;
  detectors: Json<Record<string, unknown>>;
  cells_scored: number;
  flags: number;
  created_by: string;
  created_at: Timestamp;
}

export interface AnomalyFlagTable {
  run_id: number;
  entity_code: string;
  indicator_code: string;
  period: string;
  year: number;
  detector: string;
  score: number;
  severity: 'low' | 'medium' | 'high';
  value: number | null;
  expected: number | null;
  interval_low: number | null;
  interval_high: number | null;
  attributions: Json<unknown>;
  likely_cause: 'data_problem' | 'real_change' | 'unclear';
  reason: string;
  batch_ids: ColumnType<number[], number[] | undefined, number[]>;
}

/** Published reports (migration 0005): immutable; a trigger refuses UPDATE, DELETE and TRUNCATE. */
export interface ReportTable {
  id: Generated<number>;
  reference: string;
  kind: 'entity' | 'region';
  title: string;
  entity_code: string | null;
  region: string | null;
  entities: ColumnType<string[], string[], never>;
  framework_id: string;
  framework_version: string;
  params_hash: string;
  year: number;
  crime_areas: ColumnType<string[], string[], never>;
  handling_level: 'public' | 'restricted' | 'owner';
  allowed_agencies: ColumnType<string[], string[], never>;
  input_batches: ColumnType<number[], number[], never>;
  assessment_id: number | null;
  data_version: string;
  code_version: string;
  renderer_version: string;
  seed: number | null;
  runs: number | null;
  inputs_json: string;
  inputs_sha256: string;
  provenance: Json<unknown>;
  summary: string;
  search_text: string;
  /** Generated: title (A), summary (B), search_text (C), English stemming. */
  search: ColumnType<string, never, never>;
  html: string;
  html_sha256: string;
  pdf: Uint8Array | null;
  pdf_sha256: string | null;
  published_by: string;
  published_agency: string | null;
  published_role: string | null;
  purpose: string | null;
  published_at: ColumnType<Date, Date | string, never>;
}

export interface Database {
  agencies: AgencyTable;
  entities: EntityTable;
  indicators: IndicatorTable;
  ingestion_batches: IngestionBatchTable;
  observations: ObservationTable;
  risk_scores: RiskScoreTable;
  assessments: AssessmentTable;
  audit_log: AuditLogTable;
  api_keys: ApiKeyTable;
  jobs: JobTable;
  models: ModelTable;
  model_artifacts: ModelArtifactTable;
  anomaly_runs: AnomalyRunTable;
  anomaly_flags: AnomalyFlagTable;
  reports: ReportTable;
}

export type IngestionBatch = Selectable<IngestionBatchTable>;
