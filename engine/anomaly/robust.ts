/**
 * Univariate robust detectors: the median/MAD modified z-score of a value against the history
 * before it (`robust_z`) and a Hampel filter, the same statistic against a rolling window of
 * neighbours (`hampel`). Both wait for a minimum history before they judge anything.
 *
 * Score: scoreFromRobustZ(z) (types.ts), so |z| = 3.5, the Iglewicz-Hoaglin cut-off, is 0.5 (low).
 * Reference: Iglewicz & Hoaglin (1993), "How to Detect and Handle Outliers"; Hampel (1974);
 * Pearson et al. (2016), "Generalized Hampel filters". Tests: test/anomaly-series-robust.test.ts.
 */
import { MAD_TO_SD, type CellScore, type LikelyCause, type Series } from './types.ts';
import { checkCount, formatValue, intervalZ, makeCell, seriesPositions, sourceChangeAt, unitErrorFactor } from './series-common.ts';

/**
 * sqrt(pi / 2): the mean absolute deviation times this estimates the standard deviation of normal
 * data. The fallback scale when the MAD is 0 (more than half the values equal), as in IBM SPSS's
 * modified z-score: 1.253314 x mean |x - median|.
 */
export const MEAN_AD_TO_SD = Math.sqrt(Math.PI / 2);

/** The median of the first n values of a scratch array, which it reorders (quickselect, O(n)). */
export function medianInPlace(a: Float64Array, n = a.length): number {
  if (n <= 0) return Number.NaN;
  const half = n >> 1;
  const upper = select(a, n, half);
  if (n % 2 === 1) return upper;
  // After select, a[0 .. half-1] are all <= upper: the lower middle is their maximum.
  let lower = a[0]!;
  for (let i = 1; i < half; i++) if (a[i]! > lower) lower = a[i]!;
  return (lower + upper) / 2;
}

/** Hoare quickselect: the k-th smallest (0-based) of a[0..n-1], which it partially sorts. */
function select(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    // Median of three as the pivot keeps sorted input linear.
    const mid = (lo + hi) >> 1;
    let x = a[lo]!, y = a[mid]!, z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        x = a[i]!; a[i] = a[j]!; a[j] = x;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

export interface RobustScale {
  /** The median. */
  readonly centre: number;
  /** The robust standard deviation: 1.4826 MAD, else 1.2533 x mean absolute deviation, else 0. */
  readonly scale: number;
  /** Which estimate gave the scale: `mad`, `meanAD` (MAD was 0), `none` (all values equal). */
  readonly method: 'mad' | 'meanAD' | 'none';
}

/**
 * Median and robust standard deviation of values (NaN-free). When more than half the values are
 * equal the MAD is 0 and would make every other value infinitely unusual; the mean absolute
 * deviation around the median then still measures the spread of the rest. O(n).
 */
export function robustScale(values: ArrayLike<number>, scratch?: Float64Array): RobustScale {
  const n = values.length;
  if (n === 0) return { centre: Number.NaN, scale: Number.NaN, method: 'none' };
  const work = scratch && scratch.length >= n ? scratch : new Float64Array(n);
  for (let i = 0; i < n; i++) work[i] = values[i]!;
  const centre = medianInPlace(work, n);
  let meanAD = 0;
  for (let i = 0; i < n; i++) {
    const d = Math.abs(values[i]! - centre);
    work[i] = d;
    meanAD += d;
  }
  const mad = medianInPlace(work, n);
  if (mad > 0) return { centre, scale: MAD_TO_SD * mad, method: 'mad' };
  meanAD /= n;
  if (meanAD > 0) return { centre, scale: MEAN_AD_TO_SD * meanAD, method: 'meanAD' };
  return { centre, scale: 0, method: 'none' };
}

/** (x - centre) / scale, with 0 for x at the centre and +-Infinity off it when the scale is 0. */
function zOf(x: number, centre: number, scale: number): number {
  const d = x - centre;
  if (d === 0) return 0;
  return scale > 0 ? d / scale : d > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
}

/**
 * Modified z-scores (Iglewicz & Hoaglin): (x - median) / (1.4826 MAD), signed. When the MAD is 0
 * the scale is 1.2533 x the mean absolute deviation from the median; when every value is equal
 * all z are 0. O(n).
 *
 * @example madZScores([1, 2, 3, 4, 100]) // median 3, MAD 1: [-1.349, -0.674, 0, 0.674, 65.4]
 */
export function madZScores(values: readonly number[]): number[] {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) throw new RangeError(`madZScores: value ${i} is ${values[i]}; drop missing values first`);
  }
  const { centre, scale } = robustScale(values);
  return values.map((x) => zOf(x, centre, scale));
}

