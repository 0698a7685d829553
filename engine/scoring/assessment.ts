/**
 * A threat assessment: for a year and one entity (or all), every root score of a framework with its
 * band, rank and Monte Carlo rank interval, confidence and its reasons, trend, drivers, the change
 * since the previous year split into indicator contributions, the country x crime-area threat
 * matrix, and a narrative made only of those numbers. Pure: the caller loads the panel and the batch
 * grades (engine/store/panels.ts) and records the provenance.
 *
 * Same inputs, same options (seed included) -> the same result, to the last digit.
 */
import type { SourceGrade } from '../ingest/grades.ts';
import type { CrimeArea, Polarity } from '../types.ts';
import { BAND_LABELS } from './bands.ts';
import { assessConfidence, type Confidence } from './confidence.ts';
import { explainChange, explainScore, type ChangeExplanation, type RootExplanation } from './explain.ts';
import type { Framework } from './framework.ts';
import { IMPUTED_NAMES } from './impute.ts';
import { narrate, type NarrativeDriver } from './narrative.ts';
import type { NormalisationSpec } from './normalise.ts';
import { prepareYear, runPipeline, scoreRoots, type Choices as PipelineChoices, type Panel, type PipelineResult } from './pipeline.ts';
import { threatMatrixRow, type CrimeAreaInput, type ThreatMatrixRow } from './threat-matrix.ts';
import { classifyTrend, type TrendResult } from './trend.ts';
import { monteCarloUncertainty, rankSensitivity, type Choices as UncertainChoices, type UncertaintySpace } from './uncertainty.ts';

export interface AssessmentContext {
  readonly framework: Framework;
  /** Every year the trends need, up to the assessed year; units = the entities compared (e.g. the 57 states). */
  readonly panel: Panel;
  readonly polarities: ReadonlyMap<string, Polarity>;
  readonly crimeAreas: ReadonlyMap<string, CrimeArea>;
  readonly indicatorNames: ReadonlyMap<string, string>;
  readonly entityNames: ReadonlyMap<string, string>;
  readonly groups?: ReadonlyMap<string, string>;
  /** Grades of the batches holding each indicator. */
  readonly grades: ReadonlyMap<string, readonly SourceGrade[]>;
}

export interface AssessmentOptions {
  readonly year: number;
  /** One entity, or every unit of the panel when absent. */
  readonly entity?: string;
  readonly seed?: number;
  /** Monte Carlo runs (COINr's default is in the hundreds; 1,000 gives stable 5th/95th percentiles). */
  readonly runs?: number;
  /** Weight noise of the Monte Carlo: w -> w (1 + U(-noise, noise)). */
  readonly weightNoise?: number;
  /** Years of history for trends. */
  readonly trendYears?: number;
  /** Base sample N of the Sobol sensitivity analysis (N (d + 2) runs); 0 skips it. */
  readonly sensitivityN?: number;
}

export const ASSESSMENT_DEFAULTS = { seed: 20261122, runs: 1000, weightNoise: 0.25, trendYears: 10, sensitivityN: 256 } as const;

/** Crime areas that measure capacity or context: never a row of the threat matrix. */
const NOT_THREAT_AREAS = new Set<CrimeArea>(['resilience', 'governance', 'context']);
/** The node whose score is the lack of capacity (INFORM's "lack of coping capacity"). */
const LACK_OF_CAPACITY_NODES = ['lack_of_resilience', 'lack_of_coping_capacity'];

export interface RootAssessment {
  readonly root: string;
  readonly score: number | null;
  readonly band: string | null;
  readonly rank: number | null;
  readonly of: number;
  /** Monte Carlo: 5th-95th percentile of rank and score, median rank. */
  readonly interval: { readonly rankLow: number; readonly rankHigh: number; readonly rankMedian: number; readonly scoreLow: number; readonly scoreHigh: number } | null;
  readonly explanation: RootExplanation;
  readonly drivers: { readonly up: readonly DriverView[]; readonly down: readonly DriverView[] };
  readonly change: (ChangeExplanation & { readonly fromYear: number }) | null;
  readonly trend: TrendResult;
}

