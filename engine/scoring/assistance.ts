/**
 * Where assistance is most needed: a ranking of the participating states by the gap between the
 * threat they face and their resilience, overall and per crime area, with Monte Carlo intervals,
 * the indicators behind each gap, and the states whose statistics are missing or stale
 * (data-capacity gaps). Pure: engine/scoring/assistance-run.ts reads the store.
 *
 * The formula (README draft: .tmp/readme/reports.md):
 *   resilience R = 10 - lack_of_resilience (the framework's lack-of-capacity node, 0-10)
 *   overall gap    = T - R, T = the framework's `threat` node (0-10)            range -10..10
 *   crime-area gap = S_a - R, S_a = the threat matrix's scale of area a: the mean of the area's
 *                    normalised indicators, each clamped to 0-10 (assessment.ts matrixRow)
 * Indicators behind a gap, exact for arithmetic nodes (every built-in threat and resilience node):
 * T = sum w_i t_i and L = sum v_j l_j with weights summing to 1 over the present indicators, so
 *   T - R = T + L - 10 = sum w_i (t_i - 5) + sum v_j (l_j - 5)
 * and each indicator's contribution is its weight times its distance from the middle of the
 * scale (5): positive terms widen the gap. The area gap splits the same way with weights 1/k.
 * Uncertainty: the assessments' Monte Carlo (normalisation, aggregation, imputation, weight noise,
 * same seed), 5th-95th percentiles of each gap and of its rank.
 */
import type { CrimeArea, Polarity } from '../types.ts';
import { pipelineChoices, uncertaintySpace, ASSESSMENT_DEFAULTS, type AssessmentContext } from './assessment.ts';
import { explainScore } from './explain.ts';
import type { Framework, FrameworkNode } from './framework.ts';
import { prepareYear, runPipeline, scoreRoots, type Panel, type PreparedYear } from './pipeline.ts';
import { IMPUTED_NAMES } from './impute.ts';
import { monteCarloUncertainty, type Choices as UncertainChoices } from './uncertainty.ts';

/** Nodes measuring the threat side of the gap, tried in order. */
export const THREAT_NODES = ['threat'] as const;
/** Nodes measuring the lack of capacity (INFORM's "lack of coping capacity"), tried in order. */
export const LACK_OF_CAPACITY_NODES = ['lack_of_resilience', 'lack_of_coping_capacity'] as const;
/** Crime areas that measure capacity or context: never a threat (as in the threat matrix). */
const NOT_THREAT_AREAS = new Set<CrimeArea>(['resilience', 'governance', 'context']);
/** The middle of the 0-10 scale: an indicator there neither widens nor narrows a gap. */
export const SCALE_MIDPOINT = 5;

export const ASSISTANCE_DEFAULTS = {
  seed: ASSESSMENT_DEFAULTS.seed,
  runs: ASSESSMENT_DEFAULTS.runs,
  weightNoise: ASSESSMENT_DEFAULTS.weightNoise,
  /** A latest value older than this many years before the assessed year is stale (confidence: high recency is <= 2). */
  staleAfterYears: 2,
  /** Years of the window in which a value counts as present (the quality report's window). */
  windowYears: 10,
} as const;

/** What an assistance analysis reads: an assessment's context, without the batch grades. */
export type AssistanceContext = Omit<AssessmentContext, 'grades'>;

/** What the data-capacity gaps read from the data-quality report (engine/quality/report.ts). */
export interface DataCapacityQuality {
  readonly indicators: readonly { readonly indicator: string; readonly latest: { readonly byState: Readonly<Record<string, number | null>> } }[];
}

export interface AssistanceOptions {
  readonly year: number;
  readonly seed?: number;
  readonly runs?: number;
  readonly weightNoise?: number;
  readonly staleAfterYears?: number;
  /** The quality report of the window [year - windowYears + 1, year]; without it no data-capacity gaps. */
  readonly quality?: DataCapacityQuality;
}

export interface GapTerm {
  readonly indicator: string;
  /** Normalised value, 0-10, higher = more risk (for resilience indicators: less resilience). */
  readonly normalised: number;
  /** Weight in its side of the gap (the threat node or the area, the resilience node); each side sums to 1. */
  readonly weight: number;
  /** weight x (normalised - 5): points this indicator adds to the gap. */
  readonly contribution: number;
  readonly imputed: string | null;
}

export interface Interval {
  readonly low: number;
  readonly median: number;
  readonly high: number;
}

