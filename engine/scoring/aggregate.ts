/**
 * Aggregation of a node's children into the node's score, per entity, after COINr's `Aggregate()`
 * methods (`a_amean`, `a_gmean`, `a_hmean`, `a_genmean`, `a_copeland`). Missing children drop out
 * and the remaining weights renormalise; a node whose share of present children is below the
 * availability threshold (COINr's `dat_thresh`) is missing, and so is a node with no child present
 * or only zero-weight children: missing, never zero.
 *
 * The geometric, harmonic and generalised means need positive values; values are floored at
 * GEOMETRIC_FLOOR (0.01) first, so that one zero child does not zero (or divide by zero) the
 * parent. They assume a positive scale (minmax 0-10, goalposts, GOCI's 1-10), not z-scores.
 *
 * The kernel works on a column-major work matrix (column c of entity i at c * n + i): one pass per
 * child column, O(n k) per node; Copeland is pairwise, O(n^2 k).
 */

export const AGGREGATIONS = ['arithmetic', 'geometric', 'harmonic', 'generalised', 'copeland'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];
export const AGGREGATION_CODE: Readonly<Record<Aggregation, number>> = { arithmetic: 0, geometric: 1, harmonic: 2, generalised: 3, copeland: 4 };
/** Aggregations for which raising a child never lowers the parent (all of them, Copeland included). */
export const MONOTONE_AGGREGATIONS: readonly Aggregation[] = AGGREGATIONS;

/**
 * The geometric mean is undefined for values <= 0; values are floored here first. Scores on GI-TOC's
 * 1-10 scale never reach it; normalised 0-10 scores do, and a zero child would otherwise zero the parent.
 */
export const GEOMETRIC_FLOOR = 0.01;

/** Scratch arrays of length n, reused across calls (the Monte Carlo loop allocates nothing). */
export interface AggregationScratch {
  readonly acc: Float64Array;
  readonly wsum: Float64Array;
  readonly count: Float64Array;
}

export function aggregationScratch(n: number): AggregationScratch {
  return { acc: new Float64Array(n), wsum: new Float64Array(n), count: new Float64Array(n) };
}

/**
 * Aggregates the columns childCols[from .. to) of `work` (weights[from .. to), not necessarily
 * normalised) into column `outCol` of `work`. `method` is an AGGREGATION_CODE; `p` the generalised
 * mean's exponent (p = 0 is the geometric mean, 1 arithmetic, -1 harmonic); `availability` the
 * least share of children present (0: at least one). n entities.
 */
export function aggregateInto(
  work: Float64Array,
  n: number,
  childCols: Int32Array,
  weights: ArrayLike<number>,
  from: number,
  to: number,
  method: number,
  p: number,
  availability: number,
  outCol: number,
  scratch: AggregationScratch,
): void {
  const { acc, wsum, count } = scratch;
  acc.fill(0, 0, n);
  wsum.fill(0, 0, n);
  count.fill(0, 0, n);
  const k = to - from;
  if (method === 4) {
    copelandInto(work, n, childCols, weights, from, to, outCol, scratch);
  } else {
    if (method === 3 && p === 0) method = 1;
    for (let c = from; c < to; c++) {
      const w = weights[c]!;
      const base = childCols[c]! * n;
      for (let i = 0; i < n; i++) {
        const x = work[base + i]!;
        if (x !== x) continue;
        count[i]! += 1;
        if (w === 0) continue;
        wsum[i]! += w;
        switch (method) {
          case 0:
            acc[i]! += w * x;
            break;
          case 1:
            acc[i]! += w * Math.log(x > GEOMETRIC_FLOOR ? x : GEOMETRIC_FLOOR);
            break;
          case 2:
            acc[i]! += w / (x > GEOMETRIC_FLOOR ? x : GEOMETRIC_FLOOR);
            break;
          default:
            acc[i]! += w * Math.pow(x > GEOMETRIC_FLOOR ? x : GEOMETRIC_FLOOR, p);
        }
      }
    }
    const out = outCol * n;
    for (let i = 0; i < n; i++) {
      const ws = wsum[i]!;
      if (ws === 0) work[out + i] = Number.NaN;
      else if (method === 0) work[out + i] = acc[i]! / ws;
      else if (method === 1) work[out + i] = Math.exp(acc[i]! / ws);
      else if (method === 2) work[out + i] = ws / acc[i]!;
      else work[out + i] = Math.pow(acc[i]! / ws, 1 / p);
    }
  }
  if (availability > 0) {
    const out = outCol * n;
    // a small tolerance so that 2 of 3 children meet a 0.66 threshold as intended (0.666 >= 0.66)
    for (let i = 0; i < n; i++) if (count[i]! / k < availability - 1e-12) work[out + i] = Number.NaN;
  }
}

