/**
 * PELT and the `structural_break` detector (engine/anomaly/breaks.ts). PELT must find the same
 * optimum as a brute force over every segmentation; the detector must find the London MPS 2013
 * fraud recording break (../shared/datasets/real; skipped where absent).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectBreaks, pelt, peltFit, type BreakModel } from '../engine/anomaly/breaks.ts';
import { scoreFromRobustZ, type Series } from '../engine/anomaly/types.ts';
import { createRandom } from '../engine/stats/random.ts';
import { hasRealData, realDataFile } from './support/shared-data.ts';

/** The cost of a segment computed directly from its values (not from prefix sums). */
function directCost(values: readonly number[], model: BreakModel, variance: number): number {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const ss = values.reduce((s, v) => s + (v - mean) ** 2, 0);
  if (model === 'mean') return ss / variance;
  const v = ss / n;
  return v >= variance ? n * (Math.log(v) + 1) : n * (Math.log(variance) + v / variance);
}

/** Every segmentation with segments of at least minSegment points: the lowest penalised cost. */
function bruteForce(values: readonly number[], model: BreakModel, variance: number, penalty: number, minSegment: number): { cost: number; changepoints: number[] } {
  const n = values.length;
  let best = { cost: Number.POSITIVE_INFINITY, changepoints: [] as number[] };
  for (let mask = 0; mask < 1 << (n - 1); mask++) {
    const cps: number[] = [];
    for (let i = 1; i < n; i++) if (mask & (1 << (i - 1))) cps.push(i);
    const bounds = [0, ...cps, n];
    if (bounds.some((b, k) => k > 0 && b - bounds[k - 1]! < minSegment)) continue;
    let cost = penalty * cps.length;
    for (let k = 1; k < bounds.length; k++) cost += directCost(values.slice(bounds[k - 1], bounds[k]), model, variance);
    if (cost < best.cost - 1e-12) best = { cost, changepoints: cps };
  }
  return best;
}

describe('pelt', () => {
  it('finds the same optimum as a brute force over every segmentation (600 random small series)', () => {
    const random = createRandom(42);
    let withChanges = 0;
    for (let trial = 0; trial < 600; trial++) {
      const n = 4 + random.int(0, 9); // 4..12 points: up to 2,048 segmentations
      const model: BreakModel = random.next() < 0.5 ? 'meanvar' : 'mean';
      const minSegment = 1 + random.int(0, 3);
      const values: number[] = [];
      let level = random.normal(0, 3);
      let sd = 0.2 + random.next();
      for (let i = 0; i < n; i++) {
        if (random.next() < 0.2) level += random.normal(0, 4);
        if (random.next() < 0.15) sd = 0.2 + 3 * random.next();
        // Some ties and repeated values, as counts have.
        values.push(random.next() < 0.1 ? 0 : Math.round(10 * (level + random.normal(0, sd))) / 10);
      }
      const penalty = random.next() < 0.3 ? undefined : 4 * random.next();
      const fit = peltFit(values, { model, minSegment, ...(penalty === undefined ? {} : { penalty }) });
      const brute = bruteForce(values, model, fit.variance, fit.penalty, minSegment);
      if (n < 2 * minSegment) {
        expect(fit.changepoints).toEqual([]);
        continue;
      }
      // fit.cost is the penalised total, as the brute force's.
      expect(Math.abs(fit.cost - brute.cost)).toBeLessThan(1e-8 * Math.max(1, Math.abs(brute.cost)));
      expect(fit.changepoints).toEqual(brute.changepoints);
      if (brute.changepoints.length > 0) withChanges++;
    }
    expect(withChanges).toBeGreaterThan(150); // the comparison covered segmentations, not just "no change"
  });

  it('finds a shift of mean and prunes: far fewer evaluations than optimal partitioning on a long series', () => {
    expect(pelt([0, 0.1, -0.1, 0.05, 5, 5.1, 4.9, 5.05], { model: 'mean' })).toEqual([4]);
    const random = createRandom(7);
    const values = Array.from({ length: 2000 }, (_, i) => random.normal(Math.floor(i / 200) % 2 === 0 ? 0 : 3, 1));
    const fit = peltFit(values, { model: 'mean' });
    expect(fit.changepoints).toHaveLength(9);
    fit.changepoints.forEach((c, k) => expect(Math.abs(c - 200 * (k + 1))).toBeLessThanOrEqual(3));
    // Candidates inside the current segment cannot be pruned yet, so about n x 200 / 2 evaluations
    // remain, against n (n + 1) / 2 = 2,001,000 for optimal partitioning.
    expect(fit.evaluations).toBeLessThan((2000 * 2001) / 2 / 8);
  });

  it('uses the BIC penalty (p + 1) log n and a variance floor of (0.1 sigma)^2, sigma from the first differences', () => {
    const values = [1, 2, 1, 2, 1, 2, 1, 2, 1, 2];
    const fit = peltFit(values);
    expect(fit.penalty).toBeCloseTo(3 * Math.log(10), 12);
    expect(peltFit(values, { model: 'mean' }).penalty).toBeCloseTo(2 * Math.log(10), 12);
    // Differences all +-1: MAD about the median (1 or -1 majority)... |d - median|: median of
    // [1,-1,1,-1,1,-1,1,-1,1] is 1, deviations 0 or 2, MAD 0, so the mean-AD fallback: 8/9 x 2.
    const sigma = (Math.sqrt(Math.PI / 2) * (2 * 4)) / 9 / Math.SQRT2;
    expect(fit.variance).toBeCloseTo((0.1 * sigma) ** 2, 12);
  });

  it('says what is wrong with its input', () => {
    expect(() => pelt([1, Number.NaN])).toThrow(/value 1 is NaN/);
    expect(() => pelt([1, 2, 3], { penalty: -1 })).toThrow(/penalty must be >= 0/);
    expect(() => pelt([1, 2, 3], { model: 'var' as BreakModel })).toThrow(/model must be "meanvar" or "mean"/);
  });
});

