/**
 * The ensemble: one verdict per cell from the scores of several detectors.
 *
 * Calibration (`flag_budget`, the default). The detectors put their statistic on [0, 1] each by
 * its documented rule (robust z through scoreFromRobustZ, chi-square tails, path lengths), so
 * that 0.5 means "as unusual as a robust z of 3.5". On real panels some of them are far more
 * liberal than that promise: a level z-score on trending series, a break detector on noisy ones,
 * a Mahalanobis distance on skewed indicators flag 5 to 10 % of all cells. Each detector is
 * therefore given a flag budget: at most `budget` (default 1 %) of the run's cells may reach
 * `low` on its calibrated score. A detector within its budget keeps its scores unchanged; one
 * over it has its robust-z scale widened by the factor w that brings it back to the budget:
 *
 *     q = the detector's score at the k-th highest cell of the run, k = max(ceil(budget x
 *         cells), minBudgetCells = 10) (cells it did not score count 0; the floor keeps a small
 *         run from being cut to one flag); if q >= 0.5: w^2 = -log2(1 - q), else w = 1
 *     calibrated = scoreFromRobustZ(z / w) with z = robustZForScore(score)
 *                = 1 - (1 - score)^(1 / w^2)
 *
 * It is monotone (each detector's ranking, hence its ROC-AUC, is unchanged), keeps 1 at 1 (a
 * x1000 unit error stays certain) unless the detector gives 1 to more cells than its budget (an
 * infinite z where a window's MAD is 0, as in count series full of zeros): then its score-1
 * cells cannot be told apart and are calibrated to 0.5; and it keeps the severity meaning of the scores: a run over clean
 * data flags nothing, which a rank-only calibration cannot promise (it always puts some cells
 * at the top). Why a budget of 1 %: anomalies are rare by definition; the demo panel has 0.2 %
 * planted cells, and a detector that flags more than 1 % of a panel at `low` is misfitting the
 * data rather than finding anomalies. Two rank-based calibrations are kept for comparison:
 * `tail` (1 - the empirical upper tail of the score among the run's cells) and `capped_tail`
 * (min(score, 1 - tail)); bench/anomaly-evaluate.ts measures all three.
 *
 * Combination (`top_mean`, the default, with top = 2): the mean of the two highest calibrated
 * scores of the cell, a detector that did not score the cell counting 0. One detector alone can
 * reach at most half its score, so a flag needs two detectors that agree; single-detector
 * artefacts fall away. Also: `mean` over all members, and `max_corrected`, the highest
 * calibrated score with its complement multiplied by the number of detectors that scored the
 * cell (Bonferroni). The defaults were chosen by measurement on the demo panel's planted
 * anomalies, among the variants that bench/anomaly-evaluate.ts prints (all reported in
 * .tmp/readme/anomaly-evaluation.md), and checked on anomalies injected into real series.
 *
 * Explanations: attributions are the members' attributions weighted by their calibrated scores;
 * the likely cause is a data problem when a structural break coincides with a change of source
 * (or a flagging member found a unit error or a source change), a real change when most flagging
 * members say so, otherwise unclear; the reason names the detectors that agree (calibrated
 * score at least `agreeAt`, default 0.5) with their own scores.
 */
import { sourceChangeNear } from './series-common.ts';
import { cellKey } from './series.ts';
import { ROBUST_Z_CUTOFF, robustZForScore, SEVERITY_THRESHOLDS, severityOf, type Attribution, type CellScore, type LikelyCause, type Series } from './types.ts';

export const ENSEMBLE_DETECTOR = 'ensemble';
export const STRUCTURAL_BREAK_DETECTOR = 'structural_break';

export type CombineRule = 'top_mean' | 'max_corrected' | 'mean';
export type CalibrationKind = 'flag_budget' | 'capped_tail' | 'tail';

export interface EnsembleOptions {
  readonly combine?: CombineRule;
  /** For `top_mean`: how many of the highest calibrated scores are averaged (default 2). */
  readonly top?: number;
  readonly calibration?: CalibrationKind;
  /** For `flag_budget`: the share of the run's cells a detector may flag at `low` or above (default 0.01). */
  readonly budget?: number;
  /** For `flag_budget`: the budget is never below this many cells (default 10), so that small runs are not cut to one flag. */
  readonly minBudgetCells?: number;
  /** The series scored, to see source changes at a structural break (optional). */
  readonly series?: readonly Series[];
  /** A member agrees (is named in the reason, and votes on the cause) at this calibrated score (default 0.5, `low`). */
  readonly agreeAt?: number;
}

