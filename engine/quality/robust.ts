/**
 * Robust location and scale for short series (after simple-statistics' median and
 * median_absolute_deviation), used to decide whether a year-on-year change is unusual.
 */
import { median, medianAbsoluteDeviation } from 'simple-statistics';

/** 1.4826 turns a MAD into a standard deviation for normal data (Rousseeuw & Croux 1993). */
export const MAD_TO_SD = 1.4826;

/**
 * Robust z-scores: |x - median| / max(1.4826 * MAD, minScale). The floor keeps a very smooth
 * series (MAD near 0) from flagging every small move. O(n log n).
 *
 * @example robustZScores([0, 0.1, -0.1, 0.05, 1], 0.075) // the last one is far above 4
 */
export function robustZScores(values: readonly number[], minScale: number): number[] {
  if (values.length === 0) return [];
  const centre = median([...values]);
  const scale = Math.max(MAD_TO_SD * medianAbsoluteDeviation([...values]), minScale);
  return values.map((v) => Math.abs(v - centre) / scale);
}
