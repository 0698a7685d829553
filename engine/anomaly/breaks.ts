/**
 * Structural breaks: PELT (Killick, Fearnhead & Eckley 2012, JASA 107, 1590-1598), the exact
 * optimal segmentation under a penalised normal likelihood in about linear time, and the
 * `structural_break` detector built on it: one CellScore at the first period of each new
 * segment, labelled a possible reporting break when the source recorded at ingestion changes
 * there.
 *
 * Costs are -2 log-likelihood of a normal segment, without the constant terms:
 * - `meanvar` (change in mean and variance): n (log v + s2 / v), s2 the segment's variance
 *   (divisor n) and v = max(s2, floor); without the floor (s2 >= floor) it is n log s2 + n. The
 *   floor is the likelihood maximised over variances >= floor, so that a run of equal values (a
 *   string of zeros) does not cost minus infinity; being still a maximised likelihood, splitting a
 *   segment never costs more than keeping it, which is what PELT's pruning needs (K = 0);
 * - `mean` (change in mean, common variance sigma^2): sum (x - mean)^2 / sigma^2, sigma estimated
 *   from the first differences (1.4826 MAD / sqrt 2), which a change of level barely moves.
 * Default penalty: BIC counting the change's position as a parameter, (p + 1) log n with p the
 * parameters of a segment (2 for meanvar, 1 for mean): changepoint's "SIC1"/"BIC1" and
 * skchange's make_bic_penalty. Tests: test/anomaly-series-breaks.test.ts (brute force over every
 * segmentation of small series; the London MPS 2013 fraud recording break).
 */
import { scoreFromRobustZ, type CellScore, type Series } from './types.ts';
import { robustScale } from './robust.ts';
import { stl } from './seasonal.ts';
import { checkCount, formatValue, makeCell, periodsPerYear, seriesPositions, sourceChangeAt, unitErrorFactor } from './series-common.ts';

export type BreakModel = 'meanvar' | 'mean';

export interface PeltOptions {
  /** What changes at a break (default `meanvar`). */
  readonly model?: BreakModel;
  /** Cost added per change, in -2 log-likelihood units (default (p + 1) log n, above). */
  readonly penalty?: number;
  /** Least points in a segment (default 2 for meanvar, where a variance needs two points; 1 for mean). */
  readonly minSegment?: number;
  /** meanvar: floor of a segment's variance (default (0.1 sigma)^2, sigma from the first differences). */
  readonly varianceFloor?: number;
  /** mean: the noise variance (default sigma^2 from the first differences). */
  readonly noiseVariance?: number;
}

export interface PeltResult {
  /** First index of each new segment (0-based, increasing; never 0). */
  readonly changepoints: number[];
  /** Total cost: segment costs plus penalty x number of changes. */
  readonly cost: number;
  readonly penalty: number;
  readonly minSegment: number;
  readonly model: BreakModel;
  /** The variance floor (meanvar) or noise variance (mean) the costs used. */
  readonly variance: number;
  /** Candidates evaluated (for the pruning's effect; n(n+1)/2 without pruning). */
  readonly evaluations: number;
}

/** Robust noise sd from the first differences: 1.4826 MAD(diff) / sqrt 2 (0 when n < 3). */
export function differenceNoiseSd(values: ArrayLike<number>): number {
  const n = values.length;
  if (n < 3) return 0;
  const diffs = new Float64Array(n - 1);
  for (let i = 1; i < n; i++) diffs[i - 1] = values[i]! - values[i - 1]!;
  return robustScale(diffs).scale / Math.SQRT2;
}

/** The segment cost function of a model over values, from prefix sums (O(1) per segment). */
export function segmentCostFunction(values: ArrayLike<number>, model: BreakModel, variance: number): (start: number, end: number) => number {
  const n = values.length;
  let centre = 0;
  for (let i = 0; i < n; i++) centre += values[i]!;
  centre = n > 0 ? centre / n : 0;
  // Centred prefix sums keep the variance of a segment from cancelling on large values.
  const s1 = new Float64Array(n + 1);
  const s2 = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const v = values[i]! - centre;
    s1[i + 1] = s1[i]! + v;
    s2[i + 1] = s2[i]! + v * v;
  }
  if (model === 'mean') {
    return (start, end) => {
      const m = end - start;
      const a = s1[end]! - s1[start]!;
      return Math.max(s2[end]! - s2[start]! - (a * a) / m, 0) / variance;
    };
  }
  const logFloor = Math.log(variance);
  return (start, end) => {
    const m = end - start;
    const mean = (s1[end]! - s1[start]!) / m;
    const v = Math.max((s2[end]! - s2[start]!) / m - mean * mean, 0);
    return v >= variance ? m * (Math.log(v) + 1) : m * (logFloor + v / variance);
  };
}

