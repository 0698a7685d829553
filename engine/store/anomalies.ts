/**
 * Stored detections: one `anomaly_runs` row per run of the production detectors over one data
 * version, and its flags (cells scored `low` or above) in `anomaly_flags`, written together in one
 * transaction with an audit entry, so that a run is either wholly there or not at all.
 * A run is up to date when its data_version equals dataVersion() (engine/store/observations.ts).
 */
import type { Kysely } from 'kysely';
import type { DataScope } from '../access/roles.ts';
import type { Attribution, CellScore, LikelyCause, Severity } from '../anomaly/types.ts';
import { appendAudit } from './audit.ts';
import type { Database } from './schema.ts';
import { batchArrayVisible } from './visibility.ts';

export type FlagSeverity = Exclude<Severity, 'none'>;

export interface AnomalyRunInput {
  readonly dataVersion: string;
  readonly codeVersion: string;
  /** The detectors that ran: {detector: {version, params}} (model versions where a model ran). */
  readonly detectors: Record<string, unknown>;
  readonly cellsScored: number;
  readonly createdBy: string;
  /** The flags to store; cells below `low` are refused (they are not flags). */
  readonly flags: readonly StoredFlagInput[];
}

/** A flag to store: a cell score and the batches its values came from. */
export interface StoredFlagInput extends CellScore {
  readonly batchIds: readonly number[];
}

export interface AnomalyRun {
  readonly id: number;
  readonly dataVersion: string;
  readonly codeVersion: string;
  readonly detectors: Record<string, unknown>;
  readonly cellsScored: number;
  readonly flags: number;
  readonly createdBy: string;
  readonly createdAt: Date;
}

export interface StoredFlag extends CellScore {
  readonly runId: number;
  readonly year: number;
  readonly severity: FlagSeverity;
  readonly batchIds: readonly number[];
}

const INSERT_CHUNK = 500;
const SEVERITY_RANK: Readonly<Record<Severity, number>> = { none: 0, low: 1, medium: 2, high: 3 };

function yearOf(period: string, where: string): number {
  const match = /^(\d{4})(?:$|-)/.exec(period);
  if (!match) throw new Error(`${where}: period "${period}" is not canonical (2020, 2020-Q1, 2020-03)`);
  return Number(match[1]);
}

/** Stores a run and its flags in one transaction (with its audit entry); returns the run. */
export async function saveAnomalyRun(db: Kysely<Database>, input: AnomalyRunInput): Promise<AnomalyRun> {
  input.flags.forEach((f, i) => {
    const where = `saveAnomalyRun: flag ${i} (${f.entity}, ${f.indicator}, ${f.period}, ${f.detector})`;
    if (f.severity === 'none') throw new Error(`${where} has severity none; only cells scored low or above are stored`);
    if (!(f.score >= 0 && f.score <= 1)) throw new Error(`${where}: score ${f.score} is outside [0, 1]`);
    yearOf(f.period, where);
  });
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('anomaly_runs')
      .values({
        data_version: input.dataVersion,
        code_version: input.codeVersion,
        detectors: JSON.stringify(input.detectors),
        cells_scored: input.cellsScored,
        flags: input.flags.length,
        created_by: input.createdBy,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    for (let i = 0; i < input.flags.length; i += INSERT_CHUNK) {
      await trx
        .insertInto('anomaly_flags')
        .values(
          input.flags.slice(i, i + INSERT_CHUNK).map((f) => ({
            run_id: row.id,
            entity_code: f.entity,
            indicator_code: f.indicator,
            period: f.period,
            year: yearOf(f.period, 'saveAnomalyRun'),
            detector: f.detector,
            score: f.score,
            severity: f.severity as FlagSeverity,
            value: f.value,
            expected: f.expected ?? null,
            interval_low: f.interval?.[0] ?? null,
            interval_high: f.interval?.[1] ?? null,
            attributions: JSON.stringify(f.attributions),
            likely_cause: f.likelyCause,
            reason: f.reason,
            batch_ids: [...new Set(f.batchIds)].sort((a, b) => a - b),
          })),
        )
        .execute();
    }
    await appendAudit(trx, {
      actor: input.createdBy,
      action: 'anomaly-run',
      details: { runId: row.id, dataVersion: input.dataVersion, cellsScored: input.cellsScored, flags: input.flags.length, detectors: Object.keys(input.detectors) },
      outcome: 'ok',
    });
    return runFromRow(row);
  });
}

