/** Stored risk scores: what the dashboards read. Recomputed after each ingestion. */
import type { Kysely } from 'kysely';
import type { NodeScore } from '../scoring/simple-composite.ts';
import type { Database } from './schema.ts';

export interface ScoredYear {
  readonly year: number;
  readonly scores: readonly NodeScore[];
}

/** Replaces every stored score of a method in one transaction: readers see the old set or the new. */
export async function replaceRiskScores(db: Kysely<Database>, method: string, years: readonly ScoredYear[], dataVersion: string) {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('risk_scores').where('method', '=', method).execute();
    const rows = years.flatMap(({ year, scores }) =>
      scores.map((s) => ({
        method,
        year,
        entity_code: s.entity,
        node_id: s.node,
        score: s.score,
        rank: s.rank,
        indicators_used: s.indicatorsUsed,
        data_version: dataVersion,
      })),
    );
    for (let start = 0; start < rows.length; start += 2000) {
      await trx.insertInto('risk_scores').values(rows.slice(start, start + 2000)).execute();
    }
  });
}

export async function getRiskScores(db: Kysely<Database>, method: string, year: number, node: string) {
  return db
    .selectFrom('risk_scores as r')
    .innerJoin('entities as e', 'e.code', 'r.entity_code')
    .select(['r.entity_code', 'e.name', 'e.subregion', 'r.score', 'r.rank', 'r.indicators_used', 'r.data_version', 'r.computed_at'])
    .where('r.method', '=', method)
    .where('r.year', '=', year)
    .where('r.node_id', '=', node)
    .orderBy(({ fn, ref }) => fn.coalesce(ref('r.rank'), (eb) => eb.val(1_000_000) as never))
    .orderBy('r.entity_code')
    .execute();
}

export async function scoredYears(db: Kysely<Database>, method: string): Promise<number[]> {
  const rows = await db.selectFrom('risk_scores').select('year').distinct().where('method', '=', method).orderBy('year').execute();
  return rows.map((r) => r.year);
}

export async function scoreNodes(db: Kysely<Database>, method: string): Promise<string[]> {
  const rows = await db.selectFrom('risk_scores').select('node_id').distinct().where('method', '=', method).orderBy('node_id').execute();
  return rows.map((r) => r.node_id);
}
