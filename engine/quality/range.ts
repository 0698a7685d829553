/** Values outside the plausible range of their indicator's unit (the catalogue's plausible_min/max). */
import type { OutOfRangeValue, QualityIndicatorInfo, QualityObservation } from './types.ts';

/**
 * Uncensored values below plausibleMin or above plausibleMax; `checked` counts the values that
 * could be checked (all uncensored values when the catalogue gives a bound, else 0). O(n).
 */
export function outOfRangeValues(
  rows: readonly QualityObservation[],
  info: Pick<QualityIndicatorInfo, 'plausibleMin' | 'plausibleMax'>,
): { checked: number; values: OutOfRangeValue[] } {
  const { plausibleMin: min, plausibleMax: max } = info;
  if (min === null && max === null) return { checked: 0, values: [] };
  let checked = 0;
  const values: OutOfRangeValue[] = [];
  for (const row of rows) {
    if (row.value === null || row.qualifier !== null) continue;
    checked++;
    if ((min !== null && row.value < min) || (max !== null && row.value > max)) {
      values.push({ entity: row.entity, period: row.period, value: row.value, batchId: row.batchId });
    }
  }
  return { checked, values };
}
