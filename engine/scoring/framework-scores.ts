/** Scoring a framework on the stored data of one year: one row per entity, a score per node. */
import type { Kysely } from 'kysely';
import { listEntities, listIndicators } from '../store/catalogue.ts';
import { currentAnnualValues } from '../store/observations.ts';
import type { Database } from '../store/schema.ts';
import type { Polarity } from '../types.ts';
import type { Framework } from './framework.ts';
import type { ImputationSpec } from './impute.ts';
import { runPipeline, type Panel, type PipelineResult } from './pipeline.ts';

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

/** Every indicator the pipeline reads: the leaves, their denominators and regression covariates. */
export function frameworkInputs(framework: Framework): string[] {
  const codes = new Set(frameworkIndicators(framework));
  const chains: (readonly ImputationSpec[])[] = [framework.imputation];
  for (const o of Object.values(framework.indicatorOptions)) {
    if (o.denominator) codes.add(o.denominator);
    if (o.imputation) chains.push(o.imputation);
  }
  for (const chain of chains) for (const s of chain) if (s.method === 'regression') codes.add(s.covariate);
  return [...codes];
}

/** The years around `year` that imputation reads: [from, to] (to undefined = all later years). */
function yearsNeeded(framework: Framework, year: number): { fromYear?: number; toYear?: number } {
  const chains = [framework.imputation, ...Object.values(framework.indicatorOptions).map((o) => o.imputation ?? [])];
  let from = year;
  let to: number | undefined = year;
  for (const chain of chains) {
    for (const s of chain) {
      if (s.method === 'latest') from = Math.min(from, year - (s.lookback ?? 5));
      if (s.method === 'interpolate') {
        const limit = s.limit;
        if (limit === undefined) return {};
        from = Math.min(from, year - limit - 1);
        to = to === undefined ? undefined : Math.max(to, year + limit + 1);
      }
    }
  }
  return { fromYear: from, ...(to === undefined ? {} : { toYear: to }) };
}

/** Rows (entities with at least one node score) from a pipeline result, scores as number | null. */
export function pipelineRows(result: PipelineResult): FrameworkScoreRow[] {
  const rows: FrameworkScoreRow[] = [];
  result.entities.forEach((entity, i) => {
    const scores = new Map<string, number | null>();
    let any = false;
    for (const id of result.nodeIds) {
      const v = result.scores[id]![i]!;
      scores.set(id, Number.isNaN(v) ? null : v);
      if (!Number.isNaN(v)) any = true;
    }
    if (any) rows.push({ entity, scores });
  });
  return rows;
}

/**
 * Normalises each indicator across the entities (polarity decides the direction, so that a
 * higher normalised value means more risk), then aggregates each entity: the pipeline on a
 * single-year panel (no time series, so `latest` and `interpolate` find nothing). Pure.
 */
export function scoreFramework(
  framework: Framework,
  byEntity: ReadonlyMap<string, ReadonlyMap<string, number>>,
  polarities: ReadonlyMap<string, Polarity>,
  groups?: ReadonlyMap<string, string>,
): FrameworkScoreRow[] {
  const entities = [...byEntity.keys()].sort();
  const indicators = frameworkInputs(framework);
  const values = new Float64Array(entities.length * indicators.length).fill(Number.NaN);
  indicators.forEach((code, j) => entities.forEach((e, i) => (values[j * entities.length + i] = byEntity.get(e)!.get(code) ?? Number.NaN)));
  const panel: Panel = { entities, indicators, years: [0], values };
  return pipelineRows(runPipeline(framework, panel, { year: 0, polarities, ...(groups ? { groups } : {}) }));
}

/** Loads the panel a framework needs around a year from the store (current values, public view). */
export async function loadFrameworkPanel(db: Kysely<Database>, framework: Framework, year: number): Promise<Panel> {
  const inputs = new Set(frameworkInputs(framework));
  const leaves = new Set(frameworkIndicators(framework));
  const values = (await currentAnnualValues(db, yearsNeeded(framework, year))).filter((v) => inputs.has(v.indicator));
  // entities with some leaf value: a population series alone does not make an entity scored
  const scored = new Set(values.filter((v) => leaves.has(v.indicator)).map((v) => v.entity));
  const entities = [...scored].sort();
  const indicators = [...inputs];
  const years = [...new Set([year, ...values.map((v) => v.year)])].sort((a, b) => a - b);
  const ei = new Map(entities.map((e, i) => [e, i]));
  const ii = new Map(indicators.map((c, j) => [c, j]));
  const yi = new Map(years.map((y, t) => [y, t]));
  const panel = new Float64Array(entities.length * indicators.length * years.length).fill(Number.NaN);
  for (const v of values) {
    const i = ei.get(v.entity);
    if (i === undefined) continue;
    panel[(yi.get(v.year)! * indicators.length + ii.get(v.indicator)!) * entities.length + i] = v.value;
  }
  return { entities, indicators, years, values: panel };
}

/** Scores every entity that has a value for at least one of the framework's indicators (imputation may reach back). */
export async function scoreFrameworkYear(db: Kysely<Database>, framework: Framework, year: number): Promise<FrameworkScoreRow[]> {
  const [panel, indicators, entities] = await Promise.all([loadFrameworkPanel(db, framework, year), listIndicators(db), listEntities(db)]);
  const groups = new Map(entities.filter((e) => e.subregion).map((e) => [e.code, e.subregion!]));
  const result = runPipeline(framework, panel, { year, polarities: new Map(indicators.map((i) => [i.code, i.polarity as Polarity])), groups });
  return pipelineRows(result);
}
