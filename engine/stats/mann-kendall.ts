/**
 * Mann-Kendall trend test for a series observed at distinct times, gaps allowed.
 */
import { errorFunction } from 'simple-statistics';
import { tieTerm } from './theil-sen.ts';

export interface MannKendallResult {
  /** Number of points. */
  readonly n: number;
  /** S = Σ_{i<j} sign(y_j - y_i) over pairs ordered in time: positive for a rising series. */
  readonly s: number;
  /** Var(S) under no trend, with the tie correction: [n(n-1)(2n+5) - Σ t(t-1)(2t+5)] / 18. */
  readonly variance: number;
  /** Continuity-corrected Z: (S - 1)/√Var for S > 0, 0 for S = 0, (S + 1)/√Var for S < 0. */
  readonly z: number;
  /** Two-sided p-value of Z against the standard normal: 2 (1 - Φ(|Z|)). */
  readonly p: number;
  /**
   * Kendall's tau-b between time and value: S / √(n₀ (n₀ - n₂)), n₀ = n(n-1)/2, n₂ the tied
   * value pairs; equals scipy.stats.kendalltau(times, values). NaN when every value is equal.
   */
  readonly tau: number;
  /** Kendall's tau-a, S / n₀ (pymannkendall's `Tau`). */
  readonly tauA: number;
}

/**
 * Mann-Kendall test: is there a monotonic trend in a series, without assuming a distribution or
 * a linear shape? S counts rising minus falling pairs; under no trend S is approximately normal
 * with the variance above (ties in the values reduce it).
 *
 * Why: the standard non-parametric trend test for short annual indicator series; robust to
 * outliers and to gaps (only the order in time matters, so a missing year is simply absent).
 * The normal approximation is usual from n = 8-10 on; with fewer points the p-value is rough,
 * and with n ≤ 4 it can never fall below 0.05.
 *
 * Big-O: O(n²) time, O(n) memory.
 * Reference: Mann (1945), Kendall (1975) "Rank Correlation Methods"; Hipel & McLeod (1994);
 * the formulas of pymannkendall's `original_test`; tau-b as scipy.stats.kendalltau.
 * Missing values: times and values must be finite and times distinct (throws otherwise): drop
 * missing years before calling. Times need not be sorted.
 *
 * @example
 * mannKendall([2001, 2002, 2004, 2005], [1, 3, 2, 5]).s; // => 4
 */
export function mannKendall(times: ArrayLike<number>, values: ArrayLike<number>): MannKendallResult {
  const n = times.length;
  if (values.length !== n) throw new RangeError(`mannKendall requires times and values of the same length, got ${n} and ${values.length}`);
  if (n < 2) throw new RangeError('mannKendall requires at least two points');
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(times[i]!) || !Number.isFinite(values[i]!)) {
      throw new RangeError(`mannKendall requires finite times and values: point ${i} is (${times[i]}, ${values[i]}); drop missing years first`);
    }
  }
  let s = 0;
  for (let i = 0; i < n - 1; i++) {
    for (let j = i + 1; j < n; j++) {
      const dt = times[j]! - times[i]!;
      if (dt === 0) throw new RangeError(`mannKendall requires distinct times: ${times[i]} appears twice`);
      s += Math.sign(dt) * Math.sign(values[j]! - values[i]!);
    }
  }
  const ys = Array.from(values);
  const variance = (n * (n - 1) * (2 * n + 5) - tieTerm(ys)) / 18;
  const z = s > 0 ? (s - 1) / Math.sqrt(variance) : s < 0 ? (s + 1) / Math.sqrt(variance) : 0;
  // erfc(|z|/√2) = 2 (1 - Φ(|z|)); simple-statistics' erf has relative error below 1.2e-7.
  const p = Math.min(1, 1 - errorFunction(Math.abs(z) / Math.SQRT2));
  const n0 = (n * (n - 1)) / 2;
  const tau = s / Math.sqrt(n0 * (n0 - tiedPairs(ys)));
  return { n, s, variance, z, p, tau, tauA: s / n0 };
}

/** Σ t(t-1)/2 over groups of t equal values. */
function tiedPairs(values: readonly number[]): number {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  let run = 1;
  for (let i = 1; i <= sorted.length; i++) {
    if (i < sorted.length && sorted[i] === sorted[i - 1]) run++;
    else {
      sum += (run * (run - 1)) / 2;
      run = 1;
    }
  }
  return sum;
}
