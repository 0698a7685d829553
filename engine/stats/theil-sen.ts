/**
 * Theil-Sen estimator: the median of the slopes between all pairs of points, with Sen's (1968)
 * distribution-free confidence interval, as scipy.stats.theilslopes computes them.
 */
import { median } from 'simple-statistics';
import { normalQuantile } from './normal.ts';

export interface TheilSenOptions {
  /** Confidence level of the slope interval, in (0, 1). Default 0.95 (scipy's `alpha=0.95`). */
  readonly confidence?: number;
  /**
   * How the intercept is found. `separate` (the default, scipy.stats.theilslopes' default):
   * median(y) - slope * median(x). `joint` (Sen's and Conover's convention, scipy's
   * `method='joint'`): median(y - slope * x).
   */
  readonly intercept?: 'separate' | 'joint';
}

export interface TheilSenResult {
  /** Median of the pairwise slopes (y_j - y_i) / (x_j - x_i) over pairs with x_j > x_i. */
  readonly slope: number;
  readonly intercept: number;
  /** Lower and upper bound of the slope's confidence interval (order statistics of the slopes). */
  readonly low: number;
  readonly high: number;
  readonly confidence: number;
  /** Number of points and of pairs with distinct x that gave a slope. */
  readonly n: number;
  readonly pairs: number;
}

/**
 * Theil-Sen slope and intercept with a confidence interval for the slope.
 *
 * Why: a trend line that ignores up to 29% of wild points (breakdown point), unlike least
 * squares; the usual companion of the Mann-Kendall test for short annual series. x may have
 * gaps (missing years are simply absent) and need not be sorted; pairs with equal x give no slope.
 *
 * The interval follows Sen (1968, eq. 2.6) exactly as scipy.stats.theilslopes does: with N
 * pairwise slopes sorted, z = Φ⁻¹((1 - confidence) / 2) and σ² = [n(n-1)(2n+5) - Σ t(t-1)(2t+5)] / 18
 * (sums over groups of tied x and of tied y), the bounds are slopes[max(round((N + zσ)/2) - 1, 0)]
 * and slopes[min(round((N - zσ)/2), N - 1)], round being round-half-to-even as numpy's.
 *
 * Big-O: O(n² log n) time (all pairs, sorted), O(n²) memory: meant for series of tens of points.
 * Reference: Sen, P. K. (1968), JASA 63, 1379-1389; Theil (1950); scipy.stats.theilslopes.
 * Missing values: x and y must be finite; drop missing points before calling (throws otherwise).
 *
 * @example
 * theilSen([2000, 2001, 2003, 2004], [1, 2, 4, 5]).slope; // => 1
 */
export function theilSen(x: ArrayLike<number>, y: ArrayLike<number>, options: TheilSenOptions = {}): TheilSenResult {
  const n = x.length;
  if (y.length !== n) throw new RangeError(`theilSen requires x and y of the same length, got ${n} and ${y.length}`);
  if (n < 2) throw new RangeError('theilSen requires at least two points');
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(x[i]!) || !Number.isFinite(y[i]!)) {
      throw new RangeError(`theilSen requires finite x and y: point ${i} is (${x[i]}, ${y[i]}); drop missing points first`);
    }
  }
  let confidence = options.confidence ?? 0.95;
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`theilSen confidence must be in (0, 1), got ${confidence}`);

  const slopes = new Float64Array((n * (n - 1)) / 2);
  let count = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const dx = x[j]! - x[i]!;
      if (dx > 0) slopes[count++] = (y[j]! - y[i]!) / dx;
    }
  }
  if (count === 0) throw new RangeError('theilSen requires at least two distinct x values');
  const sorted = slopes.subarray(0, count).sort();
  const slope = medianSorted(sorted);

  const xs = Array.from(x);
  const ys = Array.from(y);
  const intercept =
    options.intercept === 'joint' ? median(ys.map((yi, i) => yi - slope * xs[i]!)) : median(ys) - slope * median(xs);

  // scipy swaps a level given as alpha < 0.5; we take the confidence level as given.
  const z = normalQuantile((1 - confidence) / 2);
  const sigma = Math.sqrt((n * (n - 1) * (2 * n + 5) - tieTerm(xs) - tieTerm(ys)) / 18);
  const upper = Math.min(roundHalfEven((count - z * sigma) / 2), count - 1);
  const lower = Math.max(roundHalfEven((count + z * sigma) / 2) - 1, 0);
  return { slope, intercept, low: sorted[lower]!, high: sorted[upper]!, confidence, n, pairs: count };
}

/** Σ t(t-1)(2t+5) over groups of t equal values. @internal */
export function tieTerm(values: readonly number[]): number {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  let run = 1;
  for (let i = 1; i <= sorted.length; i++) {
    if (i < sorted.length && sorted[i] === sorted[i - 1]) run++;
    else {
      if (run > 1) sum += run * (run - 1) * (2 * run + 5);
      run = 1;
    }
  }
  return sum;
}

function medianSorted(sorted: Float64Array): number {
  const m = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
}

/** numpy's np.round: halves go to the even neighbour. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
