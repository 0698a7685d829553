/**
 * The evaluation harness: ROC-AUC, PR-AUC (average precision) and precision at k of each detector
 * at the CELL level, on anomalies whose positions are known (the demo generator's planted ones,
 * or anomalies injected into real series by ./inject.ts).
 *
 * Counting rules:
 * - The cells are every point of the evaluated series (by default all series given; the demo
 *   evaluation counts its rate series). Each detector runs on all the series it is given; its
 *   scores are read on the evaluated cells only.
 * - A cell a detector did not score (too little history, a detector for another period kind, a
 *   row the multivariate panel dropped) counts as score 0 for that detector: it was not flagged.
 *   Every detector is judged on the same cells, so a detector that abstains pays for it; `scored`
 *   says how many cells it actually scored.
 * - Positives are the truth cells; `excluded` cells (e.g. the demo's reporting breaks, see
 *   demoEvaluationSets) are neither positive nor negative.
 * - The ensemble is evaluated as one more detector, combining the others' outputs.
 */
import type { DemoTruth } from '../../datasets/demo/generate.ts';
import { combineDetections, ENSEMBLE_DETECTOR, type EnsembleOptions } from './ensemble.ts';
import { averagePrecision, precisionAtK, rocAuc } from './metrics.ts';
import { cellKey } from './series.ts';
import type { CellScore, Series } from './types.ts';

/** A detector as the harness and the production run call it: all series in, cell scores out. */
export interface DetectorRun {
  readonly name: string;
  run(series: readonly Series[]): CellScore[] | Promise<CellScore[]>;
}

export interface TruthCell {
  readonly entity: string;
  readonly indicator: string;
  readonly period: string | number;
}

export interface EvaluationInput {
  readonly series: readonly Series[];
  readonly truth: readonly TruthCell[];
  readonly detectors: readonly DetectorRun[];
  /** Which series' cells are counted (default all). */
  readonly evaluate?: (series: Series) => boolean;
  /** Cell keys (cellKey) counted neither as positive nor as negative. */
  readonly excluded?: ReadonlySet<string>;
  /** Evaluate the ensemble of all detectors too (default true with the default options). */
  readonly ensemble?: EnsembleOptions | false;
  /** Extra ensembles to compare (name -> options), e.g. other combination rules. */
  readonly ensembleVariants?: Readonly<Record<string, EnsembleOptions>>;
  /** Keep the variants' cell scores in `scores` (default false: on large panels they cost gigabytes). */
  readonly keepVariantScores?: boolean;
  /** The k of precision at k (default 10, 40, 100). */
  readonly ks?: readonly number[];
}

export interface DetectorEvaluation {
  readonly detector: string;
  readonly rocAuc: number;
  readonly prAuc: number;
  readonly precisionAt: Readonly<Record<number, number>>;
  /** Cells counted (evaluated cells less excluded ones) and positives among them. */
  readonly cells: number;
  readonly positives: number;
  /** Counted cells the detector scored at all, and those it flagged (score >= 0.5, `low`). */
  readonly scored: number;
  readonly flagged: number;
  /** Planted cells flagged (recall at the `low` threshold). */
  readonly truePositivesFlagged: number;
  readonly seconds: number;
}

export interface EvaluationResult {
  readonly results: DetectorEvaluation[];
  /** Each detector's full output (the ensemble's included), for further analysis. */
  readonly scores: ReadonlyMap<string, readonly CellScore[]>;
}

/** Runs every detector on the series and measures it against the truth. */
export async function evaluateDetectors(input: EvaluationInput): Promise<EvaluationResult> {
  const ks = input.ks ?? [10, 40, 100];
  const excluded = input.excluded ?? new Set<string>();
  const evaluated = input.evaluate ? input.series.filter(input.evaluate) : input.series;
  const keys: string[] = [];
  for (const s of evaluated) for (const p of s.points) {
    const key = cellKey(s.entity, s.indicator, p.period);
    if (!excluded.has(key)) keys.push(key);
  }
  const index = new Map(keys.map((k, i) => [k, i]));
  if (index.size !== keys.length) throw new Error('evaluateDetectors: a cell appears twice in the evaluated series');
  const labels = new Uint8Array(keys.length);
  let positives = 0;
  const missingTruth: string[] = [];
  for (const t of input.truth) {
    const key = cellKey(t.entity, t.indicator, String(t.period));
    if (excluded.has(key)) continue;
    const i = index.get(key);
    if (i === undefined) {
      missingTruth.push(key);
      continue;
    }
    if (labels[i] === 0) positives++;
    labels[i] = 1;
  }
  if (missingTruth.length > 0) {
    throw new Error(`evaluateDetectors: ${missingTruth.length} truth cells are not among the evaluated cells (first: ${missingTruth.slice(0, 3).join(', ')}); check the evaluate filter`);
  }
  if (positives === 0) throw new Error('evaluateDetectors: no positive among the evaluated cells');

  const scores = new Map<string, readonly CellScore[]>();
  const results: DetectorEvaluation[] = [];
  const measure = (name: string, cells: readonly CellScore[], seconds: number) => {
    const values = new Float64Array(keys.length);
    let scored = 0;
    for (const c of cells) {
      const i = index.get(cellKey(c.entity, c.indicator, c.period));
      if (i === undefined) continue;
      if (!(c.score >= 0 && c.score <= 1)) throw new Error(`evaluateDetectors: ${name} scored ${c.entity}/${c.indicator}/${c.period} ${c.score}, outside [0, 1]`);
      values[i] = Math.max(values[i]!, c.score);
      scored++;
    }
    let flagged = 0;
    let truePositivesFlagged = 0;
    for (let i = 0; i < values.length; i++) {
      if (values[i]! >= 0.5) {
        flagged++;
        if (labels[i]) truePositivesFlagged++;
      }
    }
    const precisionAt: Record<number, number> = {};
    for (const k of ks) precisionAt[k] = precisionAtK(values, labels, k);
    results.push({
      detector: name,
      rocAuc: rocAuc(values, labels),
      prAuc: averagePrecision(values, labels),
      precisionAt,
      cells: keys.length,
      positives,
      scored,
      flagged,
      truePositivesFlagged,
      seconds,
    });
  };

  for (const detector of input.detectors) {
    const started = performance.now();
    const cells = await detector.run(input.series);
    const seconds = (performance.now() - started) / 1000;
    scores.set(detector.name, cells);
    measure(detector.name, cells, seconds);
  }
  const ensembles: [string, EnsembleOptions, boolean][] = [];
  if (input.ensemble !== false) ensembles.push([ENSEMBLE_DETECTOR, input.ensemble ?? {}, true]);
  for (const [name, options] of Object.entries(input.ensembleVariants ?? {})) ensembles.push([name, options, input.keepVariantScores ?? false]);
  for (const [name, options, keep] of ensembles) {
    const started = performance.now();
    const cells = combineDetections(input.detectors.map((d) => scores.get(d.name)!), { series: input.series, ...options });
    const seconds = (performance.now() - started) / 1000;
    if (keep) scores.set(name, cells);
    measure(name, cells, seconds);
  }
  return { results, scores };
}

