/** Monte Carlo uncertainty and Sobol sensitivity of a ranking, on generic models. */
import { describe, expect, it } from 'vitest';
import {
  choicesFromUnit, monteCarloUncertainty, nominalChoices, rankScores, rankSensitivity, sampleChoices, uncertaintyRows,
  type Choices, type UncertaintySpace,
} from '../engine/scoring/uncertainty.ts';
import { createRandom } from '../engine/stats/random.ts';

const swapSpace: UncertaintySpace = [{ kind: 'categorical', name: 'norm', alternatives: ['a', 'b'] }];
const swapModel = (c: Choices) => (c.categorical.norm === 'a' ? [3, 2, 1] : [1, 2, 3]);

/** A fast composite of 57 units × 8 seeded indicators with COINr-like alternatives. */
function compositeModel(units = 57, indicators = 8) {
  const rng = createRandom(2024);
  const data = Array.from({ length: indicators }, () => Float64Array.from({ length: units }, () => Math.exp(rng.normal(1, 0.6))));
  const keys = data.map((_, j) => `i${j}`);
  const space: UncertaintySpace = [
    { kind: 'categorical', name: 'normalisation', alternatives: ['minmax', 'zscore', 'rank'] },
    { kind: 'categorical', name: 'aggregation', alternatives: ['arithmetic', 'geometric'] },
    { kind: 'weights', name: 'w', weights: Object.fromEntries(keys.map((k, j) => [k, 1 + (j % 3)])), noise: 0.25 },
  ];
  const normalised = (method: string) =>
    data.map((col) => {
      if (method === 'rank') return Float64Array.from(rankScores(col), (r) => (10 * (units - r + 1)) / units);
      if (method === 'zscore') {
        const mean = col.reduce((a, b) => a + b, 0) / units;
        const sd = Math.sqrt(col.reduce((a, b) => a + (b - mean) ** 2, 0) / (units - 1));
        return col.map((v) => 5 + (v - mean) / sd);
      }
      let lo = Infinity, hi = -Infinity;
      for (const v of col) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
      return col.map((v) => (10 * (v - lo)) / (hi - lo));
    });
  const cache = new Map(['minmax', 'zscore', 'rank'].map((m) => [m, normalised(m)]));
  const out = new Float64Array(units);
  const model = (c: Choices) => {
    const cols = cache.get(c.categorical.normalisation!)!;
    const w = keys.map((k) => c.weights.w![k]!);
    const total = w.reduce((a, b) => a + b, 0);
    const geometric = c.categorical.aggregation === 'geometric';
    for (let i = 0; i < units; i++) {
      let s = 0;
      for (let j = 0; j < indicators; j++) s += geometric ? w[j]! * Math.log(Math.max(cols[j]![i]!, 0.01)) : w[j]! * cols[j]![i]!;
      out[i] = geometric ? Math.exp(s / total) : s / total;
    }
    return out;
  };
  return { model, space };
}

describe('rankScores', () => {
  it('ranks 1 = highest, ties share the smallest rank, NaN stays NaN', () => {
    // R: rank(-c(0.2, 0.9, 0.2, 0.5), ties.method = "min") = 3, 1, 3, 2
    expect(Array.from(rankScores([0.2, 0.9, 0.2, 0.5]))).toEqual([3, 1, 3, 2]);
    expect(Array.from(rankScores([0.2, Number.NaN, 0.9]))).toEqual([2, Number.NaN, 1]);
  });
});