export interface GapRow {
  readonly entity: string;
  readonly name: string;
  readonly subregion: string | null;
  /** T (overall) or S_a (crime area), 0-10; null without data. */
  readonly threat: number | null;
  /** R = 10 - lack of resilience, 0-10; null without data. */
  readonly resilience: number | null;
  readonly gap: number | null;
  /** 5th, 50th and 95th percentile of the gap over the Monte Carlo runs. */
  readonly interval: Interval | null;
  /** 1 = the largest gap; ties share the smallest rank. */
  readonly rank: number | null;
  readonly rankInterval: Interval | null;
  /** Threat-side terms: the threat node's indicators (overall) or the area's (crime area), largest first. */
  readonly threatTerms: readonly GapTerm[];
  /** Resilience-side terms, largest first (overall rows only; area rows give their sum). */
  readonly resilienceTerms: readonly GapTerm[];
  /** Sum of the resilience-side terms (the same for every area of a state). */
  readonly resilienceContribution: number | null;
  /** False where a node is not arithmetic and the terms are proportional shares (not exact). */
  readonly exact: boolean;
}

export interface DataCapacityRow {
  readonly entity: string;
  readonly name: string;
  readonly subregion: string | null;
  /** Framework indicators with no value in the window. */
  readonly missing: readonly string[];
  /** Framework indicators whose latest value is older than `staleAfterYears` before the year. */
  readonly stale: readonly { readonly indicator: string; readonly latestYear: number }[];
  /** (missing + stale) / framework indicators. */
  readonly gapShare: number;
  /** 1 = the largest data-capacity gap; ties share the smallest rank. */
  readonly rank: number;
}

export interface AssistanceResult {
  readonly framework: { readonly id: string; readonly version: string; readonly title: string };
  readonly year: number;
  readonly units: number;
  readonly method: {
    readonly threatNode: string;
    readonly resilienceNode: string;
    readonly formula: {
      readonly resilience: string;
      readonly overall: string;
      readonly crimeArea: string;
      readonly contribution: string;
      readonly dataCapacity: string;
    };
    readonly seed: number;
    readonly runs: number;
    readonly weightNoise: number;
    readonly uncertainInputs: readonly string[];
    readonly intervalPercentiles: readonly [number, number];
    readonly staleAfterYears: number;
  };
  /** Every indicator named in the rows: its label, crime area and side of the gap. */
  readonly indicators: Readonly<Record<string, { readonly label: string; readonly crimeArea: string; readonly side: 'threat' | 'resilience' | 'other' }>>;
  /** Every participating state, by rank of the overall gap (unranked last, by code). */
  readonly overall: readonly GapRow[];
  readonly crimeAreas: readonly { readonly crimeArea: string; readonly indicators: readonly string[]; readonly rows: readonly GapRow[] }[];
  /** Null when no quality report was given. */
  readonly dataCapacity: { readonly window: { readonly from: number; readonly to: number }; readonly indicators: number; readonly rows: readonly DataCapacityRow[] } | null;
  readonly notes: readonly string[];
}

const round = (x: number, digits = 6) => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x);
const finiteOrNull = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? null : round(x));

function findNode(framework: Framework, ids: readonly string[]): FrameworkNode | null {
  const all: FrameworkNode[] = [];
  const visit = (node: FrameworkNode) => {
    all.push(node);
    for (const c of node.children) if (typeof c !== 'string') visit(c);
  };
  framework.roots.forEach(visit);
  for (const id of ids) {
    const found = all.find((n) => n.id === id);
    if (found) return found;
  }
  return null;
}

function leavesOf(node: FrameworkNode): string[] {
  const out: string[] = [];
  const visit = (n: FrameworkNode) => {
    for (const c of n.children) typeof c === 'string' ? out.push(c) : visit(c);
  };
  visit(node);
  return out;
}

/** The nodes of the gap, or a reason why the framework has none. */
export function gapNodes(framework: Framework): { threat: FrameworkNode; lack: FrameworkNode } | { reason: string } {
  const threat = findNode(framework, THREAT_NODES);
  const lack = findNode(framework, LACK_OF_CAPACITY_NODES);
  if (threat && lack) return { threat, lack };
  const missing = [threat ? null : `a "${THREAT_NODES.join('" or "')}" node`, lack ? null : `a "${LACK_OF_CAPACITY_NODES.join('" or "')}" node`].filter(Boolean).join(' and ');
  return { reason: `framework ${framework.id} lacks ${missing}: the assistance gap needs both (osce-threat and osce-threat-demo have them)` };
}

