/**
 * Outlier treatment after COINr's `Treat()` defaults: an indicator fails when |skew| >= 2 AND
 * kurtosis >= 3.5 (sample skewness and *excess* kurtosis, e1071 type 2: see stats/moments.ts);
 * a failing indicator is winsorised one step at a time (the highest value(s) replaced by the next
 * highest when skew >= 0, else the lowest by the next lowest; ties move together, and the side is
 * re-read each step as COINr's `winchange = TRUE`) until it passes or `winmax` points (default 5)
 * have been winsorised; if it still fails, the original values are log-transformed instead,
 * x -> log(x - min + 0.01 (max - min)) (COINr `log_CT`, applied to the untreated values as its
 * `combine_treat = FALSE`). Counting: COINr's loop resets its counter to the points of the last
 * step; we count every winsorised point, as its documentation describes ("up to winmax points").
 * Treatment never changes the order of units, only the spacing. O(winmax * n) per indicator.
 */
import { kurtosis, skewness } from '../stats/moments.ts';

export type TreatmentSpec =
  | { readonly method: 'none' }
  | {
      readonly method: 'winsorise';
      /** Most points to winsorise (default 5). */
      readonly winmax?: number;
      /** |skew| threshold (default 2). */
      readonly skew?: number;
      /** Excess-kurtosis threshold (default 3.5). */
      readonly kurt?: number;
      /** Fall back to the log transform when winsorising fails (default true). */
      readonly log?: boolean;
    };

export const TREATMENT_METHODS = ['none', 'winsorise'] as const;

export interface TreatmentReport {
  readonly indicator: string;
  /** `passed`: nothing to do; `winsorised`: passes after winsorising; `log`: log fallback applied; `failed`: still fails, left as is; `too_few`: fewer than 4 values. */
  readonly status: 'passed' | 'winsorised' | 'log' | 'failed' | 'too_few';
  readonly winsorised: number;
  readonly skewBefore: number;
  readonly kurtBefore: number;
  readonly skewAfter: number;
  readonly kurtAfter: number;
  /** Whether the treated values pass the skew/kurtosis check. */
  readonly passes: boolean;
}

/** COINr's `check_SkewKurt`: passes when |skew| < skewThreshold OR kurtosis < kurtThreshold. */
export function passesSkewKurt(skew: number, kurt: number, skewThreshold = 2, kurtThreshold = 3.5): boolean {
  return Math.abs(skew) < skewThreshold || kurt < kurtThreshold;
}

/** Per-cell treatment marks, read by explanations: 1 winsorised high, 2 winsorised low, 3 log-transformed. */
export const TREATED_HIGH = 1;
export const TREATED_LOW = 2;
export const TREATED_LOG = 3;

/**
 * Treats x[off .. off+n) in place (NaN stays NaN); marks treated cells in `marks` (same offsets)
 * when given. Returns the report without the indicator name.
 * @example // 1..10 with outliers 30 and 100: winsorising 100 -> 30 then 30, 30 -> 10 passes (2 points)
 */
export function treatColumn(
  x: Float64Array,
  off: number,
  n: number,
  spec: TreatmentSpec,
  marks?: Uint8Array,
): Omit<TreatmentReport, 'indicator'> {
  const skewBefore = skewness(x, off, n);
  const kurtBefore = kurtosis(x, off, n);
  const base = { skewBefore, kurtBefore, skewAfter: skewBefore, kurtAfter: kurtBefore, winsorised: 0 };
  if (spec.method === 'none') return { ...base, status: 'passed', passes: passesSkewKurt(skewBefore, kurtBefore) };
  if (Number.isNaN(kurtBefore)) return { ...base, status: 'too_few', passes: true };
  const winmax = spec.winmax ?? 5;
  const sk = spec.skew ?? 2;
  const kt = spec.kurt ?? 3.5;
  if (passesSkewKurt(skewBefore, kurtBefore, sk, kt)) return { ...base, status: 'passed', passes: true };

  const original = x.slice(off, off + n);
  const localMarks = new Uint8Array(n);
  let count = 0;
  let skew = skewBefore;
  let kurt = kurtBefore;
  let pass = false;
  while (!pass && count < winmax) {
    const high = skew >= 0;
    // extreme value, and the next one inward (the value the extremes are set to)
    let ext = high ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
    for (let i = off; i < off + n; i++) {
      const v = x[i]!;
      if (v === v && (high ? v > ext : v < ext)) ext = v;
    }
    let next = high ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
    for (let i = off; i < off + n; i++) {
      const v = x[i]!;
      if (v === v && v !== ext && (high ? v > next : v < next)) next = v;
    }
    if (!Number.isFinite(next)) break; // every value equal: nothing left to winsorise
    for (let i = off; i < off + n; i++) {
      if (x[i] === ext) {
        x[i] = next;
        if (localMarks[i - off] === 0) count++;
        localMarks[i - off] = high ? TREATED_HIGH : TREATED_LOW;
      }
    }
    skew = skewness(x, off, n);
    kurt = kurtosis(x, off, n);
    pass = passesSkewKurt(skew, kurt, sk, kt);
  }
  if (pass) {
    if (marks) for (let i = 0; i < n; i++) if (localMarks[i]) marks[off + i] = localMarks[i]!;
    return { ...base, status: 'winsorised', winsorised: count, skewAfter: skew, kurtAfter: kurt, passes: true };
  }
  if (spec.log === false) {
    x.set(original, off);
    return { ...base, status: 'failed', winsorised: 0, passes: false };
  }
  logCT(original);
  x.set(original, off);
  if (marks) for (let i = 0; i < n; i++) if (original[i] === original[i]) marks[off + i] = TREATED_LOG;
  const skewAfter = skewness(x, off, n);
  const kurtAfter = kurtosis(x, off, n);
  return { ...base, status: 'log', winsorised: 0, skewAfter, kurtAfter, passes: passesSkewKurt(skewAfter, kurtAfter, sk, kt) };
}

/**
 * COINr's `log_CT` in place: x -> log(x - min + 0.01 (max - min)). The shift keeps the minimum
 * finite (log(0.01 range)) whatever the sign of the data. O(n).
 * @example logCT(Float64Array.of(0, 10)) // [log(0.1), log(10.1)]
 */
export function logCT(x: Float64Array): Float64Array {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of x) {
    if (v !== v) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const shift = 0.01 * (max - min);
  for (let i = 0; i < x.length; i++) x[i] = Math.log(x[i]! - min + shift);
  return x;
}
