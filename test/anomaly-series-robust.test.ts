/**
 * The robust level detectors (engine/anomaly/robust.ts): modified z-scores, the Hampel filter,
 * `robust_z` and `hampel`. Hand-computed cases; reference values from
 * test/reference/ref_anomaly_series.py (numpy), pasted below.
 */
import { describe, expect, it } from 'vitest';
import { detectHampel, detectRobustLevel, hampelFilter, madZScores, medianInPlace, MEAN_AD_TO_SD, robustScale } from '../engine/anomaly/robust.ts';
import { scoreFromRobustZ, type Series } from '../engine/anomaly/types.ts';

const annual = (values: readonly number[], extra: (i: number) => object = () => ({})): Series => ({
  entity: 'AAA',
  indicator: 'x',
  periodKind: 'year',
  points: values.map((value, i) => ({ period: String(2000 + i), value, ...extra(i) })),
});

describe('madZScores and robustScale', () => {
  it('[1, 2, 3, 4, 100]: median 3, MAD 1, z = (x - 3) / 1.4826', () => {
    // By hand: |x - 3| = 2, 1, 0, 1, 97, median 1. numpy (ref_anomaly_series.py) agrees:
    const expected = [-1.3489795003921634, -0.6744897501960817, 0, 0.6744897501960817, 65.42550576901992];
    madZScores([1, 2, 3, 4, 100]).forEach((z, i) => expect(z).toBeCloseTo(expected[i]!, 12));
    expect(robustScale([1, 2, 3, 4, 100])).toEqual({ centre: 3, scale: 1.482602218505602, method: 'mad' });
  });

  it('falls back to 1.2533 x the mean absolute deviation when the MAD is 0', () => {
    // [5, 5, 5, 5, 9, 5, 1]: median 5, MAD 0; mean |x - 5| = 8/7; scale = 1.2533 x 8/7 = 1.43236.
    const rs = robustScale([5, 5, 5, 5, 9, 5, 1]);
    expect(rs.method).toBe('meanAD');
    expect(rs.scale).toBeCloseTo((MEAN_AD_TO_SD * 8) / 7, 14);
    expect(rs.scale).toBeCloseTo(1.4323590140748572, 12); // numpy
    expect(madZScores([5, 5, 5, 5, 9, 5, 1])[4]).toBeCloseTo(2.792595962810029, 12);
  });

  it('gives 0 everywhere for equal values, and an even-length median that averages the middle two', () => {
    expect(madZScores([4, 4, 4])).toEqual([0, 0, 0]);
    expect(robustScale([4, 4, 4]).method).toBe('none');
    const z = madZScores([2.5, 3.1, 2.9, 3.0, 2.7, 8.4]); // median 2.95
    expect(z[5]).toBeCloseTo(18.37984569284323, 10);
    expect(medianInPlace(Float64Array.from([9, 1, 8, 2, 7, 3]))).toBe(5);
    expect(medianInPlace(Float64Array.from([5, 5, 1, 5, 9]))).toBe(5);
  });

  it('says which value is missing', () => {
    expect(() => madZScores([1, Number.NaN, 3])).toThrow(/value 1 is NaN/);
  });
});

describe('hampelFilter', () => {
  const values = [10, 11, 10.5, 30, 10.8, 11.2, 10.9, 11.5, 11.1, 2, 11.4];

  it('matches the numpy reference: windows of the 2k + 1 nearest points, shifted at the ends', () => {
    // ref_anomaly_series.py, k = 2
    const expected = [-1.7986393338562152, 0.4496598334640518, -0.6744897501960817, 64.07652626862799, -0.2248299167320272, 0, -0.6744897501960817, 1.3489795003921694, 0, -20.459522422614427, 0.6744897501960817];
    const h = hampelFilter(values, { halfWindow: 2 });
    h.z.forEach((z, i) => expect(z).toBeCloseTo(expected[i]!, 10));
  });

  it('marks |z| > nSigmas and replaces those values by their window median', () => {
    const h = hampelFilter(values, { halfWindow: 2, nSigmas: 3 });
    expect(h.outlier.flatMap((o, i) => (o ? [i] : []))).toEqual([3, 9]);
    expect(h.filtered[3]).toBe(h.centre[3]);
    expect(h.filtered[3]).toBe(11); // window 1..5: 11, 10.5, 30, 10.8, 11.2
    expect(h.filtered[9]).toBe(11.1); // window 6..10 (shifted at the end): 10.9, 11.5, 11.1, 2, 11.4
    expect(h.filtered[4]).toBe(10.8);
  });

  it('floors the scale at minScale', () => {
    const h = hampelFilter([5, 5, 5, 6, 5, 5, 5], { halfWindow: 3, minScale: 0.5 });
    expect(h.scale[3]).toBe(0.5);
    expect(h.z[3]).toBe(2);
  });
});

