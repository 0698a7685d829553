/** Imputation methods: each fills only missing cells, marks them, never extrapolates. */
import { describe, expect, it } from 'vitest';
import { IMPUTED, imputeGroup, imputeInterpolate, imputeLatest, imputeRegression, type SeriesView } from '../engine/scoring/impute.ts';

/** One entity's series as a view (n = 1, stride 1). */
const series = (years: number[], values: number[]): SeriesView => ({ values: Float64Array.from(values), years, base: 0, stride: 1 });

describe('imputeLatest', () => {
  it('takes the most recent earlier value within the look-back, and says from when', () => {
    // by hand: 2019 = 4, 2020 missing, target 2021 missing -> 4 from 2019 (lookback 5); lookback 1 -> nothing
    const view = series([2018, 2019, 2020, 2021], [3, 4, Number.NaN, Number.NaN]);
    const col = Float64Array.of(Number.NaN);
    const codes = Uint8Array.of(IMPUTED.missing);
    const from = Float64Array.of(Number.NaN);
    expect(imputeLatest(view, 2021, 5, col, 0, 1, codes, from)).toBe(1);
    expect([col[0], codes[0], from[0]]).toEqual([4, IMPUTED.latest, 2019]);
    const col2 = Float64Array.of(Number.NaN);
    expect(imputeLatest(view, 2021, 1, col2, 0, 1, Uint8Array.of(255), Float64Array.of(Number.NaN))).toBe(0);
    expect(col2[0]).toBeNaN();
  });
});

describe('imputeInterpolate', () => {
  it('is linear in time between neighbours, as pandas interpolate(method="index", limit_area="inside")', () => {
    // pandas: Series([1, nan, nan, 7, nan], index=[2015, 2016, 2018, 2020, 2021]).interpolate(method="index",
    // limit_area="inside") -> [1, 2.2, 4.6, 7, nan]
    const years = [2015, 2016, 2018, 2020, 2021];
    const view = series(years, [1, Number.NaN, Number.NaN, 7, Number.NaN]);
    const at = (year: number, limit = Number.POSITIVE_INFINITY) => {
      const col = Float64Array.of(Number.NaN);
      const codes = Uint8Array.of(255);
      imputeInterpolate(view, year, limit, col, 0, 1, codes);
      return [col[0], codes[0]];
    };
    expect(at(2016)[0]).toBeCloseTo(2.2, 12);
    expect(at(2018)[0]).toBeCloseTo(4.6, 12);
    expect(at(2018)[1]).toBe(IMPUTED.interpolate);
    expect(at(2021)[0]).toBeNaN(); // no extrapolation past the last value
    // the gap 2015 -> 2020 has 4 missing years: a limit of 3 leaves it unfilled, 4 fills it
    expect(at(2018, 3)[0]).toBeNaN();
    expect(at(2018, 4)[0]).toBeCloseTo(4.6, 12);
  });
});

describe('imputeGroup', () => {
  it('fills with the group mean or median of present values; no group, no fill', () => {
    // by hand: group 0 = {2, 4, 9}: mean 5, median 4; group 1 has no value; entity 5 has no group
    const values = [2, 4, 9, Number.NaN, Number.NaN, Number.NaN, Number.NaN];
    const groups = Int32Array.of(0, 0, 0, 0, 1, -1, 0);
    const mean = Float64Array.from(values);
    const codes = new Uint8Array(7).fill(255);
    expect(imputeGroup(mean, 0, 7, groups, 'mean', codes)).toBe(2);
    expect([...mean]).toEqual([2, 4, 9, 5, Number.NaN, Number.NaN, 5]);
    expect(codes[3]).toBe(IMPUTED.group_mean);
    const median = Float64Array.from(values);
    imputeGroup(median, 0, 7, groups, 'median', new Uint8Array(7));
    expect(median[3]).toBe(4);
  });
});

describe('imputeRegression', () => {
  it('fits OLS across entities and imputes only when R^2 clears the threshold', () => {
    // numpy.polyfit(x=[1,2,3,4], y=[2.1,3.9,6.2,7.8], 1) -> slope 1.94, intercept 0.15; R^2 = corrcoef^2 = 0.99566137...
    // prediction at x = 5: 9.85
    const col = Float64Array.of(2.1, 3.9, 6.2, 7.8, Number.NaN, Number.NaN);
    const x = [1, 2, 3, 4, 5, Number.NaN];
    const codes = new Uint8Array(6);
    const fit = imputeRegression(col, 0, 6, x, 0.5, codes);
    expect(fit.slope).toBeCloseTo(1.94, 12);
    expect(fit.intercept).toBeCloseTo(0.15, 12);
    expect(fit.r2).toBeCloseTo(0.9956613756613755, 12);
    expect(fit).toMatchObject({ n: 4, used: true, filled: 1 });
    expect(col[4]).toBeCloseTo(9.85, 12);
    expect(col[5]).toBeNaN(); // no covariate, no estimate
    expect(codes[4]).toBe(IMPUTED.regression);
    const strict = Float64Array.of(2.1, 3.9, 6.2, 7.8, Number.NaN);
    expect(imputeRegression(strict, 0, 5, x, 0.999, new Uint8Array(5))).toMatchObject({ used: false, filled: 0 });
    expect(strict[4]).toBeNaN();
  });
});
