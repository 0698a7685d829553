/**
 * The ensemble: calibration against each detector's own scores, the combination rules, merged
 * attributions, the likely cause and the reason; every expected number is hand-computed in the
 * comments from the small fake detectors below.
 */
import { describe, expect, it } from 'vitest';
import { combineDetections, fitCalibration } from '../engine/anomaly/ensemble.ts';
import { severityOf, type CellScore, type LikelyCause, type Series } from '../engine/anomaly/types.ts';

function cell(detector: string, period: string, score: number, extra: Partial<CellScore> = {}): CellScore {
  return {
    entity: 'E',
    indicator: 'x',
    period,
    detector,
    score,
    severity: severityOf(score),
    value: 10,
    expected: 5,
    interval: null,
    attributions: [{ indicator: 'x', share: 1 }],
    likelyCause: 'unclear',
    reason: 'test',
    ...extra,
  };
}

const PERIODS = Array.from({ length: 10 }, (_, i) => String(2010 + i));
// A: strict, one clear cell and one moderate one. B: liberal (0.7 on seven cells). C: scores five cells.
const A = [0.95, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.6].map((s, i) => cell('A', PERIODS[i]!, s));
const B = [0.8, 0.7, 0.7, 0.7, 0.7, 0.7, 0, 0, 0, 0.7].map((s, i) => cell('B', PERIODS[i]!, s));
const C = [0.2, 0.9, 0.2, 0.2, 0.2].map((s, i) => cell('C', PERIODS[i]!, s));

const scoreAt = (cells: readonly CellScore[], period: string) => cells.find((c) => c.period === period)!.score;

describe('fitCalibration', () => {
  const calibration = fitCalibration('A', [0, 0.2, 0.2, 0.6, 0.9], 'capped_tail');
  it('the tail is the share of the cells scoring at least the score', () => {
    expect(calibration.tail(0.2)).toBe(0.8);
    expect(calibration.tail(0.9)).toBe(0.2);
    expect(calibration.tail(0.95)).toBe(0);
    expect(calibration.tail(0)).toBe(1);
  });
  it('caps a score at 1 - tail; the pure tail calibration is 1 - tail', () => {
    expect(calibration.calibrate(0.9)).toBeCloseTo(0.8, 12); // min(0.9, 1 - 0.2)
    expect(calibration.calibrate(0.6)).toBeCloseTo(0.6, 12); // min(0.6, 1 - 0.4)
    expect(calibration.calibrate(0)).toBe(0);
    expect(fitCalibration('A', [0, 0.2, 0.2, 0.6, 0.9], 'tail').calibrate(0.2)).toBeCloseTo(0.2, 12);
  });
  it('flag_budget: a detector within its budget keeps its scores; one over it has its z scale widened', () => {
    const scores = [0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.1, 0.1, 0.1, 0];
    // Budget 0.1 of 10 cells: the 1st highest (0.95) is >= 0.5, so even one flag is over budget.
    // Budget 0.3: the 3rd highest is 0.8, w = robustZForScore(0.8) / 3.5 = sqrt(-log2 0.2) = 1.5237874178793323.
    const over = fitCalibration('A', scores, 'flag_budget', { budget: 0.3, minBudgetCells: 1 });
    expect(over.widening).toBeCloseTo(1.5237874178793323, 12);
    // scoreFromRobustZ(robustZForScore(s) / w), computed in Python through the z scale.
    expect(over.calibrate(0.8)).toBeCloseTo(0.5, 12);
    expect(over.calibrate(0.95)).toBeCloseTo(0.7247819714869914, 12);
    expect(over.calibrate(0.6)).toBeCloseTo(0.32606724198162185, 12);
    expect(over.calibrate(0.1)).toBeCloseTo(0.04436219639461281, 12);
    expect(over.calibrate(1)).toBe(1);
    expect(over.calibrate(0)).toBe(0);
    // Budget 0.6: the 6th highest is 0.5 (exactly low): w = 1 (robustZForScore(0.5) = 3.5) - within budget.
    expect(fitCalibration('A', scores, 'flag_budget', { budget: 0.6, minBudgetCells: 1 }).calibrate(0.9)).toBeCloseTo(0.9, 12);
    // Budget 0.7: the 7th highest is 0.1 < 0.5: unchanged.
    const within = fitCalibration('A', scores, 'flag_budget', { budget: 0.7, minBudgetCells: 1 });
    expect(within.widening).toBe(1);
    expect(within.calibrate(0.9)).toBe(0.9);
    // Unscored cells of the run count 0: the same scores among 30 cells, budget 0.1 -> the 3rd highest again.
    expect(fitCalibration('A', scores, 'flag_budget', { budget: 0.1, cells: 30, minBudgetCells: 1 }).widening).toBeCloseTo(1.5237874178793323, 12);
  });

  it('refuses an empty detector and scores outside [0, 1]', () => {
    expect(() => fitCalibration('A', [])).toThrow(/scored no cell/);
    expect(() => fitCalibration('A', [0.2, 1.2])).toThrow(/outside \[0, 1\]/);
    expect(() => fitCalibration('A', [0.2], 'flag_budget', { budget: 0 })).toThrow(/budget must be in/);
    expect(() => fitCalibration('A', [0.2], 'flag_budget', { minBudgetCells: 0 })).toThrow(/minBudgetCells must be/);
  });

  it('flag_budget never cuts a run below minBudgetCells flags (default 10)', () => {
    // 10 cells at 1%: ceil(0.1) = 1 cell, but at least 10: the 10th highest (0) is below low, so nothing changes.
    const small = fitCalibration('A', [0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.1, 0.1, 0.1, 0]);
    expect(small.widening).toBe(1);
    expect(small.calibrate(0.95)).toBe(0.95);
    // 40 cells, 12 of them at 0.8: the 10th highest is 0.8, over budget: 0.8 -> 0.5.
    const liberal = fitCalibration('A', [...Array(12).fill(0.8), ...Array(28).fill(0.1)]);
    expect(liberal.calibrate(0.8)).toBeCloseTo(0.5, 12);
  });
});