export const DEFAULT_ENSEMBLE_OPTIONS: Required<Omit<EnsembleOptions, 'series'>> = {
  combine: 'top_mean',
  top: 2,
  calibration: 'flag_budget',
  budget: 0.01,
  minBudgetCells: 10,
  agreeAt: 0.5,
};

/** The calibration of one detector's scores against the scores it gave in the same run. */
export interface ScoreCalibration {
  readonly detector: string;
  /** Cells the calibration counts: those the detector scored, plus unscored cells (as 0) up to `cells`. */
  readonly cells: number;
  /** For `flag_budget`: the factor the detector's robust-z scale is widened by (1: within its budget). */
  readonly widening: number;
  /** Share of the counted cells scoring at least `score` (the empirical upper tail). */
  tail(score: number): number;
  calibrate(score: number): number;
}

export interface CalibrationOptions {
  /** Cells of the run (scored by any detector); the ones this detector did not score count as 0. */
  readonly cells?: number;
  /** For `flag_budget` (defaults 0.01 and 10). */
  readonly budget?: number;
  readonly minBudgetCells?: number;
}

/** Largest score taken as finite when the budget's quantile is saturated at 1. */
const SATURATED = 1 - 1e-12;

export function fitCalibration(detector: string, scores: ArrayLike<number>, kind: CalibrationKind = 'flag_budget', options: CalibrationOptions = {}): ScoreCalibration {
  const scored = scores.length;
  if (scored === 0) throw new Error(`fitCalibration: detector ${detector} scored no cell; leave it out of the ensemble`);
  const n = Math.max(scored, options.cells ?? scored);
  const sorted = new Float64Array(n); // unscored cells: 0
  sorted.set(Float64Array.from(scores), n - scored);
  sorted.sort();
  for (let i = 0; i < n; i++) {
    if (!(sorted[i]! >= 0 && sorted[i]! <= 1)) throw new Error(`fitCalibration: detector ${detector} gave a score outside [0, 1] (${sorted[i]})`);
  }
  const tail = (score: number) => {
    // First index with sorted[i] >= score.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! < score) lo = mid + 1;
      else hi = mid;
    }
    return (n - lo) / n;
  };
  let widening = 1;
  let calibrate: (score: number) => number;
  if (kind === 'flag_budget') {
    const budget = options.budget ?? DEFAULT_ENSEMBLE_OPTIONS.budget;
    const minCells = options.minBudgetCells ?? DEFAULT_ENSEMBLE_OPTIONS.minBudgetCells;
    if (!(budget > 0 && budget < 1)) throw new Error(`fitCalibration: budget must be in (0, 1), got ${budget}`);
    if (!(Number.isInteger(minCells) && minCells >= 1)) throw new Error(`fitCalibration: minBudgetCells must be a positive integer, got ${minCells}`);
    // The score of the k-th highest cell, k = max(ceil(budget x n), minCells): at or above low,
    // the detector flags more than its budget.
    const quantile = sorted[n - Math.min(n, Math.max(Math.ceil(budget * n), minCells))]!;
    if (quantile >= SEVERITY_THRESHOLDS.low) widening = robustZForScore(Math.min(quantile, SATURATED)) / ROBUST_Z_CUTOFF;
    // scoreFromRobustZ(robustZForScore(score) / w) = 1 - (1 - score)^(1 / w^2).
    const exponent = 1 / (widening * widening);
    // More saturated cells (score 1: an infinite z, e.g. a MAD of 0) than the budget: they cannot
    // be told apart, so none of them says more than low; every lower score stays below them.
    const saturatedOverBudget = quantile >= 1;
    calibrate = widening === 1 ? (score) => score : (score) => (score >= 1 && saturatedOverBudget ? SEVERITY_THRESHOLDS.low : 1 - Math.pow(1 - score, exponent));
  } else if (kind === 'tail') {
    calibrate = (score) => 1 - tail(score);
  } else {
    calibrate = (score) => Math.min(score, 1 - tail(score));
  }
  return { detector, cells: n, widening, tail, calibrate };
}