describe('detectRobustLevel (robust_z)', () => {
  const base = [20, 21, 19, 22, 20, 21, 19.5, 20.5, 21, 20];

  it('judges nothing before the minimum history: no cells for the first 5 points, even a spike', () => {
    const values = [...base];
    values[2] = 200;
    const cells = detectRobustLevel(annual(values));
    expect(cells.map((c) => c.period)).toEqual(['2005', '2006', '2007', '2008', '2009']);
    expect(cells.every((c) => c.severity === 'none')).toBe(true);
    expect(detectRobustLevel(annual(values), { minHistory: 2 })[0]!.period).toBe('2002');
    expect(detectRobustLevel(annual(values), { minHistory: 2 })[0]!.severity).toBe('high');
  });

  it('finds a planted spike: z against the median and 1.4826 MAD of the earlier values', () => {
    const values = [...base];
    values[7] = 27;
    const cells = detectRobustLevel(annual(values));
    const spike = cells.find((c) => c.period === '2007')!;
    // History 20, 21, 19, 22, 20, 21, 19.5: median 20, |x - 20| = 0, 1, 1, 2, 0, 1, 0.5 -> MAD 1.
    const z = (27 - 20) / 1.482602218505602;
    expect(spike.score).toBeCloseTo(scoreFromRobustZ(z), 12);
    expect(spike.severity).toBe('low'); // z = 4.72: score 0.72
    expect(spike.expected).toBe(20);
    expect(spike.interval![0]).toBeCloseTo(20 - 1.959963984540054 * 1.482602218505602, 7);
    expect(spike.detector).toBe('robust_z');
    expect(spike.likelyCause).toBe('unclear');
    expect(spike.reason).toBe('2007: 27 against a median of 20 over the previous 7 periods (robust sd 1.48); robust z 4.7; the values after it return.');
    expect(cells.filter((c) => c.severity !== 'none').map((c) => c.period)).toEqual(['2007']);
  });

  it('a x1000 value or a change of source is a data problem; a level that stays is a real change', () => {
    const unit = [...base];
    unit[8] = 21_000;
    expect(detectRobustLevel(annual(unit)).find((c) => c.period === '2008')).toMatchObject({ severity: 'high', likelyCause: 'data_problem' });
    expect(detectRobustLevel(annual(unit)).find((c) => c.period === '2008')!.reason).toMatch(/about 1,000 times the expected value: a unit error\?/);

    const shifted = [...base.slice(0, 7), 40, 41, 40.5];
    const bySource = detectRobustLevel(annual(shifted, (i) => ({ source: i < 7 ? 'CTS' : 'MoI' })));
    expect(bySource.find((c) => c.period === '2007')).toMatchObject({ likelyCause: 'data_problem' });
    expect(bySource.find((c) => c.period === '2007')!.reason).toMatch(/source changes here \(CTS -> MoI\): a reporting break\?/);
    const real = detectRobustLevel(annual(shifted));
    expect(real.find((c) => c.period === '2007')).toMatchObject({ likelyCause: 'real_change', severity: 'high' });
    expect(real.find((c) => c.period === '2009')!.reason).toMatch(/the newest value, nothing after it yet/);
  });

  it('a window limits the history', () => {
    const values = [100, 100, 100, 100, 100, 20, 21, 19, 22, 20, 21];
    const all = detectRobustLevel(annual(values));
    const recent = detectRobustLevel(annual(values), { window: 5 });
    expect(all.at(-1)!.expected).toBe(61); // 19, 20, 20, 21, 22 | 100 x 5: (22 + 100) / 2
    expect(recent.at(-1)!.expected).toBe(20); // 20, 21, 19, 22, 20
  });
});

describe('detectHampel (hampel)', () => {
  it('finds a spike on a slowly rising series, against the median and MAD of its 7 nearest points', () => {
    const values = Array.from({ length: 16 }, (_, i) => 100 + 2 * i + (i % 2 === 0 ? 1 : -1));
    values[10] = 160; // the trend is at 120
    const hampel = detectHampel(annual(values));
    const spike = hampel.find((c) => c.period === '2010')!;
    // Window 7..13: 113, 117, 117, 160, 121, 125, 125 -> median 121, |x - 121| 8, 4, 4, 39, 0, 4, 4 -> MAD 4.
    expect(spike.expected).toBe(121);
    expect(spike.score).toBeCloseTo(scoreFromRobustZ(39 / (1.482602218505602 * 4)), 12);
    expect(spike.severity).toBe('high');
    expect(hampel.filter((c) => c.severity !== 'none').map((c) => c.period)).toEqual(['2010']);
    // The newest point is judged on a full window shifted inward (9..15), not on a truncated one.
    expect(hampel.at(-1)!.reason).toMatch(/over the 7 nearest periods/);
  });

  it('judges nothing before the minimum history, nor a series whose window holds too few others', () => {
    const values = [10, 200, 10, 11, 10, 11, 10, 12, 11];
    const cells = detectHampel(annual(values));
    expect(cells[0]!.period).toBe('2005');
    expect(cells.every((c) => c.severity === 'none')).toBe(true);
    expect(detectHampel(annual(values), { halfWindow: 2 })).toEqual([]); // 4 others < 5
  });
});

