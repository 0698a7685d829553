/**
 * Denomination: counts become rates per `scale` units of a denominator indicator, cell by cell in
 * the same entity and year (COINr `Denominate()`: x / d * scale). Per 100,000 population is the
 * crime-statistics convention (scale 1e5). A missing or non-positive denominator gives a missing
 * rate, never an infinite one. O(n).
 * @example denominate([50, 10], [2_000_000, 0], 1e5) // [2.5, NaN]
 */
export function denominateInto(x: Float64Array, off: number, denominator: ArrayLike<number>, dOff: number, n: number, scale: number): void {
  for (let i = 0; i < n; i++) {
    const d = denominator[dOff + i]!;
    x[off + i] = d > 0 ? (x[off + i]! / d) * scale : Number.NaN;
  }
}

/** Array form of `denominateInto`. */
export function denominate(values: ArrayLike<number>, denominator: ArrayLike<number>, scale = 1e5): Float64Array {
  const out = Float64Array.from(values);
  denominateInto(out, 0, denominator, 0, out.length, scale);
  return out;
}
