/**
 * The two generic table layouts ThreatLens reads:
 * - long: one row per observation (entity, period, indicator, value [, unit, source, flags]);
 * - wide: one row per entity-period and one column per indicator (Our World in Data, national portals).
 * `detectLayout` reads the header; `createRecordParser` turns records into observations or issues.
 */
import { formatIssue, ThreatLensError, type InputIssue } from '../errors.ts';
import { formatPeriod, parsePeriod } from '../period.ts';
import type { Period } from '../types.ts';
import { gociLayout, looksLikeGoci } from './goci.ts';
import { looksLikeOwid, owidLayout } from './owid.ts';
import { looksLikeUnodcCts, unodcCtsLayout } from './unodc-cts.ts';
import { looksLikeWgi, wgiLayout } from './wgi.ts';
import {
  eurostatIndicatorCode,
  eurostatLayout,
  isEurostatAggregate,
  looksLikeEurostat,
  type EurostatLayout,
} from './eurostat.ts';
import { parseCellValue, shorten } from './values.ts';
import { createPeriodColumnsParser, type PeriodColumnsLayout } from './period-columns.ts';
import { isWdiPreamble, looksLikeWbPopulation, looksLikeWdi, wbPopulationLayout, wdiLayout } from './worldbank.ts';
import { looksLikeMpsBorough, mpsBoroughLayout } from './london-mps.ts';
import { createSummedParser, type SummedLayout } from './summed.ts';
import { glotipLayout, looksLikeGlotip, missingGlotipColumns } from './unodc-glotip.ts';
import { looksLikeSeizures, missingSeizureColumns, seizuresLayout } from './unodc-seizures.ts';

export type LayoutFormat = 'auto' | 'long' | 'wide' | 'goci' | 'owid' | 'wgi' | 'eurostat' | 'unodc-cts' | 'wdi' | 'mps-borough' | 'unodc-glotip' | 'unodc-seizures';

/** Rows that describe regions or aggregates, not countries: dropped and counted, not errors. */
export interface AggregateRows {
  readonly column: number;
  readonly isAggregate: (text: string) => boolean;
}

export interface LongLayout {
  readonly kind: 'long';
  /** The format name recorded with the batch: `long`, or the connector's (`wgi`). */
  readonly format: string;
  /** Publisher codes of indicators that the catalogue knows by another code (WGI's `rl`). */
  readonly indicatorAliases?: ReadonlyMap<string, string>;
  /** More value columns per row, stored as indicator code + suffix (a standard error: `_se`). */
  readonly extraValues?: readonly { readonly column: number; readonly suffix: string }[];
  /** The indicator code built from several columns (UNODC: category and unit). */
  readonly indicatorFromRow?: (fields: readonly string[]) => string;
  readonly aggregateRows?: AggregateRows;
  readonly header: readonly string[];
  readonly entity: number;
  readonly period: number;
  readonly indicator: number;
  readonly value: number;
  readonly unit?: number;
  readonly source?: number;
  readonly flags?: number;
}

export interface WideLayout {
  readonly kind: 'wide';
  /** The format name recorded with the batch: `wide`, or the connector's (`goci`, `owid`). */
  readonly format: string;
  readonly header: readonly string[];
  readonly entity: number;
  /** The period column, or a period that holds for the whole file (a GOCI edition year). */
  readonly period: number | { readonly fixed: Period };
  readonly source?: number;
  readonly indicators: readonly { readonly column: number; readonly code: string }[];
  readonly aggregateRows?: AggregateRows;
}

export type Layout = LongLayout | WideLayout | EurostatLayout | PeriodColumnsLayout | SummedLayout;

/** Lines some publishers write above the header (the World Bank's `Data Source`): skipped. */
export function isPreamble(fields: readonly string[]): boolean {
  return isWdiPreamble(fields);
}

/** What the catalogue knows, for matching columns and checking rows. */
export interface CatalogueView {
  /** Indicator code -> catalogue unit. */
  readonly indicatorUnits: ReadonlyMap<string, string>;
  /** Normalised indicator name -> code, so wide headers may use names. */
  readonly indicatorNames: ReadonlyMap<string, string>;
  /** Country code or name as written -> ISO3 code known to the store, or null. */
  resolveEntity(text: string): string | null;
}

