/** Chi-square functions, the MCD against scikit-learn's MinCovDet, distances against scipy, attribution and score. */
import { inverse, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import {
  distanceContributions,
  fitMcd,
  fitMcdFromSupport,
  mahalanobisScore,
  marginalMcd,
  mcdFromJSON,
  mcdToJSON,
  reconstructionContributions,
  robustDistances,
  squaredDistanceOfRow,
  squaredRobustDistances,
} from '../engine/anomaly/mahalanobis.ts';
import { chiSquareCdf, chiSquareQuantile, chiSquareSf } from '../engine/stats/chi-square.ts';
import { contaminatedRows } from './support/multivariate-data.ts';

// Everything below is pasted from test/reference/ref_anomaly_multi_mcd.py (scikit-learn 1.2.1,
// scipy 1.10.1): MinCovDet(support_fraction=..., random_state=0) on contaminatedRows(...).
const CHI2 = [
  { x: 0.5, k: 1, cdf: 0.5204998778130466, sf: 0.47950012218695337 },
  { x: 3.0, k: 2, cdf: 0.7768698398515702, sf: 0.22313016014842982 },
  { x: 11.07, k: 5, cdf: 0.9499903813775946, sf: 0.050009618622405425 },
  { x: 20.0, k: 4, cdf: 0.9995006007726127, sf: 0.0004993992273873336 },
  { x: 60.0, k: 10, cdf: 0.999999996375699, sf: 3.6243009520614924e-9 },
  { x: 150.0, k: 20, cdf: 1.0, sf: 6.285681673933351e-22 },
  { x: 0.001, k: 3, cdf: 8.40791905804616e-6, sf: 0.9999915920809419 },
  { x: 400.0, k: 7, cdf: 1.0, sf: 2.3852710811123476e-82 },
];
const CHI2_PPF = [
  { p: 0.5, k: 1, x: 0.454936423119572 },
  { p: 0.5, k: 4, x: 3.3566939800333224 },
  { p: 0.975, k: 4, x: 11.143286781877796 },
  { p: 0.975, k: 20, x: 34.16960690283833 },
  { p: 0.999, k: 2, x: 13.815510557964274 },
  { p: 0.01, k: 3, x: 0.11483180189911707 },
  { p: 1e-6, k: 5, x: 0.012896160206497087 },
];
const REWEIGHT_FACTOR: Record<number, number> = { 2: 1.1044679239029054, 4: 1.06446585827907, 20: 1.0233078746267004 };

// Data set A: 300 x 4, the first 45 rows a cluster at (5, 5, 5, 5); support_fraction 0.75.
const A = { n: 300, p: 4, seed: 11, nOut: 45, centre: 5 };
const A75 = {
  rawLocation: [-0.03661123858178599, -0.18566741604923032, 0.06575007414273436, 0.14057434910725514],
  rawCovariance: [0.3635048290384425, 0.2554143217849258, -0.47332879182134746, -0.5109707926367207, 0.2554143217849258, 1.659345714317803, -0.7216247344438942, -0.9344070432076166, -0.47332879182134746, -0.7216247344438942, 1.6209693514850332, -0.22592144360448185, -0.5109707926367207, -0.9344070432076166, -0.22592144360448185, 2.146937915559646],
  rawLogDet: -8.32175116599945,
  outsideRawSupport: [...Array.from({ length: 45 }, (_, i) => i), 47, 54, 56, 61, 72, 89, 96, 99, 114, 117, 127, 129, 130, 132, 135, 141, 149, 168, 173, 177, 200, 203, 242, 244, 254, 265, 266, 280, 284, 293],
  location: [-0.018212238712091728, -0.16242961786331309, 0.07492405416328365, 0.06999337938721345],
  covariance: [0.45209207662252066, 0.34579476559273437, -0.6153784249475863, -0.6233930431177034, 0.34579476559273437, 2.147736380270738, -0.9539737601063996, -1.22355028935345, -0.6153784249475863, -0.9539737601063996, 2.0042739941826975, -0.16490168701835076, -0.6233930431177034, -1.22355028935345, -0.16490168701835076, 2.5491021110753422],
  supportCount: 249,
  distRows: [0, 44, 45, 100, 299],
  dist2: [1290343.8044438, 1408467.8122832377, 1.1731546060088363, 4.498243907493636, 1.303577737033729],
  scipyDistance: [1135.9330105441077, 1186.7888659248695, 1.0831226181780331, 2.1209063881967154, 1.141743288587139],
};
const A51 = {
  rawLogDet: -9.924265569112036,
  location: [-0.01210556246831329, -0.15937386368144388, 0.05996031004325483, 0.07074232151070856],
  covariance: [0.47726937038454775, 0.3224546033280962, -0.662199909528588, -0.6142394927892376, 0.3224546033280962, 1.9915106119939545, -0.898278597786141, -1.123064088540467, -0.662199909528588, -0.898278597786141, 2.088714117193409, -0.18727849217774775, -0.6142394927892376, -1.123064088540467, -0.18727849217774775, 2.4830217281092932],
  supportCount: 249,
};
// Data set B: 2000 x 5 (the nested FastMCD path), the first 200 rows a cluster at 6; support_fraction 0.75.
const B = { n: 2000, p: 5, seed: 12, nOut: 200, centre: 6 };
const B75 = {
  rawLogDet: 0.43381982490659016,
  location: [-0.11670693468051616, 0.04173239986626928, -0.060093404814769526, -0.008872407549859457, -0.11139427255805327],
  covariance: [4.200827519034153, -0.2758945293760106, 1.8670922982842253, -0.8934624487287869, 1.953461758405738, -0.2758945293760106, 0.9701584727493141, -0.31837011865800224, 0.24342950020763135, -0.9996143944587312, 1.8670922982842253, -0.31837011865800224, 1.987386858912358, -0.7531903342982765, 0.48857037831054106, -0.8934624487287869, 0.24342950020763135, -0.7531903342982765, 1.4359951734192131, 0.41493122666781707, 1.953461758405738, -0.9996143944587312, 0.48857037831054106, 0.41493122666781707, 3.5317476163180017],
  supportCount: 1772,
  distRows: [0, 200, 1999],
  dist2: [185.13158886892725, 0.3859307416769297, 3.5720755093475476],
};
// Data set C: 101 x 1, the first 10 rows a cluster at 8; support_fraction 0.6 (the exact univariate MCD).
const C = { n: 101, p: 1, seed: 13, nOut: 10, centre: 8 };
const C60 = { rawLocation: -0.06768404599114297, rawCovariance: 0.19336071033198857, location: 0.04277337620822361, covariance: 0.5205317918401652, supportCount: 91, dist2: [134.5167235815352, 0.8069098106014315, 0.889963949235912] };

const rowsOf = (d: { n: number; p: number; seed: number; nOut: number; centre: number }) => contaminatedRows(d.n, d.p, d.seed, d.nOut, d.centre);
const count = (mask: Uint8Array) => mask.reduce((s, v) => s + v, 0);
const expectAllClose = (actual: ArrayLike<number>, expected: readonly number[], digits: number) => {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, k) => expect(actual[k]).toBeCloseTo(e, digits));
};

