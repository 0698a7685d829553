/**
 * Normalisation of one indicator across units, after COINr's `Normalise()` (names and formulas of
 * its `n_*` functions). Every function takes the values of one indicator (NaN = missing, passed
 * through as NaN) and a direction: +1 when a higher value means more risk, -1 when it means less,
 * so that a higher normalised value always means more risk. As COINr, a direction of -1 is applied
 * by negating the values before the method (x -> -x), except where a method defines its own
 * direction (goalposts, dist2targ) or where negating would break the meaning (fracmax, below).
 *
 * Two layers: `normaliseColumn` is the kernel (reads a slice of a Float64Array, writes a slice of
 * another, allocation-free but for ranks), used by the pipeline on column-major matrices; the
 * array functions (`minmax`, `zscore`, ...) wrap it for single vectors. O(n), O(n log n) for ranks.
 */

export type Direction = 1 | -1;

export type NormalisationSpec =
  | { readonly method: 'none' }
  | { readonly method: 'minmax'; readonly low?: number; readonly high?: number }
  | { readonly method: 'zscore'; readonly mean?: number; readonly sd?: number }
  | { readonly method: 'goalposts'; readonly lower: number; readonly upper: number; readonly scale?: number; readonly trunc?: boolean }
  | { readonly method: 'rank' }
  | { readonly method: 'prank'; readonly scale?: number }
  | { readonly method: 'borda' }
  | { readonly method: 'fracmax'; readonly scale?: number }
  | { readonly method: 'dist2max'; readonly scale?: number }
  | { readonly method: 'dist2ref'; readonly ref?: string; readonly value?: number; readonly capMax?: boolean; readonly scale?: number }
  | { readonly method: 'dist2targ'; readonly target: number; readonly capMax?: boolean; readonly scale?: number };

export type NormalisationMethod = NormalisationSpec['method'];

export const NORMALISATION_METHODS = [
  'none',
  'minmax',
  'zscore',
  'goalposts',
  'rank',
  'prank',
  'borda',
  'fracmax',
  'dist2max',
  'dist2ref',
  'dist2targ',
] as const satisfies readonly NormalisationMethod[];

/**
 * Methods whose output never decreases when one unit's value moves in its risk direction, with
 * the other units fixed (all of them here; dist2ref with a reference *unit* only while that unit
 * is not the one moved). Property tests rely on this list.
 */
export const MONOTONE_NORMALISATIONS: readonly NormalisationMethod[] = NORMALISATION_METHODS;

/** Minimum and maximum of the non-NaN values of a slice (NaN, NaN when none). O(n). */
function extent(x: ArrayLike<number>, off: number, n: number, sign: number): [number, number] {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = off; i < off + n; i++) {
    const v = sign * x[i]!;
    if (v !== v) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min === Number.POSITIVE_INFINITY ? [Number.NaN, Number.NaN] : [min, max];
}

/**
 * Ranks of a slice after negation by `sign`, ties by `ties` ("average" as R's default, "min" as
 * COINr's n_rank/n_prank/n_borda), written to out[outOff..]. NaN stays NaN. Returns the number of
 * values ranked. O(n log n).
 */
function rankInto(x: ArrayLike<number>, off: number, n: number, sign: number, ties: 'average' | 'min', out: Float64Array, outOff: number): number {
  const order: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = x[off + i]!;
    if (v === v) order.push(i);
    else out[outOff + i] = Number.NaN;
  }
  order.sort((a, b) => sign * (x[off + a]! - x[off + b]!));
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && x[off + order[end + 1]!] === x[off + order[start]!]) end++;
    const r = ties === 'average' ? (start + end) / 2 + 1 : start + 1;
    for (let k = start; k <= end; k++) out[outOff + order[k]!] = r;
    start = end + 1;
  }
  return order.length;
}

