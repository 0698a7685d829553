/** Isolation Forest: c(n), path lengths, determinism, serialisation, attribution, and ROC-AUC beside scikit-learn. */
import { describe, expect, it } from 'vitest';
import { averagePathLength, IsolationForest, type IsolationForestJSON } from '../engine/anomaly/isolation-forest.ts';
import { rocAuc } from '../engine/stats/roc-auc.ts';
import { plantedRows } from './support/multivariate-data.ts';

// Pasted from test/reference/ref_anomaly_multi_forest.py (scikit-learn 1.2.1).
const SKLEARN_C_N = [0, 1, 2, 3, 4, 5, 10, 100, 256, 1000, 100000];
const SKLEARN_C = [0.0, 0.0, 1.0, 1.207392357589623, 1.8516559071392846, 2.327020052042847, 3.748880484475504, 8.364671030072245, 10.244770920119917, 12.969940887100172, 22.180282259643523];
// IsolationForest(n_estimators=100, max_samples=256, random_state=0..9) on plantedRows(4000, 8, 21, 0.03, 3, 2, 2).
const SKLEARN_AUCS = [0.8431, 0.8511, 0.8541, 0.8413, 0.8543, 0.8551, 0.8556, 0.8502, 0.8452, 0.8539];
const SKLEARN_MEAN_AUC = 0.8503826673798345;
const SKLEARN_TIES_AUC = 0.7083333333333333;

describe('averagePathLength', () => {
  it('is 2 H(n-1) - 2 (n-1)/n with c(2) = 1 and c(1) = 0, as scikit-learn', () => {
    SKLEARN_C_N.forEach((n, k) => expect(averagePathLength(n)).toBeCloseTo(SKLEARN_C[k]!, 12));
    // By hand from the harmonic number itself: H(m) = ln(m) + gamma + 1/(2m) - ..., so the paper's
    // approximation sits 1/(n-1) (less 1/(6 (n-1)^2)) below the exact 2 H(n-1) - 2 (n-1)/n.
    const harmonic = (m: number) => Array.from({ length: m }, (_, i) => 1 / (i + 1)).reduce((a, b) => a + b, 0);
    for (const n of [100, 256, 1000]) {
      const exact = 2 * harmonic(n - 1) - (2 * (n - 1)) / n;
      expect(exact - averagePathLength(n)).toBeCloseTo(1 / (n - 1) - 1 / (6 * (n - 1) ** 2), 7);
    }
  });
});

describe('rocAuc', () => {
  it('counts ties as one half, as roc_auc_score', () => {
    expect(rocAuc([0.2, 0.5, 0.5, 0.9, 0.2, 0.1, 0.5], [0, 1, 0, 1, 1, 0, 0])).toBeCloseTo(SKLEARN_TIES_AUC, 14);
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
    expect(() => rocAuc([1, 2], [1, 1])).toThrow(/both classes/);
  });
});