/** Ranks, 1 = largest; ties share the smallest rank; NaN stays unranked. */
function rankLargest(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).filter(([v]) => Number.isFinite(v)).sort((a, b) => b[0] - a[0]);
  const out = values.map(() => Number.NaN);
  order.forEach(([v, i], p) => (out[i] = p > 0 && v === order[p - 1]![0] ? out[order[p - 1]![1]]! : p + 1));
  return out;
}

/**
 * Data-capacity gaps from the quality report: per state, the framework's indicators with no value
 * in the report's window (missing) and those whose latest value is older than `staleAfterYears`
 * before `year` (stale); ranked by (missing + stale) / indicators, largest first, ties by code.
 */
export function dataCapacityGaps(
  quality: DataCapacityQuality,
  indicators: readonly string[],
  states: readonly { readonly entity: string; readonly name: string; readonly subregion: string | null }[],
  year: number,
  staleAfterYears: number = ASSISTANCE_DEFAULTS.staleAfterYears,
): DataCapacityRow[] {
  const byIndicator = new Map(quality.indicators.map((q) => [q.indicator, q.latest.byState]));
  const unique = [...new Set(indicators)];
  const rows = states.map((s) => {
    const missing: string[] = [];
    const stale: { indicator: string; latestYear: number }[] = [];
    for (const code of unique) {
      const latest = byIndicator.get(code)?.[s.entity] ?? null;
      if (latest === null) missing.push(code);
      else if (year - latest > staleAfterYears) stale.push({ indicator: code, latestYear: latest });
    }
    return { ...s, missing, stale, gapShare: unique.length === 0 ? 0 : round((missing.length + stale.length) / unique.length) };
  });
  const ranks = rankLargest(rows.map((r) => r.gapShare));
  return rows
    .map((r, i) => ({ ...r, rank: ranks[i]! }))
    .sort((a, b) => a.rank - b.rank || a.entity.localeCompare(b.entity));
}

/**
 * Terms of one side of a gap from the node's explanation: weight x (value - 5). Exact when the
 * node is arithmetic all the way down (the terms are then weight x value and sum to the node's score).
 */
function sideTerms(node: FrameworkNode, normalised: ReadonlyMap<string, number>, imputed: ReadonlyMap<string, string>, nodeWeights: ReadonlyMap<string, Readonly<Record<string, number>>>, availability: number) {
  const explanation = explainScore(node, normalised, { imputed, nodeWeights, availability });
  const exact = explanation.space === 'additive' && explanation.exact;
  const terms: GapTerm[] = explanation.contributions.map((c) => ({
    indicator: c.indicator,
    normalised: round(c.value),
    weight: round(c.weight),
    contribution: round(c.weight * (c.value - SCALE_MIDPOINT)),
    imputed: c.imputed,
  }));
  return { score: explanation.score, terms: terms.sort((a, b) => b.contribution - a.contribution || a.indicator.localeCompare(b.indicator)), exact };
}