/**
 * The kernel: normalises x[off .. off+n) into out[outOff .. outOff+n). `refIndex` is the position
 * (0-based, within the slice) of the reference unit for dist2ref with `ref` (the pipeline resolves
 * the entity code); -1 when absent. NaN in, NaN out; a column with no value stays all NaN.
 */
export function normaliseColumn(
  x: ArrayLike<number>,
  off: number,
  n: number,
  direction: Direction,
  spec: NormalisationSpec,
  out: Float64Array,
  outOff: number,
  refIndex = -1,
): void {
  const s = direction;
  switch (spec.method) {
    case 'none':
      for (let i = 0; i < n; i++) out[outOff + i] = x[off + i]!;
      return;
    case 'minmax':
    case 'dist2max': {
      // dist2max is 1 - (max - x) / (max - min): minmax onto [0, 1] (COINr n_dist2max).
      const low = spec.method === 'minmax' ? (spec.low ?? 0) : 0;
      const high = spec.method === 'minmax' ? (spec.high ?? 10) : (spec.scale ?? 1);
      const [min, max] = extent(x, off, n, s);
      for (let i = 0; i < n; i++) {
        const v = s * x[off + i]!;
        // With no spread nothing distinguishes the units: the middle of the range (COINr gives NaN).
        out[outOff + i] = v !== v ? Number.NaN : max === min ? (low + high) / 2 : low + ((v - min) / (max - min)) * (high - low);
      }
      return;
    }
    case 'zscore': {
      // Sample standard deviation (n - 1), as R's sd() and COINr's n_zscore.
      let sum = 0;
      let count = 0;
      for (let i = off; i < off + n; i++) {
        const v = x[i]!;
        if (v === v) {
          sum += v;
          count++;
        }
      }
      const mean = sum / count;
      let ss = 0;
      for (let i = off; i < off + n; i++) {
        const v = x[i]!;
        if (v === v) ss += (v - mean) * (v - mean);
      }
      const sd = Math.sqrt(ss / (count - 1));
      const m = spec.mean ?? 0;
      const scale = spec.sd ?? 1;
      for (let i = 0; i < n; i++) {
        const v = x[off + i]!;
        out[outOff + i] = v !== v ? Number.NaN : m + (sd > 0 ? (s * (v - mean)) / sd : 0) * scale;
      }
      return;
    }
    case 'goalposts': {
      // COINr n_goalposts: (x - lower) / (upper - lower), or (x - upper) / (lower - upper) for direction -1, truncated to [0, 1].
      const { lower, upper } = spec;
      const scale = spec.scale ?? 1;
      const trunc = spec.trunc ?? true;
      for (let i = 0; i < n; i++) {
        const v = x[off + i]!;
        let u = s === 1 ? (v - lower) / (upper - lower) : (v - upper) / (lower - upper);
        if (trunc) u = u < 0 ? 0 : u > 1 ? 1 : u;
        out[outOff + i] = v !== v ? Number.NaN : u * scale;
      }
      return;
    }
    case 'rank':
      rankInto(x, off, n, s, 'average', out, outOff);
      return;
    case 'borda':
      // COINr n_borda: rank(ties = "min") - 1, the number of units strictly below.
      rankInto(x, off, n, s, 'min', out, outOff);
      for (let i = 0; i < n; i++) out[outOff + i] = out[outOff + i]! - 1;
      return;
    case 'prank': {
      // COINr n_prank: (rank(ties = "min") - 1) / (count - 1), in [0, 1].
      const count = rankInto(x, off, n, s, 'min', out, outOff);
      const scale = spec.scale ?? 1;
      for (let i = 0; i < n; i++) out[outOff + i] = count > 1 ? ((out[outOff + i]! - 1) / (count - 1)) * scale : 0.5 * scale;
      // A lone value ranks in the middle, as minmax does with no spread.
      for (let i = 0; i < n; i++) if (x[off + i] !== x[off + i]) out[outOff + i] = Number.NaN;
      return;
    }
    case 'fracmax': {
      // COINr n_fracmax is x / max(x). Negating for direction -1 would give x / min(x), which rises
      // with x; we use min(x) / x instead (the fraction of the best), so polarity holds. Positive data.
      const [min, max] = extent(x, off, n, 1);
      const scale = spec.scale ?? 1;
      for (let i = 0; i < n; i++) {
        const v = x[off + i]!;
        out[outOff + i] = v !== v ? Number.NaN : (s === 1 ? v / max : min / v) * scale;
      }
      return;
    }
    case 'dist2ref': {
      // COINr n_dist2ref on s * x: 1 - (ref - x) / (ref - min); capped at 1 with capMax.
      const ref = spec.value !== undefined ? s * spec.value : refIndex >= 0 ? s * x[off + refIndex]! : Number.NaN;
      const [min] = extent(x, off, n, s);
      const scale = spec.scale ?? 1;
      for (let i = 0; i < n; i++) {
        const v = s * x[off + i]!;
        let y = 1 - (ref - v) / (ref - min);
        if (spec.capMax && y > 1) y = 1;
        out[outOff + i] = v !== v ? Number.NaN : y * scale;
      }
      return;
    }
    case 'dist2targ': {
      // COINr n_dist2targ: (x - min) / (targ - min) for direction 1, (max - x) / (max - targ) for -1.
      const [min, max] = extent(x, off, n, 1);
      const t = spec.target;
      const scale = spec.scale ?? 1;
      for (let i = 0; i < n; i++) {
        const v = x[off + i]!;
        let y = s === 1 ? (v - min) / (t - min) : (max - v) / (max - t);
        if (spec.capMax && y > 1) y = 1;
        out[outOff + i] = v !== v ? Number.NaN : y * scale;
      }
      return;
    }
  }
}

