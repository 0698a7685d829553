/**
 * Variance-based (Sobol) sensitivity analysis: Saltelli's sampling design, the Saltelli (2010)
 * first-order and Jansen (1999) total-effect estimators, bootstrap intervals, and the Sobol
 * low-discrepancy sequence (Joe-Kuo direction numbers) that drives the design.
 *
 * Inputs are uniform coordinates in [0, 1): the caller maps each coordinate to its factor (a
 * continuous range, or one of k categorical alternatives by floor(u * k)).
 */
import { quantileSorted } from 'simple-statistics';
import { createRandom } from './random.ts';

/**
 * Primitive polynomials and initial direction numbers m_1..m_s of the first 40 dimensions of
 * Joe and Kuo's `new-joe-kuo-6.21201` (the table scipy.stats.qmc.Sobol ships). A polynomial is an
 * integer whose bits are its coefficients, leading and constant terms included (7 = x² + x + 1).
 */
const POLY = [1, 3, 7, 11, 13, 19, 25, 37, 41, 47, 55, 59, 61, 67, 91, 97, 103, 109, 115, 131, 137, 143, 145, 157, 167, 171, 185, 191, 193, 203, 211, 213, 229, 239, 241, 247, 253, 285, 299, 301];
const M_INIT = [[1], [1], [1, 3], [1, 3, 1], [1, 1, 1], [1, 1, 3, 3], [1, 3, 5, 13], [1, 1, 5, 5, 17], [1, 1, 5, 5, 5], [1, 1, 7, 11, 19], [1, 1, 5, 1, 1], [1, 1, 1, 3, 11], [1, 3, 5, 5, 31], [1, 3, 3, 9, 7, 49], [1, 1, 1, 15, 21, 21], [1, 3, 1, 13, 27, 49], [1, 1, 1, 15, 7, 5], [1, 3, 1, 15, 13, 25], [1, 1, 5, 5, 19, 61], [1, 3, 7, 11, 23, 15, 103], [1, 3, 7, 13, 13, 15, 69], [1, 1, 3, 13, 7, 35, 63], [1, 3, 5, 9, 1, 25, 53], [1, 3, 1, 13, 9, 35, 107], [1, 3, 1, 5, 27, 61, 31], [1, 1, 5, 11, 19, 41, 61], [1, 3, 5, 3, 3, 13, 69], [1, 1, 7, 13, 1, 19, 1], [1, 3, 7, 5, 13, 19, 59], [1, 1, 3, 9, 25, 29, 41], [1, 3, 5, 13, 23, 1, 55], [1, 3, 7, 3, 13, 59, 17], [1, 3, 1, 3, 5, 53, 69], [1, 1, 5, 5, 23, 33, 13], [1, 1, 7, 7, 1, 61, 123], [1, 1, 7, 9, 13, 61, 49], [1, 3, 3, 5, 3, 55, 33], [1, 3, 1, 15, 31, 13, 49, 245], [1, 3, 5, 15, 31, 59, 63, 97], [1, 3, 1, 11, 11, 11, 77, 249]];

/** Most dimensions `sobolSequence` supports (so at most 20 inputs in a Saltelli design). */
export const SOBOL_MAX_DIMENSIONS = POLY.length;

const BITS = 32;

function directionNumbers(dim: number): Uint32Array {
  const v = new Uint32Array(BITS);
  if (dim === 0) {
    for (let k = 0; k < BITS; k++) v[k] = 2 ** (BITS - 1 - k);
    return v;
  }
  const poly = POLY[dim]!;
  const m = M_INIT[dim]!;
  const s = Math.floor(Math.log2(poly));
  const a = (poly >> 1) & ((1 << (s - 1)) - 1);
  for (let k = 0; k < s; k++) v[k] = (m[k]! * 2 ** (BITS - 1 - k)) >>> 0;
  for (let k = s; k < BITS; k++) {
    let x = (v[k - s]! ^ (v[k - s]! >>> s)) >>> 0;
    for (let l = 1; l < s; l++) if ((a >> (s - 1 - l)) & 1) x = (x ^ v[k - l]!) >>> 0;
    v[k] = x;
  }
  return v;
}

