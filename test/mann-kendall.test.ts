/** Mann-Kendall test against a hand-written numpy version and scipy.stats.kendalltau. */
import { describe, expect, it } from 'vitest';
import { mannKendall } from '../engine/stats/mann-kendall.ts';

// Expected values confirmed once with a hand-written numpy Mann-Kendall (numpy 1.24.2) and scipy 1.10.1 (numbers pasted):
// S, Var(S) with the tie correction, continuity-corrected Z, p = 2 norm.sf(|Z|), tau-a = S / n0,
// and tau-b = scipy.stats.kendalltau(years, values).correlation.
const cases = [
  {
    name: 'rising, ties and gaps',
    t: [2005, 2006, 2007, 2009, 2010, 2011, 2013, 2014, 2015, 2016, 2018, 2019],
    y: [4.1, 4.5, 4.5, 5.0, 4.8, 5.6, 5.6, 5.6, 6.2, 5.9, 7.1, 7.0],
    s: 56, variance: 208, z: 3.8135638490484505, p: 0.00013697711633860868, tauA: 0.8484848484848485, tau: 0.8754275592730113,
  },
  {
    name: 'falling with an outlier and a gap',
    t: [2010, 2011, 2012, 2013, 2014, 2016, 2017, 2018, 2019, 2020, 2021, 2022],
    y: [12.0, 11.4, 11.9, 10.8, 30.0, 10.1, 9.7, 9.9, 9.2, 8.8, 8.9, 8.1],
    s: -52, variance: 212.66666666666666, z: -3.4971999547510824, p: 0.0004701692793139693, tauA: -0.7878787878787878, tau: -0.7878787878787877,
  },
  {
    name: 'short, heavy ties',
    t: [2018, 2019, 2020, 2021, 2022, 2023],
    y: [3, 3, 2, 3, 3, 2],
    s: -4, variance: 18.666666666666668, z: -0.6943650748294136, p: 0.48745329036403495, tauA: -0.26666666666666666, tau: -0.36514837167011066,
  },
  {
    name: 'unsorted times',
    t: [2004, 2001, 2003, 2000, 2002],
    y: [5.5, 2.0, 4.0, 1.0, 4.0],
    s: 9, variance: 15.666666666666666, z: 2.0211646105596457, p: 0.04326272780691066, tauA: 0.9, tau: 0.9486832980505137,
  },
];

describe('mannKendall', () => {
  for (const c of cases) {
    it(`matches numpy/scipy: ${c.name}`, () => {
      const r = mannKendall(c.t, c.y);
      expect(r.n).toBe(c.t.length);
      expect(r.s).toBe(c.s);
      expect(r.variance).toBeCloseTo(c.variance, 10);
      expect(r.z).toBeCloseTo(c.z, 12);
      // simple-statistics' erf has relative error below 1.2e-7.
      expect(Math.abs(r.p - c.p) / c.p).toBeLessThan(2e-7);
      expect(r.tauA).toBeCloseTo(c.tauA, 12);
      expect(r.tau).toBeCloseTo(c.tau, 12);
    });
  }

  it('gives S = 0, Z = 0, p = 1 and tau NaN for a constant series', () => {
    const r = mannKendall([2000, 2001, 2002, 2003], [5, 5, 5, 5]);
    expect([r.s, r.variance, r.z, r.p]).toEqual([0, 0, 0, 1]);
    expect(r.tau).toBeNaN();
  });

  it('rejects missing values and duplicate years', () => {
    expect(() => mannKendall([2000, 2001, 2002], [1, Number.NaN, 2])).toThrow(/drop missing years/);
    expect(() => mannKendall([2000, 2001, 2001], [1, 2, 3])).toThrow(/distinct times: 2001/);
    expect(() => mannKendall([2000], [1])).toThrow(/at least two/);
  });
});