function run(values: ArrayLike<number>, direction: Direction, spec: NormalisationSpec, refIndex = -1): Float64Array {
  const out = new Float64Array(values.length);
  normaliseColumn(values, 0, values.length, direction, spec, out, 0, refIndex);
  return out;
}

/**
 * Min-max to [low, high] (COINr default 0-100; ThreatLens uses 0-10). With no spread every value
 * maps to the middle of the range: nothing distinguishes the units.
 * @example minmax([1, 5.5, 10], 1, { low: 0, high: 100 }) // [0, 50, 100]
 */
export function minmax(values: ArrayLike<number>, direction: Direction, options: { low?: number; high?: number } = {}): Float64Array {
  return run(values, direction, { method: 'minmax', ...options });
}

/** z-score with the sample standard deviation (n - 1), as R's sd() and COINr; rescaled to mean and sd. */
export function zscore(values: ArrayLike<number>, direction: Direction, options: { mean?: number; sd?: number } = {}): Float64Array {
  return run(values, direction, { method: 'zscore', ...options });
}

/**
 * Goalposts: the distance from `lower` to `upper`, clamped to [0, 1], times `scale`; direction -1
 * measures from `upper`. COINr's reference: goalposts(1, lower 0, upper 10) = 0.1, and 0.9 with
 * direction -1.
 */
export function goalposts(
  values: ArrayLike<number>,
  direction: Direction,
  options: { lower: number; upper: number; scale?: number; trunc?: boolean },
): Float64Array {
  return run(values, direction, { method: 'goalposts', ...options });
}

/** Ranks, 1 = lowest risk; ties share their average rank (R's rank(ties.method = "average")). */
export function rank(values: ArrayLike<number>, direction: Direction): Float64Array {
  return run(values, direction, { method: 'rank' });
}

/** Percentile ranks in [0, 1] (times scale): (min-rank - 1) / (n - 1), COINr n_prank. @example prank([10, 20, 20, 5], 1) // [1/3, 2/3, 2/3, 0] */
export function prank(values: ArrayLike<number>, direction: Direction, options: { scale?: number } = {}): Float64Array {
  return run(values, direction, { method: 'prank', ...options });
}