/**
 * Copeland scores (COINr `a_copeland`): for each pair of entities, the outranking share is the
 * weight of children where the first is higher plus half the weight of ties, over the weight of
 * the children both have (COINr divides by all children's weight; dropping the missing ones is
 * this engine's rule everywhere); the score is the number of entities outranked (share > 0.5)
 * minus the number outranking it (< 0.5). Range -(n-1) .. n-1, not a 0-10 scale. O(n^2 k).
 */
function copelandInto(
  work: Float64Array,
  n: number,
  childCols: Int32Array,
  weights: ArrayLike<number>,
  from: number,
  to: number,
  outCol: number,
  scratch: AggregationScratch,
): void {
  const { acc, wsum, count } = scratch;
  for (let c = from; c < to; c++) {
    const base = childCols[c]! * n;
    for (let i = 0; i < n; i++) {
      if (work[base + i] === work[base + i]) {
        count[i]! += 1;
        wsum[i]! += weights[c]!;
      }
    }
  }
  for (let i = 0; i < n; i++) {
    if (wsum[i] === 0) continue;
    for (let j = i + 1; j < n; j++) {
      if (wsum[j] === 0) continue;
      let win = 0;
      let total = 0;
      for (let c = from; c < to; c++) {
        const w = weights[c]!;
        if (w === 0) continue;
        const base = childCols[c]! * n;
        const a = work[base + i]!;
        const b = work[base + j]!;
        if (a !== a || b !== b) continue;
        total += w;
        if (a > b) win += w;
        else if (a === b) win += w / 2;
      }
      if (total === 0) continue;
      const share = win / total;
      if (share > 0.5 + 1e-12) {
        acc[i]! += 1;
        acc[j]! -= 1;
      } else if (share < 0.5 - 1e-12) {
        acc[i]! -= 1;
        acc[j]! += 1;
      }
    }
  }
  const out = outCol * n;
  for (let i = 0; i < n; i++) work[out + i] = wsum[i] === 0 ? Number.NaN : acc[i]!;
}

/**
 * Aggregates rows of child values (units x children; NaN = missing) by a method: the array form of
 * the kernel, for tests and one-off use.
 * @example aggregate([[2, 6]], [1, 3], 'arithmetic') // [5]
 * @example aggregate([[5, 6]], [1, 1], 'geometric') // [sqrt(30)]
 */
export function aggregate(
  rows: readonly (readonly number[])[],
  weights: readonly number[],
  method: Aggregation,
  options: { p?: number; availability?: number } = {},
): Float64Array {
  const n = rows.length;
  const k = weights.length;
  const work = new Float64Array((k + 1) * n);
  rows.forEach((row, i) => row.forEach((x, c) => (work[c * n + i] = x)));
  const cols = Int32Array.from({ length: k }, (_, c) => c);
  aggregateInto(work, n, cols, weights, 0, k, AGGREGATION_CODE[method], options.p ?? 1, options.availability ?? 0, k, aggregationScratch(n));
  return work.slice(k * n);
}