export interface DriverView {
  readonly indicator: string;
  readonly label: string;
  readonly raw: number | null;
  readonly normalised: number;
  readonly weight: number;
  /** The indicator's term in the root's contribution space (explain.ts): they sum to the root's total. */
  readonly contribution: number;
  /**
   * Score points the indicator adds (or, negative, removes) compared with that indicator sitting
   * at the score's own level, all else equal: what the narrative calls a driver.
   */
  readonly pointsAboveLevel: number;
  readonly imputed: string | null;
}

/**
 * Points above the score's level: with r = term - weight x total (explain.ts `relative`), moving
 * the indicator to the level changes the root's total by -r, so the score falls from S to the
 * inverse of (total - r) in the root's space: S - (total - r) additive; S - S e^-r in log space;
 * S - 1 / (total - r) reciprocal; S - (total - r)^(1/p) power. Exact for one indicator of a tree
 * within one space; in mixed trees the pillar terms are shared out (explain.ts), exact in total.
 */
export function pointsAboveLevel(explanation: RootExplanation, relative: number): number {
  const score = explanation.score;
  const total = explanation.total;
  if (score === null || total === null) return Number.NaN;
  switch (explanation.space) {
    case 'log':
      return score - score * Math.exp(-relative);
    case 'reciprocal':
      return score - 1 / (total - relative);
    case 'power':
      return score - Math.pow(total - relative, 1 / (explanation.p ?? 1));
    default:
      return relative;
  }
}

export interface EntityAssessment {
  readonly entity: string;
  readonly name: string;
  readonly nodeScores: Readonly<Record<string, number | null>>;
  readonly roots: readonly RootAssessment[];
  readonly confidence: Confidence;
  readonly threatMatrix: ThreatMatrixRow;
  readonly narrative: string;
}

export interface AssessmentResult {
  readonly framework: { readonly id: string; readonly version: string; readonly title: string };
  readonly year: number;
  readonly units: number;
  readonly method: {
    readonly seed: number;
    readonly runs: number;
    readonly weightNoise: number;
    readonly trendYears: number;
    readonly sensitivityN: number;
    readonly uncertainInputs: readonly string[];
  };
  readonly meanAbsoluteRankShift: number;
  /**
   * Sobol indices of each uncertain input on the mean absolute rank shift (COINr's target): first
   * order (Saltelli 2010) and total (Jansen), with bootstrap intervals; null when not run.
   */
  readonly sensitivity: {
    readonly N: number;
    readonly runs: number;
    readonly sampler: string;
    readonly bootstrap: number;
    readonly target: 'mean absolute rank shift';
    readonly inputs: readonly { readonly input: string; readonly firstOrder: number; readonly total: number; readonly firstOrderInterval: readonly [number, number]; readonly totalInterval: readonly [number, number] }[];
  } | null;
  readonly notes: readonly string[];
  readonly entities: readonly EntityAssessment[];
}

const round = (x: number, digits = 6) => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x);
const orNull = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? null : x);

/**
 * The uncertainty space of a framework (COINr's get_sensitivity): the default normalisation
 * (the framework's, min-max 0-10, percentile rank 0-10), the aggregation of every node (the
 * framework's, arithmetic, geometric), the imputation (the framework's, latest value within 3
 * years) and noise on every weight. Alternatives stay on a positive 0-10 scale so that geometric
 * means remain defined.
 */
export function uncertaintySpace(edges: number, weightNoise: number): UncertaintySpace {
  return [
    { kind: 'categorical', name: 'normalisation', alternatives: ['framework', 'minmax', 'prank'], nominal: 'framework' },
    { kind: 'categorical', name: 'aggregation', alternatives: ['framework', 'arithmetic', 'geometric'], nominal: 'framework' },
    { kind: 'categorical', name: 'imputation', alternatives: ['framework', 'latest-3'], nominal: 'framework' },
    { kind: 'weights', name: 'weights', weights: Object.fromEntries(Array.from({ length: edges }, (_, e) => [String(e), 1])), noise: weightNoise },
  ];
}

const NORMALISATION_ALTERNATIVES: Readonly<Record<string, NormalisationSpec>> = {
  minmax: { method: 'minmax', low: 0, high: 10 },
  prank: { method: 'prank', scale: 10 } as NormalisationSpec,
};