export interface HampelOptions {
  /** k: the window is the 2k + 1 points nearest to each point (default 3: 7 points). */
  readonly halfWindow?: number;
  /** A point is an outlier when |z| > nSigmas (default 3, Hampel's usual choice). */
  readonly nSigmas?: number;
  /** Floor of the rolling scale, in the values' units (default 0). */
  readonly minScale?: number;
}

export interface HampelResult {
  /** Robust z of each point against its window's median and robust scale (the point included). */
  readonly z: number[];
  readonly centre: number[];
  readonly scale: number[];
  /** |z| > nSigmas. */
  readonly outlier: boolean[];
  /** The values with outliers replaced by their window's median (the filter's output). */
  readonly filtered: number[];
}

/**
 * Hampel filter: each point against the median and robust scale (1.4826 MAD, or the mean
 * absolute deviation fallback) of the 2k + 1 points nearest to it. At the ends the window is
 * shifted inward so that it keeps its width (the newest point, the one an analyst looks at, is
 * judged on 2k neighbours, not k as in a truncated window). O(n k).
 *
 * @example hampelFilter([1, 2, 1, 2, 9, 1, 2], { halfWindow: 3 }).outlier[4] // => true
 */
export function hampelFilter(values: readonly number[], options: HampelOptions = {}): HampelResult {
  const k = checkCount('hampelFilter halfWindow', options.halfWindow ?? 3, 1);
  const nSigmas = options.nSigmas ?? 3;
  const minScale = options.minScale ?? 0;
  if (!(nSigmas > 0)) throw new RangeError(`hampelFilter nSigmas must be > 0, got ${nSigmas}`);
  const n = values.length;
  const width = Math.min(2 * k + 1, n);
  const window = new Float64Array(width);
  const scratch = new Float64Array(width);
  const result: HampelResult = { z: [], centre: [], scale: [], outlier: [], filtered: [] };
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(values[i]!)) throw new RangeError(`hampelFilter: value ${i} is ${values[i]}; drop missing values first`);
    const start = Math.min(Math.max(0, i - k), n - width);
    for (let j = 0; j < width; j++) window[j] = values[start + j]!;
    const rs = robustScale(window, scratch);
    const scale = Math.max(rs.scale, minScale);
    const z = zOf(values[i]!, rs.centre, scale);
    const isOutlier = Math.abs(z) > nSigmas;
    result.z.push(z);
    result.centre.push(rs.centre);
    result.scale.push(scale);
    result.outlier.push(isOutlier);
    result.filtered.push(isOutlier ? rs.centre : values[i]!);
  }
  return result;
}

export interface RobustLevelOptions {
  /** Points before the first judged one: nothing is scored with fewer earlier points (default 5). */
  readonly minHistory?: number;
  /** At most this many earlier points form the history (default: all of them). */
  readonly window?: number;
  /** Level of the interval around the median (default 0.95). */
  readonly level?: number;
  /** Floor of the robust scale, in the values' units (default 0). */
  readonly minScale?: number;
}

/**
 * `robust_z`: each value against the median and robust scale of the values before it (at most
 * `window` of them), scored scoreFromRobustZ(z). A level z-score: it suits series that hover
 * around a level; on a trending series use trend_residual. Points with fewer than `minHistory`
 * earlier points are not judged and get no CellScore. expected = the history's median, interval
 * = median +- z_(level) x scale.
 */
export function detectRobustLevel(series: Series, options: RobustLevelOptions = {}): CellScore[] {
  const minHistory = checkCount('detectRobustLevel minHistory', options.minHistory ?? 5, 1);
  const window = options.window ?? Number.POSITIVE_INFINITY;
  if (!(window >= minHistory)) throw new RangeError(`detectRobustLevel window (${window}) must be >= minHistory (${minHistory})`);
  const q = intervalZ(options.level ?? 0.95);
  const minScale = options.minScale ?? 0;
  seriesPositions(series);
  const values = series.points.map((p) => p.value);
  const cells: CellScore[] = [];
  for (let i = minHistory; i < values.length; i++) {
    const from = Math.max(0, i - window);
    const history = values.slice(from, i);
    const rs = robustScale(history);
    const scale = Math.max(rs.scale, minScale);
    const z = zOf(values[i]!, rs.centre, scale);
    const zNext = values.slice(i + 1, i + 3).map((v) => zOf(v, rs.centre, scale));
    const cause = causeOf(series, i, z, rs.centre, zNext);
    const point = series.points[i]!;
    const scaleText = rs.method === 'none' && minScale === 0 ? 'all of them equal' : `robust sd ${formatValue(scale)}`;
    cells.push(
      makeCell(series, {
        point,
        detector: 'robust_z',
        z,
        expected: rs.centre,
        interval: [rs.centre - q * scale, rs.centre + q * scale],
        likelyCause: cause.cause,
        reason: `${point.period}: ${formatValue(point.value)} against a median of ${formatValue(rs.centre)} over the previous ${history.length} periods (${scaleText}); robust z ${formatZ(z)}${cause.note}.`,
      }),
    );
  }
  return cells;
}

