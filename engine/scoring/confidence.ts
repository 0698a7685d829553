/**
 * Confidence of a score: `high`, `medium` or `low`, with the reasons, from four factors: data
 * coverage, recency, the reliability grade of the sources, and the width of the Monte Carlo rank
 * interval. In the spirit of INFORM's reliability index (missing and out-of-date data) and of
 * MoRiLE's confidence score (METHODS.md).
 *
 * Rule: each factor gets a level from the thresholds of `CONFIDENCE_THRESHOLDS`; the score's level
 * is the WORST of the factors assessed. Why not points: a score is no more trustworthy than its
 * weakest input, and a points system would let full coverage hide a ten-year-old figure, which is
 * exactly what an analyst must be told. A factor whose input is not given (no grades recorded, no
 * Monte Carlo run) is reported as not assessed and does not lower the level.
 *
 * | factor        | measure                                                   | high        | medium       | low        |
 * |---------------|-----------------------------------------------------------|-------------|--------------|------------|
 * | coverage      | share of the framework's indicators present and observed   | >= 0.80     | >= 0.66      | < 0.66     |
 * | recency       | years since the latest value, the stalest indicator        | <= 2        | <= 5         | > 5        |
 * | reliability   | weakest grade on the common scale (source, information)   | both <= 2   | both <= 3    | either 4   |
 * | rank interval | (95th - 5th percentile rank) / number of units            | <= 0.10     | <= 0.25      | > 0.25     |
 *
 * 0.66 is COINr's default data-availability threshold. The common reliability scale, 1 best to 4
 * worst, puts the two grading schemes on one ordering (`reliabilityTier`).
 */
import type { SourceGrade } from '../ingest/grades.ts';

export type ConfidenceLevel = 'high' | 'medium' | 'low';
export type ConfidenceFactor = 'coverage' | 'recency' | 'reliability' | 'rank_interval';

export const CONFIDENCE_THRESHOLDS = {
  coverage: { high: 0.8, medium: 0.66 },
  recencyYears: { high: 2, medium: 5 },
  reliabilityTier: { high: 2, medium: 3 },
  rankIntervalWidth: { high: 0.1, medium: 0.25 },
} as const;

const ORDER: Readonly<Record<ConfidenceLevel, number>> = { high: 0, medium: 1, low: 2 };

export interface ConfidenceReason {
  readonly factor: ConfidenceFactor;
  /** Null when the factor was not assessed (its input was not given). */
  readonly level: ConfidenceLevel | null;
  /** Machine code: `<factor>_<level>` or `<factor>_not_assessed`. */
  readonly code: string;
  /** One short human-readable sentence made only of the inputs. */
  readonly message: string;
}

export interface Confidence {
  readonly level: ConfidenceLevel;
  /** Worst first; factors not assessed last. */
  readonly reasons: readonly ConfidenceReason[];
}

export interface ConfidenceInput {
  /** Year of the score. */
  readonly year: number;
  /** Every indicator of the framework (the denominator of coverage). */
  readonly indicators: readonly string[];
  /** The entity's values that entered the score (missing = absent). */
  readonly values: ReadonlyMap<string, unknown>;
  /** Imputation method per indicator whose value was imputed. */
  readonly imputed?: ReadonlyMap<string, string>;
  /** Year of the latest observed value per indicator. */
  readonly latestYear?: ReadonlyMap<string, number>;
  /** Grades of the batches the values came from (one per batch is enough). */
  readonly grades?: readonly SourceGrade[];
  /** The Monte Carlo rank interval: 5th and 95th percentile ranks among `units` units. */
  readonly rankInterval?: { readonly low: number; readonly high: number; readonly units: number };
  /** Display names of indicators, for the messages. */
  readonly labels?: ReadonlyMap<string, string>;
}

/** Level of a measure where more is better (coverage). */
function atLeast(x: number, t: { readonly high: number; readonly medium: number }): ConfidenceLevel {
  return x >= t.high ? 'high' : x >= t.medium ? 'medium' : 'low';
}

/** Level of a measure where less is better (age, interval width, tier). */
function atMost(x: number, t: { readonly high: number; readonly medium: number }): ConfidenceLevel {
  return x <= t.high ? 'high' : x <= t.medium ? 'medium' : 'low';
}

/** Coverage level from the share of indicators present and not imputed. */
export function coverageLevel(share: number): ConfidenceLevel {
  return atLeast(share, CONFIDENCE_THRESHOLDS.coverage);
}

/** Recency level from the years since the stalest indicator's latest value. */
export function recencyLevel(years: number): ConfidenceLevel {
  return atMost(years, CONFIDENCE_THRESHOLDS.recencyYears);
}

/** Rank-interval level from (95th - 5th percentile rank) / units. */
export function rankIntervalLevel(width: number): ConfidenceLevel {
  return atMost(width, CONFIDENCE_THRESHOLDS.rankIntervalWidth);
}

/** Reliability level from a grade's tiers on the common scale: the worse of the two decides. */
export function reliabilityLevel(tier: { readonly source: number; readonly information: number }): ConfidenceLevel {
  return atMost(Math.max(tier.source, tier.information), CONFIDENCE_THRESHOLDS.reliabilityTier);
}

