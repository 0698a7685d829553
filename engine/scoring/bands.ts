/**
 * Five risk classes, very low to very high, by fixed thresholds on the score (INFORM style: INFORM
 * Risk classes its 0-10 scores by fixed thresholds derived by cluster analysis). The default
 * thresholds are INFORM Risk's published classes on 0-10: very low < 2.0 <= low < 3.5 <= medium
 * < 5.0 <= high < 6.5 <= very high. A threshold belongs to the class above it. O(1) per score.
 */

export const BAND_LABELS = ['very low', 'low', 'medium', 'high', 'very high'] as const;
export type BandLabel = (typeof BAND_LABELS)[number];

export interface BandSpec {
  /** Four increasing lower bounds of low, medium, high and very high. */
  readonly thresholds: readonly [number, number, number, number];
}

export const DEFAULT_BANDS: BandSpec = { thresholds: [2, 3.5, 5, 6.5] };

/** The class index 0 (very low) .. 4 (very high), or -1 for a missing score. @example band(5.2) // 3 */
export function band(score: number, thresholds: readonly number[] = DEFAULT_BANDS.thresholds): number {
  if (score !== score) return -1;
  let b = 0;
  while (b < thresholds.length && score >= thresholds[b]!) b++;
  return b;
}

/** Classes of a column of scores into an Int8Array (-1 = missing). */
export function bands(scores: ArrayLike<number>, thresholds: readonly number[] = DEFAULT_BANDS.thresholds): Int8Array {
  const out = new Int8Array(scores.length);
  for (let i = 0; i < scores.length; i++) out[i] = band(scores[i]!, thresholds);
  return out;
}

/** The label of a class index, or null for -1. */
export function bandLabel(index: number): BandLabel | null {
  return index < 0 ? null : BAND_LABELS[index]!;
}