export interface HampelDetectorOptions {
  /** k: the window is the 2k + 1 points nearest to each point (default 3). */
  readonly halfWindow?: number;
  /** Points before the first judged one (default 5); the window must also hold that many others. */
  readonly minHistory?: number;
  readonly level?: number;
  readonly minScale?: number;
}

/**
 * `hampel`: each value against the median and robust scale of the 2k + 1 points nearest to it
 * (itself included; see hampelFilter), scored scoreFromRobustZ(z). Finds spikes on slowly moving
 * series, where a level z-score over the whole history would see the slow move. Points with
 * fewer than `minHistory` earlier points, and every point when the window holds fewer than
 * `minHistory` others, are not judged.
 */
export function detectHampel(series: Series, options: HampelDetectorOptions = {}): CellScore[] {
  const minHistory = checkCount('detectHampel minHistory', options.minHistory ?? 5, 1);
  const halfWindow = checkCount('detectHampel halfWindow', options.halfWindow ?? 3, 1);
  const q = intervalZ(options.level ?? 0.95);
  seriesPositions(series);
  const values = series.points.map((p) => p.value);
  if (Math.min(2 * halfWindow, values.length - 1) < minHistory) return [];
  const h = hampelFilter(values, { halfWindow, ...(options.minScale === undefined ? {} : { minScale: options.minScale }) });
  const cells: CellScore[] = [];
  for (let i = minHistory; i < values.length; i++) {
    const z = h.z[i]!;
    const centre = h.centre[i]!;
    const scale = h.scale[i]!;
    const zNext = values.slice(i + 1, i + 3).map((v) => zOf(v, centre, scale));
    const cause = causeOf(series, i, z, centre, zNext);
    const point = series.points[i]!;
    cells.push(
      makeCell(series, {
        point,
        detector: 'hampel',
        z,
        expected: centre,
        interval: [centre - q * scale, centre + q * scale],
        likelyCause: cause.cause,
        reason: `${point.period}: ${formatValue(point.value)} against a median of ${formatValue(centre)} over the ${Math.min(2 * halfWindow + 1, values.length)} nearest periods (robust sd ${formatValue(scale)}); robust z ${formatZ(z)}${cause.note}.`,
      }),
    );
  }
  return cells;
}

export function formatZ(z: number): string {
  return Number.isFinite(z) ? z.toFixed(1) : z > 0 ? '+inf' : '-inf';
}

/**
 * The likely cause of a flag (|z| >= 3.5; below it the cell is not a flag and the cause is
 * `unclear`): a x1000 jump from the expected value or a change of source at the point is a data
 * problem; the next one or two values staying on the same side, at least half as far out, is a
 * real change; otherwise (a one-period spike, or the newest point) unclear.
 * @internal shared by the detectors of this folder
 */
export function causeOf(series: Series, i: number, z: number, expected: number, zNext: readonly number[]): { cause: LikelyCause; note: string } {
  if (!(Math.abs(z) >= 3.5)) return { cause: 'unclear', note: '' };
  const value = series.points[i]!.value;
  const unit = unitErrorFactor(value, expected);
  if (unit !== null) return { cause: 'data_problem', note: `; about ${unit >= 1 ? `${formatValue(unit)} times` : `1/${formatValue(1 / unit)} of`} the expected value: a unit error?` };
  const source = sourceChangeAt(series.points, i);
  if (source !== null) return { cause: 'data_problem', note: `; the source changes here (${source}): a reporting break?` };
  if (zNext.length > 0 && zNext.every((zn) => Math.sign(zn) === Math.sign(z) && Math.abs(zn) >= Math.abs(z) / 2)) {
    return { cause: 'real_change', note: `; the next ${zNext.length === 1 ? 'value stays' : `${zNext.length} values stay`} at the new level` };
  }
  return { cause: 'unclear', note: zNext.length === 0 ? '; the newest value, nothing after it yet' : '; the values after it return' };
}
