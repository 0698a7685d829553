/**
 * Normalisation of one indicator across units, after COINr's `Normalise()` (names and behaviour).
 * Every function takes the values of one indicator (NaN = missing, passed through as NaN) and a
 * direction: +1 when a higher value means more risk, -1 when it means less, so that a higher
 * normalised value always means more risk. O(n), or O(n log n) for ranks.
 */

export type Direction = 1 | -1;

export type NormalisationSpec =
  | { readonly method: 'none' }
  | { readonly method: 'minmax'; readonly low?: number; readonly high?: number }
  | { readonly method: 'zscore'; readonly mean?: number; readonly sd?: number }
  | { readonly method: 'goalposts'; readonly lower: number; readonly upper: number; readonly scale?: number }
  | { readonly method: 'rank' };

export const NORMALISATION_METHODS = ['none', 'minmax', 'zscore', 'goalposts', 'rank'] as const;

function finite(values: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i]!)) out.push(values[i]!);
  return out;
}

/**
 * Min-max to [low, high] (COINr default 0-100; ThreatLens uses 0-10). With no spread every value
 * maps to the middle of the range: nothing distinguishes the units.
 * @example minmax([1, 5.5, 10], 1, { low: 0, high: 100 }) // [0, 50, 100]
 */
export function minmax(values: ArrayLike<number>, direction: Direction, options: { low?: number; high?: number } = {}): Float64Array {
  const low = options.low ?? 0;
  const high = options.high ?? 10;
  const present = finite(values);
  const min = Math.min(...present);
  const max = Math.max(...present);
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (Number.isNaN(x)) out[i] = Number.NaN;
    else if (max === min) out[i] = (low + high) / 2;
    else {
      const unit = (x - min) / (max - min);
      out[i] = low + (direction === 1 ? unit : 1 - unit) * (high - low);
    }
  }
  return out;
}

/** z-score with the sample standard deviation (n - 1), as R's sd() and COINr; rescaled to mean and sd. */
export function zscore(values: ArrayLike<number>, direction: Direction, options: { mean?: number; sd?: number } = {}): Float64Array {
  const present = finite(values);
  const mean = present.reduce((a, b) => a + b, 0) / present.length;
  const sd = Math.sqrt(present.reduce((a, b) => a + (b - mean) ** 2, 0) / (present.length - 1));
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    const z = sd > 0 ? (direction * (x - mean)) / sd : 0;
    out[i] = Number.isNaN(x) ? Number.NaN : (options.mean ?? 0) + z * (options.sd ?? 1);
  }
  return out;
}

/**
 * Goalposts: the distance from `lower` to `upper`, clamped to [0, 1], times `scale`; direction -1
 * measures from `upper`. COINr's reference: goalposts(1, lower 0, upper 10) = 0.1, and 0.9 with
 * direction -1.
 */
export function goalposts(
  values: ArrayLike<number>,
  direction: Direction,
  options: { lower: number; upper: number; scale?: number },
): Float64Array {
  const { lower, upper } = options;
  const scale = options.scale ?? 1;
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    const unit = direction === 1 ? (x - lower) / (upper - lower) : (upper - x) / (upper - lower);
    out[i] = Number.isNaN(x) ? Number.NaN : Math.min(1, Math.max(0, unit)) * scale;
  }
  return out;
}

/** Ranks, 1 = lowest risk; ties share their average rank (R's rank(ties.method = "average")). */
export function rank(values: ArrayLike<number>, direction: Direction): Float64Array {
  const order = [];
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i]!)) order.push(i);
  order.sort((a, b) => direction * (values[a]! - values[b]!));
  const out = new Float64Array(values.length).fill(Number.NaN);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && values[order[end + 1]!] === values[order[start]!]) end++;
    const average = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) out[order[k]!] = average;
    start = end + 1;
  }
  return out;
}

export function normalise(values: ArrayLike<number>, direction: Direction, spec: NormalisationSpec): Float64Array {
  switch (spec.method) {
    case 'none':
      return Float64Array.from(values as ArrayLike<number>);
    case 'minmax':
      return minmax(values, direction, spec);
    case 'zscore':
      return zscore(values, direction, spec);
    case 'goalposts':
      return goalposts(values, direction, spec);
    case 'rank':
      return rank(values, direction);
  }
}