function runFromRow(row: {
  id: number;
  data_version: string;
  code_version: string;
  detectors: unknown;
  cells_scored: number;
  flags: number;
  created_by: string;
  created_at: Date;
}): AnomalyRun {
  return {
    id: row.id,
    dataVersion: row.data_version,
    codeVersion: row.code_version,
    detectors: (typeof row.detectors === 'string' ? JSON.parse(row.detectors) : row.detectors) as Record<string, unknown>,
    cellsScored: row.cells_scored,
    flags: row.flags,
    createdBy: row.created_by,
    createdAt: row.created_at,
  };
}

/** The most recent run, or the most recent one over the given data version; null when none. */
export async function latestAnomalyRun(db: Kysely<Database>, dataVersion?: string): Promise<AnomalyRun | null> {
  let q = db.selectFrom('anomaly_runs').selectAll().orderBy('id', 'desc').limit(1);
  if (dataVersion !== undefined) q = q.where('data_version', '=', dataVersion);
  const row = await q.executeTakeFirst();
  return row ? runFromRow(row) : null;
}

export interface AnomalyQuery {
  readonly entity?: string;
  readonly indicator?: string;
  /** First and last year (inclusive) of the flagged periods. */
  readonly from?: number;
  readonly to?: number;
  /** The lowest severity wanted: `medium` returns medium and high flags. */
  readonly severity?: FlagSeverity;
  /** A run; default the latest run. */
  readonly runId?: number;
  /** One detector (`ensemble` for the combined verdict); default all. */
  readonly detector?: string;
  /** The batches the reader may use (sharing rules): only flags whose batches are all visible. Default every batch. */
  readonly scope?: DataScope;
}

/**
 * Flags of one run (default the latest), highest score first, then by entity, indicator, period.
 * Returns [] when no run is stored.
 */
export async function queryAnomalies(db: Kysely<Database>, query: AnomalyQuery = {}): Promise<StoredFlag[]> {
  let runId = query.runId;
  if (runId === undefined) {
    const latest = await latestAnomalyRun(db);
    if (!latest) return [];
    runId = latest.id;
  }
  if (query.severity !== undefined && !(query.severity in SEVERITY_RANK && query.severity !== ('none' as Severity))) {
    throw new Error(`queryAnomalies: severity must be low, medium or high, got "${query.severity}"`);
  }
  let q = db
    .selectFrom('anomaly_flags')
    .selectAll()
    .where('run_id', '=', runId)
    .orderBy('score', 'desc')
    .orderBy('entity_code')
    .orderBy('indicator_code')
    .orderBy('period')
    .orderBy('detector');
  if (query.entity !== undefined) q = q.where('entity_code', '=', query.entity);
  if (query.indicator !== undefined) q = q.where('indicator_code', '=', query.indicator);
  if (query.from !== undefined) q = q.where('year', '>=', query.from);
  if (query.to !== undefined) q = q.where('year', '<=', query.to);
  if (query.detector !== undefined) q = q.where('detector', '=', query.detector);
  if (query.severity !== undefined) {
    const wanted = (['low', 'medium', 'high'] as const).filter((s) => SEVERITY_RANK[s] >= SEVERITY_RANK[query.severity!]);
    q = q.where('severity', 'in', wanted);
  }
  if (query.scope !== undefined) q = q.where(batchArrayVisible(query.scope, 'batch_ids'));
  const rows = await q.execute();
  return rows.map((r) => ({
    runId: r.run_id,
    entity: r.entity_code,
    indicator: r.indicator_code,
    period: r.period,
    year: r.year,
    detector: r.detector,
    score: r.score,
    severity: r.severity,
    value: r.value,
    expected: r.expected,
    interval: r.interval_low !== null && r.interval_high !== null ? ([r.interval_low, r.interval_high] as const) : null,
    attributions: (typeof r.attributions === 'string' ? JSON.parse(r.attributions) : r.attributions) as Attribution[],
    likelyCause: r.likely_cause as LikelyCause,
    reason: r.reason,
    batchIds: r.batch_ids,
  }));
}