describe('combineDetections', () => {
  const capped = { calibration: 'capped_tail' } as const;
  // capped_tail calibration, tails over the 10 cells of the run (C's five unscored ones count 0):
  // A: 2010 min(.95, .9) = .9, 2019 min(.6, .8) = .6, others 0 (tail 1).
  // B: 2010 min(.8, .9) = .8; the 0.7 cells min(.7, 1 - .7) = .3; zeros 0.
  // C: 2011 min(.9, 1 - .1) = .9; its 0.2 cells min(.2, 1 - .5) = .2.
  it('top2_mean: the mean of the two highest calibrated scores, a missing member counting 0', () => {
    const out = combineDetections([A, B, C], capped);
    expect(out).toHaveLength(10);
    expect(scoreAt(out, '2010')).toBeCloseTo((0.9 + 0.8) / 2, 12);
    expect(scoreAt(out, '2011')).toBeCloseTo((0.9 + 0.3) / 2, 12);
    expect(scoreAt(out, '2019')).toBeCloseTo((0.6 + 0.3) / 2, 12);
    expect(scoreAt(out, '2016')).toBe(0);
    expect(out[0]).toMatchObject({ period: '2010', detector: 'ensemble', severity: 'medium' });
  });

  it('mean over all members, and the max with a Bonferroni correction', () => {
    const mean = combineDetections([A, B, C], { ...capped, combine: 'mean' });
    expect(scoreAt(mean, '2010')).toBeCloseTo((0.9 + 0.8 + 0.2) / 3, 12);
    expect(scoreAt(mean, '2019')).toBeCloseTo(0.9 / 3, 12);
    const max = combineDetections([A, B, C], { ...capped, combine: 'max_corrected' });
    expect(scoreAt(max, '2010')).toBeCloseTo(1 - 0.1 * 3, 12); // three members scored it
    expect(scoreAt(max, '2011')).toBeCloseTo(1 - 0.1 * 3, 12);
    expect(scoreAt(max, '2019')).toBeCloseTo(1 - 0.4 * 2, 12); // C did not score 2019
  });

  it('flag_budget (the default): over budget, B is widened; A keeps its scores', () => {
    // 10 cells, budget 0.1: the 1st highest cell. A: 0.95 >= 0.5 -> w^2 = -log2(0.05); B: 0.8 -> w^2 = -log2(0.2);
    // C: 0.9 -> w^2 = -log2(0.1). calibrated = 1 - (1 - s)^(1 / w^2).
    const out = combineDetections([A, B, C], { budget: 0.1, minBudgetCells: 1 });
    const cal = (s: number, q: number) => 1 - Math.pow(1 - s, 1 / -Math.log2(1 - q));
    expect(scoreAt(out, '2010')).toBeCloseTo((cal(0.95, 0.95) + cal(0.8, 0.8)) / 2, 12);
    expect(scoreAt(out, '2019')).toBeCloseTo((cal(0.6, 0.95) + cal(0.7, 0.8)) / 2, 12);
    expect(scoreAt(out, '2010')).toBeCloseTo(0.5, 12); // both top cells sit exactly at low
    // Budget 0.5 (5 cells): A's 5th highest is 0.1 (within), B's is 0.7 (over), C's 0.2 (within).
    const loose = combineDetections([A, B, C], { budget: 0.5, minBudgetCells: 1 });
    expect(scoreAt(loose, '2010')).toBeCloseTo((0.95 + cal(0.8, 0.7)) / 2, 12);
    expect(scoreAt(loose, '2011')).toBeCloseTo((0.9 + cal(0.7, 0.7)) / 2, 12);
  });

  it('with the pure tail calibration a liberal detector cannot dominate, but every run flags its top cells', () => {
    const tail = combineDetections([A, B, C], { calibration: 'tail' });
    // 2019: A's 0.6 has tail 0.2 -> 0.8 (capped it was 0.6), B's 0.7 tail 0.7 -> 0.3.
    expect(scoreAt(tail, '2019')).toBeCloseTo((0.8 + 0.3) / 2, 12);
    // 2010: A 1 - 0.1 and B 1 - 0.1, though B's raw score is only 0.8.
    expect(scoreAt(tail, '2010')).toBeCloseTo((0.9 + 0.9) / 2, 12);
    // 2016: every detector's lowest score has tail 1 -> 0.
    expect(scoreAt(tail, '2016')).toBe(0);
  });

  it('names the agreeing detectors, takes expected from the strongest member and merges attributions by weight', () => {
    const a = cell('A', '2010', 0.95, { attributions: [{ indicator: 'x', share: 1, value: 10, expected: 5 }] });
    const f = cell('forest', '2010', 0.8, { expected: 7, attributions: [{ indicator: 'x', share: 0.5 }, { indicator: 'y', share: 0.5 }] });
    const fillers = (d: string) => Array.from({ length: 9 }, (_, i) => cell(d, String(2000 + i), 0));
    const [top] = combineDetections([[a, ...fillers('A')], [f, ...fillers('forest')]], capped);
    // Calibrated: A min(.95, .9) = .9, forest min(.8, .9) = .8. x: .9 x 1 + .8 x .5 = 1.3; y: .4; total 1.7.
    expect(top!.attributions.map((a) => a.indicator)).toEqual(['x', 'y']);
    expect(top!.attributions[0]).toMatchObject({ value: 10, expected: 5 });
    expect(top!.attributions[0]!.share).toBeCloseTo(1.3 / 1.7, 12);
    expect(top!.attributions[1]!.share).toBeCloseTo(0.4 / 1.7, 12);
    expect(top!.expected).toBe(5);
    expect(top!.reason).toBe('2010: 2 of 2 detectors flag it (A 0.95, forest 0.80); 10 against an expected 5.');
  });

  it('a structural break at a change of source is a data problem', () => {
    const series: Series = {
      entity: 'E',
      indicator: 'x',
      periodKind: 'year',
      points: PERIODS.map((period, i) => ({ period, value: i < 5 ? 1 : 2.5, source: i < 5 ? 'police' : 'ministry' })),
    };
    const breaks = PERIODS.map((p, i) => cell('structural_break', p, i === 5 ? 0.9 : 0));
    const level = PERIODS.map((p, i) => cell('A', p, i === 5 ? 0.8 : 0, { likelyCause: i === 5 ? 'real_change' : 'unclear' }));
    const withSeries = combineDetections([breaks, level], { series: [series] });
    const at = withSeries.find((c) => c.period === '2015')!;
    expect(at.likelyCause).toBe('data_problem');
    expect(at.reason).toMatch(/structural break where the source changes \(police -> ministry\)/);
    // Without the series (and a break that does not say so itself), the members' majority decides.
    expect(combineDetections([breaks, level]).find((c) => c.period === '2015')!.likelyCause).toBe<LikelyCause>('unclear');
  });

  it('a member that sees a data problem makes it one; most members seeing a real change make it one', () => {
    const fill = (d: string, score: number, cause: LikelyCause) => [cell(d, '2010', score, { likelyCause: cause }), ...PERIODS.slice(1).map((p) => cell(d, p, 0))];
    expect(combineDetections([fill('A', 0.9, 'data_problem'), fill('B', 0.6, 'real_change')])[0]!.likelyCause).toBe('data_problem');
    expect(combineDetections([fill('A', 0.9, 'real_change'), fill('B', 0.6, 'real_change'), fill('C', 0.7, 'unclear')])[0]!.likelyCause).toBe('real_change');
    expect(combineDetections([fill('A', 0.9, 'real_change'), fill('B', 0.6, 'unclear')])[0]!.likelyCause).toBe('unclear');
    // Below the agreement threshold (on the calibrated score) a member has no vote.
    expect(combineDetections([fill('A', 0.9, 'real_change'), fill('B', 0.4, 'data_problem')])[0]!.likelyCause).toBe('real_change');
  });

  it('refuses a detector given twice, an output that mixes detectors and a cell scored twice', () => {
    expect(() => combineDetections([A, A])).toThrow(/given twice/);
    expect(() => combineDetections([[...A, B[0]!]])).toThrow(/mixes detectors A and B/);
    expect(() => combineDetections([[A[0]!, A[0]!]])).toThrow(/scored E\|x\|2010 twice/);
  });
});
