/**
 * Trends of annual indicator series: year-on-year change, Theil-Sen slope with its interval, the
 * Mann-Kendall test, and a polarity-aware label (`escalating`, `stable`, `de-escalating`,
 * `insufficient_data`).
 *
 * Periods are years. A missing year is simply absent, or present with a NaN value (dropped here);
 * a year given twice is refused.
 */
import { median } from 'simple-statistics';
import type { Polarity } from '../types.ts';
import { mannKendall, type MannKendallResult } from '../stats/mann-kendall.ts';
import { theilSen } from '../stats/theil-sen.ts';

export type TrendLabel = 'escalating' | 'stable' | 'de-escalating' | 'insufficient_data';

export interface YearOnYearChange {
  readonly year: number;
  /** year - 1. */
  readonly previousYear: number;
  /** value(year) - value(year - 1); NaN when year - 1 is not observed. */
  readonly absolute: number;
  /** 100 × absolute / |value(year - 1)|; NaN when year - 1 is not observed or its value is 0. */
  readonly percent: number;
}

export interface TrendOptions {
  /** `higher_worse` (default): a rising series is rising risk. `higher_better`: the reverse. */
  readonly polarity?: Polarity;
  /** Significance level of the Mann-Kendall test. Default 0.05. */
  readonly alpha?: number;
  /** Fewest observed years for a label other than `insufficient_data`. Default 5 (an integer ≥ 3). */
  readonly minPoints?: number;
  /** Smallest |relative change| over the window for a trend to count. Default 0.10 (10%). */
  readonly minRelativeChange?: number;
  /** Use only the last `window` calendar years, ending at the last observed year. Default: all. */
  readonly window?: number;
  /** Confidence level of the Theil-Sen slope interval. Default 0.95. */
  readonly confidence?: number;
}

export interface TrendResult {
  readonly label: TrendLabel;
  /** Observed years used (after dropping NaN values and applying the window), ascending. */
  readonly years: readonly number[];
  readonly n: number;
  /** Theil-Sen slope (value units per year), intercept (scipy's convention, median(y) - slope·median(year)) and interval; NaN below two points. */
  readonly slope: number;
  readonly intercept: number;
  readonly slopeLow: number;
  readonly slopeHigh: number;
  /** null below two points. */
  readonly mannKendall: MannKendallResult | null;
  /** slope × (last year - first year) / |median of values|: the fitted change over the window, relative to its typical level. */
  readonly relativeChange: number;
  /** +1 when risk rises with the slope's direction, -1 when it falls, 0 for a zero slope (polarity applied). */
  readonly riskDirection: -1 | 0 | 1;
  /** The change into the last observed year; null below two points. */
  readonly latestChange: YearOnYearChange | null;
  /** Why this label, in words. */
  readonly reason: string;
}

/**
 * Year-on-year changes of an annual series, one entry per observed year after the first.
 *
 * Why: the simplest statement of change ("up 12% on last year"), shown beside the trend.
 * Big-O: O(n). Years must be ascending, distinct and finite (throws otherwise); a value may be
 * NaN (missing), and then the changes into and out of that year are NaN.
 *
 * @example
 * yearOnYearSorted([2019, 2020, 2022], [10, 12, 9]);
 * // => [{ year: 2020, previousYear: 2019, absolute: 2, percent: 20 },
 * //     { year: 2022, previousYear: 2021, absolute: NaN, percent: NaN }]
 */
export function yearOnYearSorted(years: ArrayLike<number>, values: ArrayLike<number>): YearOnYearChange[] {
  if (years.length !== values.length) throw new RangeError(`yearOnYear requires years and values of the same length, got ${years.length} and ${values.length}`);
  const out: YearOnYearChange[] = [];
  for (let i = 1; i < years.length; i++) {
    const year = years[i]!;
    const before = years[i - 1]!;
    if (!Number.isFinite(year) || !(year > before)) throw new RangeError(`yearOnYear requires ascending distinct years, got ${before} then ${year}`);
    const consecutive = year - before === 1;
    const absolute = consecutive ? values[i]! - values[i - 1]! : Number.NaN;
    const base = Math.abs(values[i - 1]!);
    out.push({ year, previousYear: year - 1, absolute, percent: consecutive && base !== 0 ? (100 * absolute) / base : Number.NaN });
  }
  return out;
}

