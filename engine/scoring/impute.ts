/**
 * Imputation of one indicator's column for the scored year (entities; NaN = missing). Each
 * method fills only missing cells, marks each filled cell with its method code (`IMPUTED`) so that
 * explanations and confidence can tell data from estimates, and never extrapolates silently:
 * what cannot be filled stays NaN. Methods chain (a framework lists them in order, INFORM-style:
 * latest value first, then a group mean).
 *
 * The panel is read through a `SeriesView`: values[base + t * stride + i] is entity i in year
 * years[t] (years ascending), the pipeline's year-major, column-major layout.
 */

export type ImputationSpec =
  | { readonly method: 'none' }
  /** The latest earlier value within `lookback` years (default 5), as INFORM does. */
  | { readonly method: 'latest'; readonly lookback?: number }
  /** Linear between the nearest earlier and later values of the entity; never beyond the ends. */
  | { readonly method: 'interpolate'; readonly limit?: number }
  | { readonly method: 'group_mean' }
  | { readonly method: 'group_median' }
  /** OLS on a covariate indicator across the entities of the year; used only when R^2 >= minR2 (default 0.5). */
  | { readonly method: 'regression'; readonly covariate: string; readonly minR2?: number };

export type ImputationMethod = ImputationSpec['method'];
export const IMPUTATION_METHODS = ['none', 'latest', 'interpolate', 'group_mean', 'group_median', 'regression'] as const satisfies readonly ImputationMethod[];

/** Cell codes: 0 observed, 255 missing, else the method that filled it. */
export const IMPUTED = { observed: 0, latest: 1, interpolate: 2, group_mean: 3, group_median: 4, regression: 5, missing: 255 } as const;
export const IMPUTED_NAMES = ['observed', 'latest', 'interpolate', 'group_mean', 'group_median', 'regression'] as const;

export interface SeriesView {
  readonly values: Float64Array;
  readonly years: readonly number[];
  /** Offset of years[0] for this indicator. */
  readonly base: number;
  /** Distance between consecutive years of the same cell. */
  readonly stride: number;
}

/**
 * Latest value within a look-back: for each missing cell, the value of the most recent year in
 * [year - lookback, year). Writes the source year into `from` (same offsets). O(n * years).
 * @example // series 2019: 4, 2020: NaN, 2021: NaN; latest(year 2021, lookback 5) -> 4 from 2019
 */
export function imputeLatest(
  view: SeriesView,
  year: number,
  lookback: number,
  col: Float64Array,
  off: number,
  n: number,
  codes: Uint8Array,
  from: Float64Array,
): number {
  let filled = 0;
  const { values, years, base, stride } = view;
  let last = years.length - 1;
  while (last >= 0 && years[last]! >= year) last--;
  for (let i = 0; i < n; i++) {
    if (col[off + i] === col[off + i]) continue;
    for (let t = last; t >= 0 && years[t]! >= year - lookback; t--) {
      const v = values[base + t * stride + i]!;
      if (v === v) {
        col[off + i] = v;
        codes[off + i] = IMPUTED.latest;
        from[off + i] = years[t]!;
        filled++;
        break;
      }
    }
  }
  return filled;
}

/**
 * Linear interpolation in time within an entity's series, between the nearest observed years
 * before and after; no value before the first or after the last observation (no extrapolation).
 * With `limit`, a gap is filled only when at most `limit` years are missing in it (pandas' `limit`
 * fills the first `limit` of a longer gap instead; a half-filled gap is worse than none here).
 * Matches pandas `Series.interpolate(method="index", limit_area="inside")` without a limit. O(n * years).
 */
export function imputeInterpolate(
  view: SeriesView,
  year: number,
  limit: number,
  col: Float64Array,
  off: number,
  n: number,
  codes: Uint8Array,
): number {
  let filled = 0;
  const { values, years, base, stride } = view;
  for (let i = 0; i < n; i++) {
    if (col[off + i] === col[off + i]) continue;
    let before = -1;
    for (let t = years.length - 1; t >= 0; t--) {
      if (years[t]! < year && values[base + t * stride + i] === values[base + t * stride + i]) {
        before = t;
        break;
      }
    }
    let after = -1;
    for (let t = 0; t < years.length; t++) {
      if (years[t]! > year && values[base + t * stride + i] === values[base + t * stride + i]) {
        after = t;
        break;
      }
    }
    if (before < 0 || after < 0) continue;
    if (years[after]! - years[before]! - 1 > limit) continue;
    const y0 = values[base + before * stride + i]!;
    const y1 = values[base + after * stride + i]!;
    col[off + i] = y0 + ((y1 - y0) * (year - years[before]!)) / (years[after]! - years[before]!);
    codes[off + i] = IMPUTED.interpolate;
    filled++;
  }
  return filled;
}

