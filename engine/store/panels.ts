/**
 * What an assessment reads from the store: a panel of current annual values (latest batch wins)
 * for given indicators and entities over a range of years, and the grades of the batches behind
 * each indicator.
 */
import type { Kysely } from 'kysely';
import { ALL_DATA, type DataScope } from '../access/roles.ts';
import type { SourceGrade } from '../ingest/grades.ts';
import type { Panel } from '../scoring/pipeline.ts';
import { currentAnnualValues } from './observations.ts';
import type { Database } from './schema.ts';
import { batchVisible } from './visibility.ts';

export interface PanelQuery {
  readonly indicators: readonly string[];
  /** The units of the panel, in this order; entities without any value still get a row (all missing). */
  readonly entities: readonly string[];
  readonly fromYear?: number;
  readonly toYear?: number;
  /** The batches the panel may use (sharing rules); default every batch. */
  readonly scope?: DataScope;
}

export async function loadPanel(db: Kysely<Database>, query: PanelQuery): Promise<Panel> {
  return (await loadPanelWithBatches(db, query)).panel;
}

/** The panel and the ids of the batches whose values are in it (the inputs of whatever is computed from it). */
export async function loadPanelWithBatches(db: Kysely<Database>, query: PanelQuery): Promise<{ panel: Panel; batchIds: number[] }> {
  const wanted = new Set(query.indicators);
  const ei = new Map(query.entities.map((e, i) => [e, i]));
  const rows = (await currentAnnualValues(db, {
    ...(query.fromYear !== undefined ? { fromYear: query.fromYear } : {}),
    ...(query.toYear !== undefined ? { toYear: query.toYear } : {}),
    scope: query.scope ?? ALL_DATA,
  }))
    .filter((r) => wanted.has(r.indicator) && ei.has(r.entity));
  const indicators = [...query.indicators];
  const ii = new Map(indicators.map((c, j) => [c, j]));
  const years = [...new Set(rows.map((r) => r.year))].sort((a, b) => a - b);
  if (query.toYear !== undefined && !years.includes(query.toYear)) {
    years.push(query.toYear);
    years.sort((a, b) => a - b);
  }
  const yi = new Map(years.map((y, t) => [y, t]));
  const n = query.entities.length;
  const values = new Float64Array(n * indicators.length * years.length).fill(Number.NaN);
  for (const r of rows) values[(yi.get(r.year)! * indicators.length + ii.get(r.indicator)!) * n + ei.get(r.entity)!] = r.value;
  const batchIds = [...new Set(rows.map((r) => r.batchId))].sort((a, b) => a - b);
  return { panel: { entities: [...query.entities], indicators, years, values }, batchIds };
}

export interface IndicatorBatch extends SourceGrade {
  readonly batchId: number;
  readonly sha256: string;
}

/** The batches that hold values of each indicator, with their grades (those `scope` may use). */
export async function batchesByIndicator(db: Kysely<Database>, indicators: readonly string[], scope: DataScope = ALL_DATA): Promise<Map<string, IndicatorBatch[]>> {
  const out = new Map<string, IndicatorBatch[]>();
  if (indicators.length === 0) return out;
  const rows = await db
    .selectFrom('observations as o')
    .innerJoin('ingestion_batches as b', 'b.id', 'o.batch_id')
    .select(['o.indicator_code', 'b.id', 'b.sha256', 'b.source_reliability', 'b.information_credibility', 'b.grading_scheme'])
    .distinct()
    .where('o.indicator_code', 'in', [...indicators])
    .where(batchVisible(scope, 'b'))
    .orderBy('o.indicator_code')
    .orderBy('b.id')
    .execute();
  for (const r of rows) {
    const list = out.get(r.indicator_code) ?? [];
    list.push({ batchId: r.id, sha256: r.sha256, scheme: r.grading_scheme, source: r.source_reliability, information: r.information_credibility });
    out.set(r.indicator_code, list);
  }
  return out;
}