describe('detectBreaks (structural_break)', () => {
  const level = [10, 10.4, 9.8, 10.1, 10.3, 9.9, 10.2, 10, 15.2, 14.8, 15.1, 15.3, 14.9, 15, 15.2, 14.9];
  const annual = (values: readonly number[], source?: (i: number) => string): Series => ({
    entity: 'AAA',
    indicator: 'x',
    periodKind: 'year',
    points: values.map((value, i) => ({ period: String(2000 + i), value, ...(source ? { source: source(i) } : {}) })),
  });

  it('puts one cell at the first period of the new segment, with the shift and sqrt(LR) as evidence', () => {
    const cells = detectBreaks(annual(level), { model: 'mean', log: false, noiseVariance: 0.04 });
    expect(cells).toHaveLength(1);
    const c = cells[0]!;
    expect(c.period).toBe('2008');
    // Mean model: LR = n1 n2 / n x (m1 - m2)^2 / sigma^2, the two-sample z squared.
    const m1 = level.slice(0, 8).reduce((s, v) => s + v, 0) / 8;
    const m2 = level.slice(8).reduce((s, v) => s + v, 0) / 8;
    const lr = ((8 * 8) / 16) * (m1 - m2) ** 2 / 0.04;
    expect(c.score).toBeCloseTo(scoreFromRobustZ(Math.sqrt(lr)), 10);
    expect(c).toMatchObject({ detector: 'structural_break', likelyCause: 'real_change', severity: 'high', expected: 10.05 });
    expect(c.reason).toBe(`2008: a new segment begins; the median moves from 10.1 (2000 to 2007, spread 0.222) to 15.1 (2008 to 2015, spread 0.222), +49.8%; evidence sqrt(LR) ${Math.sqrt(lr).toFixed(1)}; a real change of level or spread.`);
  });

  it('labels a break where the source changes (same period or one either side) a possible reporting break', () => {
    for (const at of [7, 8, 9]) {
      const cells = detectBreaks(annual(level, (i) => (i < at ? 'CTS' : 'MoI')));
      expect(cells).toHaveLength(1);
      expect(cells[0]!.likelyCause).toBe('data_problem');
      expect(cells[0]!.reason).toMatch(/possible reporting break: the source changes \(CTS -> MoI\)/);
    }
    const far = detectBreaks(annual(level, (i) => (i < 5 ? 'CTS' : 'MoI')));
    expect(far[0]!.likelyCause).toBe('real_change');
    const unit = detectBreaks(annual(level.map((v, i) => (i >= 8 ? v * 1000 : v))));
    expect(unit[0]).toMatchObject({ likelyCause: 'data_problem', period: '2008' });
    expect(unit[0]!.reason).toMatch(/a factor of about 1,000, a unit change\?/);
  });

  it('gives no cells to a series without a break or below minPoints', () => {
    expect(detectBreaks(annual(level.slice(0, 8)))).toEqual([]);
    expect(detectBreaks(annual(level.slice(0, 7)))).toEqual([]);
  });
});

const MPS = ['london_mps_borough_monthly', 'mps_borough_level_crime_historical.csv'];

describe.skipIf(!hasRealData('the London MPS structural-break test', MPS))('detectBreaks on the London MPS fraud series (real data)', () => {
  // London total of FRAUD AND FORGERY by month (boroughs and airports, not "Unknown"): 2,401 in
  // January 2013, then 286, 4, 1: recording moved to Action Fraud (SOURCE.md's caveat).
  const lines = readFileSync(realDataFile(...MPS), 'utf8').trim().split(/\r?\n/);
  const months = lines[0]!.split(',').slice(3);
  const total = new Array<number>(months.length).fill(0);
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    if (cells[1] !== 'FRAUD AND FORGERY' || cells[2] === 'Unknown') continue;
    for (let j = 0; j < months.length; j++) total[j]! += Number(cells[3 + j]);
  }
  const series = (withSource: boolean): Series => ({
    entity: 'GBR-LDN',
    indicator: 'mps_fraud_and_forgery_count',
    periodKind: 'month',
    points: months.map((m, j) => ({ period: `${m.slice(0, 4)}-${m.slice(4)}`, value: total[j]!, ...(withSource ? { source: m < '201302' ? 'MPS' : 'Action Fraud' } : {}) })),
  });

  it('reads the file as the connector test does (January 2013: 2,401; then 286)', () => {
    expect(total[months.indexOf('201301')]).toBe(2401);
    expect(total[months.indexOf('201302')]).toBe(286);
  });

  it('finds the 2013 break, scores it high and, given the recorded change of recording, calls it a possible reporting break', () => {
    const cells = detectBreaks(series(true));
    const brk = cells.find((c) => c.period === '2013-02' || c.period === '2013-03');
    expect(brk, `breaks found: ${cells.map((c) => c.period).join(', ')}`).toBeDefined();
    expect(brk!.severity).toBe('high');
    expect(brk!.likelyCause).toBe('data_problem');
    expect(brk!.reason).toMatch(/possible reporting break: the source changes \(MPS -> Action Fraud\)/);
    // No break is found after the collapse: the near-zero tail is one segment.
    expect(cells.filter((c) => c.period > '2013-03')).toEqual([]);
    // Without the recorded change it is still found, as a real change (the data alone cannot tell).
    expect(detectBreaks(series(false)).find((c) => c.period === brk!.period)!.likelyCause).toBe('real_change');
  });
});
