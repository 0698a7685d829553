/**
 * Sample skewness and kurtosis as COINr's `skew()` and `kurt()`, which copy e1071's type 2 (the
 * definitions Excel's SKEW and KURT use): bias-corrected, and the kurtosis is *excess* kurtosis
 * (0 for a normal distribution). COINr's outlier thresholds (|skew| 2, kurtosis 3.5) are on these.
 * Both read a slice of an array and skip NaN. O(n).
 */

/**
 * Skewness G1 = g1 * sqrt(n (n - 1)) / (n - 2), g1 = m3 / m2^(3/2) (e1071 type 2). NaN below 3 values.
 * @example skewness([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 30, 100]) // 3.06324 (scipy.stats.skew(x, bias=False))
 */
export function skewness(x: ArrayLike<number>, off = 0, n = x.length - off): number {
  const { count, mean } = presentMean(x, off, n);
  if (count < 3) return Number.NaN;
  let m2 = 0;
  let m3 = 0;
  for (let i = off; i < off + n; i++) {
    const v = x[i]!;
    if (v !== v) continue;
    const d = v - mean;
    m2 += d * d;
    m3 += d * d * d;
  }
  if (m2 === 0) return 0;
  const g1 = (Math.sqrt(count) * m3) / m2 ** 1.5;
  return (g1 * Math.sqrt(count * (count - 1))) / (count - 2);
}

/**
 * Excess kurtosis G2 = ((n + 1) (g2 - 3) + 6) (n - 1) / ((n - 2)(n - 3)), g2 = n m4 / m2^2 (e1071 type 2). NaN below 4 values.
 * @example kurtosis([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 30, 100]) // 9.74139 (scipy.stats.kurtosis(x, bias=False))
 */
export function kurtosis(x: ArrayLike<number>, off = 0, n = x.length - off): number {
  const { count, mean } = presentMean(x, off, n);
  if (count < 4) return Number.NaN;
  let m2 = 0;
  let m4 = 0;
  for (let i = off; i < off + n; i++) {
    const v = x[i]!;
    if (v !== v) continue;
    const d2 = (v - mean) * (v - mean);
    m2 += d2;
    m4 += d2 * d2;
  }
  if (m2 === 0) return 0;
  const r = (count * m4) / (m2 * m2);
  return (((count + 1) * (r - 3) + 6) * (count - 1)) / ((count - 2) * (count - 3));
}

/** Count and mean of the values of a slice that are not NaN. */
function presentMean(x: ArrayLike<number>, off: number, n: number): { count: number; mean: number } {
  let count = 0;
  let sum = 0;
  for (let i = off; i < off + n; i++) {
    const v = x[i]!;
    if (v === v) {
      sum += v;
      count++;
    }
  }
  return { count, mean: sum / count };
}
