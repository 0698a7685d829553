/**
 * Tables with one series per row and one column per period: the World Bank WDI download
 * (`Country Name, Country Code, Indicator Name, Indicator Code, 1960, 1961, ...`) and the London
 * MPS borough file (`MajorText, MinorText, BoroughName, 201004, ...`). Each connector says how a
 * row's key columns give its entity and indicator; the parser here reads the period cells.
 */
import type { InputIssue } from '../errors.ts';
import { formatPeriod, parsePeriod } from '../period.ts';
import type { Period } from '../types.ts';
import type { CatalogueView, ParsedObservation, RecordResult } from './layout.ts';
import { parseCellValue, shorten } from './values.ts';

/** What a row is about: a series (entity and indicator, with the columns they come from), or a row the format drops. */
export type RowKey =
  | { readonly kind: 'dropped' }
  | {
      readonly kind: 'series';
      readonly entity: string;
      readonly entityColumn: number;
      readonly indicator: string;
      readonly indicatorColumn: number;
    };

export interface PeriodColumnsLayout {
  readonly kind: 'period-columns';
  /** The format name recorded with the batch (`wdi`, `mps-borough`). */
  readonly format: string;
  readonly header: readonly string[];
  readonly periods: readonly { readonly column: number; readonly period: Period }[];
  readonly rowKey: (fields: readonly string[]) => RowKey;
}

/** The header cells from `first` on that are periods (an empty trailing column, as WDI writes, is skipped). */
export function periodColumns(header: readonly string[], first: number): { column: number; period: Period }[] | { bad: number } {
  const periods: { column: number; period: Period }[] = [];
  for (let column = first; column < header.length; column++) {
    if (header[column]!.trim() === '' && column === header.length - 1) break;
    const period = parsePeriod(header[column]!);
    if (!period) return { bad: column };
    periods.push({ column, period });
  }
  return periods;
}

type AddIssue = (issues: InputIssue[], line: number, column: number | undefined, message: string, value?: string) => void;

export function createPeriodColumnsParser(layout: PeriodColumnsLayout, catalogue: CatalogueView, addIssue: AddIssue) {
  const periodTexts = layout.periods.map(({ period }) => formatPeriod(period));
  return function parseRecord(fields: readonly string[], line: number): RecordResult {
    const issues: InputIssue[] = [];
    if (fields.length !== layout.header.length) {
      addIssue(issues, line, undefined, `the row has ${fields.length} columns, the header has ${layout.header.length} (a truncated or misaligned row)`);
      return { observations: [], issues, missing: 0 };
    }
    const key = layout.rowKey(fields);
    if (key.kind === 'dropped') return { observations: [], issues, missing: 0, dropped: true };
    const entity = catalogue.resolveEntity(key.entity);
    if (!entity) addIssue(issues, line, key.entityColumn, `unknown country or entity "${shorten(key.entity)}"`, key.entity);
    if (!catalogue.indicatorUnits.has(key.indicator)) {
      addIssue(issues, line, key.indicatorColumn, `the row maps to indicator "${key.indicator}", which is not in the catalogue; register it first (\`threatlens indicators add\`)`, fields[key.indicatorColumn]!);
    }
    const observations: ParsedObservation[] = [];
    let missing = 0;
    layout.periods.forEach(({ column, period }, i) => {
      const parsed = parseCellValue(fields[column]!);
      if (parsed.kind === 'missing') {
        missing++;
        return;
      }
      if (parsed.kind === 'invalid') {
        addIssue(issues, line, column, parsed.reason, fields[column]!);
        return;
      }
      observations.push({
        line,
        entity: entity ?? '',
        indicator: key.indicator,
        period,
        periodText: periodTexts[i]!,
        value: parsed.value,
        qualifier: parsed.qualifier,
        flags: parsed.flags,
        source: null,
      });
    });
    return { observations: issues.length > 0 ? [] : observations, issues, missing };
  };
}