describe('choices', () => {
  it('nominal choices take the declared nominal or the first alternative and the weights as given', () => {
    const space: UncertaintySpace = [
      { kind: 'categorical', name: 'agg', alternatives: ['arithmetic', 'geometric'], nominal: 'geometric' },
      { kind: 'categorical', name: 'norm', alternatives: ['minmax', 'rank'] },
      { kind: 'weights', name: 'w', weights: { a: 1, b: 2 }, noise: 0.2 },
    ];
    expect(nominalChoices(space)).toEqual({ categorical: { agg: 'geometric', norm: 'minmax' }, weights: { w: { a: 1, b: 2 } } });
    const c = choicesFromUnit(space, [0.49, 0.999, 0.3]);
    expect(c.categorical).toEqual({ agg: 'arithmetic', norm: 'rank' });
    expect(c.weights.w!.a!).toBeGreaterThanOrEqual(0.8);
    expect(c.weights.w!.b!).toBeLessThanOrEqual(2.4);
    expect(choicesFromUnit(space, [0.49, 0.999, 0.3])).toEqual(c); // deterministic in u
  });

  it('refuses a bad space with the input named', () => {
    expect(() => nominalChoices([{ kind: 'categorical', name: 'x', alternatives: [] }])).toThrow(/'x' has no alternatives/);
    expect(() => nominalChoices([{ kind: 'categorical', name: 'x', alternatives: ['a'], nominal: 'b' }])).toThrow(/nominal 'b'/);
    expect(() => nominalChoices([{ kind: 'weights', name: 'w', weights: { a: 1 }, noise: 1.5 }])).toThrow(/noise must be in \[0, 1\]/);
    expect(() => nominalChoices([{ kind: 'weights', name: 'w', weights: { a: -1 }, noise: 0.1 }])).toThrow(/'a' must be finite/);
    expect(() => nominalChoices([...swapSpace, ...swapSpace])).toThrow(/declared twice/);
  });
});

describe('monteCarloUncertainty', () => {
  it('summarises a two-alternative swap exactly as a replay of the seeded draws predicts', () => {
    const runs = 1000;
    const r = monteCarloUncertainty(swapModel, swapSpace, { runs, seed: 7 });
    // Replay: each run draws alternative floor(next() * 2) from mulberry32(7).
    const rng = createRandom(7);
    let b = 0;
    for (let i = 0; i < runs; i++) b += Math.floor(rng.next() * 2);
    expect(Array.from(r.nominalRank)).toEqual([1, 2, 3]);
    expect(Array.from(r.nominalScore)).toEqual([3, 2, 1]);
    expect(r.rankMean[0]).toBeCloseTo(1 + (2 * b) / runs, 12);
    expect(Array.from(r.meanAbsRankShift)).toEqual([(2 * b) / runs, 0, (2 * b) / runs]);
    expect(r.overallMeanAbsRankShift).toBeCloseTo((4 * b) / runs / 3, 12);
    expect([r.rankP05[0], r.rankP95[0]]).toEqual([1, 3]);
    expect([r.scoreP05[1], r.scoreMedian[1], r.scoreP95[1], r.rankMedian[1]]).toEqual([2, 2, 2, 2]);
    expect(b / runs).toBeGreaterThan(0.45);
    expect(b / runs).toBeLessThan(0.55);
    expect(Array.from(r.scored)).toEqual([runs, runs, runs]);
  });

  it('draws weights as w (1 + U(-noise, noise)), in a documented, replayable order', () => {
    const space: UncertaintySpace = [{ kind: 'weights', name: 'w', weights: { a: 1, b: 4 }, noise: 0.2 }];
    const r = monteCarloUncertainty((c) => [c.weights.w!.a!, c.weights.w!.b!], space, { runs: 2000, seed: 3, keepSamples: true });
    const replay = sampleChoices(space, createRandom(3));
    expect(Array.from(r.samples!.scores.subarray(0, 2))).toEqual([replay.weights.w!.a, replay.weights.w!.b]);
    // Uniform on [0.8 w, 1.2 w]: mean w, 5th and 95th percentiles 0.82 w and 1.18 w.
    expect(r.scoreMean[0]!).toBeCloseTo(1, 2);
    expect(r.scoreP05[0]!).toBeCloseTo(0.82, 1);
    expect(Math.abs(r.scoreP05[1]! - 4 * 0.82)).toBeLessThan(0.06);
    expect(Math.abs(r.scoreP95[1]! - 4 * 1.18)).toBeLessThan(0.06);
    for (let k = 0; k < 4000; k += 2) expect(Math.abs(r.samples!.scores[k]! - 1)).toBeLessThanOrEqual(0.2);
  });

  it('is invariant when no choice matters, and passes missing scores through', () => {
    const r = monteCarloUncertainty(() => [5, Number.NaN, 7], [{ kind: 'weights', name: 'w', weights: { a: 1 }, noise: 0.5 }], { runs: 50 });
    expect(Array.from(r.rankP05)).toEqual([2, Number.NaN, 1]);
    expect(Array.from(r.meanAbsRankShift)).toEqual([0, Number.NaN, 0]);
    expect(Array.from(r.scored)).toEqual([50, 0, 50]);
    expect(r.overallMeanAbsRankShift).toBe(0);
    let call = 0;
    const sometimes = () => (call++ % 2 === 0 ? [1, 2] : [Number.NaN, 2]);
    const s = monteCarloUncertainty(sometimes, swapSpace, { runs: 10 });
    expect(s.scored[0]).toBe(5); // nominal run is call 0; runs 1..10 alternate
    expect(() => monteCarloUncertainty((c) => (c.categorical.norm === 'a' ? [1, 2] : [1]), swapSpace, { runs: 20 })).toThrow(/returned 1 scores/);
  });

  it('handles 1,000 runs of 57 units fast and reproducibly', () => {
    const { model, space } = compositeModel();
    const t0 = performance.now();
    const r = monteCarloUncertainty(model, space, { runs: 1000, seed: 42 });
    const elapsed = performance.now() - t0;
    const again = monteCarloUncertainty(model, space, { runs: 1000, seed: 42 });
    expect(Array.from(again.rankP95)).toEqual(Array.from(r.rankP95));
    expect(Array.from(again.scoreMedian)).toEqual(Array.from(r.scoreMedian));
    expect(Array.from(monteCarloUncertainty(model, space, { runs: 1000, seed: 43 }).rankMean)).not.toEqual(Array.from(r.rankMean));
    expect([...r.nominalRank].sort((a, b) => a - b)).toEqual(Array.from({ length: 57 }, (_, i) => i + 1));
    for (let i = 0; i < 57; i++) {
      expect(r.rankP05[i]!).toBeLessThanOrEqual(r.rankMedian[i]!);
      expect(r.rankMedian[i]!).toBeLessThanOrEqual(r.rankP95[i]!);
      expect(r.scoreP05[i]!).toBeLessThanOrEqual(r.scoreP95[i]!);
    }
    expect(r.overallMeanAbsRankShift).toBeGreaterThan(0);
    // Model plus overhead; measured about 40 ms here (2 shared cores); a generous bound.
    expect(elapsed).toBeLessThan(2000);
    const rows = uncertaintyRows(r, Array.from({ length: 57 }, (_, i) => `U${i}`));
    expect(rows[0]).toMatchObject({ unit: 'U0', nominalRank: r.nominalRank[0], scored: 1000 });
  });
});

