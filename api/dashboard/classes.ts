/**
 * Map classes of the dashboard, computed on the server so that the browser only turns a class
 * into a colour. Scores (0-10) use the framework's band thresholds (engine/scoring/bands.ts).
 * An indicator has no thresholds of its own and its units differ, so its states are put into
 * five classes of (nearly) equal size by value, in the direction of risk: class 4 holds the fifth
 * of states with the most risk (the highest values, or the lowest where higher is better).
 */
import { band, BAND_LABELS } from '../../engine/scoring/bands.ts';
import type { Polarity } from '../../engine/types.ts';

export interface LegendClass {
  readonly band: number;
  readonly label: string;
  /** Lowest and highest value the class can hold (score classes: the thresholds; null = open). */
  readonly from: number | null;
  readonly to: number | null;
}

/** The five score bands, their thresholds as the legend's ranges. */
export function scoreLegend(thresholds: readonly number[]): LegendClass[] {
  return BAND_LABELS.map((label, b) => ({ band: b, label, from: b === 0 ? null : thresholds[b - 1]!, to: b === 4 ? null : thresholds[b]! }));
}

/** Band index of each value (null stays null) by the thresholds. */
export function scoreClasses(values: readonly (number | null)[], thresholds: readonly number[]): (number | null)[] {
  return values.map((v) => (v === null ? null : band(v, thresholds)));
}

export const FIFTH_LABELS = ['lowest fifth', 'second fifth', 'middle fifth', 'fourth fifth', 'highest fifth'] as const;

/**
 * Five classes by rank in the direction of risk: a value's class is floor(5 (r - 1) / n), r its
 * rank from least to most risk among the n values present, ties given their smallest rank (so
 * equal values share a class). The legend gives each class's smallest and largest value held.
 */
export function fifths(values: readonly (number | null)[], polarity: Polarity): { classes: (number | null)[]; legend: LegendClass[] } {
  const sign = polarity === 'higher_better' ? -1 : 1;
  const present = values.map((v, i) => ({ v, i })).filter((x): x is { v: number; i: number } => x.v !== null && Number.isFinite(x.v));
  present.sort((a, b) => sign * (a.v - b.v));
  const n = present.length;
  const classes: (number | null)[] = values.map(() => null);
  const held: { min: number; max: number }[] = [];
  let rank = 1;
  present.forEach((x, k) => {
    if (k > 0 && x.v !== present[k - 1]!.v) rank = k + 1;
    const c = Math.floor((5 * (rank - 1)) / n);
    classes[x.i] = c;
    const h = held[c];
    held[c] = h ? { min: Math.min(h.min, x.v), max: Math.max(h.max, x.v) } : { min: x.v, max: x.v };
  });
  const legend = FIFTH_LABELS.map((label, c) => ({ band: c, label, from: held[c]?.min ?? null, to: held[c]?.max ?? null }));
  return { classes, legend };
}