/** Maps the generic Monte Carlo choices onto the pipeline's. */
export function pipelineChoices(choices: UncertainChoices, edges: number): PipelineChoices {
  const normalisation = NORMALISATION_ALTERNATIVES[choices.categorical.normalisation ?? 'framework'];
  const aggregation = choices.categorical.aggregation;
  const multipliers = new Float64Array(edges);
  const weights = choices.weights.weights ?? {};
  for (let e = 0; e < edges; e++) multipliers[e] = weights[String(e)] ?? 1;
  return {
    ...(normalisation ? { normalisation } : {}),
    ...(aggregation === 'arithmetic' || aggregation === 'geometric' ? { aggregation } : {}),
    ...(choices.categorical.imputation === 'latest-3' ? { imputation: [{ method: 'latest', lookback: 3 }] } : {}),
    weightMultipliers: multipliers,
  } as PipelineChoices;
}

/** The entity's value per leaf from a pipeline result (normalised or before normalisation). */
function leafValues(result: PipelineResult, i: number, which: 'normalised' | 'values'): Map<string, number> {
  const n = result.entities.length;
  const out = new Map<string, number>();
  result.indicators.forEach((code, j) => {
    const v = result[which][j * n + i]!;
    if (!Number.isNaN(v)) out.set(code, v);
  });
  return out;
}

function imputedMethods(result: PipelineResult, i: number): Map<string, string> {
  const n = result.entities.length;
  const out = new Map<string, string>();
  result.indicators.forEach((code, j) => {
    const mark = result.imputed[j * n + i]!;
    if (mark !== 0 && mark !== 255) out.set(code, IMPUTED_NAMES[mark] ?? 'imputed');
  });
  return out;
}

/** Year of the latest observed (not imputed) value of each indicator, up to `year`. */
function latestYears(panel: Panel, entity: number, indicators: readonly string[], year: number): Map<string, number> {
  const n = panel.entities.length;
  const nInd = panel.indicators.length;
  const out = new Map<string, number>();
  for (const code of indicators) {
    const j = panel.indicators.indexOf(code);
    if (j < 0) continue;
    for (let t = panel.years.length - 1; t >= 0; t--) {
      if (panel.years[t]! > year) continue;
      if (!Number.isNaN(panel.values[(t * nInd + j) * n + entity]!)) {
        out.set(code, panel.years[t]!);
        break;
      }
    }
  }
  return out;
}

