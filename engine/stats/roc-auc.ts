/**
 * ROC-AUC as the Mann-Whitney statistic: the probability that a random positive scores above a
 * random negative, ties counting one half (so it equals sklearn.metrics.roc_auc_score). O(n log n).
 *
 * @param scores higher means more likely positive
 * @param labels 1 (or true) for positives, 0 (or false) for negatives; same length as scores
 * @example rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) // => 0.75
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): number {
  const n = scores.length;
  if (labels.length !== n) throw new RangeError(`rocAuc needs one label per score, got ${labels.length} labels for ${n} scores`);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(scores[i]!)) throw new RangeError(`rocAuc: score ${i} is NaN`);
    order[i] = i;
  }
  order.sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSumPositives = 0;
  for (let start = 0; start < n;) {
    let end = start + 1;
    while (end < n && scores[order[end]!] === scores[order[start]!]) end++;
    const midRank = (start + 1 + end) / 2; // ranks start..end-1 (1-based start+1..end) share their mean
    for (let i = start; i < end; i++) {
      if (labels[order[i]!]) {
        positives++;
        rankSumPositives += midRank;
      }
    }
    start = end;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) throw new RangeError(`rocAuc needs both classes, got ${positives} positives and ${negatives} negatives`);
  return (rankSumPositives - (positives * (positives + 1)) / 2) / (positives * negatives);
}
