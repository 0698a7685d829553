/**
 * Student's t distribution for real (not only integer) degrees of freedom, through the
 * regularised incomplete beta function I_x(a, b) by Lentz's continued fraction (Numerical
 * Recipes, 3rd ed., section 6.4), ln Gamma from simple-statistics. simple-statistics has no t
 * quantile. Used by the forecast intervals (engine/anomaly/forecast.ts), whose scale comes from a
 * handful of errors. Checked against scipy.stats.t in test/anomaly-series-forecast.test.ts.
 */
import { gammaln } from 'simple-statistics';
import { normalQuantile } from './normal.ts';

const EPSILON = 1e-15;
const TINY = 1e-300;
const MAX_ITERATIONS = 10_000;

/** Continued fraction of I_x(a, b) (modified Lentz), for x < (a + 1) / (a + b + 2). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= MAX_ITERATIONS; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) return h;
  }
  throw new Error(`incomplete beta: the continued fraction did not converge for x=${x}, a=${a}, b=${b}`);
}

/** I_x(a, b), the regularised incomplete beta function, for x in [0, 1] and a, b > 0. */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0)) throw new RangeError(`regularizedIncompleteBeta needs a, b > 0, got a=${a}, b=${b}`);
  if (!(x >= 0 && x <= 1)) throw new RangeError(`regularizedIncompleteBeta needs x in [0, 1], got ${x}`);
  if (x === 0 || x === 1) return x;
  const front = Math.exp(gammaln(a + b) - gammaln(a) - gammaln(b) + a * Math.log(x) + b * Math.log1p(-x));
  return x < (a + 1) / (a + b + 2) ? (front * betaContinuedFraction(x, a, b)) / a : 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/** P(T > t) for T ~ Student t with nu > 0 degrees of freedom (exact in the far tail too). */
export function studentTSurvival(t: number, nu: number): number {
  if (!(nu > 0) || !Number.isFinite(nu)) throw new RangeError(`studentTSurvival needs a finite nu > 0, got ${nu}`);
  if (Number.isNaN(t)) return Number.NaN;
  if (t === Number.POSITIVE_INFINITY) return 0;
  if (t === Number.NEGATIVE_INFINITY) return 1;
  const tail = 0.5 * regularizedIncompleteBeta(nu / (nu + t * t), nu / 2, 0.5);
  return t >= 0 ? tail : 1 - tail;
}

/**
 * The p-quantile of Student's t with nu > 0 degrees of freedom (nu = Infinity: the normal).
 * Bisection on the survival function, then it is exact to about 1e-12 relative.
 *
 * @example studentTQuantile(0.975, 10) // => 2.228138851986...
 */
export function studentTQuantile(p: number, nu: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`studentTQuantile needs p in [0, 1], got ${p}`);
  if (!(nu > 0)) throw new RangeError(`studentTQuantile needs nu > 0, got ${nu}`);
  if (nu === Number.POSITIVE_INFINITY) return normalQuantile(p);
  if (p === 0.5) return 0;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  if (p < 0.5) return -studentTQuantile(1 - p, nu);
  const target = 1 - p;
  // Bracket: the normal quantile is a lower bound (t's tails are heavier); double until past it.
  let lo = 0;
  let hi = Math.max(1, normalQuantile(p));
  while (studentTSurvival(hi, nu) > target) {
    lo = hi;
    hi *= 2;
    if (hi > 1e300) return Number.POSITIVE_INFINITY;
  }
  for (let i = 0; i < 200 && hi - lo > 1e-13 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (studentTSurvival(mid, nu) > target) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}