export function assistancePriorities(context: AssistanceContext, options: AssistanceOptions): AssistanceResult {
  const { framework, panel, polarities } = context;
  const nodes = gapNodes(framework);
  if ('reason' in nodes) throw new RangeError(nodes.reason);
  const seed = options.seed ?? ASSISTANCE_DEFAULTS.seed;
  const runs = options.runs ?? ASSISTANCE_DEFAULTS.runs;
  const weightNoise = options.weightNoise ?? ASSISTANCE_DEFAULTS.weightNoise;
  const staleAfterYears = options.staleAfterYears ?? ASSISTANCE_DEFAULTS.staleAfterYears;
  const year = options.year;
  const pipelineOptions = { polarities, year, ...(context.groups ? { groups: context.groups } : {}) };

  const nominal = runPipeline(framework, panel, pipelineOptions);
  const entities = nominal.entities;
  const n = entities.length;
  const leaves = nominal.indicators;
  const threatLeaves = leavesOf(nodes.threat);
  const resilienceLeaves = leavesOf(nodes.lack);
  // Crime areas as in the threat matrix: every leaf whose area is a threat, in leaf order.
  const areas = new Map<string, string[]>();
  for (const code of leaves) {
    const area = context.crimeAreas.get(code);
    if (!area || NOT_THREAT_AREAS.has(area)) continue;
    areas.set(area, [...(areas.get(area) ?? []), code]);
  }

  // Monte Carlo: one pass computes every output of every run; the ranked summaries replay it.
  const prepared: PreparedYear = prepareYear(framework, panel, pipelineOptions);
  const edges = prepared.tree.edges.length;
  const space = uncertaintySpace(edges, weightNoise);
  const nLeaf = prepared.tree.indicators.length;
  const threatCol = (nLeaf + prepared.tree.nodeIds.indexOf(nodes.threat.id)) * n;
  const lackCol = (nLeaf + prepared.tree.nodeIds.indexOf(nodes.lack.id)) * n;
  const areaCols = [...areas.values()].map((codes) => codes.map((c) => prepared.tree.indicators.indexOf(c) * n));
  const outputs: Float64Array[][] = []; // per model call: [overall, ...areas]
  const evaluateGaps = (choices: UncertainChoices): Float64Array[] => {
    scoreRoots(prepared, pipelineChoices(choices, edges));
    const work = prepared.internal.work;
    const overall = new Float64Array(n);
    const lack = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      lack[i] = work[lackCol + i]!;
      overall[i] = work[threatCol + i]! + lack[i]! - 10;
    }
    const perArea = areaCols.map((cols) => {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let sum = 0;
        let count = 0;
        for (const col of cols) {
          const v = work[col + i]!;
          if (!Number.isNaN(v)) {
            sum += Math.min(10, Math.max(0, v));
            count++;
          }
        }
        out[i] = count === 0 ? Number.NaN : sum / count + lack[i]! - 10;
      }
      return out;
    });
    return [overall, ...perArea];
  };
  const overallMc = monteCarloUncertainty((choices) => {
    const all = evaluateGaps(choices);
    outputs.push(all);
    return all[0]!;
  }, space, { runs, seed });
  // monteCarloUncertainty calls the model once for the nominal choices, then once per run, in
  // the order its seeded generator draws them: replaying `outputs` in that order is the same run.
  const areaMc = [...areas.keys()].map((_, a) => {
    let call = 0;
    const result = monteCarloUncertainty(() => outputs[call++]![a + 1]!, space, { runs, seed });
    if (call !== outputs.length) throw new Error(`assistance Monte Carlo replay made ${call} calls, expected ${outputs.length}`);
    return result;
  });

  const nodeWeights = new Map(Object.entries(nominal.weights.nodes));
  const names = (e: string) => context.entityNames.get(e) ?? e;
  const subregion = (e: string) => context.groups?.get(e) ?? null;
  const interval = (low: number, median: number, high: number): Interval | null =>
    Number.isFinite(low) && Number.isFinite(high) ? { low: round(low), median: round(median), high: round(high) } : null;

  const perEntity = entities.map((entity, i) => {
    const normalised = new Map<string, number>();
    const imputed = new Map<string, string>();
    leaves.forEach((code, j) => {
      const v = nominal.normalised[j * n + i]!;
      if (!Number.isNaN(v)) normalised.set(code, v);
      const mark = nominal.imputed[j * n + i]!;
      if (mark !== 0 && mark !== 255) imputed.set(code, IMPUTED_NAMES[mark] ?? 'imputed');
    });
    const threatSide = sideTerms(nodes.threat, normalised, imputed, nodeWeights, framework.availability);
    const resilienceSide = sideTerms(nodes.lack, normalised, imputed, nodeWeights, framework.availability);
    return { entity, i, normalised, imputed, threatSide, resilienceSide };
  });

  const threatScores = nominal.scores[nodes.threat.id]!;
  const lackScores = nominal.scores[nodes.lack.id]!;
  const overallGaps = entities.map((_, i) => threatScores[i]! + lackScores[i]! - 10);
  const overallRanks = rankLargest(overallGaps);
  const sortRows = (rows: GapRow[]) => rows.sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity) || a.entity.localeCompare(b.entity));

  const overall = sortRows(
    perEntity.map(({ entity, i, threatSide, resilienceSide }): GapRow => {
      const lack = lackScores[i]!;
      const ok = Number.isFinite(overallGaps[i]!);
      return {
        entity,
        name: names(entity),
        subregion: subregion(entity),
        threat: finiteOrNull(threatScores[i]),
        resilience: finiteOrNull(10 - lack),
        gap: finiteOrNull(overallGaps[i]),
        interval: ok ? interval(overallMc.scoreP05[i]!, overallMc.scoreMedian[i]!, overallMc.scoreP95[i]!) : null,
        rank: finiteOrNull(overallRanks[i]),
        rankInterval: ok ? interval(overallMc.rankP05[i]!, overallMc.rankMedian[i]!, overallMc.rankP95[i]!) : null,
        threatTerms: threatSide.terms,
        resilienceTerms: resilienceSide.terms,
        resilienceContribution: Number.isFinite(lack) ? round(resilienceSide.terms.reduce((s, t) => s + t.contribution, 0)) : null,
        exact: threatSide.exact && resilienceSide.exact,
      };
    }),
  );

  const crimeAreas = [...areas.entries()].map(([crimeArea, codes], a) => {
    const mc = areaMc[a]!;
    const rows = perEntity.map(({ entity, i, normalised, imputed, resilienceSide }) => {
      const present = codes.filter((c) => normalised.has(c));
      const lack = lackScores[i]!;
      const scale = present.length === 0 ? Number.NaN : present.reduce((s, c) => s + Math.min(10, Math.max(0, normalised.get(c)!)), 0) / present.length;
      const terms: GapTerm[] = present
        .map((c) => {
          const v = Math.min(10, Math.max(0, normalised.get(c)!));
          return { indicator: c, normalised: round(v), weight: round(1 / present.length), contribution: round((v - SCALE_MIDPOINT) / present.length), imputed: imputed.get(c) ?? null };
        })
        .sort((x, y) => y.contribution - x.contribution || x.indicator.localeCompare(y.indicator));
      return { entity, i, scale, lack, gap: scale + lack - 10, terms, resilienceSide };
    });
    const ranks = rankLargest(rows.map((r) => r.gap));
    return {
      crimeArea,
      indicators: codes,
      rows: sortRows(
        rows.map((r, k): GapRow => {
          const ok = Number.isFinite(r.gap);
          return {
            entity: r.entity,
            name: names(r.entity),
            subregion: subregion(r.entity),
            threat: finiteOrNull(r.scale),
            resilience: finiteOrNull(10 - r.lack),
            gap: finiteOrNull(r.gap),
            interval: ok ? interval(mc.scoreP05[r.i]!, mc.scoreMedian[r.i]!, mc.scoreP95[r.i]!) : null,
            rank: finiteOrNull(ranks[k]),
            rankInterval: ok ? interval(mc.rankP05[r.i]!, mc.rankMedian[r.i]!, mc.rankP95[r.i]!) : null,
            threatTerms: r.terms,
            resilienceTerms: [],
            resilienceContribution: Number.isFinite(r.lack) ? round(r.resilienceSide.terms.reduce((s, t) => s + t.contribution, 0)) : null,
            exact: r.resilienceSide.exact,
          };
        }),
      ),
    };
  });

  const states = entities.map((e) => ({ entity: e, name: names(e), subregion: subregion(e) }));
  const windowYears = ASSISTANCE_DEFAULTS.windowYears;
  const dataCapacity = options.quality
    ? { window: { from: year - windowYears + 1, to: year }, indicators: new Set(leaves).size, rows: dataCapacityGaps(options.quality, leaves, states, year, staleAfterYears) }
    : null;

  const indicators: Record<string, { label: string; crimeArea: string; side: 'threat' | 'resilience' | 'other' }> = {};
  for (const code of leaves) {
    indicators[code] = {
      label: context.indicatorNames.get(code) ?? code,
      crimeArea: context.crimeAreas.get(code) ?? 'unknown',
      side: threatLeaves.includes(code) ? 'threat' : resilienceLeaves.includes(code) ? 'resilience' : 'other',
    };
  }

  const notes: string[] = [...nominal.notes];
  const unranked = overall.filter((r) => r.rank === null).map((r) => r.entity);
  if (unranked.length > 0) notes.push(`not ranked (no ${nodes.threat.id} or ${nodes.lack.id} score in ${year}): ${unranked.join(', ')}`);
  if (overall.some((r) => !r.exact)) notes.push('some gaps are split into indicator terms proportionally (a node is not arithmetic): those terms are approximate');

  return {
    framework: { id: framework.id, version: framework.version, title: framework.title },
    year,
    units: n,
    method: {
      threatNode: nodes.threat.id,
      resilienceNode: nodes.lack.id,
      formula: {
        resilience: `R = 10 - ${nodes.lack.id}`,
        overall: `gap = ${nodes.threat.id} - R`,
        crimeArea: 'gap(area) = scale(area) - R, scale = mean of the area\'s normalised indicators clamped to 0-10 (the threat matrix\'s scale)',
        contribution: 'term = weight x (normalised - 5); the terms of both sides sum to the gap',
        dataCapacity: `share = (missing + stale) / framework indicators; missing: no value in the window; stale: latest value more than ${staleAfterYears} years before the year`,
      },
      seed,
      runs,
      weightNoise,
      uncertainInputs: space.map((s) => s.name),
      intervalPercentiles: [5, 95],
      staleAfterYears,
    },
    indicators,
    overall,
    crimeAreas,
    dataCapacity,
    notes,
  };
}