/**
 * The first n points of the d-dimensional Sobol sequence (unscrambled, Gray-code order), the
 * same points as scipy.stats.qmc.Sobol(d, scramble=False).random(n), row-major in a Float64Array
 * of n × d. `skip` drops that many leading points (the first point is all zeros).
 *
 * Why: low-discrepancy points fill [0, 1)^d far more evenly than pseudo-random ones, so Sobol
 * index estimates converge at close to O(1/N) rather than O(1/√N). Use n a power of two.
 * Big-O: O((n + skip) d) time, O(n d) memory.
 * Reference: Joe, S. and Kuo, F. Y. (2008), SIAM J. Sci. Comput. 30, 2635-2654; Bratley & Fox
 * (1988), ACM TOMS 14, 88-100 (Gray-code construction).
 *
 * @example
 * sobolSequence(4, 2, 1); // => Float64Array [0.5, 0.5, 0.75, 0.25, 0.25, 0.75, 0.375, 0.375]
 */
export function sobolSequence(n: number, d: number, skip = 0): Float64Array {
  if (!Number.isInteger(d) || d < 1 || d > SOBOL_MAX_DIMENSIONS) {
    throw new RangeError(`sobolSequence supports 1 to ${SOBOL_MAX_DIMENSIONS} dimensions, got ${d}; use the 'random' sampler for more`);
  }
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(skip) || skip < 0 || n + skip > 2 ** BITS) {
    throw new RangeError(`sobolSequence requires integer n, skip ≥ 0 with n + skip ≤ 2^32, got n = ${n}, skip = ${skip}`);
  }
  const v = Array.from({ length: d }, (_, j) => directionNumbers(j));
  const x = new Uint32Array(d);
  const out = new Float64Array(n * d);
  const scale = 2 ** -BITS;
  for (let i = 0; i < n + skip; i++) {
    if (i >= skip) for (let j = 0; j < d; j++) out[(i - skip) * d + j] = x[j]! * scale;
    // next point: flip the direction number of the lowest zero bit of i
    const c = 31 - Math.clz32(~i & (i + 1));
    for (let j = 0; j < d; j++) x[j] = (x[j]! ^ v[j]![c]!) >>> 0;
  }
  return out;
}

export type SobolSampler = 'sobol' | 'random';

export interface SaltelliOptions {
  /**
   * `sobol` (default): the Sobol sequence in 2d dimensions, first point (all zeros) skipped; A is
   * its first d coordinates, B the last d. Deterministic; d ≤ 20. `random`: mulberry32 seeded
   * with `seed`, any d.
   */
  readonly sampler?: SobolSampler;
  /** Seed of the `random` sampler. Default 1. */
  readonly seed?: number;
}

/**
 * Saltelli's design for d inputs and base sample size N: N(d + 2) points, row-major d coordinates
 * each, in blocks of N rows: A, B, then AB_1 … AB_d, where AB_i is A with column i taken from B.
 *
 * Why: with these N(d + 2) model runs both first-order and total indices of every input can be
 * estimated (Saltelli 2002, 2010). Big-O: O(N d²) time and memory.
 * Reference: Saltelli, A. et al. (2010), Comput. Phys. Commun. 181, 259-270.
 *
 * @example
 * saltelliDesign(2, 4).length; // => 4 * (2 + 2) * 2 = 32
 */
