/**
 * The trend arithmetic of the soak benchmark (bench/soak.ts), kept pure so that it can be checked
 * against scipy (test/soak-trend.test.ts, test/reference/ref_soak_trend.py).
 */
import { gammaln, linearRegression, sum } from 'simple-statistics';

export interface TrendFit {
  /** Samples in the fit (after the warm-up). */
  readonly n: number;
  /** Least-squares slope, in the value's unit per minute. */
  readonly slopePerMinute: number;
  readonly intercept: number;
  /** Standard error of the slope. */
  readonly slopeStdErr: number;
  /** Two-sided critical value of Student's t with n − 2 degrees of freedom at `confidence`. */
  readonly tCritical: number;
  readonly slopeLow: number;
  readonly slopeHigh: number;
  /** Fitted growth over the measured span: slope × (last minute − first minute). */
  readonly fittedGrowth: number;
  /** Raw growth over the measured span: last value − first value. */
  readonly rawGrowth: number;
  /** The point slope projected to an hour. */
  readonly projectedPerHour: number;
}

/**
 * Ordinary least squares of `values` on `minutes`, with the slope's confidence interval.
 *
 * The slope's standard error (the textbook formula, as scipy.stats.linregress):
 *   residuals  e_i = y_i − (a + b·x_i)
 *   s²         = Σ e_i² / (n − 2)                (residual variance; two parameters fitted)
 *   SE(b)      = sqrt(s² / Σ (x_i − x̄)²)
 * and the interval is b ± t_{1−α/2, n−2} · SE(b).
 */
export function fitTrend(minutes: readonly number[], values: readonly number[], confidence = 0.95): TrendFit {
  const n = minutes.length;
  if (n !== values.length) throw new Error(`fitTrend: ${n} times but ${values.length} values`);
  if (n < 3) throw new Error(`fitTrend: a slope's standard error needs at least 3 samples; got ${n} (run the soak longer or sample more often)`);
  if (!(confidence > 0 && confidence < 1)) throw new Error(`fitTrend: confidence must be in (0, 1); got ${confidence}`);
  const meanX = sum(minutes as number[]) / n;
  const sxx = sum(minutes.map((x) => (x - meanX) ** 2));
  if (sxx === 0) throw new Error('fitTrend: all samples have the same time; no slope can be fitted');
  const { m: slope, b: intercept } = linearRegression(minutes.map((x, i) => [x, values[i]!]));
  const sse = sum(minutes.map((x, i) => (values[i]! - (intercept + slope * x)) ** 2));
  const slopeStdErr = Math.sqrt(sse / (n - 2) / sxx);
  const tCritical = studentTQuantile(1 - (1 - confidence) / 2, n - 2);
  return {
    n,
    slopePerMinute: slope,
    intercept,
    slopeStdErr,
    tCritical,
    slopeLow: slope - tCritical * slopeStdErr,
    slopeHigh: slope + tCritical * slopeStdErr,
    fittedGrowth: slope * (minutes[n - 1]! - minutes[0]!),
    rawGrowth: values[n - 1]! - values[0]!,
    projectedPerHour: slope * 60,
  };
}

/** Student's t density with `df` degrees of freedom. */
function studentTDensity(t: number, df: number): number {
  const logNorm = gammaln((df + 1) / 2) - gammaln(df / 2) - 0.5 * Math.log(df * Math.PI);
  return Math.exp(logNorm - ((df + 1) / 2) * Math.log1p((t * t) / df));
}

/** P(T ≤ t) for t ≥ 0: ½ + ∫₀ᵗ density, by composite Simpson (the density is smooth; 2,000 panels give ~1e-10). */
function studentTCdf(t: number, df: number): number {
  const panels = 2000;
  const h = t / panels;
  let area = studentTDensity(0, df) + studentTDensity(t, df);
  for (let i = 1; i < panels; i++) area += (i % 2 === 1 ? 4 : 2) * studentTDensity(i * h, df);
  return 0.5 + (area * h) / 3;
}

/**
 * The p-quantile of Student's t (p in [0.5, 1)), by bisection on the CDF. simple-statistics has the
 * t statistic but not the distribution's quantile, and this is all the soak needs.
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p >= 0.5 && p < 1)) throw new Error(`studentTQuantile: p must be in [0.5, 1); got ${p}`);
  if (!(df >= 1)) throw new Error(`studentTQuantile: at least 1 degree of freedom is needed; got ${df}`);
  let low = 0;
  let high = 1;
  while (studentTCdf(high, df) < p) high *= 2;
  for (let i = 0; i < 60; i++) {
    const middle = (low + high) / 2;
    if (studentTCdf(middle, df) < p) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}

/**
 * The warm-up left out of the trend: the first 20% of the run or its first minute, whichever is
 * longer (caches, JIT and pools fill at the start; that is not a leak). Returns the index of the
 * first sample kept.
 */
export function firstMeasuredIndex(minutes: readonly number[], runMinutes: number): number {
  const warmUpMinutes = Math.max(1, 0.2 * runMinutes);
  const index = minutes.findIndex((minute) => minute >= warmUpMinutes);
  return index < 0 ? minutes.length : index;
}

/**
 * Heap growth slower than this, projected to an hour, is not called growth even when it is
 * statistically significant. 1 MB/h is 24 MB a day: a server restarted weekly (each deploy) would
 * grow by under 170 MB, small beside V8's default old-space limit (2 GB and more on 64-bit). What
 * a run can resolve is the width of its printed interval: heap after GC scatters by a few MB
 * between samples (requests in flight at each forced GC hold memory), so a 10-minute run resolves
 * only tens of MB/h and the interval decides; the threshold keeps long runs, whose intervals are
 * narrow, from calling a slow sub-MB/h drift (a bounded cache filling) growth.
 */
export const GROWTH_THRESHOLD_MB_PER_HOUR = 1;

export type Verdict = 'no growth trend' | 'GROWTH';

/**
 * "no growth trend" when the slope's confidence interval reaches 0 or below (no significant
 * growth), or the projected growth per hour is under the threshold; otherwise "GROWTH".
 */
export function growthVerdict(fit: TrendFit, thresholdPerHour = GROWTH_THRESHOLD_MB_PER_HOUR): Verdict {
  if (fit.slopeLow <= 0) return 'no growth trend';
  if (fit.projectedPerHour < thresholdPerHour) return 'no growth trend';
  return 'GROWTH';
}
