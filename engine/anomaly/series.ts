/**
 * The series the detectors read: from the store (current values, latest batch wins, as
 * engine/store/observations.ts reads them for scoring) or from the demo generator's rows.
 *
 * A series is one (entity, indicator, period kind), its points in period order with the row's
 * source and batch. Where the catalogue has a rate plan (a count indicator with `ratePer100k`),
 * the points of the rate series carry the count and the population behind the rate, so that the
 * detectors can allow for count noise (a rate of 3 offences jumps by chance).
 */
import type { Kysely } from 'kysely';
import { BUILTIN_INDICATORS } from '../../datasets/reference/indicators.ts';
import type { DemoRow } from '../../datasets/demo/generate.ts';
import { ratePlans, type RatePlan } from '../ingest/rates.ts';
import type { DataScope } from '../access/roles.ts';
import type { Database } from '../store/schema.ts';
import { batchIdVisible } from '../store/visibility.ts';
import type { PeriodKind, Series, SeriesPoint } from './types.ts';

export interface SeriesQuery {
  readonly entity?: string;
  readonly indicator?: string;
  readonly fromYear?: number;
  readonly toYear?: number;
  /** The rate plans that link a rate to its count and population; default: the built-in catalogue's. */
  readonly ratePlans?: readonly RatePlan[];
  /** The batches the read may use (sharing rules); default every batch (a production run). */
  readonly scope?: DataScope;
}

/** One current observation: the value of the most recent batch that holds the cell. */
export interface CurrentObservation {
  readonly entity: string;
  readonly indicator: string;
  readonly period: string;
  readonly periodKind: PeriodKind;
  readonly year: number;
  readonly value: number;
  readonly source: string | null;
  readonly batchId: number;
}

/**
 * Current values of every period kind with their row source and batch. The rule is that of
 * currentAnnualValues (engine/store/observations.ts: per cell, the highest batch id wins, null
 * values skipped); that function returns annual values without source or batch, which the
 * detectors need (a source change marks a reporting break; flags name their batches).
 */
export async function currentObservations(
  db: Kysely<Database>,
  query: Pick<SeriesQuery, 'entity' | 'indicator' | 'fromYear' | 'toYear' | 'scope'> & { readonly indicators?: readonly string[] } = {},
): Promise<CurrentObservation[]> {
  let q = db
    .selectFrom('observations')
    .select(['entity_code', 'indicator_code', 'period', 'period_kind', 'year', 'value', 'row_source', 'batch_id'])
    .distinctOn(['entity_code', 'indicator_code', 'period'])
    .where('value', 'is not', null)
    .orderBy('entity_code')
    .orderBy('indicator_code')
    .orderBy('period')
    .orderBy('batch_id', 'desc');
  if (query.entity !== undefined) q = q.where('entity_code', '=', query.entity);
  if (query.indicator !== undefined) q = q.where('indicator_code', '=', query.indicator);
  if (query.indicators !== undefined) {
    if (query.indicators.length === 0) return [];
    q = q.where('indicator_code', 'in', [...query.indicators]);
  }
  if (query.fromYear !== undefined) q = q.where('year', '>=', query.fromYear);
  if (query.toYear !== undefined) q = q.where('year', '<=', query.toYear);
  // With a scope, the latest batch the scope may use wins (as currentAnnualValues does).
  if (query.scope !== undefined && query.scope.kind !== 'all') q = q.where(batchIdVisible(query.scope, 'batch_id'));
  const rows = await q.execute();
  return rows.map((r) => ({
    entity: r.entity_code,
    indicator: r.indicator_code,
    period: r.period,
    periodKind: r.period_kind,
    year: r.year,
    value: r.value as number,
    source: r.row_source,
    batchId: r.batch_id,
  }));
}

const seriesKeyOf = (entity: string, indicator: string, kind: PeriodKind) => `${entity}\u0000${indicator}\u0000${kind}`;

/** An observation as grouped into a series: batch, count and population where known. */
type PointSource = Omit<CurrentObservation, 'batchId'> & { readonly batchId?: number; readonly count?: number; readonly population?: number };

