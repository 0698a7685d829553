/** Five classes by fixed thresholds (INFORM Risk's 0-10 classes by default). */
import { describe, expect, it } from 'vitest';
import { band, bandLabel, bands, DEFAULT_BANDS } from '../engine/scoring/bands.ts';

describe('bands', () => {
  it('classes 0-10 scores by INFORM thresholds 2, 3.5, 5, 6.5, a threshold belonging to the class above', () => {
    expect(DEFAULT_BANDS.thresholds).toEqual([2, 3.5, 5, 6.5]);
    expect([...bands([0, 1.99, 2, 3.49, 3.5, 4.9, 5, 6.49, 6.5, 10, Number.NaN])]).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, -1]);
    expect(bandLabel(band(5.2))).toBe('high');
    expect(bandLabel(-1)).toBeNull();
  });

  it('takes other thresholds', () => {
    expect(band(50, [20, 40, 60, 80])).toBe(2);
  });
});