export function saltelliDesign(d: number, N: number, options: SaltelliOptions = {}): Float64Array {
  if (!Number.isInteger(d) || d < 1) throw new RangeError(`saltelliDesign requires at least one input, got d = ${d}`);
  if (!Number.isInteger(N) || N < 2) throw new RangeError(`saltelliDesign requires a base sample N of at least 2, got ${N}`);
  const sampler = options.sampler ?? 'sobol';
  let base: Float64Array;
  if (sampler === 'sobol') {
    if (2 * d > SOBOL_MAX_DIMENSIONS) {
      throw new RangeError(`the sobol sampler supports at most ${SOBOL_MAX_DIMENSIONS / 2} inputs, got ${d}; use sampler 'random'`);
    }
    base = sobolSequence(N, 2 * d, 1);
  } else if (sampler === 'random') {
    const rng = createRandom(options.seed ?? 1);
    base = new Float64Array(N * 2 * d);
    for (let i = 0; i < base.length; i++) base[i] = rng.next();
  } else {
    throw new RangeError(`unknown sampler '${String(sampler)}': use 'sobol' or 'random'`);
  }
  const out = new Float64Array(N * (d + 2) * d);
  for (let r = 0; r < N; r++) {
    for (let j = 0; j < d; j++) {
      const a = base[r * 2 * d + j]!;
      const b = base[r * 2 * d + d + j]!;
      out[r * d + j] = a;
      out[(N + r) * d + j] = b;
      for (let i = 0; i < d; i++) out[((2 + i) * N + r) * d + j] = i === j ? b : a;
    }
  }
  return out;
}

/** Indices of one output. Arrays have one entry per input; NaN when the output does not vary. */
export interface SobolIndices {
  /** S_i = mean(yB (yAB_i - yA)) / Var(y) (Saltelli 2010). */
  readonly firstOrder: Float64Array;
  /** ST_i = mean((yA - yAB_i)²) / (2 Var(y)) (Jansen 1999). */
  readonly total: Float64Array;
  /** Bootstrap percentile interval bounds at `confidence`. */
  readonly firstOrderLow: Float64Array;
  readonly firstOrderHigh: Float64Array;
  readonly totalLow: Float64Array;
  readonly totalHigh: Float64Array;
  /** Mean and variance (population) of the output over the 2N runs of A and B. */
  readonly mean: number;
  readonly variance: number;
}

export interface SobolRunInfo {
  /** Base sample size, number of inputs, model runs (N (d + 2)). */
  readonly N: number;
  readonly d: number;
  readonly runs: number;
  readonly sampler: SobolSampler;
  /** Bootstrap replicates and confidence level of the intervals. */
  readonly bootstrap: number;
  readonly confidence: number;
}

export interface SobolResult extends SobolRunInfo, SobolIndices {}

export interface SobolMultiResult extends SobolRunInfo {
  /** One entry per model output. */
  readonly outputs: readonly SobolIndices[];
}

export interface SobolEstimateOptions {
  /** Bootstrap replicates for the intervals (0: none, bounds NaN). Default 1000. */
  readonly bootstrap?: number;
  /** Confidence level of the intervals. Default 0.95. */
  readonly confidence?: number;
  /** Seed of the bootstrap resampling (and of the `random` sampler). Default 1. */
  readonly seed?: number;
  /** The sampler that produced the design, recorded in the result. Default 'sobol'. */
  readonly sampler?: SobolSampler;
}

export interface SobolOptions extends SaltelliOptions, SobolEstimateOptions {
  /** Base sample size N; model runs are N (d + 2). A power of two suits the Sobol sampler. Default 1024. */
  readonly N?: number;
}

/**
 * Sobol indices from the outputs of a Saltelli design, for m outputs at once.
 * `y` holds N(d + 2) rows of m outputs (row-major), in the design's order (A, B, AB_1 … AB_d).
 *
 * Why: separates running the model (the caller's business: it may be costly or parallel) from
 * estimation. Var(y) is the population variance over the A and B rows together (as SALib).
 * Bootstrap: `bootstrap` resamples of the N base rows with replacement (the same rows for every
 * input and output), the indices recomputed on each; interval = percentiles (1 ± confidence)/2.
 * Big-O: O((bootstrap + 1) N d m).
 * Reference: Saltelli et al. (2010) (first order, their eq. (b) of Table 2); Jansen (1999),
 * Comput. Phys. Commun. 117, 35-43 (total); Archer, Saltelli & Sobol (1997) (bootstrap).
 * Missing values: a NaN output makes that output's indices NaN; drop or impute beforehand.
 *
 * @example
 * const u = saltelliDesign(2, 256);
 * const y = new Float64Array(u.length / 2).map((_, r) => u[2 * r]! + 2 * u[2 * r + 1]!);
 * sobolIndicesFromOutputs(y, 256, 2, 1).outputs[0]!.firstOrder; // ≈ [0.2, 0.8]
 */