/** Groups observations into series, points in period order (canonical period text sorts in time). */
function groupSeries(observations: readonly PointSource[]): Series[] {
  const bySeries = new Map<string, { entity: string; indicator: string; periodKind: PeriodKind; points: SeriesPoint[] }>();
  for (const o of observations) {
    const key = seriesKeyOf(o.entity, o.indicator, o.periodKind);
    let series = bySeries.get(key);
    if (!series) {
      series = { entity: o.entity, indicator: o.indicator, periodKind: o.periodKind, points: [] };
      bySeries.set(key, series);
    }
    series.points.push({
      period: o.period,
      value: o.value,
      source: o.source,
      ...(o.batchId !== undefined ? { batchId: o.batchId } : {}),
      ...(o.count !== undefined ? { count: o.count } : {}),
      ...(o.population !== undefined ? { population: o.population } : {}),
    });
  }
  const out = [...bySeries.values()];
  for (const s of out) s.points.sort((a, b) => (a.period < b.period ? -1 : a.period > b.period ? 1 : 0));
  return out.sort(compareSeries);
}

export function compareSeries(a: Series, b: Series): number {
  return a.entity < b.entity ? -1 : a.entity > b.entity ? 1 : a.indicator < b.indicator ? -1 : a.indicator > b.indicator ? 1 : a.periodKind < b.periodKind ? -1 : a.periodKind > b.periodKind ? 1 : 0;
}

/**
 * The current series in the store. With rate plans, each annual rate point gets the count of the
 * same entity and year and the population the rate implies (count x 100,000 / rate; the stored
 * population where the rate is 0), so that published and derived rates are treated alike.
 */
export async function loadSeries(db: Kysely<Database>, query: SeriesQuery = {}): Promise<Series[]> {
  const observations = await currentObservations(db, query);
  const plans = query.ratePlans ?? ratePlans(BUILTIN_INDICATORS);
  const wanted = new Set(observations.map((o) => o.indicator));
  const usedPlans = plans.filter((p) => wanted.has(p.rate));
  if (usedPlans.length === 0) return groupSeries(observations);

  // Counts and populations of the rate series, read separately: an indicator filter on the rate
  // must not hide its count.
  const support = await currentObservations(db, {
    ...(query.entity !== undefined ? { entity: query.entity } : {}),
    ...(query.fromYear !== undefined ? { fromYear: query.fromYear } : {}),
    ...(query.toYear !== undefined ? { toYear: query.toYear } : {}),
    ...(query.scope !== undefined ? { scope: query.scope } : {}),
    indicators: [...new Set(usedPlans.flatMap((p) => [p.count, p.denominator]))],
  });
  const annual = new Map<string, number>();
  for (const o of support) if (o.periodKind === 'year') annual.set(`${o.indicator}|${o.entity}|${o.year}`, o.value);
  const planOf = new Map(usedPlans.map((p) => [p.rate, p]));
  const linked = observations.map((o): PointSource => {
    const plan = planOf.get(o.indicator);
    if (!plan || o.periodKind !== 'year') return o;
    const count = annual.get(`${plan.count}|${o.entity}|${o.year}`);
    if (count === undefined) return o;
    const population = o.value > 0 && count > 0 ? (count * 100_000) / o.value : annual.get(`${plan.denominator}|${o.entity}|${o.year}`);
    return population === undefined ? { ...o, count } : { ...o, count, population };
  });
  return groupSeries(linked);
}

export interface DemoSeriesOptions {
  /** Only these indicators (e.g. the rate series); default all but the population. */
  readonly indicators?: readonly string[];
}

/**
 * Series from the demo generator's rows (datasets/demo/generate.ts generateDemoPanel), with the
 * row's source; no batch (the rows were never stored). The demo draws rates from a log-normal
 * model, not from counts, so no count or population is attached: a count-noise allowance would
 * describe noise the data does not have.
 */
export function seriesFromDemoRows(rows: readonly DemoRow[], options: DemoSeriesOptions = {}): Series[] {
  const keep = options.indicators ? new Set(options.indicators) : null;
  const observations: PointSource[] = [];
  for (const r of rows) {
    if (keep ? !keep.has(r.indicator) : r.indicator === 'population') continue;
    observations.push({ entity: r.entity, indicator: r.indicator, period: String(r.period), periodKind: 'year', year: r.period, value: r.value, source: r.source });
  }
  return groupSeries(observations);
}

/** The key of one cell, the unit every detector scores and the evaluation counts. */
export function cellKey(entity: string, indicator: string, period: string): string {
  return `${entity}|${indicator}|${period}`;
}

/** The year of a canonical period (`2020`, `2020-Q1`, `2020-03`). */
export function yearOfPeriod(period: string): number {
  const year = Number(period.slice(0, 4));
  if (!Number.isInteger(year) || !/^\d{4}/.test(period)) throw new Error(`not a canonical period: "${period}"`);
  return year;
}