export function assess(context: AssessmentContext, options: AssessmentOptions): AssessmentResult {
  const { framework, panel, polarities } = context;
  const seed = options.seed ?? ASSESSMENT_DEFAULTS.seed;
  const runs = options.runs ?? ASSESSMENT_DEFAULTS.runs;
  const weightNoise = options.weightNoise ?? ASSESSMENT_DEFAULTS.weightNoise;
  const trendYears = options.trendYears ?? ASSESSMENT_DEFAULTS.trendYears;
  const pipelineOptions = { polarities, ...(context.groups ? { groups: context.groups } : {}) };
  const year = options.year;

  // The nominal run of every year in the trend window (the assessed year last).
  const years = panel.years.filter((y) => y > year - trendYears && y <= year);
  const byYear = new Map<number, PipelineResult>(years.map((y) => [y, runPipeline(framework, panel, { ...pipelineOptions, year: y })]));
  const nominal = byYear.get(year) ?? runPipeline(framework, panel, { ...pipelineOptions, year });
  const previousYear = years.filter((y) => y < year).at(-1);
  const previous = previousYear === undefined ? undefined : byYear.get(previousYear);
  const entities = nominal.entities;
  const n = entities.length;

  // Monte Carlo over methodological choices, for the rank interval of the first root.
  const prepared = prepareYear(framework, panel, { ...pipelineOptions, year });
  const edges = prepared.tree.edges.length;
  const space = uncertaintySpace(edges, weightNoise);
  const model = (choices: UncertainChoices) => scoreRoots(prepared, pipelineChoices(choices, edges))[0]!;
  const mc = monteCarloUncertainty(model, space, { runs, seed });
  const sensitivityN = options.sensitivityN ?? ASSESSMENT_DEFAULTS.sensitivityN;
  const sobol = sensitivityN > 0 ? rankSensitivity(model, space, { N: sensitivityN, bootstrap: 200, seed }) : null;

  const selected = options.entity === undefined ? entities.map((_, i) => i) : [entities.indexOf(options.entity)];
  const leaves = nominal.indicators;
  const nodeIndexOf = (id: string) => nominal.nodeIds.indexOf(id);
  const lackNode = LACK_OF_CAPACITY_NODES.find((id) => nodeIndexOf(id) >= 0);
  const label = (code: string) => context.indicatorNames.get(code) ?? code;
  const scoredCount = (root: string) => nominal.scores[root]!.reduce((acc, v) => acc + (Number.isNaN(v) ? 0 : 1), 0);

  const results = selected.map((i): EntityAssessment => {
    const entity = entities[i]!;
    const normalised = leafValues(nominal, i, 'normalised');
    const raw = leafValues(nominal, i, 'values');
    const imputed = imputedMethods(nominal, i);
    const nodeWeights = new Map(Object.entries(nominal.weights.nodes));
    const explainOptions = { raw, imputed, nodeWeights, availability: framework.availability };

    const roots = framework.roots.map((rootNode, r): RootAssessment => {
      const root = rootNode.id;
      const score = orNull(nominal.scores[root]![i]);
      const band = nominal.bands[root]![i]!;
      const explanation = explainScore(rootNode, normalised, explainOptions);
      const view = (c: RootExplanation['contributions'][number]): DriverView => ({
        indicator: c.indicator,
        label: label(c.indicator),
        raw: c.raw === null ? null : round(c.raw),
        normalised: round(c.value),
        weight: round(c.weight),
        contribution: round(c.term),
        pointsAboveLevel: round(pointsAboveLevel(explanation, c.relative)),
        imputed: c.imputed,
      });
      const ranked = [...explanation.contributions].map(view).sort((a, b) => b.pointsAboveLevel - a.pointsAboveLevel || a.indicator.localeCompare(b.indicator));
      const drivers = { up: ranked.filter((d) => d.pointsAboveLevel > 0).slice(0, 3), down: ranked.filter((d) => d.pointsAboveLevel < 0).reverse().slice(0, 2) };
      let change: RootAssessment['change'] = null;
      if (previous && previousYear !== undefined) {
        const pi = previous.entities.indexOf(entity);
        if (pi >= 0) {
          const before = leafValues(previous, pi, 'normalised');
          const explained = explainChange(rootNode, before, normalised, { nodeWeights: new Map(Object.entries(previous.weights.nodes)), availability: framework.availability });
          if (explained) change = { ...explained, fromYear: previousYear };
        }
      }
      const history = years.map((y) => byYear.get(y)!.scores[root]![byYear.get(y)!.entities.indexOf(entity)] ?? Number.NaN);
      const trend = classifyTrend(years, history, { polarity: 'higher_worse' });
      const interval = r === 0 && !Number.isNaN(mc.nominalRank[i]!)
        ? { rankLow: mc.rankP05[i]!, rankHigh: mc.rankP95[i]!, rankMedian: mc.rankMedian[i]!, scoreLow: round(mc.scoreP05[i]!), scoreHigh: round(mc.scoreP95[i]!) }
        : null;
      return {
        root,
        score: score === null ? null : round(score),
        band: band < 0 ? null : BAND_LABELS[band]!,
        rank: orNull(nominal.ranks[root]![i]),
        of: scoredCount(root),
        interval,
        explanation,
        drivers,
        change,
        trend,
      };
    });

    const main = roots[0]!;
    const grades = [...new Set(leaves.filter((code) => normalised.has(code)).flatMap((code) => context.grades.get(code) ?? []))];
    const confidence = assessConfidence({
      year,
      indicators: leaves,
      values: normalised,
      imputed,
      latestYear: latestYears(panel, panel.entities.indexOf(entity), leaves, year),
      grades,
      ...(main.interval ? { rankInterval: { low: main.interval.rankLow, high: main.interval.rankHigh, units: main.of } } : {}),
      labels: new Map(leaves.map((c) => [c, label(c)])),
    });

    const threatMatrix = matrixRow(context, entity, nominal, leaves, years, byYear, lackNode ? nominal.scores[lackNode]![i]! : Number.NaN);
    const nodeScores = Object.fromEntries(nominal.nodeIds.map((id) => [id, orNull(round(nominal.scores[id]![i]!))]));
    const name = context.entityNames.get(entity) ?? entity;
    const asDriver = (d: DriverView): NarrativeDriver => ({ label: d.label, value: d.pointsAboveLevel });
    const narrative = narrate({
      entity: name,
      framework: framework.title,
      year,
      score: main.score,
      scaleMax: 10,
      ...(main.band ? { band: main.band } : {}),
      ...(main.rank !== null ? { rank: { rank: main.rank, of: main.of } } : {}),
      ...(main.interval ? { interval: { level: 90, low: main.interval.rankLow, high: main.interval.rankHigh } } : {}),
      drivers: main.drivers.up.map(asDriver),
      pullingDown: main.drivers.down.map(asDriver),
      ...(main.change
        ? {
            change: {
              fromYear: main.change.fromYear,
              change: main.change.change,
              contributions: [...main.change.contributions]
                .sort((a, b) => Math.abs(b.points) - Math.abs(a.points))
                .slice(0, 3)
                .map((c) => ({ label: label(c.indicator), value: c.points })),
            },
          }
        : {}),
      confidence: { level: confidence.level, reasons: confidence.reasons.filter((r) => r.level !== null && r.level !== 'high').map((r) => r.message) },
    });
    return { entity, name, nodeScores, roots, confidence, threatMatrix, narrative };
  });

  return {
    framework: { id: framework.id, version: framework.version, title: framework.title },
    year,
    units: n,
    method: { seed, runs, weightNoise, trendYears, sensitivityN, uncertainInputs: space.map((s) => s.name) },
    meanAbsoluteRankShift: round(mc.overallMeanAbsRankShift),
    sensitivity: sobol
      ? {
          N: sobol.N,
          runs: sobol.runs,
          sampler: sobol.sampler,
          bootstrap: sobol.bootstrap,
          target: 'mean absolute rank shift',
          inputs: sobol.inputs.map((input, k) => {
            const t = sobol.meanAbsRankShift;
            return {
              input,
              firstOrder: round(t.firstOrder[k]!, 4),
              total: round(t.total[k]!, 4),
              firstOrderInterval: [round(t.firstOrderLow[k]!, 4), round(t.firstOrderHigh[k]!, 4)] as const,
              totalInterval: [round(t.totalLow[k]!, 4), round(t.totalHigh[k]!, 4)] as const,
            };
          }),
        }
      : null,
    notes: [...nominal.notes],
    entities: results,
  };
}