describe('chi-square', () => {
  it('CDF and survival function agree with scipy.stats.chi2 (relative 1e-12, tails down to 1e-82)', () => {
    for (const c of CHI2) {
      expect(chiSquareCdf(c.x, c.k)).toBeCloseTo(c.cdf, 13);
      expect(Math.abs(chiSquareSf(c.x, c.k) - c.sf)).toBeLessThanOrEqual(1e-12 * c.sf);
    }
  });

  it('quantile agrees with scipy.stats.chi2.ppf (relative 1e-10)', () => {
    for (const c of CHI2_PPF) expect(Math.abs(chiSquareQuantile(c.p, c.k) - c.x)).toBeLessThanOrEqual(1e-10 * c.x);
    expect(chiSquareQuantile(0, 3)).toBe(0);
    expect(chiSquareQuantile(1, 3)).toBe(Number.POSITIVE_INFINITY);
    expect(() => chiSquareQuantile(1.5, 3)).toThrow(/probability/);
    expect(() => chiSquareCdf(1, 0)).toThrow(/degrees of freedom/);
  });
});

describe('MCD: correction and reweighting from a given support', () => {
  it('reproduces MinCovDet exactly from scikit-learn\'s raw support', () => {
    const X = rowsOf(A);
    const outside = new Set(A75.outsideRawSupport);
    const support = Array.from({ length: A.n }, (_, i) => i).filter((i) => !outside.has(i));
    const fit = fitMcdFromSupport(X, A.n, A.p, support, { reweightConsistency: false });
    expectAllClose(fit.raw.location, A75.rawLocation, 12);
    expectAllClose(fit.raw.covariance, A75.rawCovariance, 12);
    expect(fit.raw.logDeterminant).toBeCloseTo(A75.rawLogDet, 10);
    expectAllClose(fit.location, A75.location, 12);
    expectAllClose(fit.covariance, A75.covariance, 12);
    expect(count(fit.support)).toBe(A75.supportCount);
    // Squared distances (MinCovDet.dist_) and scipy.spatial.distance.mahalanobis.
    const d2 = squaredRobustDistances(fit, X, A.n);
    const d = robustDistances(fit, X, A.n);
    A75.distRows.forEach((row, k) => {
      expect(Math.abs(d2[row]! - A75.dist2[k]!)).toBeLessThanOrEqual(1e-9 * A75.dist2[k]!);
      expect(Math.abs(d[row]! - A75.scipyDistance[k]!)).toBeLessThanOrEqual(1e-9 * A75.scipyDistance[k]!);
    });
  });

  it('multiplies the reweighted covariance by the consistency factor 0.975 / F_{chi2, p+2}(q_0.975) by default', () => {
    const X = rowsOf(A);
    const outside = new Set(A75.outsideRawSupport);
    const support = Array.from({ length: A.n }, (_, i) => i).filter((i) => !outside.has(i));
    const plain = fitMcdFromSupport(X, A.n, A.p, support, { reweightConsistency: false });
    const consistent = fitMcdFromSupport(X, A.n, A.p, support);
    expect(consistent.reweightFactor).toBeCloseTo(REWEIGHT_FACTOR[4]!, 12);
    expectAllClose(consistent.covariance, Array.from(plain.covariance, (v) => v * REWEIGHT_FACTOR[4]!), 12);
    expectAllClose(consistent.location, Array.from(plain.location), 14);
    for (const p of [2, 20]) {
      const Y = contaminatedRows(60 + 10 * p, p, 3, 0, 0);
      expect(fitMcd(Y, 60 + 10 * p, p, { nTrials: 20 }).reweightFactor).toBeCloseTo(REWEIGHT_FACTOR[p]!, 12);
    }
  });
});

