/**
 * Uncertainty and sensitivity analysis of a ranking, generic over the model that scores it
 * (after COINr's get_sensitivity). The model maps a set of methodological `Choices` to one score
 * per unit (higher = more risk); this module knows nothing of frameworks or pipelines.
 *
 * - `monteCarloUncertainty`: sample the choices, score, rank; per unit the nominal score and
 *   rank, mean, median, 5th and 95th percentiles of score and rank, and the mean absolute rank
 *   shift from the nominal rank.
 * - `rankSensitivity`: Sobol first-order and total indices (Saltelli design) of each unit's rank,
 *   of each unit's score, and of the mean absolute rank shift, with respect to each uncertain input.
 */
import { quantileSorted } from 'simple-statistics';
import { createRandom, type Random } from '../stats/random.ts';
import { saltelliDesign, sobolIndicesFromOutputs, type SobolIndices, type SobolOptions, type SobolRunInfo } from '../stats/sobol.ts';

/** One of several alternatives (normalisation, aggregation, imputation method…), each equally likely. */
export interface CategoricalInput {
  readonly kind: 'categorical';
  readonly name: string;
  readonly alternatives: readonly string[];
  /** The alternative of the nominal (published) run. Default: the first. */
  readonly nominal?: string;
}

/** A set of weights, each perturbed independently: w → w (1 + U(-noise, +noise)) (COINr's `noise`). */
export interface WeightNoiseInput {
  readonly kind: 'weights';
  readonly name: string;
  /** Nominal weights by key (for instance by child of a framework node); finite and ≥ 0. */
  readonly weights: Readonly<Record<string, number>>;
  /** Relative noise in [0, 1]; COINr's default is 0.25 in its examples. */
  readonly noise: number;
}

export type UncertainInput = CategoricalInput | WeightNoiseInput;
export type UncertaintySpace = readonly UncertainInput[];

/** What the model receives: the chosen alternative of each categorical input and the weights of each weight input, by input name. */
export interface Choices {
  readonly categorical: Readonly<Record<string, string>>;
  readonly weights: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** A model: choices → one score per unit, same units in the same order on every call; NaN = no score. */
export type ScoreModel = (choices: Choices) => ArrayLike<number>;

function checkSpace(space: UncertaintySpace): void {
  const names = new Set<string>();
  for (const input of space) {
    if (names.has(input.name)) throw new RangeError(`uncertain input '${input.name}' is declared twice`);
    names.add(input.name);
    if (input.kind === 'categorical') {
      if (input.alternatives.length === 0) throw new RangeError(`categorical input '${input.name}' has no alternatives`);
      if (new Set(input.alternatives).size !== input.alternatives.length) throw new RangeError(`categorical input '${input.name}' lists an alternative twice`);
      if (input.nominal !== undefined && !input.alternatives.includes(input.nominal)) {
        throw new RangeError(`categorical input '${input.name}': nominal '${input.nominal}' is not one of its alternatives (${input.alternatives.join(', ')})`);
      }
    } else if (input.kind === 'weights') {
      if (!(input.noise >= 0 && input.noise <= 1)) throw new RangeError(`weight input '${input.name}': noise must be in [0, 1], got ${input.noise}`);
      for (const [key, w] of Object.entries(input.weights)) {
        if (!(Number.isFinite(w) && w >= 0)) throw new RangeError(`weight input '${input.name}': weight '${key}' must be finite and ≥ 0, got ${w}`);
      }
    } else {
      throw new RangeError(`unknown uncertain input kind '${(input as { kind: string }).kind}': use 'categorical' or 'weights'`);
    }
  }
}

/** The nominal choices: each categorical input's `nominal` (or first) alternative, the weights as given. */
export function nominalChoices(space: UncertaintySpace): Choices {
  checkSpace(space);
  const categorical: Record<string, string> = {};
  const weights: Record<string, Readonly<Record<string, number>>> = {};
  for (const input of space) {
    if (input.kind === 'categorical') categorical[input.name] = input.nominal ?? input.alternatives[0]!;
    else weights[input.name] = { ...input.weights };
  }
  return { categorical, weights };
}

/**
 * Map one point of [0, 1)^d (d = space.length, one coordinate per input in declared order) to
 * choices: a categorical input takes alternative floor(u k); a weight input is a group whose
 * coordinate seeds mulberry32 (seed floor(u 2^32) mixed with the input's position), which then
 * draws the noise of each weight in key order. So each weight set is one factor of the Sobol
 * analysis (a group index), however many weights it has.
 *
 * Big-O: O(d + total number of weights).
 */
export function choicesFromUnit(space: UncertaintySpace, u: ArrayLike<number>): Choices {
  if (u.length !== space.length) throw new RangeError(`choicesFromUnit expects ${space.length} coordinates, got ${u.length}`);
  const categorical: Record<string, string> = {};
  const weights: Record<string, Readonly<Record<string, number>>> = {};
  space.forEach((input, i) => {
    const ui = u[i]!;
    if (!(ui >= 0 && ui < 1)) throw new RangeError(`coordinate ${i} ('${input.name}') must be in [0, 1), got ${ui}`);
    if (input.kind === 'categorical') {
      categorical[input.name] = input.alternatives[Math.min(Math.floor(ui * input.alternatives.length), input.alternatives.length - 1)]!;
    } else {
      const rng = createRandom((Math.floor(ui * 4294967296) ^ Math.imul(i + 1, 0x9e3779b9)) >>> 0);
      weights[input.name] = noisyWeights(input, rng);
    }
  });
  return { categorical, weights };
}

function noisyWeights(input: WeightNoiseInput, rng: Random): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, w] of Object.entries(input.weights)) out[key] = w * (1 + input.noise * (2 * rng.next() - 1));
  return out;
}

