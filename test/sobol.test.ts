/** Sobol sequence against scipy; Sobol indices against analytic values (Ishigami, linear models). */
import { describe, expect, it } from 'vitest';
import { saltelliDesign, sobolIndicesFromOutputs, sobolSensitivity, sobolSensitivityVector, sobolSequence } from '../engine/stats/sobol.ts';

const x = (u: number) => Math.PI * (2 * u - 1); // U(0, 1) -> U(-pi, pi)
const ishigami = (u: Float64Array) => Math.sin(x(u[0]!)) + 7 * Math.sin(x(u[1]!)) ** 2 + 0.1 * x(u[2]!) ** 4 * Math.sin(x(u[0]!));
// Analytic indices of Ishigami with a = 7, b = 0.1 (Ishigami & Homma 1990; METHODS.md):
const S = [0.3139, 0.4424, 0];
const ST = [0.5576, 0.4424, 0.2437];

describe('sobolSequence', () => {
  it('is the unscrambled Joe-Kuo sequence of scipy.stats.qmc.Sobol', () => {
    // scipy 1.10.1: qmc.Sobol(6, scramble=False).random(8); a full comparison of 4096 points in
    // 40 dimensions gave a maximum difference of 0.0 (run once).
    const p = sobolSequence(8, 6);
    expect(Array.from(p.subarray(0, 6))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(p.subarray(24, 30))).toEqual([0.375, 0.375, 0.625, 0.875, 0.375, 0.125]);
    expect(Array.from(p.subarray(42, 48))).toEqual([0.125, 0.625, 0.375, 0.125, 0.125, 0.375]);
    const q = sobolSequence(4096, 40);
    expect(Array.from(q.subarray(1000 * 40 + 35, 1000 * 40 + 40))).toEqual([0.7705078125, 0.8486328125, 0.8310546875, 0.3076171875, 0.4794921875]);
    expect(Array.from(q.subarray(4095 * 40, 4095 * 40 + 5))).toEqual([0.000244140625, 0.941162109375, 0.334228515625, 0.901611328125, 0.940185546875]);
    expect(Array.from(sobolSequence(2, 2, 1))).toEqual([0.5, 0.5, 0.75, 0.25]);
    expect(() => sobolSequence(4, 41)).toThrow(/1 to 40 dimensions.*random/);
  });
});

describe('saltelliDesign', () => {
  it('lays out A, B and AB_i (A with column i from B)', () => {
    const N = 4, d = 3;
    const u = saltelliDesign(d, N);
    expect(u.length).toBe(N * (d + 2) * d);
    const row = (block: number, r: number) => Array.from(u.subarray((block * N + r) * d, (block * N + r + 1) * d));
    for (let r = 0; r < N; r++) {
      const a = row(0, r), b = row(1, r);
      for (let i = 0; i < d; i++) expect(row(2 + i, r)).toEqual(a.map((v, j) => (j === i ? b[j] : v)));
    }
    expect(() => saltelliDesign(21, 8)).toThrow(/at most 20 inputs/);
    expect(saltelliDesign(21, 8, { sampler: 'random', seed: 3 }).length).toBe(8 * 23 * 21);
  });
});

