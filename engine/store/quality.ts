/**
 * The reads behind the data-quality report (engine/quality/): observations of the participating
 * states and their sub-national entities, the catalogue's plausible ranges, and the batches with
 * their Admiralty grades. Plain Kysely: the same SQL runs on PGlite and PostgreSQL.
 */
import { sql, type Kysely } from 'kysely';
import { ALL_DATA, type DataScope } from '../access/roles.ts';
import { ThreatLensError } from '../errors.ts';
import { seriesConfidenceInputs, type SeriesConfidenceInputs } from '../quality/confidence.ts';
import type { QualityReportInput } from '../quality/report.ts';
import type { QualityBatchInfo, QualityIndicatorInfo, QualityObservation, YearRange } from '../quality/types.ts';
import type { Database } from './schema.ts';
import { batchVisible } from './visibility.ts';

export interface QualityQuery {
  readonly batch?: number;
  readonly indicator?: string;
  readonly fromYear?: number;
  readonly toYear?: number;
  /** The batches the report may use (sharing rules); default every batch (the operator). */
  readonly scope?: DataScope;
}

interface RowFilter extends QualityQuery {
  readonly entity?: string;
  readonly indicators?: readonly string[];
}

/**
 * Observations with their source (the row's, else the batch's). With `batch`, the rows of that
 * batch and every other batch's rows of the same keys, so that cross-batch duplicates show.
 */
async function qualityRows(db: Kysely<Database>, filter: RowFilter, options = { participatingOnly: true }): Promise<QualityObservation[]> {
  let q = db
    .selectFrom('observations as o')
    .innerJoin('ingestion_batches as b', 'b.id', 'o.batch_id')
    .innerJoin('entities as e', 'e.code', 'o.entity_code')
    .leftJoin('entities as p', 'p.code', 'e.parent_code')
    .select([
      'o.entity_code',
      'o.indicator_code',
      'o.period',
      'o.period_kind',
      'o.year',
      'o.value',
      'o.value_qualifier',
      'o.batch_id',
      sql<string>`coalesce(o.row_source, b.source)`.as('source'),
      sql<string | null>`case when e.osce_status = 'participating' then e.code when p.osce_status = 'participating' then p.code end`.as('state'),
    ])
    .where(batchVisible(filter.scope ?? ALL_DATA, 'b'));
  // The report is about the participating states; sub-national entities (GB-SCT) count for their state.
  if (options.participatingOnly) q = q.where((eb) => eb.or([eb('e.osce_status', '=', 'participating'), eb('p.osce_status', '=', 'participating')]));
  if (filter.entity !== undefined) q = q.where('o.entity_code', '=', filter.entity);
  if (filter.indicator !== undefined) q = q.where('o.indicator_code', '=', filter.indicator);
  if (filter.indicators !== undefined) q = q.where('o.indicator_code', 'in', [...filter.indicators]);
  if (filter.fromYear !== undefined) q = q.where('o.year', '>=', filter.fromYear);
  if (filter.toYear !== undefined) q = q.where('o.year', '<=', filter.toYear);
  const batch = filter.batch;
  if (batch !== undefined) {
    q = q.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('observations as s')
          .select('s.batch_id')
          .where('s.batch_id', '=', batch)
          .whereRef('s.indicator_code', '=', 'o.indicator_code')
          .whereRef('s.entity_code', '=', 'o.entity_code')
          .whereRef('s.period', '=', 'o.period'),
      ),
    );
  }
  const rows = await q.execute();
  return rows.map((r) => ({
    entity: r.entity_code,
    indicator: r.indicator_code,
    period: r.period,
    periodKind: r.period_kind,
    year: r.year,
    value: r.value,
    qualifier: r.value_qualifier === '<' || r.value_qualifier === '>' ? r.value_qualifier : null,
    source: r.source,
    batchId: r.batch_id,
    ...(r.state ? { state: r.state } : {}),
  }));
}