/**
 * Draw one set of choices: for each input in declared order, a categorical input takes
 * alternative floor(next() k) (uniform), a weight input one next() per weight in key order,
 * w (1 + noise (2 next() - 1)). The order is fixed, so a seed reproduces the draws.
 */
export function sampleChoices(space: UncertaintySpace, rng: Random): Choices {
  const categorical: Record<string, string> = {};
  const weights: Record<string, Readonly<Record<string, number>>> = {};
  for (const input of space) {
    if (input.kind === 'categorical') categorical[input.name] = input.alternatives[Math.floor(rng.next() * input.alternatives.length)]!;
    else weights[input.name] = noisyWeights(input, rng);
  }
  return { categorical, weights };
}

/**
 * Ranks of scores, rank 1 = highest score; ties share the smallest rank (R's ties.method = "min",
 * 1, 2, 2, 4); NaN scores get NaN ranks and the others are ranked among themselves.
 *
 * Big-O: O(n log n). `out` and `order` may be passed to avoid allocation in a loop.
 *
 * @example
 * rankScores([0.2, 0.9, 0.2, Number.NaN]); // => Float64Array [2, 1, 2, NaN]
 */
export function rankScores(scores: ArrayLike<number>, out = new Float64Array(scores.length), order = new Uint32Array(scores.length)): Float64Array {
  const n = scores.length;
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => {
    const sa = scores[a]!;
    const sb = scores[b]!;
    if (Number.isNaN(sa)) return Number.isNaN(sb) ? 0 : 1;
    if (Number.isNaN(sb)) return -1;
    return sb - sa;
  });
  let rank = 0;
  for (let p = 0; p < n; p++) {
    const i = order[p]!;
    const s = scores[i]!;
    if (Number.isNaN(s)) out[i] = Number.NaN;
    else {
      if (p === 0 || s !== scores[order[p - 1]!]) rank = p + 1;
      out[i] = rank;
    }
  }
  return out;
}

export interface UncertaintyOptions {
  /** Monte Carlo runs. Default 1000. */
  readonly runs?: number;
  /** Seed of the sampling (mulberry32). Default 1. */
  readonly seed?: number;
  /** Keep the score and rank of every run (`samples`, runs × units, row-major). Default false. */
  readonly keepSamples?: boolean;
}

/** Per-unit summaries; each Float64Array has one entry per unit, in the model's unit order. */
export interface UncertaintyResult {
  readonly runs: number;
  readonly units: number;
  readonly seed: number;
  readonly nominalScore: Float64Array;
  readonly nominalRank: Float64Array;
  readonly scoreMean: Float64Array;
  readonly scoreMedian: Float64Array;
  readonly scoreP05: Float64Array;
  readonly scoreP95: Float64Array;
  readonly rankMean: Float64Array;
  readonly rankMedian: Float64Array;
  readonly rankP05: Float64Array;
  readonly rankP95: Float64Array;
  /** Mean over runs of |rank - nominal rank|. */
  readonly meanAbsRankShift: Float64Array;
  /** Runs in which the unit had a score (the summaries are over these). */
  readonly scored: Uint32Array;
  /** Mean of `meanAbsRankShift` over units with a nominal rank: one number for the whole ranking. */
  readonly overallMeanAbsRankShift: number;
  readonly samples?: { readonly scores: Float64Array; readonly ranks: Float64Array };
}

