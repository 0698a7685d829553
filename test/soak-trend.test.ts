/** The soak benchmark's trend: least squares, the slope's standard error and interval, the warm-up, the verdict. */
import { describe, expect, it } from 'vitest';
import { firstMeasuredIndex, fitTrend, growthVerdict, studentTQuantile } from '../bench/soak-trend.ts';

// Expected numbers: scipy.stats.linregress and scipy.stats.t.ppf, printed by
// test/reference/ref_soak_trend.py (run once with /usr/bin/python3, outputs pasted). The series
// are built the same way there.
const minutes = Array.from({ length: 49 }, (_, i) => 2 + i / 6);
const flat = minutes.map((_, i) => 112 + 0.4 * Math.sin(7 * i));
const leak = minutes.map((minute, i) => 112 + 0.05 * minute + 0.4 * Math.sin(7 * i));

describe('studentTQuantile', () => {
  it('matches scipy.stats.t.ppf', () => {
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.706204736432095, 6);
    expect(studentTQuantile(0.975, 3)).toBeCloseTo(3.182446305284263, 8);
    expect(studentTQuantile(0.975, 10)).toBeCloseTo(2.2281388519649385, 8);
    expect(studentTQuantile(0.975, 47)).toBeCloseTo(2.0117405104757546, 8);
    expect(studentTQuantile(0.995, 5)).toBeCloseTo(4.032142983557536, 8);
    expect(studentTQuantile(0.5, 4)).toBeCloseTo(0, 8);
  });
  it('refuses what it cannot compute', () => {
    expect(() => studentTQuantile(0.3, 4)).toThrow(/p must be in/);
    expect(() => studentTQuantile(0.975, 0)).toThrow(/degree of freedom/);
  });
});

describe('fitTrend', () => {
  it('gives scipy.stats.linregress slope, intercept and standard error on a flat series, and an interval over 0', () => {
    const fit = fitTrend(minutes, flat);
    expect(fit.n).toBe(49);
    expect(fit.slopePerMinute).toBeCloseTo(0.0004263449308753961, 10);
    expect(fit.intercept).toBeCloseTo(112.01972331040729, 8);
    expect(fit.slopeStdErr).toBeCloseTo(0.017304002138585985, 10);
    expect(fit.tCritical).toBeCloseTo(2.0117405104757546, 8);
    expect(fit.slopeLow).toBeCloseTo(-0.034384817164677124, 8);
    expect(fit.slopeHigh).toBeCloseTo(0.03523750702642791, 8);
    expect(fit.projectedPerHour).toBeCloseTo(0.0004263449308753961 * 60, 8);
    expect(fit.fittedGrowth).toBeCloseTo(0.0004263449308753961 * 8, 8); // minutes 2 to 10
    expect(fit.rawGrowth).toBeCloseTo(flat[48]! - flat[0]!, 12);
    expect(growthVerdict(fit)).toBe('no growth trend');
  });

  it('finds a leak of 0.05 MB/min under the same noise', () => {
    const fit = fitTrend(minutes, leak);
    expect(fit.slopePerMinute).toBeCloseTo(0.05042634493087531, 10);
    expect(fit.slopeStdErr).toBeCloseTo(0.01730400213858598, 10);
    expect(fit.slopeLow).toBeCloseTo(0.01561518283532281, 8);
    expect(fit.slopeHigh).toBeCloseTo(0.08523750702642782, 8);
    expect(growthVerdict(fit)).toBe('GROWTH'); // 3 MB/h, significant
    expect(growthVerdict(fit, 5)).toBe('no growth trend'); // under a 5 MB/h threshold
  });

  it('matches scipy on a short hand-typed series with uneven times', () => {
    const fit = fitTrend([1.0, 1.5, 2.0, 3.0, 3.5], [80.2, 80.9, 80.4, 81.6, 81.1]);
    // By hand: x̄ = 2.2, Sxx = 4.3, Sxy = 1.76, slope = 1.76 / 4.3.
    expect(fit.slopePerMinute).toBeCloseTo(1.76 / 4.3, 12);
    expect(fit.slopePerMinute).toBeCloseTo(0.4093023255813906, 12);
    expect(fit.intercept).toBeCloseTo(79.93953488372094, 10);
    expect(fit.slopeStdErr).toBeCloseTo(0.20300607295623385, 10);
    expect(fit.slopeLow).toBeCloseTo(-0.2367536012484433, 7);
    expect(fit.slopeHigh).toBeCloseTo(1.0553582524112246, 7);
    expect(growthVerdict(fit)).toBe('no growth trend'); // 24 MB/h but not significant in 5 samples
  });

  it('says what is wrong with unusable input', () => {
    expect(() => fitTrend([1, 2], [3, 4])).toThrow(/at least 3 samples/);
    expect(() => fitTrend([1, 2, 3], [3, 4])).toThrow(/3 times but 2 values/);
    expect(() => fitTrend([2, 2, 2], [3, 4, 5])).toThrow(/same time/);
  });
});

describe('firstMeasuredIndex', () => {
  it('leaves out the first 20% of the run or its first minute, whichever is longer', () => {
    const every10s = Array.from({ length: 61 }, (_, i) => i / 6); // 0 to 10 minutes
    expect(firstMeasuredIndex(every10s, 10)).toBe(12); // minute 2
    expect(firstMeasuredIndex(every10s.slice(0, 13), 2)).toBe(6); // minute 1
    expect(firstMeasuredIndex([0, 0.5], 2)).toBe(2); // nothing left
  });
});