export async function qualityBatches(db: Kysely<Database>, scope: DataScope = ALL_DATA): Promise<QualityBatchInfo[]> {
  const rows = await db
    .selectFrom('ingestion_batches')
    .select(['id', 'source', 'file_name', 'format', 'source_reliability', 'information_credibility', 'synthetic', 'created_at'])
    .where(batchVisible(scope))
    .orderBy('id')
    .execute();
  return rows.map((b) => ({
    id: b.id,
    source: b.source,
    fileName: b.file_name,
    format: b.format,
    sourceReliability: b.source_reliability,
    informationCredibility: b.information_credibility,
    synthetic: b.synthetic,
    createdAt: new Date(b.created_at).toISOString(),
  }));
}

async function qualityIndicators(db: Kysely<Database>, code?: string): Promise<QualityIndicatorInfo[]> {
  let q = db.selectFrom('indicators').select(['code', 'name', 'unit', 'plausible_min', 'plausible_max']).orderBy('code');
  if (code !== undefined) q = q.where('code', '=', code);
  const rows = await q.execute();
  return rows.map((i) => ({ code: i.code, name: i.name, unit: i.unit, plausibleMin: i.plausible_min, plausibleMax: i.plausible_max }));
}

export async function participatingStates(db: Kysely<Database>): Promise<string[]> {
  const rows = await db.selectFrom('entities').select('code').where('osce_status', '=', 'participating').orderBy('code').execute();
  return rows.map((r) => r.code);
}

/**
 * Everything `buildQualityReport` needs for a scope. An unknown batch or indicator is
 * TL_NOT_FOUND; an empty scope is an empty report, not an error.
 */
export async function loadQualityInput(db: Kysely<Database>, query: QualityQuery): Promise<QualityReportInput> {
  const [batches, indicators, states] = await Promise.all([qualityBatches(db, query.scope), qualityIndicators(db, query.indicator), participatingStates(db)]);
  if (query.batch !== undefined && !batches.some((b) => b.id === query.batch)) {
    // Said the same way whether it is absent or not shared: the answer must not reveal which.
    const shared = query.scope === undefined || query.scope.kind === 'all' ? '' : ' or is not shared with you (a stated purpose is needed for restricted data)';
    throw new ThreatLensError('TL_NOT_FOUND', `batch ${query.batch} does not exist${shared}; batch ids are printed by \`threatlens ingest\``);
  }
  if (query.indicator !== undefined && indicators.length === 0) {
    throw new ThreatLensError('TL_NOT_FOUND', `indicator "${query.indicator}" is not in the catalogue; GET /v1/indicators lists it`);
  }
  const rows = await qualityRows(db, query);
  return {
    rows,
    indicators,
    batches,
    states,
    scope: {
      ...(query.batch !== undefined ? { batch: query.batch } : {}),
      ...(query.indicator !== undefined ? { indicator: query.indicator } : {}),
      ...(query.fromYear !== undefined ? { from: query.fromYear } : {}),
      ...(query.toYear !== undefined ? { to: query.toYear } : {}),
    },
  };
}

/**
 * For the scoring engine's confidence levels: for one entity and a set of indicators, the share
 * of the window's years with a value, the years since the latest value (up to `referenceYear`,
 * default `window.to`), and the Admiralty grades of the batches behind the values.
 *
 * @example await entityIndicatorQuality(db, 'DEU', ['unodc_homicide_rate'], { from: 2013, to: 2022 })
 *   // [{ indicator: 'unodc_homicide_rate', coverageShare: 1, latestYear: 2022, yearsSinceLatest: 0, batches: [{ id: 1, admiralty: 'A2', ... }] }]
 */
export async function entityIndicatorQuality(
  db: Kysely<Database>,
  entity: string,
  indicators: readonly string[],
  window: YearRange,
  referenceYear: number = window.to,
  scope: DataScope = ALL_DATA,
): Promise<SeriesConfidenceInputs[]> {
  if (indicators.length === 0) return [];
  const [observations, batches] = await Promise.all([
    qualityRows(db, { entity, indicators, toYear: Math.max(window.to, referenceYear), scope }, { participatingOnly: false }),
    qualityBatches(db, scope),
  ]);
  return seriesConfidenceInputs(observations, indicators, window, referenceYear, batches);
}