/** Borda scores: the number of units strictly below (min-rank - 1), COINr n_borda. @example borda([10, 20, 20, 5], 1) // [1, 2, 2, 0] */
export function borda(values: ArrayLike<number>, direction: Direction): Float64Array {
  return run(values, direction, { method: 'borda' });
}

/** Fraction of the maximum, x / max (COINr n_fracmax); min / x for direction -1 (see the kernel). */
export function fracmax(values: ArrayLike<number>, direction: Direction, options: { scale?: number } = {}): Float64Array {
  return run(values, direction, { method: 'fracmax', ...options });
}

/** Distance to the maximum, 1 - (max - x) / (max - min), COINr n_dist2max (minmax onto [0, 1]). */
export function dist2max(values: ArrayLike<number>, direction: Direction, options: { scale?: number } = {}): Float64Array {
  return run(values, direction, { method: 'dist2max', ...options });
}

/**
 * Distance to a reference, 1 - (ref - x) / (ref - min), COINr n_dist2ref: `refIndex` picks the
 * reference unit (0-based), or `value` gives a reference value.
 * @example dist2ref([2, 4, 6], 1, { refIndex: 1 }) // [0, 1, 2]
 */
export function dist2ref(
  values: ArrayLike<number>,
  direction: Direction,
  options: { refIndex?: number; value?: number; capMax?: boolean; scale?: number },
): Float64Array {
  const { refIndex, ...rest } = options;
  return run(values, direction, { method: 'dist2ref', ...rest }, refIndex ?? -1);
}

/** Distance to a target, (x - min) / (target - min), or (max - x) / (max - target) for direction -1 (COINr n_dist2targ). */
export function dist2targ(values: ArrayLike<number>, direction: Direction, options: { target: number; capMax?: boolean; scale?: number }): Float64Array {
  return run(values, direction, { method: 'dist2targ', ...options });
}

/** Normalises one indicator's values by a spec (see `normaliseColumn`). */
export function normalise(values: ArrayLike<number>, direction: Direction, spec: NormalisationSpec, refIndex = -1): Float64Array {
  return run(values, direction, spec, refIndex);
}

/**
 * Checks a normalisation spec from a framework document; returns an error message or null.
 * Parse at the edge: the kernels trust what passes here.
 */
export function checkNormalisationSpec(spec: unknown): string | null {
  const s = spec as Record<string, unknown> | null;
  if (!s || typeof s !== 'object') return 'normalisation must be an object with a "method"';
  if (!(NORMALISATION_METHODS as readonly unknown[]).includes(s.method)) {
    return `normalisation method "${String(s.method)}" is not one of ${NORMALISATION_METHODS.join(', ')}`;
  }
  const num = (k: string) => s[k] === undefined || (typeof s[k] === 'number' && Number.isFinite(s[k]));
  for (const k of ['low', 'high', 'mean', 'sd', 'lower', 'upper', 'scale', 'value', 'target']) {
    if (!num(k)) return `normalisation "${k}" must be a finite number`;
  }
  switch (s.method) {
    case 'minmax':
      if ((s.low ?? 0) === (s.high ?? 10)) return 'minmax needs "low" != "high"';
      break;
    case 'zscore':
      if (s.sd !== undefined && !((s.sd as number) > 0)) return 'zscore needs "sd" > 0';
      break;
    case 'goalposts':
      if (!(typeof s.lower === 'number' && typeof s.upper === 'number' && s.upper > s.lower)) return 'goalposts need numbers "lower" < "upper"';
      break;
    case 'dist2ref':
      if ((s.ref === undefined) === (s.value === undefined)) return 'dist2ref needs exactly one of "ref" (an entity code) or "value"';
      if (s.ref !== undefined && typeof s.ref !== 'string') return 'dist2ref "ref" must be an entity code';
      break;
    case 'dist2targ':
      if (typeof s.target !== 'number') return 'dist2targ needs a number "target"';
      break;
  }
  return null;
}