const ENTITY_HEADERS = ['entity', 'iso3', 'iso3_code', 'country_code', 'code', 'geo', 'country', 'area', 'country_or_area'];
const PERIOD_HEADERS = ['period', 'year', 'time', 'time_period', 'date'];
const INDICATOR_HEADERS = ['indicator', 'indicator_code', 'variable', 'series', 'series_code'];
const VALUE_HEADERS = ['value', 'obs_value'];
const UNIT_HEADERS = ['unit', 'unit_of_measurement'];
const SOURCE_HEADERS = ['source'];
const FLAG_HEADERS = ['flag', 'flags', 'obs_status', 'note'];
/** Wide-layout columns that describe the row rather than hold an indicator. */
const WIDE_DESCRIPTIVE = ['name', 'country', 'country_name', 'entity', 'region', 'subregion', 'continent', 'unit'];

export function normaliseHeader(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
}

function findColumn(normalised: readonly string[], names: readonly string[]): number | undefined {
  for (const name of names) {
    const index = normalised.indexOf(name);
    if (index >= 0) return index;
  }
  return undefined;
}

export function detectLayout(
  header: readonly string[],
  format: LayoutFormat,
  file: string,
  catalogue: CatalogueView,
  options: { period?: Period; headerLine?: number } = {},
): Layout {
  // Spreadsheets put their header below a title (the seizures sheet: line 2).
  const headerLine = options.headerLine ?? 1;
  if (format === 'unodc-glotip' || (format === 'auto' && looksLikeGlotip(header))) {
    const missing = missingGlotipColumns(header);
    if (missing.length > 0) headerError(file, `not a UNODC GLOTIP table: column "${missing[0]}" is missing`, headerLine, missing[0]);
    return glotipLayout(header);
  }
  if (format === 'unodc-seizures' || (format === 'auto' && looksLikeSeizures(header))) {
    const missing = missingSeizureColumns(header);
    if (missing.length > 0) headerError(file, `not a UNODC drug seizures table: column "${missing[0]}" is missing`, headerLine, missing[0]);
    return seizuresLayout(header);
  }
  if (format === 'goci' || (format === 'auto' && looksLikeGoci(header))) {
    const layout = gociLayout(header, options.period);
    if (!layout) headerError(file, 'not a Global Organized Crime Index table: expected a country column and the GI-TOC indicator columns', headerLine);
    return layout;
  }
  if (format === 'unodc-cts' || (format === 'auto' && looksLikeUnodcCts(header))) {
    if (!looksLikeUnodcCts(header)) headerError(file, 'not a UNODC data-portal table: expected Iso3_code, Category, Sex, Age, Year, Unit of measurement, VALUE', headerLine);
    return unodcCtsLayout(header);
  }
  if (format === 'eurostat' || (format === 'auto' && looksLikeEurostat(header))) {
    const layout = eurostatLayout(header);
    if ('problem' in layout) headerError(file, `not a Eurostat bulk TSV: ${layout.problem}`, headerLine);
    return layout;
  }
  if (format === 'wdi' || (format === 'auto' && (looksLikeWdi(header) || looksLikeWbPopulation(header)))) {
    if (looksLikeWbPopulation(header)) return wbPopulationLayout(header);
    const layout = looksLikeWdi(header) ? wdiLayout(header) : { problem: 'expected Country Name, Country Code, Indicator Name, Indicator Code and year columns, or iso3, year, population' };
    if ('problem' in layout) headerError(file, `not a World Bank WDI table: ${layout.problem}`, headerLine);
    return layout;
  }
  if (format === 'mps-borough' || (format === 'auto' && looksLikeMpsBorough(header))) {
    const layout = looksLikeMpsBorough(header) ? mpsBoroughLayout(header) : { problem: 'expected MajorText, MinorText, BoroughName and month columns (YYYYMM)' };
    if ('problem' in layout) headerError(file, `not a London MPS borough table: ${layout.problem}`, headerLine);
    return layout;
  }
  if (format === 'wgi' || (format === 'auto' && looksLikeWgi(header))) {
    if (!looksLikeWgi(header)) headerError(file, `not a Worldwide Governance Indicators table: expected columns codeindyr, ${['code', 'year', 'indicator', 'estimate', 'stddev'].join(', ')}`, headerLine);
    return wgiLayout(header);
  }
  if (format === 'owid' || (format === 'auto' && looksLikeOwid(header))) {
    if (!looksLikeOwid(header)) headerError(file, 'not an Our World in Data grapher CSV: expected Entity, Code, Year, then one column per indicator', headerLine);
    const layout = owidLayout(header, catalogue);
    if ('unknown' in layout) {
      headerError(file, `Our World in Data columns ${layout.unknown.map((c) => `"${shorten(c)}"`).join(', ')} are not indicators in the catalogue`, headerLine);
    }
    return layout;
  }
  const normalised = header.map(normaliseHeader);
  const duplicated = normalised.find((name, i) => name !== '' && normalised.indexOf(name) !== i);
  if (duplicated) headerError(file, `column "${duplicated}" appears twice in the header`, headerLine);

  const entity = findColumn(normalised, ENTITY_HEADERS);
  const period = findColumn(normalised, PERIOD_HEADERS);
  const indicator = findColumn(normalised, INDICATOR_HEADERS);
  const value = findColumn(normalised, VALUE_HEADERS);
  const isLong = indicator !== undefined && value !== undefined;
  const kind = format === 'auto' ? (isLong ? 'long' : 'wide') : format;

  if (entity === undefined) headerError(file, `no entity column; expected one of ${ENTITY_HEADERS.join(', ')}`, headerLine);
  if (period === undefined) headerError(file, `no period column; expected one of ${PERIOD_HEADERS.join(', ')}`, headerLine);

  if (kind === 'long') {
    if (indicator === undefined) headerError(file, `no indicator column for the long layout; expected one of ${INDICATOR_HEADERS.join(', ')}`, headerLine);
    if (value === undefined) headerError(file, `no value column for the long layout; expected one of ${VALUE_HEADERS.join(', ')}`, headerLine);
    const optional = (names: readonly string[]) => findColumn(normalised, names);
    const unit = optional(UNIT_HEADERS);
    const source = optional(SOURCE_HEADERS);
    const flags = optional(FLAG_HEADERS);
    return {
      kind: 'long',
      format: 'long',
      header,
      entity,
      period,
      indicator,
      value,
      ...(unit !== undefined ? { unit } : {}),
      ...(source !== undefined ? { source } : {}),
      ...(flags !== undefined ? { flags } : {}),
    };
  }

  // Wide: the entity column is the most code-like one (a `code` column beats a `country` name column).
  const entityColumn = findColumn(normalised, ['iso3', 'iso3_code', 'country_code', 'code', 'geo', 'entity', 'country', 'area']) ?? entity;
  const source = findColumn(normalised, SOURCE_HEADERS);
  const indicators: { column: number; code: string }[] = [];
  const unknown: string[] = [];
  header.forEach((column, index) => {
    if (index === entityColumn || index === period || index === source) return;
    const code = catalogue.indicatorUnits.has(column.trim())
      ? column.trim()
      : catalogue.indicatorNames.get(normaliseHeader(column));
    if (code) indicators.push({ column: index, code });
    else if (!WIDE_DESCRIPTIVE.includes(normalised[index]!)) unknown.push(column);
  });
  if (unknown.length > 0) {
    headerError(
      file,
      `columns ${unknown.map((c) => `"${shorten(c)}"`).join(', ')} are not indicators in the catalogue; ` +
        'register them first (`threatlens indicators add`) or remove them',
      headerLine,
    );
  }
  if (indicators.length === 0) headerError(file, 'no indicator columns found for the wide layout', headerLine);
  return { kind: 'wide', format: 'wide', header, entity: entityColumn, period, indicators, ...(source !== undefined ? { source } : {}) };
}

