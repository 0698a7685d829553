/**
 * Layouts whose rows are parts of observations, summed by key (entity, indicator, period) at the
 * end of the table: the UNODC workbooks repeat a key where their export collapsed sub-categories
 * (GLOTIP's several "other forms of exploitation"; the seizures of one drug reported twice), and
 * drug-group totals are computed where the file gives none. A row may feed several keys; at each
 * key only the contributions of the highest priority count (a published total beats a sum), and a
 * key may roll up into a total key, which is computed from its parts where the file gives none.
 * A sum with a censored part (`<5`) stays censored: `<` the sum of the exact parts and the bounds.
 */
import type { InputIssue } from '../errors.ts';
import { formatPeriod, parsePeriod } from '../period.ts';
import type { Period } from '../types.ts';
import type { CatalogueView, ParsedObservation, RecordResult } from './layout.ts';
import { parseCellValue, shorten } from './values.ts';

/** One part of an observation that a row gives. */
export interface Contribution {
  readonly indicator: string;
  /** Higher beats lower at the same key (1: the file's own total; 0: a part to sum). */
  readonly priority: number;
  /** A total this key's value adds into at the end, unless the file gives that total itself. */
  readonly rollUp?: string;
}

/** What a row is, before entity, period and value are checked. */
export type RowReading =
  | { readonly kind: 'dropped'; readonly reason: 'aggregate' | 'breakdown' }
  | { readonly kind: 'invalid'; readonly column: number; readonly message: string; readonly value: string }
  | { readonly kind: 'parts'; readonly contributions: readonly Contribution[]; readonly valueText: string };

export interface SummedLayout {
  readonly kind: 'summed';
  /** The connector: `unodc-glotip`, `unodc-seizures`. */
  readonly format: string;
  readonly header: readonly string[];
  readonly entity: number;
  readonly period: number;
  readonly value: number;
  /** The column named in issues about an indicator code built from the row. */
  readonly indicatorColumn: number;
  readonly source?: number;
  /** Reads one row; pure, no catalogue. */
  readonly read: (fields: readonly string[]) => RowReading;
}

type AddIssue = (issues: InputIssue[], line: number, column: number | undefined, message: string, value?: string) => void;

interface Accumulator {
  line: number;
  entity: string;
  indicator: string;
  period: Period;
  priority: number;
  exact: number;
  bound: number;
  censored: number;
  rows: number;
  source: string | null;
  rollUp?: string;
}

/** Flag of an observation summed from several rows of the file. */
export const SUMMED_FLAG = 'sum';

/**
 * A record parser that checks each row and keeps its parts; `finish` returns the summed
 * observations. O(rows) time, O(keys) memory (about 30,000 keys for GLOTIP).
 */
export function createSummedParser(layout: SummedLayout, catalogue: CatalogueView, addIssue: AddIssue) {
  const sums = new Map<string, Accumulator>();
  const periods = new Map<string, Period | null>();
  const parseRecord = (fields: readonly string[], line: number): RecordResult => {
    const issues: InputIssue[] = [];
    if (fields.length !== layout.header.length) {
      addIssue(issues, line, undefined, `the row has ${fields.length} columns, the header has ${layout.header.length} (a truncated or misaligned row)`);
      return { observations: [], issues, missing: 0 };
    }
    const reading = layout.read(fields);
    if (reading.kind === 'dropped') return { observations: [], issues, missing: 0, dropped: reading.reason === 'breakdown' ? 'breakdown' : true };
    if (reading.kind === 'invalid') {
      addIssue(issues, line, reading.column, reading.message, reading.value);
      return { observations: [], issues, missing: 0 };
    }
    const entityText = fields[layout.entity]!;
    const entity = catalogue.resolveEntity(entityText);
    if (!entity) addIssue(issues, line, layout.entity, `unknown country or entity "${shorten(entityText)}"`, entityText);
    const periodText = fields[layout.period]!;
    let period = periods.get(periodText);
    if (period === undefined) periods.set(periodText, (period = parsePeriod(periodText)));
    if (!period) addIssue(issues, line, layout.period, `"${shorten(periodText)}" is not a period (expected a year such as 2020)`, periodText);
    for (const indicator of reading.contributions.flatMap((c) => (c.rollUp ? [c.indicator, c.rollUp] : [c.indicator]))) {
      if (!catalogue.indicatorUnits.has(indicator)) {
        addIssue(issues, line, layout.indicatorColumn, `maps to indicator "${indicator}", which is not in the catalogue; register it first (\`threatlens indicators add\`)`, fields[layout.indicatorColumn]!);
      }
    }
    const parsed = parseCellValue(reading.valueText);
    if (parsed.kind === 'invalid') addIssue(issues, line, layout.value, parsed.reason, reading.valueText);
    if (parsed.kind === 'number' && parsed.qualifier === '>') addIssue(issues, line, layout.value, `"${shorten(reading.valueText)}" is a lower bound, which cannot be summed`, reading.valueText);
    if (issues.length > 0 || parsed.kind !== 'number' || !entity || !period) {
      return { observations: [], issues, missing: parsed.kind === 'missing' ? 1 : 0 };
    }
    const source = layout.source !== undefined ? fields[layout.source]!.trim() || null : null;
    for (const { indicator, priority, rollUp } of reading.contributions) {
      const key = `${entity}\t${indicator}\t${formatPeriod(period)}`;
      let sum = sums.get(key);
      if (!sum || priority > sum.priority) {
        sum = { line, entity, indicator, period, priority, exact: 0, bound: 0, censored: 0, rows: 0, source, ...(rollUp ? { rollUp } : {}) };
        sums.set(key, sum);
      } else if (priority < sum.priority) continue;
      if (parsed.qualifier === '<') {
        sum.bound += parsed.value;
        sum.censored++;
      } else sum.exact += parsed.value;
      sum.rows++;
    }
    return { observations: [], issues, missing: 0 };
  };
  const finish = (): ParsedObservation[] => {
    for (const part of [...sums.values()]) {
      if (!part.rollUp) continue;
      const key = `${part.entity}\t${part.rollUp}\t${formatPeriod(part.period)}`;
      let total = sums.get(key);
      if (total && total.priority > 0) continue; // the file's own total wins
      if (!total) {
        total = { ...part, indicator: part.rollUp, priority: 0, exact: 0, bound: 0, censored: 0, rows: 0 };
        delete total.rollUp;
        sums.set(key, total);
      }
      total.line = Math.min(total.line, part.line);
      total.exact += part.exact;
      total.bound += part.bound;
      total.censored += part.censored;
      total.rows += part.rows;
    }
    return [...sums.values()].map(toObservation);
  };
  return Object.assign(parseRecord, { finish });
}

function toObservation(sum: Accumulator): ParsedObservation {
  return {
    line: sum.line,
    entity: sum.entity,
    indicator: sum.indicator,
    period: sum.period,
    periodText: formatPeriod(sum.period),
    value: sum.exact + sum.bound,
    qualifier: sum.censored > 0 ? '<' : null,
    flags: sum.rows > 1 ? [SUMMED_FLAG] : [],
    source: sum.source,
  };
}
