/**
 * Ranking metrics for anomaly detectors, on a score per cell and a 0/1 label (planted or not).
 * They follow scikit-learn so that the figures can be compared with other tools:
 * - `rocAuc`: the Mann-Whitney statistic, P(score of a positive > score of a negative) with ties
 *   counted one half (= sklearn.metrics.roc_auc_score);
 * - `averagePrecision`: sum over thresholds of (recall step) x precision, every distinct score one
 *   threshold, so that tied cells enter together (= sklearn.metrics.average_precision_score);
 * - `precisionAtK`: the share of positives among the k highest scores; cells tied across the k-th
 *   place count in proportion (the expected precision when ties are broken at random), so that a
 *   detector cannot gain or lose by the order its cells happen to come in.
 * Test: test/anomaly-metrics.test.ts against test/reference/ref_anomaly_metrics.py.
 */

function checkInputs(scores: ArrayLike<number>, labels: ArrayLike<boolean | number>, where: string): void {
  if (scores.length !== labels.length) {
    throw new Error(`${where}: ${scores.length} scores but ${labels.length} labels; give one label per score`);
  }
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i]!)) throw new Error(`${where}: score ${i} is NaN; score an unscored cell 0, do not leave it NaN`);
  }
}

const isPositive = (label: boolean | number) => label === true || label === 1;

/** Indices by descending score; ties keep their input order (groups are handled by the callers). */
function descendingOrder(scores: ArrayLike<number>): Uint32Array {
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => scores[b]! - scores[a]! || a - b);
  return order;
}

/** ROC-AUC (Mann-Whitney, ties one half); one implementation in the code base, engine/stats/roc-auc.ts. */
export { rocAuc } from '../stats/roc-auc.ts';

/**
 * Average precision: sum_k (R_k - R_{k-1}) P_k over the distinct scores from the highest down,
 * as scikit-learn computes it (no interpolation). O(n log n). Throws without any positive.
 */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<boolean | number>): number {
  checkInputs(scores, labels, 'averagePrecision');
  const n = scores.length;
  let total = 0;
  for (let i = 0; i < n; i++) if (isPositive(labels[i]!)) total++;
  if (total === 0) throw new Error('averagePrecision: no positive label; the precision-recall curve is undefined');
  const order = descendingOrder(scores);
  let seen = 0;
  let truePositives = 0;
  let ap = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    let groupPositives = 0;
    for (let k = i; k <= j; k++) if (isPositive(labels[order[k]!]!)) groupPositives++;
    seen += j - i + 1;
    truePositives += groupPositives;
    ap += (groupPositives / total) * (truePositives / seen);
    i = j + 1;
  }
  return ap;
}

/**
 * Precision among the k highest scores. A tie group that straddles place k contributes its share
 * of positives times the places it fills. k larger than n is cut to n. O(n log n).
 */
export function precisionAtK(scores: ArrayLike<number>, labels: ArrayLike<boolean | number>, k: number): number {
  checkInputs(scores, labels, 'precisionAtK');
  if (!Number.isInteger(k) || k < 1) throw new Error(`precisionAtK: k must be a positive integer, got ${k}`);
  const n = scores.length;
  const limit = Math.min(k, n);
  if (limit === 0) throw new Error('precisionAtK: no scores');
  const order = descendingOrder(scores);
  let taken = 0;
  let hits = 0;
  for (let i = 0; i < n && taken < limit; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const size = j - i + 1;
    let groupPositives = 0;
    for (let g = i; g <= j; g++) if (isPositive(labels[order[g]!]!)) groupPositives++;
    const places = Math.min(size, limit - taken);
    hits += (groupPositives * places) / size;
    taken += places;
    i = j + 1;
  }
  return hits / limit;
}
