/** Scoring a framework on the stored data of one year: one row per entity, a score per node. */
import type { Kysely } from 'kysely';
import { currentAnnualValues } from '../store/observations.ts';
import type { Database } from '../store/schema.ts';
import { scoreEntity, type Framework } from './framework.ts';

export interface FrameworkScoreRow {
  readonly entity: string;
  readonly scores: ReadonlyMap<string, number | null>;
}

/** Node ids in tree order (parents before children), for column headers. */
export function frameworkNodeIds(framework: Framework): string[] {
  const ids: string[] = [];
  const visit = (node: Framework['roots'][number]) => {
    ids.push(node.id);
    for (const child of node.children) if (typeof child !== 'string') visit(child);
  };
  framework.roots.forEach(visit);
  return ids;
}

/** Scores every entity that has a value of the year for at least one of the framework's indicators. */
export async function scoreFrameworkYear(db: Kysely<Database>, framework: Framework, year: number): Promise<FrameworkScoreRow[]> {
  const values = await currentAnnualValues(db, { fromYear: year, toYear: year });
  const byEntity = new Map<string, Map<string, number>>();
  for (const v of values) {
    if (!byEntity.has(v.entity)) byEntity.set(v.entity, new Map());
    byEntity.get(v.entity)!.set(v.indicator, v.value);
  }
  const rows: FrameworkScoreRow[] = [];
  for (const [entity, entityValues] of [...byEntity].sort(([a], [b]) => a.localeCompare(b))) {
    const scores = scoreEntity(framework, entityValues);
    if ([...scores.values()].some((s) => s !== null)) rows.push({ entity, scores });
  }
  return rows;
}
