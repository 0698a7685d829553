/**
 * `trend_residual`: for short annual series (10 to 30 points, the usual national statistic), each
 * value against a robust Theil-Sen trend fitted on the OTHER points of the series, scaled by the
 * MAD of that fit's residuals and, where the count and population behind a rate are known, by the
 * Poisson noise of the count. On such series a level z-score sees the trend itself as unusual and
 * an Isolation Forest has too few points to learn from; a trend fitted without the point being
 * scored lets a spike stand out instead of pulling its own fit.
 *
 * Score: scoreFromRobustZ(z) with z = residual / sqrt(sd_trend^2 + sd_count^2) (below).
 * Reference: Sen (1968), Theil (1950) for the trend; Iglewicz & Hoaglin (1993) for the scale.
 * Tests: test/anomaly-series-trend.test.ts (against test/reference/ref_anomaly_series.py).
 */
import { median } from 'simple-statistics';
import { theilSen } from '../stats/theil-sen.ts';
import type { CellScore, Series } from './types.ts';
import { causeOf, formatZ, robustScale } from './robust.ts';
import { checkCount, formatValue, intervalZ, makeCell, seriesPositions } from './series-common.ts';

export interface TrendResidualOptions {
  /** Fewer points than this: the series is not judged (default 8). */
  readonly minPoints?: number;
  /** The trend is fitted on at most this many other points, the nearest in time (default 30). */
  readonly window?: number;
  /**
   * Work with log values: `auto` (default) when every value is positive. Why: crime rates move
   * by proportions, so a residual in log units is a relative one (a 20% jump weighs the same in
   * a large and a small state), the noise of a rate grows with its level, which the log evens
   * out, and a x1000 unit error is a jump of log(1000) = 6.9 whatever the level.
   */
  readonly log?: 'auto' | boolean;
  /** Level of the prediction interval (default 0.95). */
  readonly level?: number;
  /**
   * Floor of the trend's residual scale, relative (log units, or a share of the median value on
   * the linear scale). Default 0.02: a series that follows its line to within 1% is not flagged
   * for a 5% wobble.
   */
  readonly minRelativeScale?: number;
}

export interface TrendFit {
  readonly slope: number;
  readonly intercept: number;
  /** Robust sd of the fit's residuals (1.4826 MAD, mean-AD fallback, floored), working units. */
  readonly residualSd: number;
  /** Points the fit used. */
  readonly n: number;
}

/**
 * The expected count behind a rate at one point, from the rate the trend expects: the rate's
 * unit (per 100,000 and so on) is value x population / count, the median over the series' points
 * that have both; expected count = expected rate x population / unit. null where the series gives
 * no count or this point no population.
 */
function expectedCount(series: Series, i: number, expectedRate: number, unit: number | null): number | null {
  const population = series.points[i]!.population;
  if (unit === null || population === undefined || !(population > 0) || !(expectedRate > 0)) return null;
  return (expectedRate * population) / unit;
}

/** The rate unit value x population / count (median over points with all three positive), or null. */
export function rateUnit(series: Series): number | null {
  const units: number[] = [];
  for (const p of series.points) {
    if (p.count !== undefined && p.population !== undefined && p.count > 0 && p.population > 0 && p.value > 0) units.push((p.value * p.population) / p.count);
  }
  return units.length === 0 ? null : median(units);
}

/**
 * `trend_residual` detector. For each point i of a series of at least `minPoints`:
 * 1. fit Theil-Sen (joint intercept, median(y - slope x)) on the other points (the `window`
 *    nearest), in log units where the values allow (see `log`);
 * 2. sd_trend = robust sd of that fit's residuals, floored at `minRelativeScale`, times the
 *    prediction-error factor sqrt(1 + 1/m + (x_i - mean x)^2 / Sxx) of a line fitted on m points
 *    (ordinary least squares' factor, a close approximation for Theil-Sen): a point beyond the
 *    ends of the others (the newest year) is less certain than one inside them;
 * 3. where the series gives counts and this point a population, sd_count = the Poisson sd of
 *    the expected count lambda = expected rate x population / unit: 1/sqrt(lambda) in log units,
 *    expected/sqrt(lambda) on the linear scale (lambda floored at 0.5). The null hypothesis is
 *    "this year is on the trend", so the noise is that of the expected count, not the observed;
 * 4. z = (y_i - fit(x_i)) / sqrt(sd_trend^2 + sd_count^2), score scoreFromRobustZ(z).
 * expected = the trend's value (back from logs), interval = fit +- z_(level) x the same sd.
 * likelyCause (for |z| >= 3.5): x1000 or /1000 from the expected value, or a change of source
 * at the point: data_problem; the next one or two points as far out on the same side (against
 * the same fit): real_change; otherwise unclear.
 * Big-O: O(n^3 log n) for n points (a Theil-Sen fit per point), fine for n <= 30 or so; longer
 * series are fitted on the `window` nearest points.
 */
