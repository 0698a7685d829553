/**
 * `trend_residual` (engine/anomaly/trend-residual.ts): leave-one-out Theil-Sen residuals scaled by
 * the MAD of the fit and the Poisson noise of the count. Reference values from
 * test/reference/ref_anomaly_series.py (scipy.stats.theilslopes, method='joint'), pasted below.
 */
import { describe, expect, it } from 'vitest';
import { detectTrendResidual, fitTrend, rateUnit } from '../engine/anomaly/trend-residual.ts';
import { MEAN_AD_TO_SD } from '../engine/anomaly/robust.ts';
import { scoreFromRobustZ, type Series, type SeriesPoint } from '../engine/anomaly/types.ts';

const YEARS = Array.from({ length: 16 }, (_, i) => 2005 + i);
const RATE = [5.1, 5.3, 5.2, 5.6, 5.5, 5.9, 6.0, 6.1, 12.5, 6.4, 6.3, 6.8, 6.7, 7.0, 7.2, 7.1];

function rates(population?: number, values: readonly number[] = RATE, extra: (i: number) => Partial<SeriesPoint> = () => ({})): Series {
  return {
    entity: 'SML',
    indicator: 'homicide_rate',
    periodKind: 'year',
    points: values.map((value, i) => ({
      period: String(YEARS[i] ?? 2005 + i),
      value,
      ...(population === undefined ? {} : { population, count: (value * population) / 1e5 }),
      ...extra(i),
    })),
  };
}

// ref_anomaly_series.py, "trend residual": expected value, z without counts, z with counts
// (population 200,000: counts of about 12 a year), and the 95% interval with counts.
const REF = {
  expected: [5.186211640342466, 5.306904759413784, 5.444444444444453, 5.551231443637213, 5.693333333333301, 5.8192742631613275, 5.95792058226024, 6.104623673654928, 6.244612526665281, 6.394404201108644, 6.552273179375105, 6.682839203007784, 6.86841408787633, 7.032299703651468, 7.16695002176704, 7.390384615384609],
  zPlain: [-0.7364543258364297, -0.050182545052328484, -2.1157628335985796, 0.3926740437060909, -1.6400846944153227, 0.6294943232351986, 0.32534406961880163, -0.03623761935833983, 33.49990022425671, 0.04043608528825896, -1.8820556894637785, 0.7669959365465397, -1.1630659513883816, -0.21119514214618068, 0.18347086647565147, -1.7610716784876714],
  zCounts: [-0.0538427123461027, -0.004226489387711212, -0.15119712486286008, 0.029064748441019826, -0.11628519440271558, 0.0468695122375108, 0.024227060653756342, -0.002640470113622182, 2.446089544758039, 0.0031188280114413866, -0.14172713726679842, 0.06332165955130815, -0.0917254913733646, -0.017207500916465255, 0.01734087489305716, -0.15352312639709084],
  interval2013: [3.5809713496584905, 10.889555319090682],
};

describe('detectTrendResidual', () => {
  it('matches the scipy reference: leave-one-out Theil-Sen in logs, MAD scale, leverage factor', () => {
    const cells = detectTrendResidual(rates());
    expect(cells).toHaveLength(16);
    cells.forEach((c, i) => {
      expect(c.expected).toBeCloseTo(REF.expected[i]!, 10);
      expect(c.score).toBeCloseTo(scoreFromRobustZ(REF.zPlain[i]!), 10);
    });
    const spike = cells[8]!;
    expect(spike).toMatchObject({ period: '2013', detector: 'trend_residual', severity: 'high', value: 12.5 });
    expect(cells.filter((c) => c.severity !== 'none').map((c) => c.period)).toEqual(['2013']);
  });

  it('does not let a spike pull its own fit: its expected value is the trend of the other years', () => {
    const cells = detectTrendResidual(rates());
    // Between its neighbours' values (6.1 and 6.4), not dragged towards 12.5.
    expect(cells[8]!.expected).toBeGreaterThan(6.1);
    expect(cells[8]!.expected).toBeLessThan(6.4);
    expect(cells[8]!.reason).toBe('2013: 12.5 where the trend of the other 15 periods expects 6.24 (95% interval 6 to 6.5): 2 times the trend, robust z 33.5; the values after it return.');
  });

  it("takes the count noise into account: a small state's jump from 12 to 25 cases is not a flag", () => {
    const small = detectTrendResidual(rates(2e5));
    small.forEach((c, i) => expect(c.score).toBeCloseTo(scoreFromRobustZ(REF.zCounts[i]!), 10));
    expect(small[8]!.score).toBeLessThan(detectTrendResidual(rates())[8]!.score);
    expect(small[8]!.severity).toBe('none'); // z 2.45
    // normalQuantile (Acklam) is exact to about 1e-9 relative.
    expect(small[8]!.interval![0]).toBeCloseTo(REF.interval2013[0]!, 8);
    expect(small[8]!.interval![1]).toBeCloseTo(REF.interval2013[1]!, 8);
    expect(small[8]!.reason).toMatch(/with the chance noise of an expected count of 12\.5/);
    // The same rates in a state of 20 million (about 1,250 cases a year): still a flag.
    const large = detectTrendResidual(rates(2e7));
    expect(large[8]!.severity).toBe('high');
    expect(rateUnit(rates(2e7))).toBeCloseTo(1e5, 6);
  });

  it('calls a x1000 value a data problem, a source change a data problem, and a level that stays a real change', () => {
    const unit = [...RATE];
    unit[8] = 6.2 * 1000;
    expect(detectTrendResidual(rates(undefined, unit))[8]).toMatchObject({ severity: 'high', likelyCause: 'data_problem' });
    const stays = RATE.map((v, i) => (i >= 13 ? v * 2 : i === 8 ? 6.2 : v));
    const cells = detectTrendResidual(rates(undefined, stays));
    expect(cells[13]).toMatchObject({ severity: 'high', likelyCause: 'real_change' });
    expect(cells[13]!.reason).toMatch(/the next 2 values stay at the new level/);
    const withSource = detectTrendResidual(rates(undefined, stays, (i) => ({ source: i < 13 ? 'CTS' : 'national' })));
    expect(withSource[13]).toMatchObject({ likelyCause: 'data_problem' });
  });

  it('works on the linear scale when a value is 0, and judges nothing below minPoints', () => {
    const withZero = [0, 1, 2, 3, 2, 3, 4, 5, 4, 30, 6, 7];
    const cells = detectTrendResidual(rates(undefined, withZero));
    expect(cells[9]!.severity).toBe('high');
    expect(cells[9]!.reason).toMatch(/\+2\d(\.\d)? off the trend/);
    expect(detectTrendResidual(rates(undefined, RATE.slice(0, 7)))).toEqual([]);
    expect(() => detectTrendResidual(rates(undefined, withZero), { log: true })).toThrow(/log = true needs positive values/);
  });

  it('fits Theil-Sen with the joint intercept, residuals of median 0', () => {
    const fit = fitTrend([1, 2, 3, 4, 5], [2, 4, 6, 8, 30]);
    expect(fit.slope).toBe(2);
    expect(fit.intercept).toBe(0);
    // Residuals 0, 0, 0, 0, 20: MAD 0, so the scale is 1.2533 x mean |r| = 1.2533 x 4.
    expect(fit.residualSd).toBeCloseTo(MEAN_AD_TO_SD * 4, 14);
  });
});