/**
 * Puts an Admiralty (A-F, 1-6) or Europol 4x4 (A, B, C, X; 1-4) grade on one scale, 1 best to 4
 * worst, for source and information separately:
 *
 * | tier | source: Admiralty / Europol                                  | information: Admiralty / Europol |
 * |------|--------------------------------------------------------------|----------------------------------|
 * | 1    | A completely reliable / A no doubt, reliable in all instances | 1 confirmed / 1 accuracy not in doubt |
 * | 2    | B usually reliable / B mostly reliable                       | 2 probably true / 2 known personally to the source |
 * | 3    | C fairly reliable / -                                        | 3 possibly true / 3 corroborated, not known personally |
 * | 4    | D, E not usually reliable, unreliable; F cannot be judged / C mostly unreliable, X cannot be assessed | 4 doubtful, 5 improbable, 6 cannot be judged / 4 cannot be corroborated |
 *
 * "Cannot be judged" sits with the worst: a grade nobody could judge gives no ground for confidence.
 */
export function reliabilityTier(grade: SourceGrade): { source: number; information: number } {
  const info = Number(grade.information);
  if (grade.scheme === 'europol_4x4') {
    const source = grade.source === 'A' ? 1 : grade.source === 'B' ? 2 : 4;
    return { source, information: Math.min(info, 4) };
  }
  const source = grade.source === 'A' ? 1 : grade.source === 'B' ? 2 : grade.source === 'C' ? 3 : 4;
  return { source, information: Math.min(info, 4) };
}

function gradeText(grade: SourceGrade): string {
  return `${grade.scheme === 'europol_4x4' ? 'Europol ' : ''}${grade.source}${grade.information}`;
}

function coverageReason(input: ConfidenceInput): ConfidenceReason {
  const total = input.indicators.length;
  const imputed = input.indicators.filter((c) => input.values.has(c) && input.imputed?.has(c)).length;
  const missing = input.indicators.filter((c) => !input.values.has(c)).length;
  const observed = total - imputed - missing;
  const level = coverageLevel(total === 0 ? 0 : observed / total);
  return { factor: 'coverage', level, code: `coverage_${level}`, message: `${observed} of ${total} indicators observed (${imputed} imputed, ${missing} missing)` };
}

function recencyReason(input: ConfidenceInput): ConfidenceReason {
  let stalest: { code: string; year: number } | null = null;
  for (const code of input.indicators) {
    const year = input.latestYear?.get(code);
    if (!input.values.has(code) || year === undefined) continue;
    if (stalest === null || year < stalest.year) stalest = { code, year };
  }
  if (stalest === null) return { factor: 'recency', level: null, code: 'recency_not_assessed', message: 'the years of the latest values were not given' };
  const level = recencyLevel(input.year - stalest.year);
  const label = input.labels?.get(stalest.code) ?? stalest.code;
  return { factor: 'recency', level, code: `recency_${level}`, message: `the latest ${label} value is from ${stalest.year}` };
}

function reliabilityReason(input: ConfidenceInput): ConfidenceReason {
  if (!input.grades || input.grades.length === 0) {
    return { factor: 'reliability', level: null, code: 'reliability_not_assessed', message: 'no source grade recorded' };
  }
  let worst = input.grades[0]!;
  let worstTier = reliabilityTier(worst);
  for (const grade of input.grades) {
    const tier = reliabilityTier(grade);
    if (Math.max(tier.source, tier.information) > Math.max(worstTier.source, worstTier.information)) [worst, worstTier] = [grade, tier];
  }
  const level = reliabilityLevel(worstTier);
  return { factor: 'reliability', level, code: `reliability_${level}`, message: `the weakest source grade is ${gradeText(worst)}` };
}

function rankIntervalReason(input: ConfidenceInput): ConfidenceReason {
  const r = input.rankInterval;
  if (!r || !(r.units > 0)) return { factor: 'rank_interval', level: null, code: 'rank_interval_not_assessed', message: 'no rank interval computed' };
  const level = rankIntervalLevel((r.high - r.low) / r.units);
  return { factor: 'rank_interval', level, code: `rank_interval_${level}`, message: `the 90% rank interval is ${r.low}-${r.high} of ${r.units}` };
}

/**
 * Assesses the confidence of one entity's score (see the module comment for the rule and the
 * thresholds). O(indicators + grades).
 *
 * @example
 * assessConfidence({ year: 2022, indicators: ['a', 'b'], values: new Map([['a', 1], ['b', 2]]) })
 * // { level: 'high', reasons: [coverage_high, recency_not_assessed, ...] }
 */
export function assessConfidence(input: ConfidenceInput): Confidence {
  const reasons = [coverageReason(input), recencyReason(input), reliabilityReason(input), rankIntervalReason(input)];
  const rank = (r: ConfidenceReason) => (r.level === null ? -1 : ORDER[r.level]);
  const level = reasons.reduce<ConfidenceLevel>((worst, r) => (r.level !== null && ORDER[r.level] > ORDER[worst] ? r.level : worst), 'high');
  // Stable sort: worst first, factors not assessed last.
  return { level, reasons: [...reasons].sort((a, b) => rank(b) - rank(a)) };
}