/**
 * Monte Carlo uncertainty analysis of a ranking.
 *
 * What: run the model once with the nominal choices, then `runs` times with choices drawn by
 * `sampleChoices` from a seeded generator; rank each run (rank 1 = highest score); summarise per
 * unit. Percentiles are type 7 (R's default, numpy's linear). Why: shows how far each unit's
 * score and rank depend on defensible methodological alternatives and on the weights (OECD/JRC
 * Handbook, step 7; COINr's get_sensitivity with SA_type = "UA").
 * Missing values: a NaN score makes the unit unranked in that run; its summaries are over the
 * runs in which it was scored (`scored`), NaN if none. The model must return the same number of
 * units every time (throws otherwise).
 * Big-O: runs model calls plus O(runs n log n) for n units; memory O(runs n).
 * Reference: Saisana, Saltelli & Tarantola (2005), J. R. Stat. Soc. A 168, 307-323; COINr.
 *
 * @example
 * const r = monteCarloUncertainty((c) => c.categorical.norm === 'a' ? [3, 2, 1] : [1, 2, 3],
 *   [{ kind: 'categorical', name: 'norm', alternatives: ['a', 'b'] }], { runs: 1000, seed: 7 });
 * r.nominalRank; // => Float64Array [1, 2, 3]
 */
export function monteCarloUncertainty(model: ScoreModel, space: UncertaintySpace, options: UncertaintyOptions = {}): UncertaintyResult {
  const runs = options.runs ?? 1000;
  const seed = options.seed ?? 1;
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`monteCarloUncertainty runs must be a positive integer, got ${runs}`);
  const nominal = Float64Array.from(model(nominalChoices(space)));
  const n = nominal.length;
  const nominalRank = rankScores(nominal);
  const scores = new Float64Array(runs * n);
  const ranks = new Float64Array(runs * n);
  const order = new Uint32Array(n);
  const rng = createRandom(seed);
  for (let r = 0; r < runs; r++) {
    const s = model(sampleChoices(space, rng));
    if (s.length !== n) throw new RangeError(`the model returned ${s.length} scores at run ${r + 1}, ${n} in the nominal run`);
    const row = scores.subarray(r * n, (r + 1) * n);
    for (let i = 0; i < n; i++) row[i] = s[i]!;
    rankScores(row, ranks.subarray(r * n, (r + 1) * n), order);
  }

  const make = () => new Float64Array(n);
  const scoreMean = make(), scoreMedian = make(), scoreP05 = make(), scoreP95 = make();
  const rankMean = make(), rankMedian = make(), rankP05 = make(), rankP95 = make();
  const meanAbsRankShift = make();
  const scored = new Uint32Array(n);
  const col = new Float64Array(runs);
  const rankCol = new Float64Array(runs);
  for (let i = 0; i < n; i++) {
    let k = 0;
    let sumS = 0, sumR = 0, shift = 0;
    for (let r = 0; r < runs; r++) {
      const s = scores[r * n + i]!;
      if (Number.isNaN(s)) continue;
      const rk = ranks[r * n + i]!;
      col[k] = s;
      rankCol[k] = rk;
      sumS += s;
      sumR += rk;
      shift += Math.abs(rk - nominalRank[i]!);
      k++;
    }
    scored[i] = k;
    const sc = summarise(col.subarray(0, k));
    const rc = summarise(rankCol.subarray(0, k));
    scoreMean[i] = k ? sumS / k : Number.NaN;
    rankMean[i] = k ? sumR / k : Number.NaN;
    meanAbsRankShift[i] = k ? shift / k : Number.NaN; // NaN also when the nominal rank is NaN
    [scoreP05[i], scoreMedian[i], scoreP95[i]] = sc;
    [rankP05[i], rankMedian[i], rankP95[i]] = rc;
  }
  let total = 0;
  let count = 0;
  for (let i = 0; i < n; i++) if (!Number.isNaN(meanAbsRankShift[i]!)) (total += meanAbsRankShift[i]!), count++;
  return {
    runs, units: n, seed, nominalScore: nominal, nominalRank,
    scoreMean, scoreMedian, scoreP05, scoreP95, rankMean, rankMedian, rankP05, rankP95,
    meanAbsRankShift, scored, overallMeanAbsRankShift: count ? total / count : Number.NaN,
    ...(options.keepSamples ? { samples: { scores, ranks } } : {}),
  };
}