describe('FastMCD search', () => {
  it('finds an h-subset at least as good as MinCovDet\'s (300 x 4), free of the outlier cluster', () => {
    const X = rowsOf(A);
    for (const [sf, ref] of [[0.75, A75], [0.51, A51]] as const) {
      const fit = fitMcd(X, A.n, A.p, { supportFraction: sf, reweightConsistency: false, seed: 1 });
      expect(fit.h).toBe(Math.floor(sf * A.n));
      expect(count(fit.raw.support)).toBe(fit.h);
      // The determinant is what the MCD minimises: ours is no larger than scikit-learn's.
      expect(fit.raw.logDeterminant).toBeLessThanOrEqual(ref.rawLogDet + 1e-9);
      expect(count(fit.raw.support.subarray(0, A.nOut))).toBe(0);
      expect(count(fit.support.subarray(0, A.nOut))).toBe(0);
      // Another h-subset of (almost) equal determinant: the reweighted estimates agree to sampling
      // noise - location within 0.03, covariance within 0.05 on the correlation scale.
      expect(Math.abs(count(fit.support) - ref.supportCount)).toBeLessThanOrEqual(3);
      fit.location.forEach((v, j) => expect(Math.abs(v - ref.location[j]!)).toBeLessThan(0.03));
      for (let j = 0; j < A.p; j++) {
        for (let k = 0; k < A.p; k++) {
          const scale = Math.sqrt(ref.covariance[j * A.p + j]! * ref.covariance[k * A.p + k]!);
          expect(Math.abs(fit.covariance[j * A.p + k]! - ref.covariance[j * A.p + k]!) / scale).toBeLessThan(0.05);
        }
      }
    }
  });

  it('matches MinCovDet on 2,000 x 5 through the nested subsets', () => {
    const X = rowsOf(B);
    const fit = fitMcd(X, B.n, B.p, { supportFraction: 0.75, reweightConsistency: false, seed: 2 });
    expect(fit.raw.logDeterminant).toBeLessThanOrEqual(B75.rawLogDet + 1e-4);
    expect(count(fit.raw.support.subarray(0, B.nOut))).toBe(0);
    expect(Math.abs(count(fit.support) - B75.supportCount)).toBeLessThanOrEqual(3);
    fit.location.forEach((v, j) => expect(Math.abs(v - B75.location[j]!)).toBeLessThan(0.01));
    fit.covariance.forEach((v, k) => expect(Math.abs(v - B75.covariance[k]!)).toBeLessThan(0.02 * Math.abs(B75.covariance[k]!) + 0.01));
    const d2 = squaredRobustDistances(fit, X, B.n);
    B75.distRows.forEach((row, k) => expect(d2[row]!).toBeCloseTo(B75.dist2[k]!, B75.dist2[k]! > 100 ? 0 : 2));
  });

  it('is exact in one dimension (the shortest half), as MinCovDet', () => {
    const X = rowsOf(C);
    const fit = fitMcd(X, C.n, 1, { supportFraction: 0.6, reweightConsistency: false });
    expect(fit.raw.location[0]).toBeCloseTo(C60.rawLocation, 13);
    expect(fit.raw.covariance[0]).toBeCloseTo(C60.rawCovariance, 13);
    expect(fit.location[0]).toBeCloseTo(C60.location, 13);
    expect(fit.covariance[0]).toBeCloseTo(C60.covariance, 13);
    expect(count(fit.support)).toBe(C60.supportCount);
    const d2 = squaredRobustDistances(fit, X, C.n);
    [0, 10, 100].forEach((row, k) => expect(d2[row]).toBeCloseTo(C60.dist2[k]!, 9));
  });

  it('is deterministic for a seed; reports an exact fit, which a ridge prevents', () => {
    const X = rowsOf(A);
    const a = fitMcd(X, A.n, A.p, { seed: 4, nTrials: 50 });
    const b = fitMcd(X, A.n, A.p, { seed: 4, nTrials: 50 });
    expect(Array.from(a.covariance)).toEqual(Array.from(b.covariance));
    expect(a.h).toBe(Math.floor((A.n + A.p + 1) / 2));
    // Column 2 is 0 in 200 of 300 rows (more than h): the MCD is singular.
    const Y = X.slice();
    for (let i = 0; i < 200; i++) Y[i * A.p + 2] = 0;
    const singular = fitMcd(Y, A.n, A.p, { nTrials: 30 });
    expect(singular.exactFit).toBe(true);
    expect(singular.raw.logDeterminant).toBe(Number.NEGATIVE_INFINITY);
    const ridged = fitMcd(Y, A.n, A.p, { nTrials: 30, ridge: 0.01 });
    expect(ridged.exactFit).toBe(false);
    expect(ridged.covariance[2 * A.p + 2]).toBeGreaterThanOrEqual(0.01);
    expect(Math.max(...squaredRobustDistances(ridged, Y, A.n).subarray(A.nOut))).toBeLessThan(1e4);
  });

  it('rejects too few rows, bad support fractions and missing values', () => {
    expect(() => fitMcd(new Float64Array(12), 3, 4)).toThrow(/more rows than columns/);
    expect(() => fitMcd(rowsOf(A), A.n, A.p, { supportFraction: 0.01 })).toThrow(/support of 3 rows/);
    const X = rowsOf(A);
    X[7] = Number.NaN;
    expect(() => fitMcd(X, A.n, A.p)).toThrow(/row 1, column 3 is NaN/);
  });
});

