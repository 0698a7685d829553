/**
 * Running a framework on the store: the dashboards' scores of a year, and assessments with their
 * provenance. Reads through engine/store, computes with the pure functions of engine/scoring.
 * Each takes a data scope (engine/access): the result is computed only from the batches that
 * scope may use, so that no score, rank or explanation carries data its reader may not see.
 */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { OSCE_PARTICIPATING_ISO3 } from '../../datasets/reference/osce.ts';
import { ALL_DATA, type DataScope } from '../access/roles.ts';
import { ThreatLensError } from '../errors.ts';
import { canonicalJson } from '../store/audit.ts';
import { insertAssessment, type StoredAssessment } from '../store/assessments.ts';
import { listEntities, listIndicators } from '../store/catalogue.ts';
import { dataVersion } from '../store/observations.ts';
import { batchesByIndicator, loadPanelWithBatches, type IndicatorBatch } from '../store/panels.ts';
import type { Database } from '../store/schema.ts';
import type { CrimeArea, Polarity } from '../types.ts';
import { latestAnomalyRun, queryAnomalies } from '../store/anomalies.ts';
import { codeVersion } from '../version.ts';
import { ASSESSMENT_DEFAULTS, assess, type AssessmentContext, type AssessmentOptions, type AssessmentResult } from './assessment.ts';
import { BAND_LABELS } from './bands.ts';
import type { Framework } from './framework.ts';
import { frameworkIndicators, frameworkInputs } from './framework-scores.ts';
import { runPipeline } from './pipeline.ts';

const paramsHashes = new WeakMap<Framework, string>();

/** A hash of everything that decides a framework's scores: its whole parsed definition (computed once per framework object: they are not changed once parsed). */
export function frameworkParamsHash(framework: Framework): string {
  let hash = paramsHashes.get(framework);
  if (hash === undefined) paramsHashes.set(framework, (hash = createHash('sha256').update(canonicalJson(framework)).digest('hex').slice(0, 16)));
  return hash;
}

/**
 * Loads what an assessment of `year` needs: the OSCE participating states, the trend window, and
 * the batches behind each indicator (their grades for confidence, their hashes for provenance).
 */
export async function loadAssessmentContext(
  db: Kysely<Database>,
  framework: Framework,
  year: number,
  trendYears: number = ASSESSMENT_DEFAULTS.trendYears,
  scope: DataScope = ALL_DATA,
): Promise<{ context: AssessmentContext; batches: Map<string, IndicatorBatch[]>; inputBatches: number[] }> {
  const [indicators, entities] = await Promise.all([listIndicators(db), listEntities(db)]);
  const inputs = frameworkInputs(framework);
  // The look-back of imputation reaches further back than the trend window: 10 years covers both.
  const { panel, batchIds } = await loadPanelWithBatches(db, { indicators: inputs, entities: OSCE_PARTICIPATING_ISO3, fromYear: year - trendYears - 10, toYear: year, scope });
  const batches = await batchesByIndicator(db, frameworkIndicators(framework), scope);
  // The inputs are the batches of the values and of the grades (grades feed confidence, an explanation).
  const inputBatches = [...new Set([...batchIds, ...[...batches.values()].flat().map((b) => b.batchId)])].sort((a, b) => a - b);
  const context: AssessmentContext = {
    framework,
    panel,
    polarities: new Map(indicators.map((i) => [i.code, i.polarity as Polarity])),
    crimeAreas: new Map(indicators.map((i) => [i.code, i.crime_area as CrimeArea])),
    indicatorNames: new Map(indicators.map((i) => [i.code, i.name])),
    entityNames: new Map(entities.map((e) => [e.code, e.name])),
    groups: new Map(entities.filter((e) => e.subregion).map((e) => [e.code, e.subregion!])),
    grades: new Map([...batches].map(([code, list]) => [code, list.map(({ scheme, source, information }) => ({ scheme, source, information }))])),
  };
  return { context, batches, inputBatches };
}

export interface AssessmentRequest extends AssessmentOptions {
  readonly requestedBy: string;
  readonly purpose?: string | null;
  /** Agency and role of the requester (the API's principal), recorded with the assessment. */
  readonly requestedAgency?: string | null;
  readonly requestedRole?: string | null;
  /** Extra facts for the audit entry. */
  readonly auditDetails?: Record<string, unknown>;
}