/**
 * Group mean or median: a missing cell takes the mean (median) of the present values of its group
 * (`groups[i]`, -1 = no group: left missing). Uses the values as they stand, so an earlier step's
 * imputations (latest values) count as data. O(n log n) for medians.
 * @example // groups [0, 0, 0, 1], values [2, 4, NaN, 7] -> mean fills 3 (median too)
 */
export function imputeGroup(col: Float64Array, off: number, n: number, groups: Int32Array, stat: 'mean' | 'median', codes: Uint8Array): number {
  const byGroup = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const v = col[off + i]!;
    const g = groups[i]!;
    if (v !== v || g < 0) continue;
    let list = byGroup.get(g);
    if (!list) byGroup.set(g, (list = []));
    list.push(v);
  }
  const value = new Map<number, number>();
  for (const [g, list] of byGroup) {
    if (stat === 'mean') value.set(g, list.reduce((a, b) => a + b, 0) / list.length);
    else {
      list.sort((a, b) => a - b);
      const m = list.length >> 1;
      value.set(g, list.length % 2 ? list[m]! : (list[m - 1]! + list[m]!) / 2);
    }
  }
  let filled = 0;
  for (let i = 0; i < n; i++) {
    if (col[off + i] === col[off + i]) continue;
    const v = value.get(groups[i]!);
    if (v === undefined) continue;
    col[off + i] = v;
    codes[off + i] = stat === 'mean' ? IMPUTED.group_mean : IMPUTED.group_median;
    filled++;
  }
  return filled;
}

export interface RegressionFit {
  /** Entities with both values (the fit). */
  readonly n: number;
  readonly intercept: number;
  readonly slope: number;
  readonly r2: number;
  /** Whether the fit was good enough (R^2 >= minR2, n >= 3) to impute with. */
  readonly used: boolean;
  readonly filled: number;
}

/**
 * Regression imputation: y = a + b x by ordinary least squares over the entities with both the
 * indicator (y) and the covariate (x) in the year; a missing y with a present x gets a + b x, only
 * when R^2 >= minR2 (INFORM imputes from a covariate "where it predicts well"). O(n).
 * @example // x [1, 2, 3, 4], y [2, 4, 6, NaN] -> a 0, b 2, R^2 1, fills 8
 */
export function imputeRegression(col: Float64Array, off: number, n: number, covariate: ArrayLike<number>, minR2: number, codes: Uint8Array): RegressionFit {
  let m = 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    const x = covariate[i]!;
    const y = col[off + i]!;
    if (x !== x || y !== y) continue;
    m++;
    sx += x;
    sy += y;
  }
  const mx = sx / m;
  const my = sy / m;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const x = covariate[i]!;
    const y = col[off + i]!;
    if (x !== x || y !== y) continue;
    sxx += (x - mx) * (x - mx);
    sxy += (x - mx) * (y - my);
    syy += (y - my) * (y - my);
  }
  if (m < 3 || sxx === 0) return { n: m, intercept: Number.NaN, slope: Number.NaN, r2: Number.NaN, used: false, filled: 0 };
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const r2 = syy === 0 ? 1 : (sxy * sxy) / (sxx * syy);
  if (!(r2 >= minR2)) return { n: m, intercept, slope, r2, used: false, filled: 0 };
  let filled = 0;
  for (let i = 0; i < n; i++) {
    const x = covariate[i]!;
    if (col[off + i] === col[off + i] || x !== x) continue;
    col[off + i] = intercept + slope * x;
    codes[off + i] = IMPUTED.regression;
    filled++;
  }
  return { n: m, intercept, slope, r2, used: true, filled };
}