/**
 * Classify the trend of one annual indicator series.
 *
 * The rule (every threshold an option):
 * 1. fewer than `minPoints` observed years (default 5) → `insufficient_data`;
 * 2. else `escalating` when the Mann-Kendall two-sided p < `alpha` (0.05), the Theil-Sen slope
 *    points towards more risk (up for `higher_worse`, down for `higher_better`), and
 *    |relativeChange| ≥ `minRelativeChange` (0.10);
 * 3. `de-escalating` under the same conditions with the slope pointing towards less risk;
 * 4. otherwise `stable` (not significant, zero slope, or too small a change to matter).
 *
 * Big-O: O(n² log n) for n years (Theil-Sen's pairwise slopes).
 * References: see `theilSen` and `mannKendall`.
 *
 * @example
 * classifyTrend([2015, 2016, 2017, 2019, 2020, 2021], [10, 11, 13, 14, 16, 18]).label; // => 'escalating'
 * classifyTrend([2015, 2016, 2017, 2019, 2020, 2021], [10, 11, 13, 14, 16, 18], { polarity: 'higher_better' }).label;
 * // => 'de-escalating'
 */
export function classifyTrend(years: ArrayLike<number>, values: ArrayLike<number>, options: TrendOptions = {}): TrendResult {
  const polarity = options.polarity ?? 'higher_worse';
  const alpha = options.alpha ?? 0.05;
  const minPoints = options.minPoints ?? 5;
  const minRelativeChange = options.minRelativeChange ?? 0.1;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`classifyTrend alpha must be in (0, 1), got ${alpha}`);
  if (!Number.isInteger(minPoints) || minPoints < 3) throw new RangeError(`classifyTrend minPoints must be an integer of at least 3, got ${minPoints}`);
  if (!(minRelativeChange >= 0)) throw new RangeError(`classifyTrend minRelativeChange must be at least 0, got ${minRelativeChange}`);
  if (options.window !== undefined && !(options.window >= 1)) throw new RangeError(`classifyTrend window must be at least 1 year, got ${options.window}`);
  if (years.length !== values.length) throw new RangeError(`classifyTrend requires years and values of the same length, got ${years.length} and ${values.length}`);

  let points: { year: number; value: number }[] = [];
  for (let i = 0; i < years.length; i++) {
    const year = years[i]!;
    if (!Number.isFinite(year)) throw new RangeError(`classifyTrend requires finite years, got ${year} at position ${i}`);
    if (!Number.isNaN(values[i]!)) points.push({ year, value: values[i]! });
  }
  points.sort((a, b) => a.year - b.year);
  for (let i = 1; i < points.length; i++) {
    if (points[i]!.year === points[i - 1]!.year) throw new RangeError(`classifyTrend requires one value per year: ${points[i]!.year} appears twice`);
  }
  if (options.window !== undefined && points.length > 0) {
    const last = points[points.length - 1]!.year;
    points = points.filter((p) => p.year > last - options.window!);
  }
  const ys = points.map((p) => p.year);
  const vs = points.map((p) => p.value);
  const n = ys.length;
  const empty = { years: ys, n, slope: Number.NaN, intercept: Number.NaN, slopeLow: Number.NaN, slopeHigh: Number.NaN, mannKendall: null, relativeChange: Number.NaN, riskDirection: 0 as const, latestChange: null };
  if (n < 2) return { ...empty, label: 'insufficient_data', reason: `${n} observed year(s), at least ${minPoints} needed` };

  const ts = theilSen(ys, vs, { confidence: options.confidence ?? 0.95 });
  const mk = mannKendall(ys, vs);
  const level = Math.abs(median(vs));
  const change = ts.slope * (ys[n - 1]! - ys[0]!);
  const relativeChange = level > 0 ? change / level : change === 0 ? 0 : Math.sign(change) * Number.POSITIVE_INFINITY;
  const riskDirection = (Math.sign(ts.slope) * (polarity === 'higher_better' ? -1 : 1)) as -1 | 0 | 1;
  const yoy = yearOnYearSorted(ys, vs);
  const base = {
    years: ys, n, slope: ts.slope, intercept: ts.intercept, slopeLow: ts.low, slopeHigh: ts.high,
    mannKendall: mk, relativeChange, riskDirection: (riskDirection === 0 ? 0 : riskDirection) as -1 | 0 | 1, latestChange: yoy[yoy.length - 1]!,
  };
  if (n < minPoints) return { ...base, label: 'insufficient_data', reason: `${n} observed years, at least ${minPoints} needed` };
  if (!(mk.p < alpha)) return { ...base, label: 'stable', reason: `Mann-Kendall p = ${mk.p.toPrecision(3)} is not below ${alpha}` };
  if (base.riskDirection === 0) return { ...base, label: 'stable', reason: 'Theil-Sen slope is zero' };
  if (!(Math.abs(relativeChange) >= minRelativeChange)) {
    return { ...base, label: 'stable', reason: `relative change ${relativeChange.toPrecision(3)} is below ${minRelativeChange} in size` };
  }
  const label = base.riskDirection > 0 ? 'escalating' : 'de-escalating';
  return { ...base, label, reason: `Mann-Kendall p = ${mk.p.toPrecision(3)} < ${alpha}, slope ${ts.slope.toPrecision(3)}/year (${polarity}), relative change ${relativeChange.toPrecision(3)}` };
}
