/**
 * The contract every anomaly detector follows, so that the ensemble, the evaluation harness, the
 * store and the API treat them alike.
 *
 * A detector scores CELLS (entity x indicator x period). Univariate detectors score each cell of a
 * series; multivariate detectors score a ROW (entity x period across indicators) and spread the
 * row score onto its cells through the attribution (which indicator made the row unusual).
 *
 * Scores are in [0, 1], higher is more anomalous, and each detector documents how its raw
 * statistic maps to the score. Robust z-statistics use `scoreFromRobustZ` so that |z| = 3.5 (the
 * Iglewicz-Hoaglin cut-off for the modified z-score) is 0.5 everywhere.
 */

export type Severity = 'none' | 'low' | 'medium' | 'high';

/** What a flag most likely is: a problem with the data (unit error, reporting break) or a real change. */
export type LikelyCause = 'data_problem' | 'real_change' | 'unclear';

export type PeriodKind = 'year' | 'quarter' | 'month';

export interface SeriesPoint {
  /** Canonical period text (`2020`, `2020-Q1`, `2020-03`; engine/period.ts). */
  readonly period: string;
  readonly value: number;
  /** Row-level source as ingested; a change of source marks a possible reporting break. */
  readonly source?: string | null;
  /** The ingestion batch the value came from (provenance). */
  readonly batchId?: number;
  /** Where known: the count behind a rate and the population it is divided by (count noise). */
  readonly count?: number;
  readonly population?: number;
}

/** One series, its points in period order, without missing values (gaps are simply absent). */
export interface Series {
  readonly entity: string;
  readonly indicator: string;
  readonly periodKind: PeriodKind;
  readonly points: readonly SeriesPoint[];
}

/** How much one indicator contributed to a flag; shares of one flag sum to 1. */
export interface Attribution {
  readonly indicator: string;
  readonly share: number;
  readonly value?: number;
  readonly expected?: number;
}

/** A scored cell. `score` is in [0, 1]; `severity` follows `severityOf(score)`. */
export interface CellScore {
  readonly entity: string;
  readonly indicator: string;
  readonly period: string;
  readonly detector: string;
  readonly score: number;
  readonly severity: Severity;
  readonly value: number | null;
  /** The value the detector expected (trend, seasonal fit, nowcast, reconstruction), if it has one. */
  readonly expected?: number | null;
  /** A prediction interval around `expected`, where the detector has one. */
  readonly interval?: readonly [number, number] | null;
  readonly attributions: readonly Attribution[];
  readonly likelyCause: LikelyCause;
  /** One sentence a reader can follow: what was expected, what was seen, why it counts. */
  readonly reason: string;
}

/** Score thresholds of the severities; documented in the README. */
export const SEVERITY_THRESHOLDS: Readonly<Record<Exclude<Severity, 'none'>, number>> = {
  low: 0.5,
  medium: 0.75,
  high: 0.9,
};

export function severityOf(score: number): Severity {
  if (score >= SEVERITY_THRESHOLDS.high) return 'high';
  if (score >= SEVERITY_THRESHOLDS.medium) return 'medium';
  if (score >= SEVERITY_THRESHOLDS.low) return 'low';
  return 'none';
}

/** The modified z-score's cut-off (Iglewicz and Hoaglin, 1993); maps to a score of 0.5. */
export const ROBUST_Z_CUTOFF = 3.5;

/**
 * Score of a robust z-statistic: 1 - 2^(-(|z| / 3.5)^2). |z| = 3.5 gives 0.5 (low), 5 gives 0.76
 * (medium), 6.2 gives 0.89, 7 gives 0.94 (high); monotone, so ranks (ROC-AUC) are those of |z|.
 */
export function scoreFromRobustZ(z: number): number {
  if (!Number.isFinite(z)) return Number.isNaN(z) ? 0 : 1;
  const r = Math.abs(z) / ROBUST_Z_CUTOFF;
  return 1 - Math.pow(2, -r * r);
}

/** The robust z that gives a score (inverse of scoreFromRobustZ), for thresholds in z units. */
export function robustZForScore(score: number): number {
  return ROBUST_Z_CUTOFF * Math.sqrt(-Math.log2(1 - score));
}

/** 1.4826 x MAD estimates the standard deviation of normal data. */
export const MAD_TO_SD = 1.482602218505602;