function headerError(file: string, message: string, line = 1, field?: string): never {
  const issue = { file, line, ...(field !== undefined ? { field } : {}), message };
  throw new ThreatLensError('TL_INPUT_HEADER', formatIssue(issue), { issues: [issue] });
}

/** One valid observation, parsed and resolved against the catalogue. */
export interface ParsedObservation {
  readonly line: number;
  readonly entity: string;
  readonly indicator: string;
  readonly period: Period;
  readonly periodText: string;
  readonly value: number;
  readonly qualifier: '<' | '>' | null;
  readonly flags: readonly string[];
  readonly source: string | null;
}

export interface RecordResult {
  readonly observations: ParsedObservation[];
  readonly issues: InputIssue[];
  /** Cells that were explicitly missing (`..`, `:`, empty): not errors, not stored. */
  readonly missing: number;
  /**
   * True for a row about a region or aggregate that the layout drops; `breakdown` for a row of a
   * breakdown the catalogue does not hold (GLOTIP victims by citizenship), dropped and counted apart.
   */
  readonly dropped?: boolean | 'breakdown';
}

const NO_FLAGS: readonly string[] = Object.freeze([]);

/**
 * Returns a function that turns one data record into observations, or issues that name file,
 * line and field. It caches parsed periods and entity look-ups: a million rows share a few
 * hundred distinct values of each.
 */
