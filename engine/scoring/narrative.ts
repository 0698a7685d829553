/**
 * A short plain-language paragraph about one entity's score, written ONLY from the numbers and
 * labels passed in: nothing is looked up, estimated or inferred, and a part whose input is absent
 * (no band, no rank, no interval, no previous year, no confidence) is left out, never filled in.
 * Every number in the text is an input number rounded as shown (test/narrative.test.ts checks it).
 *
 * @example
 * narrate({ entity: 'Albania', framework: 'OSCE threat framework', year: 2022, score: 6.43, scaleMax: 10,
 *   band: 'high', rank: { rank: 9, of: 57 }, interval: { level: 90, low: 6, high: 14 },
 *   drivers: [{ label: 'cocaine trade', value: 1.21 }] })
 * // "Albania scores 6.4 of 10 on the OSCE threat framework in 2022 (high band, rank 9 of 57, 90% interval 6-14).
 * //  The main driver is cocaine trade (+1.2)."
 */
import type { ConfidenceLevel } from './confidence.ts';

export interface NarrativeDriver {
  readonly label: string;
  /** Score points (additive contribution) or a multiplicative factor (geometric roots, `explain.ts`). */
  readonly value: number;
  readonly kind?: 'points' | 'factor';
}

export interface NarrativeInput {
  readonly entity: string;
  /** As it should read after "on the": "OSCE threat framework". */
  readonly framework: string;
  readonly year: number;
  /** Null when the entity has no score (no indicator present). */
  readonly score: number | null;
  /** Top of the scale, e.g. 10 ("6.4 of 10"). */
  readonly scaleMax?: number;
  readonly band?: string;
  readonly rank?: { readonly rank: number; readonly of: number };
  /** Rank interval from the Monte Carlo, with its coverage in percent (90 for 5th-95th). */
  readonly interval?: { readonly level: number; readonly low: number; readonly high: number };
  /** Largest contributions, in the order to be told; at most three are told. */
  readonly drivers?: readonly NarrativeDriver[];
  /** Indicators pulling the score down, most first; at most two are told. */
  readonly pullingDown?: readonly NarrativeDriver[];
  /** Change since an earlier year and its split into contributions (score points). */
  readonly change?: { readonly fromYear: number; readonly change: number; readonly contributions: readonly NarrativeDriver[] };
  readonly confidence?: { readonly level: ConfidenceLevel; readonly reasons: readonly string[] };
  /** Decimals for scores and points (default 1); factors get one more. */
  readonly digits?: number;
}

/** x to `digits` decimals, without a negative zero. */
export function formatNumber(x: number, digits: number): string {
  const text = x.toFixed(digits);
  return Number(text) === 0 ? (0).toFixed(digits) : text;
}

/** "+1.2", "-0.4", "0.0" for points; "×1.12" for factors. */
export function formatContribution(driver: NarrativeDriver, digits: number): string {
  if (driver.kind === 'factor') return `×${formatNumber(driver.value, digits + 1)}`;
  const text = formatNumber(driver.value, digits);
  return Number(text) > 0 ? `+${text}` : text;
}

/** "a", "a and b", "a, b and c". */
function list(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function told(drivers: readonly NarrativeDriver[], digits: number): string {
  return list(drivers.map((d) => `${d.label} (${formatContribution(d, digits)})`));
}

/** First sentence: the score, with band, rank and interval where given. */
export function headline(input: NarrativeInput, digits: number): string {
  if (input.score === null) return `${input.entity} has no score on the ${input.framework} in ${input.year}.`;
  const of = input.scaleMax !== undefined ? ` of ${formatNumber(input.scaleMax, 0)}` : '';
  const parts = [
    input.band ? `${input.band} band` : null,
    input.rank ? `rank ${input.rank.rank} of ${input.rank.of}` : null,
    input.interval ? `${formatNumber(input.interval.level, 0)}% interval ${formatNumber(input.interval.low, 0)}-${formatNumber(input.interval.high, 0)}` : null,
  ].filter((p): p is string => p !== null);
  return `${input.entity} scores ${formatNumber(input.score, digits)}${of} on the ${input.framework} in ${input.year}${parts.length ? ` (${parts.join(', ')})` : ''}.`;
}

/** The drivers, and what pulls the score down; empty when none are given. */
export function driverSentences(input: NarrativeInput, digits: number): string[] {
  const out: string[] = [];
  const up = (input.drivers ?? []).slice(0, 3);
  if (up.length > 0) out.push(`The main ${up.length === 1 ? 'driver is' : 'drivers are'} ${told(up, digits)}.`);
  const down = (input.pullingDown ?? []).slice(0, 2);
  if (down.length > 0) out.push(`${capitalise(told(down, digits))} ${down.length === 1 ? 'pulls' : 'pull'} it down most.`);
  return out;
}

/**
 * The change since the earlier year, "mostly from" the largest contributions of the same sign
 * (at most two, only those not zero at the precision shown). Empty without a change.
 */
export function changeSentence(input: NarrativeInput, digits: number): string | null {
  const c = input.change;
  if (!c) return null;
  const size = formatNumber(Math.abs(c.change), digits);
  if (Number(size) === 0) return `Since ${c.fromYear} the score is unchanged at this precision.`;
  const sign = Math.sign(c.change);
  const same = c.contributions
    .filter((d) => Math.sign(d.value) === sign && Number(formatNumber(d.value, digits)) !== 0)
    .sort((a, b) => Math.abs(b.value) - Math.abs(a.value))
    .slice(0, 2);
  const mostly = same.length > 0 ? `, mostly from ${told(same, digits)}` : '';
  return `Since ${c.fromYear} the score ${sign > 0 ? 'rose' : 'fell'} by ${size}${mostly}.`;
}

/** "Confidence is medium: reason; reason." */
export function confidenceSentence(input: NarrativeInput): string | null {
  const c = input.confidence;
  if (!c) return null;
  return `Confidence is ${c.level}${c.reasons.length ? `: ${c.reasons.join('; ')}` : ''}.`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The paragraph: headline, drivers, change, confidence, each only when its input is given. */
export function narrate(input: NarrativeInput): string {
  const digits = input.digits ?? 1;
  if (input.score === null) return [headline(input, digits), confidenceSentence(input)].filter((s) => s !== null).join(' ');
  return [headline(input, digits), ...driverSentences(input, digits), changeSentence(input, digits), confidenceSentence(input)]
    .filter((s): s is string => s !== null)
    .join(' ');
}
