/**
 * Ranking metrics against scikit-learn: the constants below are the outputs of
 * test/reference/ref_anomaly_metrics.py (sklearn.metrics roc_auc_score and average_precision_score;
 * precision at k by brute force over every order of the tied cells, and per cell).
 */
import { describe, expect, it } from 'vitest';
import { averagePrecision, precisionAtK, rocAuc } from '../engine/anomaly/metrics.ts';

const A_SCORES = [0.9, 0.8, 0.8, 0.7, 0.5, 0.5, 0.5, 0.3, 0.1, 0.0];
const A_LABELS = [1, 0, 1, 1, 0, 1, 0, 0, 1, 0];

/** The reference script's b_vector(): many ties, labels loosely following the scores. */
function bVector(n = 200) {
  const scores: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const tenths = Math.floor(((i * 37) % 101) / 10);
    scores.push(tenths / 10);
    labels.push(((i * 7) % 11 < 3 && tenths >= 4) || i % 29 === 0 ? 1 : 0);
  }
  return { scores, labels };
}

describe('rocAuc', () => {
  it('equals sklearn roc_auc_score, ties counted one half', () => {
    expect(rocAuc(A_SCORES, A_LABELS)).toBeCloseTo(0.7, 12);
    const b = bVector();
    expect(b.labels.reduce((s, l) => s + l, 0)).toBe(23);
    expect(rocAuc(b.scores, b.labels)).toBeCloseTo(0.6643330876934415, 12);
    expect(rocAuc([0.3, 0.3, 0.3, 0.3, 0.3], [1, 0, 0, 1, 0])).toBe(0.5);
  });

  it('is 1 for a perfect ranking and 0 for a reversed one (hand-computed)', () => {
    expect(rocAuc([4, 3, 2, 1], [true, true, false, false])).toBe(1);
    expect(rocAuc([1, 2, 3, 4], [true, true, false, false])).toBe(0);
  });

  it('refuses one class, NaN scores and mismatched lengths', () => {
    expect(() => rocAuc([1, 2], [0, 0])).toThrow(/both classes/);
    expect(() => rocAuc([1, Number.NaN], [0, 1])).toThrow(/NaN/);
    expect(() => rocAuc([1, 2, 3], [0, 1])).toThrow(/2 labels for 3 scores/);
  });
});

describe('averagePrecision', () => {
  it('equals sklearn average_precision_score, a tie group entering as one threshold', () => {
    expect(averagePrecision(A_SCORES, A_LABELS)).toBeCloseTo(0.7087301587301587, 12);
    const b = bVector();
    expect(averagePrecision(b.scores, b.labels)).toBeCloseTo(0.22127857321882105, 12);
    expect(averagePrecision([0.3, 0.3, 0.3, 0.3, 0.3], [1, 0, 0, 1, 0])).toBeCloseTo(0.4, 12);
  });

  it('refuses labels without a positive', () => {
    expect(() => averagePrecision([1, 2], [0, 0])).toThrow(/no positive/);
  });
});

describe('precisionAtK', () => {
  it('equals the brute-force mean over every order of the tied cells', () => {
    const expected: Record<number, number> = { 1: 1, 2: 0.75, 3: 0.6666666666666666, 5: 0.6666666666666665, 6: 0.6111111111111112, 10: 0.5 };
    for (const [k, p] of Object.entries(expected)) expect(precisionAtK(A_SCORES, A_LABELS, Number(k))).toBeCloseTo(p, 12);
  });

  it('equals the per-cell probability of landing in the top k', () => {
    const b = bVector();
    expect(precisionAtK(b.scores, b.labels, 10)).toBeCloseTo(0.33999999999999997, 12);
    expect(precisionAtK(b.scores, b.labels, 40)).toBeCloseTo(0.24250000000000002, 12);
    expect(precisionAtK(b.scores, b.labels, 100)).toBeCloseTo(0.14849999999999997, 12);
  });

  it('cuts k to the number of cells and refuses k < 1', () => {
    expect(precisionAtK([0.9, 0.1], [1, 0], 10)).toBe(0.5);
    expect(() => precisionAtK([0.9], [1], 0)).toThrow(/positive integer/);
  });
});
