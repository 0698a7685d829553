/**
 * What the per-series detectors (robust.ts, trend-residual.ts, seasonal.ts, breaks.ts,
 * forecast.ts) share: period positions, the data-problem checks (unit errors, source changes),
 * number formatting for reasons, and building a CellScore.
 */
import { normalQuantile } from '../stats/normal.ts';
import { scoreFromRobustZ, severityOf, type CellScore, type LikelyCause, type PeriodKind, type Series, type SeriesPoint } from './types.ts';

const YEAR = /^(\d{4})$/;
const QUARTER = /^(\d{4})-Q([1-4])$/;
const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/**
 * The position of a canonical period on a line of consecutive periods of its kind: a year is
 * itself, a quarter 4 x year + quarter - 1, a month 12 x year + month - 1; so that the gap between
 * two periods is the number of periods between them. Throws when the text is not of the kind.
 */
export function periodIndex(period: string, kind: PeriodKind): number {
  const pattern = kind === 'year' ? YEAR : kind === 'quarter' ? QUARTER : MONTH;
  const match = pattern.exec(period);
  if (!match) throw new RangeError(`period "${period}" is not a canonical ${kind} (expected ${kind === 'year' ? '2020' : kind === 'quarter' ? '2020-Q1' : '2020-03'})`);
  const year = Number(match[1]);
  if (kind === 'year') return year;
  return kind === 'quarter' ? year * 4 + Number(match[2]) - 1 : year * 12 + Number(match[2]) - 1;
}

/** The canonical period text at a position (inverse of periodIndex). */
export function periodAt(index: number, kind: PeriodKind): string {
  if (!Number.isInteger(index)) throw new RangeError(`periodAt needs an integer position, got ${index}`);
  if (kind === 'year') return String(index);
  const per = kind === 'quarter' ? 4 : 12;
  const year = Math.floor(index / per);
  const sub = index - year * per + 1;
  return kind === 'quarter' ? `${year}-Q${sub}` : `${year}-${String(sub).padStart(2, '0')}`;
}

/** Periods per year of a kind (the seasonal period). */
export function periodsPerYear(kind: PeriodKind): number {
  return kind === 'year' ? 1 : kind === 'quarter' ? 4 : 12;
}

/** Positions of the points and a check that they increase (a Series is in period order). */
export function seriesPositions(series: Series): number[] {
  const positions = series.points.map((p) => periodIndex(p.period, series.periodKind));
  for (let i = 1; i < positions.length; i++) {
    if (positions[i]! <= positions[i - 1]!) {
      throw new RangeError(`series ${series.entity}/${series.indicator}: periods must increase, but ${series.points[i]!.period} follows ${series.points[i - 1]!.period}`);
    }
  }
  for (const p of series.points) {
    if (!Number.isFinite(p.value)) throw new RangeError(`series ${series.entity}/${series.indicator}: value at ${p.period} is ${p.value}; drop missing points (a Series has no missing values)`);
  }
  return positions;
}

/**
 * A unit error: value/expected within a factor of 2 (0.3 decades) of 1000 or 1,000,000 either
 * way, the signature of counts entered in thousands, rates per 100 instead of per 100,000, and
 * the like. Returns the power (1000, 0.001, 1e6, 1e-6) or null.
 */
export function unitErrorFactor(value: number, expected: number): number | null {
  if (!(value > 0 && expected > 0)) return null;
  const decades = Math.log10(value / expected);
  for (const power of [3, 6]) {
    if (Math.abs(Math.abs(decades) - power) <= 0.3) return decades > 0 ? 10 ** power : 10 ** -power;
  }
  return null;
}

/** "A -> B" when point i's source differs from point i-1's (both recorded), else null. */
export function sourceChangeAt(points: readonly SeriesPoint[], i: number): string | null {
  if (i <= 0 || i >= points.length) return null;
  const before = points[i - 1]!.source;
  const after = points[i]!.source;
  if (before == null || after == null || before === after) return null;
  return `${before} -> ${after}`;
}

/** A source change at i or at the point after it (a break can show one period early). */
export function sourceChangeNear(points: readonly SeriesPoint[], i: number): string | null {
  return sourceChangeAt(points, i) ?? sourceChangeAt(points, i + 1);
}

/** One formatter per number of decimals: Number#toLocaleString builds a new one per call (slow). */
const FORMATTERS = [0, 1, 2, 3].map((digits) => new Intl.NumberFormat('en', { maximumFractionDigits: digits, minimumFractionDigits: 0 }));

/** Numbers for reasons: about 3 significant figures, thousands separated, exponent beyond 1e9 or below 1e-4. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const abs = Math.abs(v);
  if (abs !== 0 && (abs >= 1e9 || abs < 1e-4)) return v.toExponential(2);
  return FORMATTERS[abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3]!.format(v);
}

/** Two-sided normal quantile of a prediction interval's level (0.95 -> 1.96). */
export function intervalZ(level: number): number {
  if (!(level > 0 && level < 1)) throw new RangeError(`interval level must be in (0, 1), got ${level}`);
  return normalQuantile(0.5 + level / 2);
}

export interface CellInput {
  readonly point: SeriesPoint;
  readonly detector: string;
  /** The robust z behind the score (the score is scoreFromRobustZ(z)), or the score itself. */
  readonly z?: number;
  readonly score?: number;
  readonly expected?: number | null;
  readonly interval?: readonly [number, number] | null;
  readonly likelyCause: LikelyCause;
  readonly reason: string;
}

/** One CellScore of a univariate detector; the single attribution is the series' own indicator. */
export function makeCell(series: Series, input: CellInput): CellScore {
  const score = input.score ?? scoreFromRobustZ(input.z ?? 0);
  if (!(score >= 0 && score <= 1)) throw new RangeError(`${input.detector}: score ${score} at ${series.entity}/${series.indicator}/${input.point.period} is outside [0, 1]`);
  const expected = input.expected ?? null;
  return {
    entity: series.entity,
    indicator: series.indicator,
    period: input.point.period,
    detector: input.detector,
    score,
    severity: severityOf(score),
    value: input.point.value,
    expected,
    interval: input.interval ?? null,
    attributions: [{ indicator: series.indicator, share: 1, value: input.point.value, ...(expected === null ? {} : { expected }) }],
    likelyCause: input.likelyCause,
    reason: input.reason,
  };
}

/** Checks a minimum-history option: an integer >= 1. */
export function checkCount(name: string, value: number, least: number): number {
  if (!Number.isInteger(value) || value < least) throw new RangeError(`${name} must be an integer >= ${least}, got ${value}`);
  return value;
}