interface Member {
  readonly cell: CellScore;
  readonly calibrated: number;
}

function combine(rule: CombineRule, top: number, calibrated: readonly number[], memberCount: number): number {
  const sorted = [...calibrated].sort((a, b) => b - a);
  switch (rule) {
    case 'top_mean': {
      let sum = 0;
      for (let k = 0; k < top; k++) sum += sorted[k] ?? 0;
      return sum / top;
    }
    case 'mean':
      return sorted.reduce((s, c) => s + c, 0) / memberCount;
    case 'max_corrected':
      return Math.max(0, 1 - Math.min(1, (1 - (sorted[0] ?? 0)) * calibrated.length));
  }
}

function mergeAttributions(members: readonly Member[], cellIndicator: string): Attribution[] {
  const weights = new Map<string, { share: number; value?: number; expected?: number }>();
  let total = 0;
  for (const m of members) {
    if (!(m.calibrated > 0)) continue;
    for (const a of m.cell.attributions) {
      const entry = weights.get(a.indicator) ?? { share: 0 };
      entry.share += m.calibrated * a.share;
      if (entry.value === undefined && a.value !== undefined) entry.value = a.value;
      if (entry.expected === undefined && a.expected !== undefined) entry.expected = a.expected;
      weights.set(a.indicator, entry);
      total += m.calibrated * a.share;
    }
  }
  if (!(total > 0)) return [{ indicator: cellIndicator, share: 1 }];
  return [...weights.entries()]
    .map(([indicator, e]) => ({
      indicator,
      share: e.share / total,
      ...(e.value !== undefined ? { value: e.value } : {}),
      ...(e.expected !== undefined ? { expected: e.expected } : {}),
    }))
    .sort((a, b) => b.share - a.share || (a.indicator < b.indicator ? -1 : 1));
}

function likelyCauseOf(agreeing: readonly Member[], sourceChange: string | null): { cause: LikelyCause; why: string } {
  const breakMember = agreeing.find((m) => m.cell.detector === STRUCTURAL_BREAK_DETECTOR);
  if (breakMember && (breakMember.cell.likelyCause === 'data_problem' || sourceChange !== null)) {
    return { cause: 'data_problem', why: `a structural break where the source changes${sourceChange ? ` (${sourceChange})` : ''}: a reporting break?` };
  }
  const dataProblem = agreeing.find((m) => m.cell.likelyCause === 'data_problem');
  if (dataProblem) return { cause: 'data_problem', why: `${dataProblem.cell.detector} sees a data problem` };
  const real = agreeing.filter((m) => m.cell.likelyCause === 'real_change').length;
  if (agreeing.length > 0 && real * 2 > agreeing.length) return { cause: 'real_change', why: 'the level stays after it' };
  return { cause: 'unclear', why: '' };
}

function formatNumber(v: number): string {
  const abs = Math.abs(v);
  if (abs !== 0 && (abs >= 1e9 || abs < 1e-4)) return v.toExponential(2);
  return v.toLocaleString('en', { maximumFractionDigits: abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3 });
}

/**
 * Combines the outputs of several detectors (one array per detector, each from one run over the
 * same series) into one CellScore per cell that any of them scored, detector `ensemble`.
 */