export function createRecordParser(layout: Layout, file: string, catalogue: CatalogueView) {
  const periods = new Map<string, Period | null>();
  const parsePeriodCached = (text: string) => {
    let period = periods.get(text);
    if (period === undefined) {
      period = parsePeriod(text);
      periods.set(text, period);
    }
    return period;
  };
  const fieldName = (column: number) => layout.header[column] ?? `column ${column + 1}`;
  const addIssue = (issues: InputIssue[], line: number, column: number | undefined, message: string, value?: string) => {
    issues.push({
      file,
      line,
      ...(column !== undefined ? { field: fieldName(column) } : {}),
      message,
      ...(value !== undefined ? { value: shorten(value) } : {}),
    });
  };

  if (layout.kind === 'eurostat') return createEurostatParser(layout, file, catalogue, addIssue);
  if (layout.kind === 'period-columns') return createPeriodColumnsParser(layout, catalogue, addIssue);
  if (layout.kind === 'summed') return createSummedParser(layout, catalogue, addIssue);

  return function parseRecord(fields: readonly string[], line: number): RecordResult {
    const issues: InputIssue[] = [];
    if (fields.length !== layout.header.length) {
      addIssue(issues, line, undefined, `the row has ${fields.length} columns, the header has ${layout.header.length} (a truncated or misaligned row)`);
      return { observations: [], issues, missing: 0 };
    }

    if (layout.aggregateRows?.isAggregate(fields[layout.aggregateRows.column]!)) {
      return { observations: [], issues, missing: 0, dropped: true };
    }
    const entityText = fields[layout.entity]!;
    const entity = catalogue.resolveEntity(entityText);
    if (!entity) addIssue(issues, line, layout.entity, `unknown country or entity "${shorten(entityText)}"`, entityText);
    let period: Period | null;
    if (typeof layout.period === 'number') {
      const periodText = fields[layout.period]!;
      period = parsePeriodCached(periodText);
      if (!period) {
        addIssue(issues, line, layout.period, `"${shorten(periodText)}" is not a period (expected a year such as 2020, 2020-Q1 or 2020-03)`, periodText);
      }
    } else {
      period = layout.period.fixed;
    }
    const source = layout.source !== undefined ? fields[layout.source]!.trim() || null : null;

    let cells: readonly { column: number; code: string }[];
    if (layout.kind === 'long') {
      const written = layout.indicatorFromRow ? layout.indicatorFromRow(fields) : fields[layout.indicator]!.trim();
      const code = layout.indicatorAliases?.get(written) ?? written;
      const unit = catalogue.indicatorUnits.get(code);
      if (unit === undefined) {
        addIssue(issues, line, layout.indicator, `unknown indicator "${shorten(code)}"; register it first (\`threatlens indicators add\`)`, code);
        cells = [];
      } else {
        if (layout.unit !== undefined) {
          const fileUnit = fields[layout.unit]!.trim();
          if (fileUnit !== '' && fileUnit.toLowerCase() !== unit.toLowerCase()) {
            addIssue(issues, line, layout.unit, `unit "${shorten(fileUnit)}" does not match the catalogue unit "${unit}" of ${code}`, fileUnit);
          }
        }
        cells = [{ column: layout.value, code }, ...(layout.extraValues ?? []).map((extra) => ({ column: extra.column, code: code + extra.suffix }))];
      }
    } else {
      cells = layout.indicators;
    }

    const observations: ParsedObservation[] = [];
    let missing = 0;
    for (const { column, code } of cells) {
      const text = fields[column]!;
      const parsed = parseCellValue(text);
      if (parsed.kind === 'missing') {
        missing++;
        continue;
      }
      if (parsed.kind === 'invalid') {
        addIssue(issues, line, column, parsed.reason, text);
        continue;
      }
      if (!entity || !period) continue;
      let flags = parsed.flags.length > 0 ? parsed.flags : NO_FLAGS;
      if (layout.kind === 'long' && layout.flags !== undefined) {
        const written = splitFlags(fields[layout.flags]!);
        const odd = written.find((flag) => !FLAG_TOKEN.test(flag));
        if (odd !== undefined) {
          addIssue(issues, line, layout.flags, `flag "${shorten(odd)}" is not a flag code (letters, digits, . _ - up to 20 characters)`, odd);
          continue;
        }
        if (written.length > 0) flags = [...flags, ...written];
      }
      observations.push(observation(line, entity, code, period, parsed, flags, source));
    }
    return { observations: issues.length > 0 ? [] : observations, issues, missing };
  };
}

