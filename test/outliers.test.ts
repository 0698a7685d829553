/** Outlier treatment (COINr Treat defaults): skewness/kurtosis definitions, winsorising, the log fallback. */
import { describe, expect, it } from 'vitest';
import { logCT, passesSkewKurt, treatColumn, TREATED_HIGH, TREATED_LOG } from '../engine/scoring/outliers.ts';
import { kurtosis, skewness } from '../engine/stats/moments.ts';

const oneToTen = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

describe('skewness and kurtosis (e1071 type 2, as COINr skew()/kurt())', () => {
  it('match scipy.stats.skew / kurtosis(bias=False), skipping NaN', () => {
    // scipy.stats.skew(x, bias=False) = 3.0632410342394993, kurtosis(x, bias=False) = 9.741390834569144 (excess)
    const x = [...oneToTen, 30, 100, Number.NaN];
    expect(skewness(x)).toBeCloseTo(3.0632410342394993, 12);
    expect(kurtosis(x)).toBeCloseTo(9.741390834569144, 12);
    expect(skewness([1, 2])).toBeNaN();
    expect(kurtosis([1, 2, 3])).toBeNaN();
  });

  it('passes when |skew| < 2 OR kurtosis < 3.5 (COINr check_SkewKurt)', () => {
    expect(passesSkewKurt(3, 3)).toBe(true);
    expect(passesSkewKurt(-1, 10)).toBe(true);
    expect(passesSkewKurt(-2.5, 10)).toBe(false);
  });
});

describe('treatColumn', () => {
  it('winsorises the highest point until the check passes (COINr vignette example)', () => {
    // 1..10, 30, 100: fails (skew 3.06, kurt 9.74); 100 -> 30 gives skew 1.7120, kurt 1.8158 (scipy): passes after 1 point.
    const x = Float64Array.from([...oneToTen, 30, 100, Number.NaN]);
    const marks = new Uint8Array(x.length);
    const report = treatColumn(x, 0, x.length, { method: 'winsorise' }, marks);
    expect(report.status).toBe('winsorised');
    expect(report.winsorised).toBe(1);
    expect(report.skewAfter).toBeCloseTo(1.7120380600890506, 10);
    expect(report.kurtAfter).toBeCloseTo(1.8157805377242031, 10);
    expect([...x.slice(10, 12)]).toEqual([30, 30]);
    expect(x[12]).toBeNaN();
    expect(marks[11]).toBe(TREATED_HIGH);
    expect(marks[10]).toBe(0);
  });

  it('winsorises the low end when skew is negative', () => {
    const x = Float64Array.from([...oneToTen, -20, -90].map((v) => v));
    const report = treatColumn(x, 0, x.length, { method: 'winsorise' });
    expect(report.status).toBe('winsorised');
    expect(Math.min(...x)).toBe(-20);
  });

  it('falls back to log(x - min + 0.01 (max - min)) on the original values when winmax is not enough', () => {
    // 2^0..2^29: winsorising needs 3 points (python replay of the algorithm); with winmax 2 it fails,
    // and the log transform of the original passes: skew 2.0379, kurt 3.1828 (scipy).
    const original = Array.from({ length: 30 }, (_, k) => 2 ** k);
    const x = Float64Array.from(original);
    const marks = new Uint8Array(30);
    const report = treatColumn(x, 0, 30, { method: 'winsorise', winmax: 2 }, marks);
    expect(report.status).toBe('log');
    expect(report.passes).toBe(true);
    expect(report.skewAfter).toBeCloseTo(2.037912672131404, 9);
    expect(report.kurtAfter).toBeCloseTo(3.1828144772272307, 9);
    expect(x[0]).toBeCloseTo(15.496098048387678, 9);
    expect(x[29]).toBeCloseTo(20.111218565228935, 9);
    expect(marks.every((m) => m === TREATED_LOG)).toBe(true);
    // with the default winmax 5 it winsorises 3 points instead
    const y = Float64Array.from(original);
    expect(treatColumn(y, 0, 30, { method: 'winsorise' })).toMatchObject({ status: 'winsorised', winsorised: 3 });
  });

  it('leaves a passing or too-short column alone', () => {
    const x = Float64Array.from(oneToTen);
    expect(treatColumn(x, 0, 10, { method: 'winsorise' }).status).toBe('passed');
    expect([...x]).toEqual(oneToTen);
    expect(treatColumn(Float64Array.of(1, 2, 100), 0, 3, { method: 'winsorise' }).status).toBe('too_few');
  });

  it('logCT by hand: [0, 10] -> [log 0.1, log 10.1]', () => {
    const x = logCT(Float64Array.of(0, 10, Number.NaN));
    expect(x[0]).toBeCloseTo(Math.log(0.1), 12);
    expect(x[1]).toBeCloseTo(Math.log(10.1), 12);
    expect(x[2]).toBeNaN();
  });
});