export function detectTrendResidual(series: Series, options: TrendResidualOptions = {}): CellScore[] {
  const minPoints = checkCount('detectTrendResidual minPoints', options.minPoints ?? 8, 4);
  const window = checkCount('detectTrendResidual window', options.window ?? 30, 3);
  const q = intervalZ(options.level ?? 0.95);
  const minRelativeScale = options.minRelativeScale ?? 0.02;
  const x = seriesPositions(series);
  const n = x.length;
  if (n < minPoints) return [];
  const values = series.points.map((p) => p.value);
  const allPositive = values.every((v) => v > 0);
  const useLog = options.log === 'auto' || options.log === undefined ? allPositive : options.log;
  if (useLog && !allPositive) throw new RangeError(`detectTrendResidual: log = true needs positive values, but ${series.entity}/${series.indicator} has ${values.find((v) => !(v > 0))}`);
  const y = useLog ? values.map(Math.log) : values;
  const toValue = useLog ? Math.exp : (v: number) => v;
  const scaleFloor = minRelativeScale * (useLog ? 1 : Math.abs(median(values)));
  const unit = rateUnit(series);

  const cells: CellScore[] = [];
  for (let i = 0; i < n; i++) {
    const others = nearestOthers(x, i, window);
    const fit = fitTrend(others.map((j) => x[j]!), others.map((j) => y[j]!), scaleFloor);
    const xs = others.map((j) => x[j]!);
    const xMean = xs.reduce((s, v) => s + v, 0) / xs.length;
    const sxx = xs.reduce((s, v) => s + (v - xMean) ** 2, 0);
    const leverage = Math.sqrt(1 + 1 / xs.length + (sxx > 0 ? (x[i]! - xMean) ** 2 / sxx : 0));
    const trendSd = fit.residualSd * leverage;
    const yHat = fit.intercept + fit.slope * x[i]!;
    const expected = toValue(yHat);
    const lambda = expectedCount(series, i, expected, unit);
    const countSd = lambda === null ? 0 : useLog ? 1 / Math.sqrt(Math.max(lambda, 0.5)) : expected / Math.sqrt(Math.max(lambda, 0.5));
    const sd = Math.sqrt(trendSd * trendSd + countSd * countSd);
    const residual = y[i]! - yHat;
    const z = sd > 0 ? residual / sd : residual === 0 ? 0 : Math.sign(residual) * Number.POSITIVE_INFINITY;
    const zNext = [i + 1, i + 2].filter((j) => j < n).map((j) => (y[j]! - (fit.intercept + fit.slope * x[j]!)) / sd);
    const cause = causeOf(series, i, z, expected, zNext);
    const point = series.points[i]!;
    const lower = toValue(yHat - q * sd);
    const upper = toValue(yHat + q * sd);
    const seen = useLog ? `${formatValue(point.value / expected)} times the trend` : `${residual >= 0 ? '+' : ''}${formatValue(residual)} off the trend`;
    const noise = lambda === null ? '' : `, with the chance noise of an expected count of ${formatValue(lambda)}`;
    cells.push(
      makeCell(series, {
        point,
        detector: 'trend_residual',
        z,
        expected,
        interval: [lower, upper],
        likelyCause: cause.cause,
        reason: `${point.period}: ${formatValue(point.value)} where the trend of the other ${others.length} periods expects ${formatValue(expected)} (${Math.round((options.level ?? 0.95) * 100)}% interval ${formatValue(lower)} to ${formatValue(upper)}${noise}): ${seen}, robust z ${formatZ(z)}${cause.note}.`,
      }),
    );
  }
  return cells;
}

/** Indices of the `window` points nearest to i in position, i itself left out, in order. */
function nearestOthers(x: readonly number[], i: number, window: number): number[] {
  const others: number[] = [];
  for (let j = 0; j < x.length; j++) if (j !== i) others.push(j);
  if (others.length <= window) return others;
  return others
    .sort((a, b) => Math.abs(x[a]! - x[i]!) - Math.abs(x[b]! - x[i]!) || a - b)
    .slice(0, window)
    .sort((a, b) => a - b);
}

/**
 * Theil-Sen line with the joint intercept median(y - slope x) (so the residuals have median 0)
 * and the robust sd of its residuals, floored at `scaleFloor`.
 */
export function fitTrend(x: readonly number[], y: readonly number[], scaleFloor = 0): TrendFit {
  const ts = theilSen(x, y, { intercept: 'joint' });
  const residuals = y.map((v, j) => v - (ts.intercept + ts.slope * x[j]!));
  return { slope: ts.slope, intercept: ts.intercept, residualSd: Math.max(robustScale(residuals).scale, scaleFloor), n: x.length };
}