/**
 * Computes an assessment from the batches `scope` may use (default all: the operator) and stores
 * it with its provenance and input batches; returns the stored record.
 */
export type LoadedAssessmentContext = Awaited<ReturnType<typeof loadAssessmentContext>>;

/**
 * How createAssessment gets its inputs and runs the computation. The default reads everything and
 * computes in this thread (the CLI, reports); the API (api/compute/assessments.ts) reuses contexts
 * and results per data version and computes in worker threads, off the event loop.
 */
export interface AssessmentCompute {
  /** The data version of `scope` (read, or remembered by the caller). */
  dataVersion(db: Kysely<Database>, scope: DataScope): Promise<{ version: string }>;
  /** The inputs of an assessment; `version` is the data version they must belong to. */
  loadContext(db: Kysely<Database>, framework: Framework, year: number, trendYears: number | undefined, scope: DataScope, version: string): Promise<LoadedAssessmentContext>;
  /** The computation: deterministic for the same context and options (seeded). */
  assess(context: AssessmentContext, options: AssessmentOptions, version: string): Promise<AssessmentResult>;
  /** The anomaly flags stored for `version` that an assessment reports (read, or remembered). */
  anomalyFlags(db: Kysely<Database>, version: string, scope: DataScope, entity: string | undefined, year: number): Promise<AssessmentAnomalyFlags | null>;
}

export const IN_THREAD_COMPUTE: AssessmentCompute = {
  dataVersion: (db, scope) => dataVersion(db, scope),
  loadContext: (db, framework, year, trendYears, scope) => loadAssessmentContext(db, framework, year, trendYears, scope),
  assess: async (context, options) => assess(context, options),
  anomalyFlags: (db, version, scope, entity, year) => anomalyFlagsFor(db, version, scope, entity, year),
};

export async function createAssessment(
  db: Kysely<Database>,
  framework: Framework,
  request: AssessmentRequest,
  scope: DataScope = ALL_DATA,
  compute: AssessmentCompute = IN_THREAD_COMPUTE,
): Promise<StoredAssessment> {
  if (request.entity !== undefined && !OSCE_PARTICIPATING_ISO3.includes(request.entity)) {
    throw new ThreatLensError('TL_BAD_OPTION', `entity "${request.entity}" is not one of the 57 OSCE participating states (ISO3 codes, e.g. ALB)`);
  }
  const version = await compute.dataVersion(db, scope);
  const { context, batches, inputBatches } = await compute.loadContext(db, framework, request.year, request.trendYears, scope, version.version);
  if (!context.panel.values.some((v) => !Number.isNaN(v))) {
    throw new ThreatLensError('TL_NO_SCORES', `no data for framework ${framework.id} up to ${request.year}: ingest its indicators first (GET /v1/frameworks lists them)`);
  }
  const { requestedBy, purpose, requestedAgency, requestedRole, auditDetails, ...options } = request;
  const result = await compute.assess(context, options, version.version);
  const used = [...new Map([...batches.values()].flat().map((b) => [b.batchId, { id: b.batchId, sha256: b.sha256, grade: `${b.source}${b.information}`, scheme: b.scheme }])).values()].sort((a, b) => a.id - b.id);
  const paramsHash = frameworkParamsHash(framework);
  const anomalies = await compute.anomalyFlags(db, version.version, scope, request.entity, request.year);
  return insertAssessment(db, {
    resultJson: storedResultJson(result, anomalies),
    entity: request.entity ?? null,
    year: request.year,
    method: framework.id,
    methodVersion: framework.version,
    paramsHash,
    dataVersion: version.version,
    codeVersion: codeVersion(),
    seed: result.method.seed,
    result: { ...result, anomalies },
    provenance: {
      dataVersion: version.version,
      batches: used,
      framework: { id: framework.id, version: framework.version, paramsHash },
      method: result.method,
      codeVersion: codeVersion(),
      units: 'OSCE participating states',
    },
    requestedBy,
    purpose: purpose ?? null,
    requestedAgency: requestedAgency ?? null,
    requestedRole: requestedRole ?? null,
    inputBatches,
    indicators: frameworkIndicators(framework),
    ...(auditDetails ? { auditDetails } : {}),
  });
}

/** Anomaly flags of none, as a key. */
const NO_FLAGS = {};
const resultJsons = new WeakMap<AssessmentResult, WeakMap<object, string>>();

