/** Scoring a framework on the stored data of one year: one row per entity, a score per node. */
import type { Kysely } from 'kysely';
import { listIndicators } from '../store/catalogue.ts';
import { currentAnnualValues } from '../store/observations.ts';
import type { Database } from '../store/schema.ts';
import type { Polarity } from '../types.ts';
import { scoreEntity, type Framework } from './framework.ts';
import { normalise } from './normalise.ts';

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

/** The indicator codes at the leaves of a framework. */
export function frameworkIndicators(framework: Framework): string[] {
  const codes: string[] = [];
  const visit = (node: Framework['roots'][number]) => {
    for (const child of node.children) {
      if (typeof child === 'string') codes.push(child);
      else visit(child);
    }
  };
  framework.roots.forEach(visit);
  return codes;
}

/**
 * Normalises each indicator across the entities (polarity decides the direction, so that a
 * higher normalised value means more risk), then aggregates each entity. Pure: no store access.
 */
export function scoreFramework(
  framework: Framework,
  byEntity: ReadonlyMap<string, ReadonlyMap<string, number>>,
  polarities: ReadonlyMap<string, Polarity>,
): FrameworkScoreRow[] {
  const entities = [...byEntity.keys()].sort();
  let normalised: ReadonlyMap<string, ReadonlyMap<string, number>> = byEntity;
  if (framework.normalisation.method !== 'none') {
    const out = new Map(entities.map((e) => [e, new Map<string, number>()]));
    for (const code of frameworkIndicators(framework)) {
      const raw = Float64Array.from(entities, (e) => byEntity.get(e)!.get(code) ?? Number.NaN);
      if (raw.every(Number.isNaN)) continue;
      const direction = polarities.get(code) === 'higher_better' ? -1 : 1;
      const result = normalise(raw, direction, framework.normalisation);
      entities.forEach((e, i) => {
        if (!Number.isNaN(result[i]!)) out.get(e)!.set(code, result[i]!);
      });
    }
    normalised = out;
  }
  const rows: FrameworkScoreRow[] = [];
  for (const entity of entities) {
    const scores = scoreEntity(framework, normalised.get(entity)!);
    if ([...scores.values()].some((s) => s !== null)) rows.push({ entity, scores });
  }
  return rows;
}

/** Scores every entity that has a value of the year for at least one of the framework's indicators. */
export async function scoreFrameworkYear(db: Kysely<Database>, framework: Framework, year: number): Promise<FrameworkScoreRow[]> {
  const [values, indicators] = await Promise.all([currentAnnualValues(db, { fromYear: year, toYear: year }), listIndicators(db)]);
  const leaves = new Set(frameworkIndicators(framework));
  const byEntity = new Map<string, Map<string, number>>();
  for (const v of values) {
    if (!leaves.has(v.indicator)) continue;
    if (!byEntity.has(v.entity)) byEntity.set(v.entity, new Map());
    byEntity.get(v.entity)!.set(v.indicator, v.value);
  }
  return scoreFramework(framework, byEntity, new Map(indicators.map((i) => [i.code, i.polarity])));
}