export function sobolIndicesFromOutputs(y: ArrayLike<number>, N: number, d: number, m: number, options: SobolEstimateOptions = {}): SobolMultiResult {
  const runs = N * (d + 2);
  if (y.length !== runs * m) throw new RangeError(`sobolIndicesFromOutputs expects N (d + 2) m = ${runs * m} outputs, got ${y.length}`);
  const bootstrap = options.bootstrap ?? 1000;
  const confidence = options.confidence ?? 0.95;
  if (!Number.isInteger(bootstrap) || bootstrap < 0) throw new RangeError(`bootstrap must be a non-negative integer, got ${bootstrap}`);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  const rng = createRandom(options.seed ?? 1);
  const samples = Array.from({ length: bootstrap }, () => {
    const rows = new Uint32Array(N);
    for (let j = 0; j < N; j++) rows[j] = Math.floor(rng.next() * N);
    return rows;
  });
  const identity = Uint32Array.from({ length: N }, (_, j) => j);
  const s1 = new Float64Array(d);
  const st = new Float64Array(d);
  const outputs: SobolIndices[] = [];
  const bootS1 = Array.from({ length: d }, () => new Float64Array(bootstrap));
  const bootST = Array.from({ length: d }, () => new Float64Array(bootstrap));
  // Each output's columns are copied out once, so that the bootstrap loops read contiguous memory.
  const a = new Float64Array(N);
  const b = new Float64Array(N);
  const ab = Array.from({ length: d }, () => new Float64Array(N));
  for (let k = 0; k < m; k++) {
    for (let j = 0; j < N; j++) {
      a[j] = y[j * m + k]!;
      b[j] = y[(N + j) * m + k]!;
      for (let i = 0; i < d; i++) ab[i]![j] = y[((2 + i) * N + j) * m + k]!;
    }
    const point = estimate(a, b, ab, identity, s1, st);
    const firstOrder = s1.slice();
    const total = st.slice();
    for (let r = 0; r < bootstrap; r++) {
      estimate(a, b, ab, samples[r]!, s1, st);
      for (let i = 0; i < d; i++) {
        bootS1[i]![r] = s1[i]!;
        bootST[i]![r] = st[i]!;
      }
    }
    const lo = (1 - confidence) / 2;
    const bounds = (boot: Float64Array[], p: number) => Float64Array.from(boot, (v) => (bootstrap === 0 ? Number.NaN : quantileOf(v, p)));
    outputs.push({
      firstOrder, total,
      firstOrderLow: bounds(bootS1, lo), firstOrderHigh: bounds(bootS1, 1 - lo),
      totalLow: bounds(bootST, lo), totalHigh: bounds(bootST, 1 - lo),
      mean: point.mean, variance: point.variance,
    });
  }
  return { N, d, runs, sampler: options.sampler ?? 'sobol', bootstrap, confidence, outputs };
}

