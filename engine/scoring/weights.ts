/**
 * Data-driven weights by principal components, after the OECD/JRC Handbook on Constructing
 * Composite Indicators (2008, section 6.1, the Nicoletti et al. recipe), without its varimax
 * rotation. Exactly:
 *   1. the k children of a node, over the entities where all k are present (complete cases);
 *   2. their correlation matrix (default; or covariance), eigen-decomposed (ml-matrix), eigenvalues
 *      l_1 >= ... >= l_k with unit eigenvectors v_m;
 *   3. components retained: l_m > 1 for correlation (l_m > mean eigenvalue for covariance, the
 *      same Kaiser rule) and explaining more than 10% of the variance each; at least the first;
 *   4. squared loadings scaled to unity sum within each component: L_jm^2 / sum_j L_jm^2 = v_jm^2
 *      (as L_jm = v_jm sqrt(l_m));
 *   5. each child is assigned to the retained component where its scaled squared loading is
 *      largest, and weighted by it times that component's share of the retained variance,
 *      w_j = v_jm*^2 * l_m* / sum_retained l;
 *   6. the w_j are rescaled to sum to 1.
 * Signs of eigenvectors do not matter (squares). Unrotated: rotation would spread loadings across
 * components; without it, the first component dominates when the children are correlated. With
 * fewer than 3 complete cases, or no spread, the weights fall back to equal, and say so.
 * Cost: O(n k^2 + k^3) per node.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

export interface PcaOptions {
  readonly matrix?: 'correlation' | 'covariance';
}

export interface PcaWeights {
  /** Weights summing to 1, in the order of the columns given. */
  readonly weights: Float64Array;
  readonly eigenvalues: readonly number[];
  readonly retained: number;
  /** Share of the total variance explained by the retained components (the Handbook asks for > 60%). */
  readonly explained: number;
  /** Complete cases used. */
  readonly n: number;
  /** Set when the weights fell back to equal, with why. */
  readonly fallback?: string;
}

/**
 * PCA weights of k columns (each `data` read from `off`, n entities; NaN = missing).
 * @example // see test/weights.test.ts: cross-checked against numpy.linalg.eigh
 */
export function pcaWeights(columns: readonly { readonly data: ArrayLike<number>; readonly off: number }[], n: number, options: PcaOptions = {}): PcaWeights {
  const k = columns.length;
  const equal = (why: string, m: number): PcaWeights => ({ weights: new Float64Array(k).fill(1 / k), eigenvalues: [], retained: 0, explained: Number.NaN, n: m, fallback: why });
  const rows: number[] = [];
  for (let i = 0; i < n; i++) {
    let ok = true;
    for (const c of columns) {
      const v = c.data[c.off + i]!;
      if (v !== v) {
        ok = false;
        break;
      }
    }
    if (ok) rows.push(i);
  }
  const m = rows.length;
  if (k === 1) return { weights: Float64Array.of(1), eigenvalues: [1], retained: 1, explained: 1, n: m };
  if (m < 3) return equal(`only ${m} entities have every child; PCA needs at least 3`, m);
  const means = columns.map((c) => rows.reduce((a, i) => a + c.data[c.off + i]!, 0) / m);
  const cov = new Matrix(k, k);
  for (let a = 0; a < k; a++) {
    for (let b = a; b < k; b++) {
      let s = 0;
      for (const i of rows) s += (columns[a]!.data[columns[a]!.off + i]! - means[a]!) * (columns[b]!.data[columns[b]!.off + i]! - means[b]!);
      cov.set(a, b, s / (m - 1));
      cov.set(b, a, s / (m - 1));
    }
  }
  for (let a = 0; a < k; a++) if (!(cov.get(a, a) > 0)) return equal(`child ${a + 1} does not vary across the complete cases`, m);
  const useCorrelation = (options.matrix ?? 'correlation') === 'correlation';
  if (useCorrelation) {
    const sd = Array.from({ length: k }, (_, a) => Math.sqrt(cov.get(a, a)));
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) cov.set(a, b, cov.get(a, b) / (sd[a]! * sd[b]!));
  }
  const evd = new EigenvalueDecomposition(cov, { assumeSymmetric: true });
  const order = evd.realEigenvalues.map((l, idx) => [l, idx] as const).sort((x, y) => y[0] - x[0]);
  const eigenvalues = order.map(([l]) => l);
  const total = eigenvalues.reduce((a, b) => a + b, 0);
  const kaiser = useCorrelation ? 1 : total / k;
  let retained = 0;
  while (retained < k && eigenvalues[retained]! > kaiser && eigenvalues[retained]! / total > 0.1) retained++;
  retained = Math.max(retained, 1);
  const retainedVariance = eigenvalues.slice(0, retained).reduce((a, b) => a + b, 0);
  const vectors = evd.eigenvectorMatrix;
  const weights = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    let best = -1;
    let bestM = 0;
    for (let r = 0; r < retained; r++) {
      const v = vectors.get(j, order[r]![1]);
      if (v * v > best) {
        best = v * v;
        bestM = r;
      }
    }
    weights[j] = (best * eigenvalues[bestM]!) / retainedVariance;
  }
  const sum = weights.reduce((a, b) => a + b, 0);
  for (let j = 0; j < k; j++) weights[j]! /= sum;
  return { weights, eigenvalues, retained, explained: retainedVariance / total, n: m };
}