export function combineDetections(outputs: readonly (readonly CellScore[])[], options: EnsembleOptions = {}): CellScore[] {
  const { combine: rule, top, calibration: kind, budget, minBudgetCells, agreeAt } = { ...DEFAULT_ENSEMBLE_OPTIONS, ...options };
  if (!Number.isInteger(top) || top < 1) throw new Error(`combineDetections: top must be a positive integer, got ${top}`);
  const byCell = new Map<string, Member[]>();
  const present = outputs.filter((o) => o.length > 0);
  const seenDetectors = new Set<string>();
  for (const output of present) {
    const detector = output[0]!.detector;
    if (seenDetectors.has(detector)) throw new Error(`combineDetections: detector ${detector} given twice`);
    seenDetectors.add(detector);
    for (const cell of output) {
      if (cell.detector !== detector) throw new Error(`combineDetections: one output mixes detectors ${detector} and ${cell.detector}; give one array per detector`);
      const key = cellKey(cell.entity, cell.indicator, cell.period);
      const list = byCell.get(key);
      const member = { cell, calibrated: 0 };
      if (list) {
        if (list.some((m) => m.cell.detector === detector)) throw new Error(`combineDetections: ${detector} scored ${key} twice`);
        list.push(member);
      } else byCell.set(key, [member]);
    }
  }
  const memberCount = present.length;
  // Calibrate each detector against the run's cells (the union), then fill in the members.
  const calibrations = new Map(present.map((output) => [output[0]!.detector, fitCalibration(output[0]!.detector, output.map((c) => c.score), kind, { cells: byCell.size, budget, minBudgetCells })]));
  for (const members of byCell.values()) for (const m of members) (m as { calibrated: number }).calibrated = calibrations.get(m.cell.detector)!.calibrate(m.cell.score);

  // Series by entity and indicator (one per period kind): the one holding the cell's period.
  const seriesIndex = new Map<string, Series[]>();
  for (const s of options.series ?? []) {
    const key = `${s.entity}|${s.indicator}`;
    seriesIndex.set(key, [...(seriesIndex.get(key) ?? []), s]);
  }
  const sourceChangeFor = (cell: CellScore): string | null => {
    for (const s of seriesIndex.get(`${cell.entity}|${cell.indicator}`) ?? []) {
      const i = s.points.findIndex((p) => p.period === cell.period);
      if (i < 0) continue;
      // A break can be dated one period early or late: look at the point and its neighbours.
      return sourceChangeNear(s.points, i) ?? sourceChangeNear(s.points, i - 1);
    }
    return null;
  };
  const out: CellScore[] = [];
  for (const members of byCell.values()) {
    const first = members[0]!.cell;
    const score = Math.min(1, Math.max(0, combine(rule, top, members.map((m) => m.calibrated), memberCount)));
    const agreeing = members.filter((m) => m.calibrated >= agreeAt).sort((a, b) => b.calibrated - a.calibrated || (a.cell.detector < b.cell.detector ? -1 : 1));
    const sourceChange = agreeing.some((m) => m.cell.detector === STRUCTURAL_BREAK_DETECTOR) ? sourceChangeFor(first) : null;
    const { cause, why } = likelyCauseOf(agreeing, sourceChange);
    // Expected value and interval from the strongest member that has them.
    const ranked = [...members].sort((a, b) => b.calibrated - a.calibrated);
    const withExpected = ranked.find((m) => m.cell.expected !== undefined && m.cell.expected !== null);
    const withInterval = ranked.find((m) => m.cell.interval);
    const value = members.find((m) => m.cell.value !== null)?.cell.value ?? null;
    const named = agreeing.map((m) => `${m.cell.detector} ${m.cell.score.toFixed(2)}`).join(', ');
    const seen = value === null ? '' : `${formatNumber(value)}${withExpected ? ` against an expected ${formatNumber(withExpected.cell.expected!)}` : ''}`;
    const reason =
      agreeing.length === 0
        ? `${first.period}: no detector flags this cell (${members.length} of ${memberCount} scored it)${seen ? `; ${seen}` : ''}.`
        : `${first.period}: ${agreeing.length} of ${members.length} detectors flag it (${named})${seen ? `; ${seen}` : ''}${why ? `; ${why}` : ''}.`;
    out.push({
      entity: first.entity,
      indicator: first.indicator,
      period: first.period,
      detector: ENSEMBLE_DETECTOR,
      score,
      severity: severityOf(score),
      value,
      expected: withExpected?.cell.expected ?? null,
      interval: withInterval?.cell.interval ?? null,
      attributions: mergeAttributions(members, first.indicator),
      likelyCause: cause,
      reason,
    });
  }
  return out.sort((a, b) => b.score - a.score || (a.entity < b.entity ? -1 : a.entity > b.entity ? 1 : a.indicator < b.indicator ? -1 : a.indicator > b.indicator ? 1 : a.period < b.period ? -1 : a.period > b.period ? 1 : 0));
}