/**
 * PELT with detailed result. Exact: the same optimum as optimal partitioning over every
 * segmentation with segments of at least `minSegment` points (checked against brute force in the
 * test). A candidate last change tau is dropped once F(tau) + C(tau, t) > F(t): it can then never
 * be optimal for T >= t + minSegment (Killick et al., theorem 3.1 with K = 0; the minSegment delay
 * because (t, T] must itself be a valid segment). Big-O: O(n) expected when changes keep coming
 * as n grows, O(n^2) at worst.
 */
export function peltFit(values: ArrayLike<number>, options: PeltOptions = {}): PeltResult {
  const n = values.length;
  for (let i = 0; i < n; i++) if (!Number.isFinite(values[i]!)) throw new RangeError(`pelt: value ${i} is ${values[i]}; drop missing values first`);
  const model = options.model ?? 'meanvar';
  if (model !== 'meanvar' && model !== 'mean') throw new RangeError(`pelt model must be "meanvar" or "mean", got ${String(model)}`);
  const minSegment = checkCount('pelt minSegment', options.minSegment ?? (model === 'meanvar' ? 2 : 1), 1);
  const params = model === 'meanvar' ? 2 : 1;
  const penalty = options.penalty ?? (params + 1) * Math.log(Math.max(n, 2));
  if (!(penalty >= 0)) throw new RangeError(`pelt penalty must be >= 0, got ${penalty}`);
  let sigma = differenceNoiseSd(values);
  if (!(sigma > 0)) {
    // Differences mostly zero: the spread of the values themselves, else 1.
    const rs = robustScale(values);
    sigma = rs.scale > 0 ? rs.scale : 1;
  }
  const variance = model === 'meanvar' ? options.varianceFloor ?? (0.1 * sigma) ** 2 : options.noiseVariance ?? sigma * sigma;
  if (!(variance > 0)) throw new RangeError(`pelt ${model === 'meanvar' ? 'varianceFloor' : 'noiseVariance'} must be > 0, got ${variance}`);
  if (n < 2 * minSegment) {
    const cost = n >= 1 ? segmentCostFunction(values, model, variance)(0, n) : 0;
    return { changepoints: [], cost, penalty, minSegment, model, variance, evaluations: 0 };
  }
  const cost = segmentCostFunction(values, model, variance);
  const best = new Float64Array(n + 1).fill(Number.POSITIVE_INFINITY);
  const last = new Int32Array(n + 1).fill(-1);
  best[0] = -penalty;
  // Live candidates and the step from which each is dead (Infinity while alive).
  let candidates: number[] = [0];
  let deadFrom: number[] = [Number.POSITIVE_INFINITY];
  const candidateCost = new Float64Array(n + 1);
  let evaluations = 0;
  for (let t = minSegment; t <= n; t++) {
    const fresh = t - minSegment;
    if (fresh >= minSegment) {
      candidates.push(fresh);
      deadFrom.push(Number.POSITIVE_INFINITY);
    }
    let bestValue = Number.POSITIVE_INFINITY;
    let bestTau = -1;
    for (let c = 0; c < candidates.length; c++) {
      const tau = candidates[c]!;
      const v = best[tau]! + cost(tau, t);
      candidateCost[c] = v;
      evaluations++;
      if (v + penalty < bestValue) {
        bestValue = v + penalty;
        bestTau = tau;
      }
    }
    best[t] = bestValue;
    last[t] = bestTau;
    const keptCandidates: number[] = [];
    const keptDeadFrom: number[] = [];
    for (let c = 0; c < candidates.length; c++) {
      let dead = deadFrom[c]!;
      if (dead === Number.POSITIVE_INFINITY && candidateCost[c]! > bestValue) dead = t + minSegment;
      if (t + 1 < dead) {
        keptCandidates.push(candidates[c]!);
        keptDeadFrom.push(dead);
      }
    }
    candidates = keptCandidates;
    deadFrom = keptDeadFrom;
  }
  const changepoints: number[] = [];
  for (let t = n; t > 0; ) {
    const tau = last[t]!;
    if (tau < 0) throw new Error(`pelt: no valid segmentation ends at ${t} (internal error)`);
    if (tau > 0) changepoints.push(tau);
    t = tau;
  }
  changepoints.reverse();
  return { changepoints, cost: best[n]!, penalty, minSegment, model, variance, evaluations };
}

/**
 * PELT changepoints: the first index (0-based) of each new segment.
 * @example pelt([0, 0.1, -0.1, 0.05, 5, 5.1, 4.9, 5.05], { model: 'mean' }) // => [4]
 */
export function pelt(values: ArrayLike<number>, options: PeltOptions = {}): number[] {
  return peltFit(values, options).changepoints;
}