describe('sobolSensitivity', () => {
  it('recovers the Ishigami indices within 0.01 (Sobol sampler, N = 4096)', () => {
    const r = sobolSensitivity(ishigami, 3, { N: 4096, bootstrap: 500, seed: 11 });
    expect(r.runs).toBe(4096 * 5);
    expect([r.N, r.d, r.sampler, r.bootstrap, r.confidence]).toEqual([4096, 3, 'sobol', 500, 0.95]);
    for (let i = 0; i < 3; i++) {
      expect(Math.abs(r.firstOrder[i]! - S[i]!)).toBeLessThan(0.01);
      expect(Math.abs(r.total[i]! - ST[i]!)).toBeLessThan(0.01);
      // the bootstrap intervals cover the analytic values
      expect(r.firstOrderLow[i]!).toBeLessThan(S[i]!);
      expect(r.firstOrderHigh[i]!).toBeGreaterThan(S[i]!);
      expect(r.totalLow[i]!).toBeLessThan(ST[i]!);
      expect(r.totalHigh[i]!).toBeGreaterThan(ST[i]!);
    }
    // The same estimators in numpy on scipy's unscrambled Sobol design (points 1..4096 of qmc.Sobol(6, scramble=False); A = first 3 columns, B = last 3; var over A and B; run once):
    const numpyS = [0.31434217897108313, 0.4430167822223784, -6.587456715183452e-5];
    const numpyST = [0.5575120690571569, 0.4427018619341923, 0.24331069398928803];
    for (let i = 0; i < 3; i++) {
      expect(r.firstOrder[i]!).toBeCloseTo(numpyS[i]!, 10);
      expect(r.total[i]!).toBeCloseTo(numpyST[i]!, 10);
    }
    // Var(Ishigami) = a^2/8 + b pi^4/5 + b^2 pi^8/18 + 1/2 = 13.8446
    expect(r.variance).toBeCloseTo(13.8446, 1);
  });

  it('recovers the Ishigami indices within 0.04 with the seeded PRNG (N = 8192), reproducibly', () => {
    const r = sobolSensitivity(ishigami, 3, { N: 8192, sampler: 'random', seed: 1, bootstrap: 0 });
    expect(r.sampler).toBe('random');
    for (let i = 0; i < 3; i++) {
      expect(Math.abs(r.firstOrder[i]! - S[i]!)).toBeLessThan(0.04);
      expect(Math.abs(r.total[i]! - ST[i]!)).toBeLessThan(0.04);
    }
    expect(r.firstOrderLow[0]).toBeNaN();
    const again = sobolSensitivity(ishigami, 3, { N: 8192, sampler: 'random', seed: 1, bootstrap: 0 });
    expect(Array.from(again.total)).toEqual(Array.from(r.total));
  });

  it('gives c_i^2 Var(x_i) / Var(y) for a linear model, first order = total', () => {
    // y = 1 x1 + 2 x2 + 3 x3 + 0 x4, x_i ~ U(0, 1): S_i = c_i^2 / 14.
    const r = sobolSensitivity((u) => u[0]! + 2 * u[1]! + 3 * u[2]!, 4, { N: 2048, bootstrap: 200 });
    const expected = [1 / 14, 4 / 14, 9 / 14, 0];
    for (let i = 0; i < 4; i++) {
      expect(Math.abs(r.firstOrder[i]! - expected[i]!)).toBeLessThan(0.01);
      expect(Math.abs(r.total[i]! - expected[i]!)).toBeLessThan(0.01);
    }
    expect(r.total[3]).toBe(0); // an input the model ignores: yA = yAB_4 exactly
    // Unequal ranges: y = x1 + x2, x1 ~ U(0, 1), x2 ~ U(0, 3): S = 1/10, 9/10.
    const s = sobolSensitivity((u) => u[0]! + 3 * u[1]!, 2, { N: 2048, bootstrap: 0 });
    expect(s.firstOrder[0]!).toBeCloseTo(0.1, 2);
    expect(s.firstOrder[1]!).toBeCloseTo(0.9, 2);
  });

  it('handles several outputs, a constant output (NaN indices) and checks sizes', () => {
    const r = sobolSensitivityVector((u) => [u[0]!, 5, u[0]! + u[1]!], 2, 3, { N: 1024, bootstrap: 100 });
    expect(r.outputs).toHaveLength(3);
    expect(r.outputs[0]!.firstOrder[0]!).toBeCloseTo(1, 2);
    expect(r.outputs[0]!.total[1]).toBe(0);
    expect(r.outputs[1]!.firstOrder[0]).toBeNaN();
    expect(r.outputs[2]!.firstOrder[0]!).toBeCloseTo(0.5, 1);
    expect(() => sobolIndicesFromOutputs(new Float64Array(10), 4, 2, 1)).toThrow(/N \(d \+ 2\) m = 16/);
    expect(() => sobolSensitivityVector(() => [1], 2, 2, { N: 8 })).toThrow(/returned 1 outputs/);
  });
});