export interface BreakCell {
  readonly entity: string;
  readonly indicator: string;
  /** The first period at the new level. */
  readonly period: string;
}

export interface BreakRecall {
  readonly detector: string;
  readonly breaks: number;
  /** Breaks with a flag (score >= threshold) within +-window periods of the first new-level point. */
  readonly found: number;
  readonly share: number;
  /** Of the breaks found, those whose flag says data_problem (the source changes there). */
  readonly labelledDataProblem: number;
}

/**
 * The share of reporting breaks a detector finds: a flag at a point within +-window positions
 * (points of the series, not calendar periods, so a gap does not hide a break) of the first
 * point at the new level.
 */
export function breakRecall(detector: string, cells: readonly CellScore[], breaks: readonly BreakCell[], series: readonly Series[], window = 1, threshold = 0.5): BreakRecall {
  const bySeries = new Map(series.map((s) => [`${s.entity}|${s.indicator}`, s]));
  const flagged = new Map<string, CellScore>();
  for (const c of cells) if (c.score >= threshold) flagged.set(cellKey(c.entity, c.indicator, c.period), c);
  let found = 0;
  let labelledDataProblem = 0;
  for (const b of breaks) {
    const s = bySeries.get(`${b.entity}|${b.indicator}`);
    if (!s) throw new Error(`breakRecall: no series ${b.entity}/${b.indicator} for a break`);
    const at = s.points.findIndex((p) => p.period === b.period);
    if (at < 0) throw new Error(`breakRecall: ${b.entity}/${b.indicator} has no point at ${b.period}`);
    let hit: CellScore | undefined;
    for (let i = Math.max(0, at - window); i <= Math.min(s.points.length - 1, at + window) && !hit; i++) {
      hit = flagged.get(cellKey(b.entity, b.indicator, s.points[i]!.period));
    }
    if (hit) {
      found++;
      if (hit.likelyCause === 'data_problem') labelledDataProblem++;
    }
  }
  return { detector, breaks: breaks.length, found, share: breaks.length === 0 ? Number.NaN : found / breaks.length, labelledDataProblem };
}

/**
 * How the demo truth is counted. Positives: every planted anomaly (spikes, dips, unit errors and
 * the cells of the multivariate events). Reporting breaks are real level shifts with a change of
 * source, labelled apart from the anomalies: the first point at the new level and the point on
 * either side of it are excluded from the anomaly metrics (flagging them is neither a hit nor a
 * false alarm) and the breaks are scored separately by breakRecall. The other points of a broken
 * series stay as negatives: flagging every year after a break is a false alarm.
 */
export function demoEvaluationSets(truth: DemoTruth, series: readonly Series[]): { positives: TruthCell[]; excluded: Set<string>; breaks: BreakCell[] } {
  const bySeries = new Map(series.map((s) => [`${s.entity}|${s.indicator}`, s]));
  const excluded = new Set<string>();
  const breaks: BreakCell[] = [];
  for (const b of truth.breaks) {
    const s = bySeries.get(`${b.entity}|${b.indicator}`);
    if (!s) continue;
    const period = String(b.fromPeriod);
    const at = s.points.findIndex((p) => p.period === period);
    if (at < 0) throw new Error(`demoEvaluationSets: break ${b.entity}/${b.indicator} from ${period} is not a point of the series`);
    for (let i = Math.max(0, at - 1); i <= Math.min(s.points.length - 1, at + 1); i++) excluded.add(cellKey(b.entity, b.indicator, s.points[i]!.period));
    breaks.push({ entity: b.entity, indicator: b.indicator, period });
  }
  return { positives: truth.anomalies.map((a) => ({ entity: a.entity, indicator: a.indicator, period: String(a.period) })), excluded, breaks };
}
