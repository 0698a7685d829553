/**
 * Sudden level shifts in annual series: a year-on-year log change far from the series' usual
 * change, marked when the source changes at the same point (a reporting or definition break,
 * e.g. UNODC rows that switch from `CTS` to `MoI`).
 */
import { robustZScores } from './robust.ts';
import type { LevelShift } from './types.ts';

export interface LevelShiftOptions {
  /** Flag a change whose robust z exceeds k. */
  readonly k: number;
  /** Fewer year-on-year changes than this: the series is too short to judge, nothing is tested. */
  readonly minChanges: number;
  /** Floor of the robust scale, in log units (0.075: about 7.5 %). */
  readonly minScale: number;
}

/**
 * k = 4: a change more than 4 robust standard deviations (1.4826 MAD) from the series' median
 * log change, and, through the 0.075 floor, at least 0.3 in log units (x1.35 or x0.74) away from
 * it, so that a very smooth series does not flag an ordinary 15 % move. Under normal noise a
 * 4-sigma change happens about once in 16,000 changes: what is flagged is a break or a real
 * event worth a look, not noise.
 */
export const LEVEL_SHIFT_DEFAULTS: LevelShiftOptions = Object.freeze({ k: 4, minChanges: 4, minScale: 0.075 });

export interface SeriesPoint {
  readonly year: number;
  readonly value: number;
  readonly source: string;
}

/**
 * Level shifts of one entity's annual series, sorted by year, with one point per year. Only
 * changes between adjacent years with positive values are tested (no log of 0; a change across a
 * gap is not sudden). A flagged change followed by a flagged change back
 * (opposite sign, returning to within half of the jump) is one `spike` (an outlier year), and the
 * change back is not reported again. O(n log n).
 *
 * @example detectLevelShifts('AUT', [10, 10.5, 10.2, 30, 31].map((value, i) => ({ year: 2010 + i, value, source: 'CTS' })))
 *   // one shift 2012 -> 2013, sourceChange null
 */
export function detectLevelShifts(
  entity: string,
  points: readonly SeriesPoint[],
  options: LevelShiftOptions = LEVEL_SHIFT_DEFAULTS,
): { changesTested: number; shifts: LevelShift[] } {
  // Only adjacent years: a change across a gap of several years is not a sudden one.
  const pairs: { from: SeriesPoint; to: SeriesPoint; change: number }[] = [];
  for (let i = 1; i < points.length; i++) {
    const from = points[i - 1]!;
    const to = points[i]!;
    if (to.year - from.year === 1 && from.value > 0 && to.value > 0) pairs.push({ from, to, change: Math.log(to.value / from.value) });
  }
  if (pairs.length < options.minChanges) return { changesTested: 0, shifts: [] };
  const z = robustZScores(pairs.map((p) => p.change), options.minScale);
  const shifts: LevelShift[] = [];
  for (let i = 0; i < pairs.length; i++) {
    if (z[i]! <= options.k) continue;
    const { from, to, change } = pairs[i]!;
    const next = pairs[i + 1];
    const isSpike =
      next !== undefined && next.from === to && z[i + 1]! > options.k && Math.sign(next.change) !== Math.sign(change) && Math.abs(change + next.change) < Math.abs(change) / 2;
    shifts.push({
      entity,
      fromYear: from.year,
      toYear: to.year,
      fromValue: from.value,
      toValue: to.value,
      logChange: change,
      robustZ: z[i]!,
      kind: isSpike ? 'spike' : 'shift',
      sourceChange: from.source === to.source ? null : `${from.source}->${to.source}`,
    });
    if (isSpike) i++;
  }
  return { changesTested: pairs.length, shifts };
}
