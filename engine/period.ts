/**
 * Typed periods. Files write periods as `2020`, `2020-Q1`, `2020Q1`, `2020-03` or `202003`;
 * the engine keeps a discriminated union and one canonical text form for storage and keys.
 */
import type { Period } from './types.ts';

const YEAR = /^(\d{4})$/;
const QUARTER = /^(\d{4})-?Q([1-4])$/i;
const MONTH = /^(\d{4})-?(0[1-9]|1[0-2])$/;

/** Earliest and latest years accepted; outside this a period is almost certainly a typo. */
export const MIN_YEAR = 1900;
export const MAX_YEAR = 2100;

/** Parses a period written in any of the accepted forms; returns null when the text is not one. */
export function parsePeriod(text: string): Period | null {
  const trimmed = text.trim();
  let match = YEAR.exec(trimmed);
  if (match) return checkedYear({ kind: 'year', year: Number(match[1]) });
  match = QUARTER.exec(trimmed);
  if (match) {
    return checkedYear({ kind: 'quarter', year: Number(match[1]), quarter: Number(match[2]) as 1 | 2 | 3 | 4 });
  }
  match = MONTH.exec(trimmed);
  if (match) return checkedYear({ kind: 'month', year: Number(match[1]), month: Number(match[2]) });
  return null;
}

function checkedYear(period: Period): Period | null {
  return period.year >= MIN_YEAR && period.year <= MAX_YEAR ? period : null;
}

/** Canonical text: `2020`, `2020-Q1`, `2020-03`. Sorts chronologically within one kind. */
export function formatPeriod(period: Period): string {
  switch (period.kind) {
    case 'year':
      return String(period.year);
    case 'quarter':
      return `${period.year}-Q${period.quarter}`;
    case 'month':
      return `${period.year}-${String(period.month).padStart(2, '0')}`;
  }
}