/**
 * The stored result (`{ ...result, anomalies }`) as JSON, made once per computed result and flags.
 * A warm assessment reuses both objects (remembered per data version and seed), and writing its
 * 15 kB of JSON for the insert and again for the answer was a fifth of its CPU.
 */
function storedResultJson(result: AssessmentResult, anomalies: AssessmentAnomalyFlags | null): string {
  let byFlags = resultJsons.get(result);
  if (!byFlags) resultJsons.set(result, (byFlags = new WeakMap()));
  const key = anomalies ?? NO_FLAGS;
  let json = byFlags.get(key);
  if (json === undefined) byFlags.set(key, (json = JSON.stringify({ ...result, anomalies })));
  return json;
}

export interface FrameworkScoreTable {
  readonly framework: { readonly id: string; readonly version: string; readonly paramsHash: string };
  readonly year: number;
  readonly dataVersion: string;
  /** The batches whose values went into the table. */
  readonly inputBatches: readonly number[];
  readonly nodes: readonly string[];
  readonly roots: readonly string[];
  readonly rows: readonly {
    readonly entity: string;
    readonly name: string;
    readonly subregion: string | null;
    readonly scores: Readonly<Record<string, number | null>>;
    readonly rank: number | null;
    readonly band: string | null;
  }[];
}

/**
 * The nominal scores of every participating state for a year (no Monte Carlo): the dashboards'
 * table, from the batches `scope` may use.
 */
export async function frameworkScoreTable(db: Kysely<Database>, framework: Framework, year: number, scope: DataScope = ALL_DATA): Promise<FrameworkScoreTable> {
  // The dashboards' hot path: the panel and the catalogue only, no batch grades.
  const [indicators, entities] = await Promise.all([listIndicators(db), listEntities(db, { osceStatus: 'participating' })]);
  const { panel, batchIds } = await loadPanelWithBatches(db, { indicators: frameworkInputs(framework), entities: OSCE_PARTICIPATING_ISO3, fromYear: year - 10, toYear: year, scope });
  const groups = new Map(entities.filter((e) => e.subregion).map((e) => [e.code, e.subregion!]));
  const result = runPipeline(framework, panel, { year, polarities: new Map(indicators.map((i) => [i.code, i.polarity as Polarity])), groups });
  const version = await dataVersion(db, scope);
  const names = new Map(entities.map((e) => [e.code, e.name]));
  const main = result.roots[0]!;
  const value = (x: number) => (Number.isNaN(x) ? null : Math.round(x * 1000) / 1000);
  return {
    framework: { id: framework.id, version: framework.version, paramsHash: frameworkParamsHash(framework) },
    year,
    dataVersion: version.version,
    inputBatches: batchIds,
    nodes: result.nodeIds,
    roots: result.roots,
    rows: result.entities.map((entity, i) => ({
      entity,
      name: names.get(entity) ?? entity,
      subregion: groups.get(entity) ?? null,
      scores: Object.fromEntries(result.nodeIds.map((id) => [id, value(result.scores[id]![i]!)])),
      rank: value(result.ranks[main]![i]!),
      band: result.bands[main]![i]! < 0 ? null : BAND_LABELS[result.bands[main]![i]!]!,
    })),
  };
}

export type { AssessmentResult };

/** Years before the assessed year whose anomaly flags an assessment carries. */
export const ASSESSMENT_FLAG_YEARS = 3;

/**
 * The anomaly flags (the ensemble's verdicts) that concern an assessment: its state (or all), its
 * year and the two before, from the stored anomaly run over the same data version. Null when no
 * such run is stored: assessments do not run the detectors (GET /v1/anomalies does).
 */
export type AssessmentAnomalyFlags = NonNullable<Awaited<ReturnType<typeof anomalyFlagsFor>>>;

/** The flags of the latest anomaly run on `version` for the assessed entity and recent years. */
export async function anomalyFlagsFor(db: Kysely<Database>, version: string, scope: DataScope, entity: string | undefined, year: number) {
  const run = await latestAnomalyRun(db, version);
  if (!run) return null;
  const flags = await queryAnomalies(db, {
    runId: run.id,
    detector: 'ensemble',
    from: year - ASSESSMENT_FLAG_YEARS + 1,
    to: year,
    scope,
    ...(entity !== undefined ? { entity } : {}),
  });
  return {
    runId: run.id,
    dataVersion: run.dataVersion,
    detectors: run.detectors,
    flags: flags.map(({ runId: _r, year: _y, ...f }) => f),
  };
}