export interface BreakDetectorOptions extends PeltOptions {
  /** Fewer points: not judged (default 8). */
  readonly minPoints?: number;
  /** Log values where all are positive (`auto`, the default): a break is then a change of proportion. */
  readonly log?: 'auto' | boolean;
  /**
   * Monthly and quarterly series with two full periods or more: remove STL's seasonal component
   * first (default false). Off by default because on the 28 London MPS monthly series it made
   * more breaks, not fewer (the noise left after adjustment is smaller, so smaller moves count),
   * and around a large break STL's seasonal absorbs part of the break.
   */
  readonly deseasonalise?: boolean;
}

/**
 * `structural_break`: PELT on the series (log values where all are positive), one CellScore at
 * the first period of each new segment.
 * Score: scoreFromRobustZ(sqrt(LR)), LR the -2 log-likelihood ratio of the two segments around
 * the break against one merged segment (the same cost as PELT): for a change of mean alone,
 * sqrt(LR) is the two-sample z of the shift. Default minSegment for the detector: 3 points, 6
 * for monthly series (a short excursion is an outlier, the other detectors' business; a break
 * is a level that lasts).
 * likelyCause: data_problem ("possible reporting break") when the source changes at the break or
 * within one period of it, or when the level moves x1000 or /1000; else real_change.
 */
export function detectBreaks(series: Series, options: BreakDetectorOptions = {}): CellScore[] {
  const minPoints = checkCount('detectBreaks minPoints', options.minPoints ?? 8, 2);
  const positions = seriesPositions(series);
  const n = positions.length;
  if (n < minPoints) return [];
  const values = series.points.map((p) => p.value);
  const allPositive = values.every((v) => v > 0);
  const useLog = options.log === 'auto' || options.log === undefined ? allPositive : options.log;
  if (useLog && !allPositive) throw new RangeError(`detectBreaks: log = true needs positive values, but ${series.entity}/${series.indicator} has ${values.find((v) => !(v > 0))}`);
  let work = Float64Array.from(values, (v) => (useLog ? Math.log(v) : v));
  const period = periodsPerYear(series.periodKind);
  const consecutive = positions[n - 1]! - positions[0]! === n - 1;
  let adjusted = false;
  if ((options.deseasonalise ?? false) && period > 1 && consecutive && n >= 2 * period) {
    const seasonal = stl(work, period).seasonal;
    work = work.map((v, i) => v - seasonal[i]!);
    adjusted = true;
  }
  const fit = peltFit(work, { ...options, minSegment: options.minSegment ?? Math.max(3, Math.floor(period / 2)) });
  const cost = segmentCostFunction(work, fit.model, fit.variance);
  const bounds = [0, ...fit.changepoints, n];
  const cells: CellScore[] = [];
  for (let b = 1; b < bounds.length - 1; b++) {
    const [start, i, end] = [bounds[b - 1]!, bounds[b]!, bounds[b + 1]!];
    const lr = cost(start, end) - cost(start, i) - cost(i, end);
    const z = Math.sqrt(Math.max(lr, 0));
    const before = segmentSummary(values, start, i);
    const after = segmentSummary(values, i, end);
    const points = series.points;
    const source = sourceChangeAt(points, i) ?? sourceChangeAt(points, i - 1) ?? sourceChangeAt(points, i + 1);
    const unit = unitErrorFactor(after.median, before.median);
    const change = before.median !== 0 ? `${after.median >= before.median ? '+' : ''}${formatValue((100 * (after.median - before.median)) / Math.abs(before.median))}%` : `${after.median >= before.median ? '+' : ''}${formatValue(after.median - before.median)}`;
    const cause = source !== null ? `possible reporting break: the source changes (${source})` : unit !== null ? `possible reporting break: the level moves by a factor of about ${formatValue(unit >= 1 ? unit : 1 / unit)}, a unit change?` : 'a real change of level or spread';
    cells.push(
      makeCell(series, {
        point: points[i]!,
        detector: 'structural_break',
        score: scoreFromRobustZ(z),
        expected: before.median,
        interval: [before.low, before.high],
        likelyCause: source !== null || unit !== null ? 'data_problem' : 'real_change',
        reason: `${points[i]!.period}: a new segment begins; the median moves from ${formatValue(before.median)} (${points[start]!.period} to ${points[i - 1]!.period}, spread ${formatValue(before.sd)}) to ${formatValue(after.median)} (${points[i]!.period} to ${points[end - 1]!.period}, spread ${formatValue(after.sd)}), ${change}${adjusted ? ' after seasonal adjustment' : ''}; evidence sqrt(LR) ${z.toFixed(1)}; ${cause}.`,
      }),
    );
  }
  return cells;
}

/** Median, robust sd and the range median +- 1.96 sd of values[start..end) (original units). */
function segmentSummary(values: readonly number[], start: number, end: number): { median: number; sd: number; low: number; high: number } {
  const rs = robustScale(values.slice(start, end));
  const median = rs.centre;
  return { median, sd: rs.scale, low: median - 1.96 * rs.scale, high: median + 1.96 * rs.scale };
}
