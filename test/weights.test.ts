/** PCA weights (OECD/JRC Handbook recipe, unrotated), cross-checked against numpy.linalg.eigh. */
import { describe, expect, it } from 'vitest';
import { pcaWeights } from '../engine/scoring/weights.ts';

const cols = (rows: number[][]) => rows[0]!.map((_, c) => ({ data: rows.map((r) => r[c]!), off: 0 }));

describe('pcaWeights', () => {
  // numpy: R = corrcoef(X.T); l, V = eigh(R) sorted descending; retain l > 1 and l / sum > 0.1;
  // S = V[:, :ret]**2; best = S.argmax(1); w = S[j, best] * l[best] / l[:ret].sum(); w /= w.sum()
  // (the same recipe as the doc comment of weights.ts, run in numpy on the data below)
  const three = [[1, 2, 5], [2, 3, 1], [3, 5, 4], [4, 4, 2], [5, 7, 6], [6, 6, 1], [7, 9, 3], [8, 8, 5]];

  it('one retained component (correlation): eigenvalues and weights as numpy', () => {
    const r = pcaWeights(cols(three), 8);
    expect(r.eigenvalues[0]).toBeCloseTo(1.97600480471038, 10);
    expect(r.eigenvalues[1]).toBeCloseTo(0.9651165565529746, 10);
    expect(r.retained).toBe(1);
    expect(r.explained).toBeCloseTo(0.6586682682367931, 10);
    [0.4648221876652535, 0.48856250462488027, 0.04661530770986609].forEach((w, j) => expect(r.weights[j]).toBeCloseTo(w, 10));
  });

  it('covariance matrix, Kaiser rule against the mean eigenvalue', () => {
    // numpy cov(X.T) eigenvalues 11.6993, 3.6469, 0.3502; retained 1; weights below
    const r = pcaWeights(cols(three), 8, { matrix: 'covariance' });
    expect(r.eigenvalues[0]).toBeCloseTo(11.699295536352771, 9);
    [0.4865322197188588, 0.49769800471627484, 0.01576977556486638].forEach((w, j) => expect(r.weights[j]).toBeCloseTo(w, 10));
  });

  it('two retained components: each child weighted from the component it loads on most', () => {
    // numpy: eigenvalues 2.3797, 1.4532, 0.1040, 0.0630; retained 2; child 3 assigned to component 2
    const four = [[1, 2, 5, 4], [2, 3, 1, 2], [3, 5, 4, 5], [4, 4, 2, 1], [5, 7, 6, 6], [6, 6, 1, 2], [7, 9, 3, 2], [8, 8, 5, 6], [2, 1, 6, 7], [9, 9, 2, 1]];
    const r = pcaWeights(cols(four), 10);
    expect(r.retained).toBe(2);
    [0.27812538618684607, 0.2675563206403666, 0.18356764354618102, 0.27075064962660633].forEach((w, j) => expect(r.weights[j]).toBeCloseTo(w, 9));
  });

  it('uses complete cases only, and falls back to equal weights (saying why) with too few', () => {
    const withGap = [...three, [Number.NaN, 1, 1]];
    expect([...pcaWeights(cols(withGap), 9).weights]).toEqual([...pcaWeights(cols(three), 8).weights]);
    const few = pcaWeights(cols([[1, 2], [2, 1], [Number.NaN, 3]]), 3);
    expect([...few.weights]).toEqual([0.5, 0.5]);
    expect(few.fallback).toMatch(/only 2 entities/);
  });
});