describe('IsolationForest', () => {
  it('gives 0.5 to every row of constant data (each tree a single leaf: h = c(psi))', () => {
    const data = new Float64Array(300 * 3).fill(7);
    const scores = new IsolationForest({ nTrees: 10, seed: 1 }).fit(data, 300, 3).scoreSamples(data, 300);
    for (const s of scores) expect(s).toBeCloseTo(0.5, 14);
  });

  it('has the analytic expected path lengths on three points', () => {
    // Points 0, 1, 10 (psi = 3, depth limit 2). The root threshold is uniform on [0, 10]: below 1
    // (p = 0.1) it cuts off 0, else 10; the remaining pair is split at depth 2. So E[h(10)] = 1.1,
    // E[h(0)] = 1.9, E[h(1)] = 2, up to Monte Carlo error (SD 0.3 per tree / sqrt(20,000)).
    const data = Float64Array.of(0, 1, 10);
    const h = new IsolationForest({ nTrees: 20000, sampleSize: 3, seed: 5 }).fit(data, 3, 1).pathLengths(data, 3);
    expect(h[0]).toBeCloseTo(1.9, 2);
    expect(h[1]).toBe(2);
    expect(h[2]).toBeCloseTo(1.1, 2);
    const s = new IsolationForest({ nTrees: 20000, sampleSize: 3, seed: 5 }).fit(data, 3, 1).scoreSamples(data, 3);
    expect(s[1]).toBeCloseTo(Math.pow(2, -2 / averagePathLength(3)), 12);
  });

  it('builds each tree on a subsample without replacement, within the depth limit', () => {
    const { data } = plantedRows(2000, 4, 3, 0.02, 4, 1, 1);
    const forest = new IsolationForest({ nTrees: 20, sampleSize: 64, seed: 9 }).fit(data, 2000, 4);
    expect(forest.effectiveSampleSize).toBe(64);
    expect(forest.maxDepth).toBe(6);
    const json = forest.toJSON();
    for (const root of json.roots) {
      expect(json.size[root]).toBe(64);
      // Leaves partition the subsample: their sizes sum to psi, and none is deeper than the limit.
      let leafTotal = 0;
      const walk = (node: number, depth: number) => {
        expect(depth).toBeLessThanOrEqual(6);
        if (json.feature[node]! < 0) {
          leafTotal += json.size[node]!;
          return;
        }
        expect(json.size[json.left[node]!]! + json.size[json.left[node]! + 1]!).toBe(json.size[node]);
        walk(json.left[node]!, depth + 1);
        walk(json.left[node]! + 1, depth + 1);
      };
      walk(root, 0);
      expect(leafTotal).toBe(64);
    }
    // Fewer rows than the sample size: psi falls to the row count, as scikit-learn's max_samples.
    const small = new IsolationForest({ nTrees: 5, seed: 1 }).fit(data.subarray(0, 100 * 4), 100, 4);
    expect(small.effectiveSampleSize).toBe(100);
    expect(small.maxDepth).toBe(7);
  });

  it('scores a planted outlier highest', () => {
    const n = 1000;
    const p = 5;
    const { data } = plantedRows(n, p, 17, 0, 0, 0, 0);
    data.set([12, -12, 12, -12, 12], 123 * p); // about 8 SDs out on every feature
    for (const seed of [1, 2, 3]) {
      const scores = new IsolationForest({ seed }).fit(data, n, p).scoreSamples(data, n);
      let best = 0;
      for (let i = 1; i < n; i++) if (scores[i]! > scores[best]!) best = i;
      expect(best).toBe(123);
      expect(scores[123]).toBeGreaterThan(0.7);
    }
  });

  it('credits the feature that isolates a row, and its credits sum to the isolation achieved', () => {
    const n = 1000;
    const p = 5;
    const { data } = plantedRows(n, p, 17, 0, 0, 0, 0);
    data[400 * p + 3] = 15; // about 11 SDs out on feature 3 only (its SD is 1.33)
    const forest = new IsolationForest({ seed: 3 }).fit(data, n, p);
    const credit = forest.importance(data.subarray(400 * p, 401 * p));
    const others = Array.from(credit).filter((_, j) => j !== 3);
    // An isolation forest sees a one-feature outlier only in the trees that split on that
    // feature near the root, so the credit is the largest but far from all of it (0.38 here;
    // an equal share would be 0.2).
    expect(credit[3]!).toBeGreaterThan(1.5 * Math.max(...others));
    const total = credit.reduce((a, b) => a + b, 0);
    // The credits of one tree sum to log2(psi / size of the leaf reached): check the total independently.
    const json = forest.toJSON();
    let expected = 0;
    for (const root of json.roots) {
      let node = root;
      while (json.feature[node]! >= 0) node = data[400 * p + json.feature[node]!]! <= json.threshold[node]! ? json.left[node]! : json.left[node]! + 1;
      expected += Math.log2(json.psi / json.size[node]!);
    }
    expect(total).toBeCloseTo(expected / json.roots.length, 12);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const { data } = plantedRows(500, 3, 4, 0.05, 3, 1, 1);
    const a = new IsolationForest({ seed: 11 }).fit(data, 500, 3).scoreSamples(data, 500);
    const b = new IsolationForest({ seed: 11 }).fit(data, 500, 3).scoreSamples(data, 500);
    const c = new IsolationForest({ seed: 12 }).fit(data, 500, 3).scoreSamples(data, 500);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('round-trips through JSON with identical scores, and rejects a damaged model', () => {
    const { data } = plantedRows(800, 4, 8, 0.05, 3, 1, 1);
    const forest = new IsolationForest({ nTrees: 30, seed: 3 }).fit(data, 800, 4);
    forest.calibrate(data, 800);
    const json = JSON.parse(JSON.stringify(forest.toJSON())) as IsolationForestJSON;
    const restored = IsolationForest.fromJSON(json);
    expect(Array.from(restored.scoreSamples(data, 800))).toEqual(Array.from(forest.scoreSamples(data, 800)));
    expect(restored.calibration).toEqual(forest.calibration);
    expect(Array.from(restored.importance(data.subarray(0, 4)))).toEqual(Array.from(forest.importance(data.subarray(0, 4))));
    expect(() => IsolationForest.fromJSON({ ...json, left: json.left.map((v) => (v > 0 ? v + 100000 : v)) })).toThrow(/outside/);
    expect(() => IsolationForest.fromJSON({ ...json, format: 'other' } as unknown as IsolationForestJSON)).toThrow(/threatlens.isolation-forest/);
    expect(() => IsolationForest.fromJSON({ ...json, feature: json.feature.map((f) => (f >= 0 ? 7 : f)) })).toThrow(/feature 7/);
  });

  it('rejects bad shapes, missing values and use before fit with clear errors', () => {
    const forest = new IsolationForest();
    expect(() => forest.scoreSamples(new Float64Array(4), 2)).toThrow(/fit\(\) first/);
    expect(() => forest.fit(new Float64Array(5), 2, 3)).toThrow(/5 values, expected 2 x 3/);
    expect(() => forest.fit(Float64Array.of(1, 2, Number.NaN, 4), 2, 2)).toThrow(/row 1, column 0 is NaN; impute/);
    expect(() => new IsolationForest({ sampleSize: 1 })).toThrow(/sampleSize/);
    forest.fit(Float64Array.of(1, 2, 3, 4, 5, 6), 3, 2);
    expect(() => forest.importance([1, 2, 3])).toThrow(/3 values.*fitted on 2/);
  });

  it('reaches scikit-learn\'s ROC-AUC (within 0.02, mean of 10 seeds) on the same planted data', () => {
    const { data, labels } = plantedRows(4000, 8, 21, 0.03, 3, 2, 2);
    expect(labels.reduce((s, v) => s + v, 0)).toBe(117); // the same draw as the reference script
    expect(data[0]).toBeCloseTo(0.7268284376513624, 12);
    const aucs = Array.from({ length: 10 }, (_, s) => rocAuc(new IsolationForest({ nTrees: 100, sampleSize: 256, seed: 100 + s }).fit(data, 4000, 8).scoreSamples(data, 4000), labels));
    const mean = aucs.reduce((a, b) => a + b, 0) / aucs.length;
    expect(Math.abs(mean - SKLEARN_MEAN_AUC)).toBeLessThan(0.02);
    // And the seed-to-seed spread is of the same size as scikit-learn's.
    const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
    expect(spread(aucs)).toBeLessThan(3 * spread(SKLEARN_AUCS) + 0.005);
  });
});