describe('rankSensitivity', () => {
  it('gives an input the model ignores total index 0, and the one that matters first order near 1', () => {
    const space: UncertaintySpace = [...swapSpace, { kind: 'categorical', name: 'unused', alternatives: ['x', 'y', 'z'] }];
    const r = rankSensitivity(swapModel, space, { N: 512, bootstrap: 200 });
    expect(r.inputs).toEqual(['norm', 'unused']);
    expect(r.runs).toBe(512 * 4);
    const mars = r.meanAbsRankShift;
    expect(mars.total[1]).toBe(0);
    expect(mars.firstOrder[0]!).toBeGreaterThan(0.9);
    expect(mars.total[0]!).toBeCloseTo(1, 2);
    expect(r.rank[0]!.total[0]!).toBeCloseTo(1, 2);
    expect(r.rank[1]!.firstOrder[0]).toBeNaN(); // unit 2 is always ranked 2: nothing to apportion
    expect(r.score[0]!.total[1]).toBe(0);
  });

  it('apportions a composite ranking between methods and weights', () => {
    const { model, space } = compositeModel();
    const t0 = performance.now();
    const r = rankSensitivity(model, space, { N: 256, bootstrap: 100, seed: 5 });
    const elapsed = performance.now() - t0;
    expect(r.runs).toBe(256 * 5);
    expect(r.rank).toHaveLength(57);
    const mars = r.meanAbsRankShift;
    for (let i = 0; i < 3; i++) {
      expect(mars.total[i]!).toBeGreaterThanOrEqual(0);
      expect(mars.totalLow[i]!).toBeLessThanOrEqual(mars.totalHigh[i]!);
      expect(mars.total[i]! + 0.05).toBeGreaterThan(mars.firstOrder[i]!); // ST >= S up to sampling error
    }
    // reproducible
    expect(Array.from(rankSensitivity(model, space, { N: 256, bootstrap: 100, seed: 5 }).meanAbsRankShift.total)).toEqual(Array.from(mars.total));
    expect(elapsed).toBeLessThan(3000);
  });
});