/** One estimate of S_i and ST_i over the given base rows of yA, yB, yAB_i; writes into s1, st. */
function estimate(a: Float64Array, b: Float64Array, ab: readonly Float64Array[], rows: Uint32Array, s1: Float64Array, st: Float64Array) {
  const N = rows.length;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < N; j++) {
    const r = rows[j]!;
    const ya = a[r]!;
    const yb = b[r]!;
    sum += ya + yb;
    if (ya < min) min = ya;
    if (yb < min) min = yb;
    if (ya > max) max = ya;
    if (yb > max) max = yb;
  }
  const mean = sum / (2 * N);
  let sumSq = 0;
  for (let j = 0; j < N; j++) {
    const r = rows[j]!;
    const da = a[r]! - mean;
    const db = b[r]! - mean;
    sumSq += da * da + db * db;
  }
  // A constant output, or one with NaN (every comparison false), has no variance to apportion: indices NaN.
  const variance = min < max ? sumSq / (2 * N) : Number.NaN;
  for (let i = 0; i < ab.length; i++) {
    const abi = ab[i]!;
    let first = 0;
    let tot = 0;
    for (let j = 0; j < N; j++) {
      const r = rows[j]!;
      const ya = a[r]!;
      const diff = abi[r]! - ya;
      first += b[r]! * diff;
      tot += diff * diff;
    }
    s1[i] = first / N / variance;
    st[i] = tot / N / (2 * variance);
  }
  return { mean, variance };
}

/** Type-7 quantile of an unsorted array (sorts a copy; NaN if any value is NaN). */
function quantileOf(values: Float64Array, p: number): number {
  const sorted = values.slice().sort();
  return Number.isNaN(sorted[sorted.length - 1]!) ? Number.NaN : quantileSorted(sorted as unknown as readonly number[], p);
}

/**
 * Sobol indices of a model with several outputs (for instance one per unit). The model receives
 * one point of d uniform coordinates in [0, 1) and returns m outputs; it is called N (d + 2) times.
 *
 * Big-O: N (d + 2) model calls plus O((bootstrap + 1) N d m).
 * Reference: see `saltelliDesign` and `sobolIndicesFromOutputs`.
 *
 * @example
 * const r = sobolSensitivityVector((u) => [u[0]!, u[0]! + u[1]!], 2, 2, { N: 512 });
 * r.outputs[1]!.firstOrder; // ≈ [0.5, 0.5]
 */
export function sobolSensitivityVector(model: (u: Float64Array) => ArrayLike<number>, d: number, m: number, options: SobolOptions = {}): SobolMultiResult {
  const N = options.N ?? 1024;
  const design = saltelliDesign(d, N, options);
  const runs = N * (d + 2);
  const y = new Float64Array(runs * m);
  for (let r = 0; r < runs; r++) {
    const out = model(design.subarray(r * d, (r + 1) * d));
    if (out.length !== m) throw new RangeError(`the model returned ${out.length} outputs at run ${r}, expected ${m}`);
    for (let k = 0; k < m; k++) y[r * m + k] = out[k]!;
  }
  return sobolIndicesFromOutputs(y, N, d, m, options);
}

/**
 * Sobol first-order and total indices of a scalar model of d inputs, each a uniform coordinate
 * in [0, 1) that the model maps to its own range or alternatives.
 *
 * Why: which uncertain choices drive the output, alone (S_i) and with their interactions (ST_i);
 * ST_i ≈ 0 means the input can be fixed. Big-O: N (d + 2) model calls plus O((bootstrap + 1) N d).
 * Reference: Saltelli et al. (2010); Jansen (1999); COINr's get_sensitivity (same estimators).
 *
 * @example
 * // Ishigami: S ≈ [0.314, 0.442, 0], ST ≈ [0.558, 0.442, 0.244]
 * const x = (u: number) => Math.PI * (2 * u - 1);
 * sobolSensitivity((u) => Math.sin(x(u[0]!)) + 7 * Math.sin(x(u[1]!)) ** 2 + 0.1 * x(u[2]!) ** 4 * Math.sin(x(u[0]!)), 3, { N: 4096 });
 */
export function sobolSensitivity(model: (u: Float64Array) => number, d: number, options: SobolOptions = {}): SobolResult {
  const scalar = new Float64Array(1);
  const { outputs, ...info } = sobolSensitivityVector((u) => ((scalar[0] = model(u)), scalar), d, 1, options);
  return { ...info, ...outputs[0]! };
}
