/** Trend labels, year-on-year changes, gaps and polarity. */
import { describe, expect, it } from 'vitest';
import { classifyTrend, yearOnYearSorted } from '../engine/scoring/trend.ts';

// Series A and B are those of test/theil-sen.test.ts; slopes and p-values confirmed with scipy
// and a hand-written numpy Mann-Kendall (scipy 1.10.1, numpy 1.24.2; run once, numbers pasted).
const A = { x: [2005, 2006, 2007, 2009, 2010, 2011, 2013, 2014, 2015, 2016, 2018, 2019], y: [4.1, 4.5, 4.5, 5.0, 4.8, 5.6, 5.6, 5.6, 6.2, 5.9, 7.1, 7.0] };
const B = { x: [2010, 2011, 2012, 2013, 2014, 2016, 2017, 2018, 2019, 2020, 2021, 2022], y: [12.0, 11.4, 11.9, 10.8, 30.0, 10.1, 9.7, 9.9, 9.2, 8.8, 8.9, 8.1] };

describe('yearOnYearSorted', () => {
  it('gives absolute and percent change, NaN across a gap or from zero', () => {
    const r = yearOnYearSorted([2018, 2019, 2020, 2022, 2023], [0, 5, 4, 6, Number.NaN]);
    expect(r.map((c) => c.year)).toEqual([2019, 2020, 2022, 2023]);
    expect(r[0]).toEqual({ year: 2019, previousYear: 2018, absolute: 5, percent: Number.NaN });
    expect(r[1]).toEqual({ year: 2020, previousYear: 2019, absolute: -1, percent: -20 });
    expect(r[2]!.absolute).toBeNaN(); // 2021 missing
    expect(r[3]!.absolute).toBeNaN(); // 2023 value missing: passes through
    expect(() => yearOnYearSorted([2020, 2019], [1, 2])).toThrow(/ascending/);
  });
});

describe('classifyTrend', () => {
  it('labels a significant rise escalating, and de-escalating when higher is better', () => {
    const r = classifyTrend(A.x, A.y);
    expect(r.label).toBe('escalating');
    expect(r.slope).toBeCloseTo(0.2, 12); // scipy.stats.theilslopes
    expect(r.mannKendall!.p).toBeCloseTo(0.00013697711633860868, 9); // numpy MK
    expect(r.relativeChange).toBeCloseTo((0.2 * 14) / 5.6, 12); // median of A.y is 5.6
    expect(r.riskDirection).toBe(1);
    expect(r.latestChange).toEqual({ year: 2019, previousYear: 2018, absolute: expect.closeTo(-0.1, 12), percent: expect.closeTo(-100 * 0.1 / 7.1, 10) });
    const good = classifyTrend(A.x, A.y, { polarity: 'higher_better' });
    expect(good.label).toBe('de-escalating');
    expect(good.riskDirection).toBe(-1);
  });

  it('labels a significant fall de-escalating despite an outlier year', () => {
    const r = classifyTrend(B.x, B.y);
    expect(r.label).toBe('de-escalating');
    expect(r.slope).toBeCloseTo(-0.31388888888888894, 12);
    expect(classifyTrend(B.x, B.y, { polarity: 'higher_better' }).label).toBe('escalating');
  });

  it('is stable when not significant, or when the change is too small to matter', () => {
    expect(classifyTrend([2018, 2019, 2020, 2021, 2022, 2023], [3, 3, 2, 3, 3, 2]).label).toBe('stable'); // p = 0.487
    // Significant (p = 8.3e-5) but a 3.9% change over the window (scipy slope 0.44).
    const years = [2010, 2011, 2012, 2013, 2014, 2015, 2016, 2017, 2018, 2019];
    const small = [100, 100.4, 100.9, 101.1, 101.8, 102.0, 102.6, 103.1, 103.3, 104.0];
    const r = classifyTrend(years, small);
    expect(r.label).toBe('stable');
    expect(r.relativeChange).toBeCloseTo(0.038861629048086405, 10);
    expect(r.reason).toMatch(/relative change/);
    expect(classifyTrend(years, small, { minRelativeChange: 0.03 }).label).toBe('escalating');
  });

  it('drops NaN values as missing years, applies the window, and needs enough points', () => {
    const withNaN = classifyTrend([...A.x, 2012, 2017], [...A.y, Number.NaN, Number.NaN]);
    expect(withNaN.n).toBe(12);
    expect(withNaN.slope).toBe(classifyTrend(A.x, A.y).slope);
    // Window of 8 years: 2012-2019, six observed; scipy slope 0.28, MK p = 0.0852 -> stable.
    const w = classifyTrend(A.x, A.y, { window: 8 });
    expect(w.years).toEqual([2013, 2014, 2015, 2016, 2018, 2019]);
    expect(w.slope).toBeCloseTo(0.28, 12);
    expect(w.mannKendall!.p).toBeCloseTo(0.0851679058839559, 7);
    expect(w.label).toBe('stable');
    expect(classifyTrend(A.x, A.y, { window: 8, alpha: 0.1 }).label).toBe('escalating');
    const short = classifyTrend(A.x, A.y, { window: 5 });
    expect(short.n).toBe(4);
    expect(short.label).toBe('insufficient_data');
    expect(classifyTrend([2020], [1]).label).toBe('insufficient_data');
    expect(classifyTrend([], []).mannKendall).toBeNull();
  });

  it('refuses a duplicated year and bad options', () => {
    expect(() => classifyTrend([2020, 2020, 2021], [1, 2, 3])).toThrow(/2020 appears twice/);
    expect(() => classifyTrend([2020, 2021], [1, 2], { alpha: 0 })).toThrow(/alpha/);
    expect(() => classifyTrend([2020, 2021], [1, 2], { minPoints: 2 })).toThrow(/minPoints/);
  });
});