function observation(
  line: number,
  entity: string,
  indicator: string,
  period: Period,
  parsed: { readonly value: number; readonly qualifier: '<' | '>' | null },
  flags: readonly string[],
  source: string | null,
): ParsedObservation {
  return { line, entity, indicator, period, periodText: formatPeriod(period), value: parsed.value, qualifier: parsed.qualifier, flags, source };
}

type AddIssue = (issues: InputIssue[], line: number, column: number | undefined, message: string, value?: string) => void;

/** Eurostat rows: one series per row (a key of dimensions), one value per period column. */
function createEurostatParser(layout: EurostatLayout, file: string, catalogue: CatalogueView, addIssue: AddIssue) {
  const geoAt = layout.dimensions.get('geo')!;
  const unitAt = layout.dimensions.get('unit')!;
  const seriesAt = [...layout.dimensions].find(([name]) => !['freq', 'unit', 'geo'].includes(name))?.[1];
  return function parseRecord(fields: readonly string[], line: number): RecordResult {
    const issues: InputIssue[] = [];
    if (fields.length !== layout.header.length) {
      addIssue(issues, line, undefined, `the row has ${fields.length} columns, the header has ${layout.header.length} (a truncated or misaligned row)`);
      return { observations: [], issues, missing: 0 };
    }
    const key = fields[0]!.split(',').map((part) => part.trim());
    const geo = key[geoAt] ?? '';
    if (isEurostatAggregate(geo)) return { observations: [], issues, missing: 0, dropped: true };
    const entity = catalogue.resolveEntity(geo);
    if (!entity) addIssue(issues, line, 0, `unknown country or entity "${shorten(geo)}" in the key`, fields[0]!);
    const code = eurostatIndicatorCode(seriesAt === undefined ? 'value' : key[seriesAt] ?? '', key[unitAt] ?? '');
    if (!catalogue.indicatorUnits.has(code)) addIssue(issues, line, 0, `series ${shorten(fields[0]!)} maps to indicator "${code}", which is not in the catalogue`, fields[0]!);
    const observations: ParsedObservation[] = [];
    let missing = 0;
    for (const { column, period } of layout.periods) {
      const parsed = parseCellValue(fields[column]!);
      if (parsed.kind === 'missing') {
        missing++;
        continue;
      }
      if (parsed.kind === 'invalid') {
        addIssue(issues, line, column, parsed.reason, fields[column]!);
        continue;
      }
      if (!entity || issues.length > 0) continue;
      observations.push(observation(line, entity, code, period, parsed, parsed.flags, null));
    }
    return { observations: issues.length > 0 ? [] : observations, issues, missing };
  };
}

const FLAG_TOKEN = /^[A-Za-z0-9_.-]{1,20}$/;

function splitFlags(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((f) => f.trim())
    .filter(Boolean);
}