/** 5th, 50th and 95th percentiles (type 7); sorts `values` in place. */
function summarise(values: Float64Array): [number, number, number] {
  if (values.length === 0) return [Number.NaN, Number.NaN, Number.NaN];
  const sorted = values.sort() as unknown as readonly number[];
  return [quantileSorted(sorted, 0.05), quantileSorted(sorted, 0.5), quantileSorted(sorted, 0.95)];
}

/** The uncertainty summary as one plain row per unit, for the API or a CSV. */
export function uncertaintyRows(result: UncertaintyResult, unitIds: readonly string[]) {
  if (unitIds.length !== result.units) throw new RangeError(`uncertaintyRows expects ${result.units} unit ids, got ${unitIds.length}`);
  return unitIds.map((unit, i) => ({
    unit,
    nominalScore: result.nominalScore[i]!, nominalRank: result.nominalRank[i]!,
    scoreMean: result.scoreMean[i]!, scoreMedian: result.scoreMedian[i]!, scoreP05: result.scoreP05[i]!, scoreP95: result.scoreP95[i]!,
    rankMean: result.rankMean[i]!, rankMedian: result.rankMedian[i]!, rankP05: result.rankP05[i]!, rankP95: result.rankP95[i]!,
    meanAbsRankShift: result.meanAbsRankShift[i]!, scored: result.scored[i]!,
  }));
}

export interface RankSensitivityResult extends SobolRunInfo {
  /** Input names, in the order of the index arrays. */
  readonly inputs: readonly string[];
  /** Ranks of the nominal run. */
  readonly nominalRank: Float64Array;
  /** Sobol indices of each unit's rank (NaN where the rank never changes). */
  readonly rank: readonly SobolIndices[];
  /** Sobol indices of each unit's score. */
  readonly score: readonly SobolIndices[];
  /** Sobol indices of the mean absolute rank shift over units (COINr's usual scalar target). */
  readonly meanAbsRankShift: SobolIndices;
}

/**
 * Sobol sensitivity of a ranking to each uncertain input.
 *
 * What: a Saltelli design of N (d + 2) points over the d inputs (`saltelliDesign`), each mapped
 * to choices by `choicesFromUnit` (categorical: floor(u k); a weight set: one group factor); the
 * model scored and ranked at every point; first-order and total indices with bootstrap intervals
 * (`sobolIndicesFromOutputs`) for every unit's rank, every unit's score, and the mean absolute
 * rank shift from the nominal ranking. Why: tells which choice the ranking depends on most, and
 * whether a choice can be fixed (ST ≈ 0). Missing values: a unit with a NaN score or rank in any
 * run gets NaN indices; the rank shift averages over the units ranked in both runs.
 * Big-O: N (d + 2) model calls plus O((bootstrap + 1) N d n).
 * Reference: Saltelli et al. (2010); Jansen (1999); COINr get_sensitivity (SA_type = "SA").
 *
 * @example
 * rankSensitivity(model, space, { N: 512 }).meanAbsRankShift.total; // one ST per input
 */
export function rankSensitivity(model: ScoreModel, space: UncertaintySpace, options: SobolOptions = {}): RankSensitivityResult {
  checkSpace(space);
  const d = space.length;
  const N = options.N ?? 1024;
  const nominalRank = rankScores(model(nominalChoices(space)));
  const n = nominalRank.length;
  const m = 2 * n + 1;
  const design = saltelliDesign(d, N, options);
  const runs = N * (d + 2);
  const y = new Float64Array(runs * m);
  const order = new Uint32Array(n);
  const ranks = new Float64Array(n);
  for (let r = 0; r < runs; r++) {
    const s = model(choicesFromUnit(space, design.subarray(r * d, (r + 1) * d)));
    if (s.length !== n) throw new RangeError(`the model returned ${s.length} scores at run ${r + 1}, ${n} in the nominal run`);
    rankScores(s, ranks, order);
    let shift = 0;
    let counted = 0;
    for (let i = 0; i < n; i++) {
      y[r * m + i] = ranks[i]!;
      y[r * m + n + i] = s[i]!;
      const delta = Math.abs(ranks[i]! - nominalRank[i]!);
      if (!Number.isNaN(delta)) (shift += delta), counted++;
    }
    y[r * m + 2 * n] = counted ? shift / counted : Number.NaN;
  }
  const { outputs, ...info } = sobolIndicesFromOutputs(y, N, d, m, options);
  return {
    ...info,
    inputs: space.map((input) => input.name),
    nominalRank,
    rank: outputs.slice(0, n),
    score: outputs.slice(n, 2 * n),
    meanAbsRankShift: outputs[2 * n]!,
  };
}
