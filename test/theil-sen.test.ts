/** Theil-Sen slope, intercept and Sen's interval, against scipy.stats.theilslopes. */
import { describe, expect, it } from 'vitest';
import { normalQuantile } from '../engine/stats/normal.ts';
import { theilSen } from '../engine/stats/theil-sen.ts';

// Expected values confirmed once with scipy 1.10.1 (numbers pasted)
// (scipy.stats.theilslopes(y, x, 0.95), method='joint' for the joint intercept, and 0.90).
const A = { x: [2005, 2006, 2007, 2009, 2010, 2011, 2013, 2014, 2015, 2016, 2018, 2019], y: [4.1, 4.5, 4.5, 5.0, 4.8, 5.6, 5.6, 5.6, 6.2, 5.9, 7.1, 7.0] };
const B = { x: [2010, 2011, 2012, 2013, 2014, 2016, 2017, 2018, 2019, 2020, 2021, 2022], y: [12.0, 11.4, 11.9, 10.8, 30.0, 10.1, 9.7, 9.9, 9.2, 8.8, 8.9, 8.1] };
const C = { x: [2018, 2019, 2020, 2021, 2022, 2023], y: [3, 3, 2, 3, 3, 2] };
const D = { x: [2004, 2001, 2003, 2000, 2002], y: [5.5, 2.0, 4.0, 1.0, 4.0] };

describe('theilSen', () => {
  it('matches scipy on a series with ties and gaps', () => {
    const r = theilSen(A.x, A.y);
    expect(r.slope).toBeCloseTo(0.19999999999999998, 12);
    expect(r.intercept).toBeCloseTo(-396.79999999999995, 9);
    expect(r.low).toBeCloseTo(0.15000000000000036, 12);
    expect(r.high).toBeCloseTo(0.23636363636363633, 12);
    expect(r.n).toBe(12);
    expect(r.pairs).toBe(66);
    expect(theilSen(A.x, A.y, { intercept: 'joint' }).intercept).toBeCloseTo(-396.8499999999999, 9);
    const r90 = theilSen(A.x, A.y, { confidence: 0.9 });
    expect(r90.low).toBeCloseTo(0.15714285714285708, 12);
    expect(r90.high).toBeCloseTo(0.23333333333333328, 12);
  });

  it('ignores an outlier (falling series with one wild year and a gap)', () => {
    const r = theilSen(B.x, B.y);
    expect(r.slope).toBeCloseTo(-0.31388888888888894, 12);
    expect(r.intercept).toBeCloseTo(642.9569444444445, 9);
    expect(r.low).toBeCloseTo(-0.38749999999999996, 12);
    expect(r.high).toBeCloseTo(-0.2600000000000001, 12);
    expect(theilSen(B.x, B.y, { intercept: 'joint' }).intercept).toBeCloseTo(642.9083333333334, 9);
    const r90 = theilSen(B.x, B.y, { confidence: 0.9 });
    expect([r90.low, r90.high]).toEqual([expect.closeTo(-0.38000000000000006, 12), expect.closeTo(-0.2666666666666669, 12)]);
  });

  it('handles heavy ties in y and unsorted x', () => {
    const c = theilSen(C.x, C.y);
    expect([c.slope, c.intercept, c.low, c.high]).toEqual([0, 3, -0.5, 0]);
    const d = theilSen(D.x, D.y);
    expect(d.slope).toBeCloseTo(1.0625, 12);
    expect(d.intercept).toBeCloseTo(-2123.125, 9);
    expect([d.low, d.high]).toEqual([0, 2]);
    expect(theilSen(D.x, D.y, { intercept: 'joint' }).intercept).toBeCloseTo(-2124, 9);
    const d90 = theilSen(D.x, D.y, { confidence: 0.9 });
    expect([d90.low, d90.high]).toEqual([0.75, 1.5]);
  });

  it('rejects missing values, mismatched lengths and constant x with a clear error', () => {
    expect(() => theilSen([2000, 2001, 2002], [1, Number.NaN, 3])).toThrow(/finite.*drop missing/);
    expect(() => theilSen([2000, 2001], [1])).toThrow(/same length/);
    expect(() => theilSen([2000, 2000], [1, 2])).toThrow(/distinct x/);
    expect(() => theilSen([2000], [1])).toThrow(/at least two/);
  });
});

describe('normalQuantile', () => {
  it('agrees with scipy.stats.norm.ppf to 1e-8', () => {
    // scipy.stats.norm.ppf at these p (scipy 1.10.1).
    const cases: [number, number][] = [
      [0.001, -3.090232306167813],
      [0.025, -1.9599639845400545],
      [0.05, -1.6448536269514729],
      [0.2, -0.8416212335729142],
      [0.5, 0],
      [0.975, 1.959963984540054],
    ];
    for (const [p, z] of cases) expect(normalQuantile(p)).toBeCloseTo(z, 8);
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(() => normalQuantile(1.5)).toThrow(/probability/);
  });
});