describe('attribution and score', () => {
  it('splits d^2 additively, and the reconstruction-based contributions are squared conditional z-scores', () => {
    const X = rowsOf(B);
    const fit = fitMcd(X, B.n, B.p, { seed: 1, nTrials: 100 });
    const d2 = squaredRobustDistances(fit, X, B.n);
    const P = Matrix.from1DArray(B.p, B.p, fit.precision);
    const S = Matrix.from1DArray(B.p, B.p, fit.covariance);
    for (const row of [0, 200, 1000, 1999]) {
      const x = X.subarray(row * B.p, (row + 1) * B.p);
      const additive = distanceContributions(fit, x);
      expect(Math.abs(additive.reduce((s, v) => s + v, 0) - d2[row]!)).toBeLessThanOrEqual(1e-10 * d2[row]!);
      const rbc = reconstructionContributions(fit, x);
      for (let i = 0; i < B.p; i++) {
        // Independently: the conditional mean and variance of x_i given the others (Schur complement).
        const others = Array.from({ length: B.p }, (_, j) => j).filter((j) => j !== i);
        const Soo = new Matrix(others.map((a) => others.map((b) => S.get(a, b))));
        const Sio = new Matrix([others.map((b) => S.get(i, b))]);
        const xo = new Matrix(others.map((j) => [x[j]! - fit.location[j]!]));
        const conditionalMean = fit.location[i]! + Sio.mmul(inverse(Soo)).mmul(xo).get(0, 0);
        const conditionalVariance = S.get(i, i) - Sio.mmul(inverse(Soo)).mmul(Sio.transpose()).get(0, 0);
        expect(conditionalVariance).toBeCloseTo(1 / P.get(i, i), 10);
        const z2 = (x[i]! - conditionalMean) ** 2 / conditionalVariance;
        expect(Math.abs(rbc[i]! - z2)).toBeLessThanOrEqual(1e-8 * Math.max(1, z2));
      }
    }
    // Ordinary rows moved 5 robust SDs along one indicator: that indicator carries most of the
    // positive part of the split, and is the top one in (almost) every row.
    for (let j = 0; j < B.p; j++) {
      let top = 0;
      let shareSum = 0;
      for (let r = 200; r < 455; r++) {
        const row = X.slice(r * B.p, (r + 1) * B.p);
        row[j] = row[j]! + 5 * Math.sqrt(fit.covariance[j * B.p + j]!);
        const positive = distanceContributions(fit, row).map((v) => Math.max(0, v));
        const total = positive.reduce((s, v) => s + v, 0);
        shareSum += positive[j]! / total;
        if (positive.every((v) => v <= positive[j]!)) top++;
      }
      expect(shareSum / 255).toBeGreaterThan(0.75);
      expect(top).toBeGreaterThanOrEqual(250);
    }
  });

  it('scores a row with missing cells on the marginal of what it has', () => {
    const X = rowsOf(A);
    const fit = fitMcd(X, A.n, A.p, { seed: 1, nTrials: 100 });
    const marginal = marginalMcd(fit, [0, 2, 3]);
    const row = X.subarray(100 * A.p, 101 * A.p);
    const parts = distanceContributions(marginal, row);
    expect(parts.length).toBe(3);
    expect(reconstructionContributions(marginal, row).length).toBe(3);
    expect(squaredDistanceOfRow(marginal, row)).toBeCloseTo(parts.reduce((s, v) => s + v, 0), 10);
    // Independently: x_o' (S_oo)^-1 x_o with ml-matrix's inverse.
    const cols = [0, 2, 3];
    const S = new Matrix(cols.map((a) => cols.map((b) => fit.covariance[a * A.p + b]!)));
    const x = new Matrix([cols.map((c) => row[c]! - fit.location[c]!)]);
    const expected = x.mmul(inverse(S)).mmul(x.transpose()).get(0, 0);
    expect(parts.reduce((s, v) => s + v, 0)).toBeCloseTo(expected, 10);
  });

  it('maps the chi-square 0.975 quantile to 0.5, is monotone, 0 below the median and 1 far out', () => {
    for (const k of [1, 4, 20]) {
      expect(mahalanobisScore(chiSquareQuantile(0.975, k), k)).toBeCloseTo(0.5, 10);
      expect(mahalanobisScore(chiSquareQuantile(0.4, k), k)).toBe(0);
      expect(mahalanobisScore(1e4, k)).toBe(1);
      let previous = 0;
      for (let q = 0.5; q < 1 - 1e-12; q = 1 - (1 - q) / 3) {
        const s = mahalanobisScore(chiSquareQuantile(q, k), k);
        expect(s).toBeGreaterThanOrEqual(previous);
        previous = s;
      }
    }
    // Tail 1e-3 is about 0.82, 1e-4 about 0.92 (high), whatever the degrees of freedom.
    expect(mahalanobisScore(chiSquareQuantile(1 - 1e-3, 6), 6)).toBeCloseTo(1 - Math.pow(2, -((3.090232306167813 / 1.959963984540054) ** 2)), 6);
    expect(mahalanobisScore(chiSquareQuantile(1 - 1e-4, 6), 6)).toBeGreaterThan(0.9);
  });

  it('round-trips through JSON', () => {
    const X = rowsOf(A);
    const fit = fitMcd(X, A.n, A.p, { seed: 1, nTrials: 50 });
    const restored = mcdFromJSON(JSON.parse(JSON.stringify(mcdToJSON(fit))));
    expect(Array.from(squaredRobustDistances(restored, X, A.n))).toEqual(Array.from(squaredRobustDistances(fit, X, A.n)));
    expect(() => mcdFromJSON({ ...mcdToJSON(fit), covariance: [1, 0, 0, 1] })).toThrow(/do not match 4 columns/);
  });
});