/**
 * One country's row of the threat matrix: for each crime area of the framework's threat
 * indicators, the scale (mean normalised value of its indicators, 0-10) and its trend over the
 * window; capacity = 10 - the lack-of-resilience node's score where the framework has one.
 */
function matrixRow(
  context: AssessmentContext,
  entity: string,
  assessed: PipelineResult,
  leaves: readonly string[],
  years: readonly number[],
  byYear: ReadonlyMap<number, PipelineResult>,
  lackOfCapacity: number,
): ThreatMatrixRow {
  const areas = new Map<CrimeArea, string[]>();
  for (const code of leaves) {
    const area = context.crimeAreas.get(code);
    if (!area || NOT_THREAT_AREAS.has(area)) continue;
    areas.set(area, [...(areas.get(area) ?? []), code]);
  }
  const scaleIn = (result: PipelineResult, codes: readonly string[]): number => {
    const k = result.entities.indexOf(entity);
    if (k < 0) return Number.NaN;
    const n = result.entities.length;
    let sum = 0;
    let count = 0;
    for (const code of codes) {
      const v = result.normalised[result.indicators.indexOf(code) * n + k]!;
      if (!Number.isNaN(v)) {
        sum += Math.min(10, Math.max(0, v));
        count++;
      }
    }
    return count === 0 ? Number.NaN : sum / count;
  };
  const inputs: CrimeAreaInput[] = [...areas.entries()].map(([crimeArea, codes]) => {
    const scale = scaleIn(assessed, codes);
    const history = years.map((y) => scaleIn(byYear.get(y)!, codes));
    const trend = classifyTrend(years, history, { polarity: 'higher_worse' });
    const k = assessed.entities.indexOf(entity);
    const present = codes.filter((code) => !Number.isNaN(assessed.normalised[assessed.indicators.indexOf(code) * assessed.entities.length + k]!)).length;
    return { crimeArea, scale: Number.isNaN(scale) ? null : round(scale), trend: trend.label, slopePerYear: Number.isFinite(trend.slope) ? round(trend.slope) : null, indicators: present };
  });
  return threatMatrixRow(entity, inputs, Number.isNaN(lackOfCapacity) ? null : round(10 - lackOfCapacity));
}

