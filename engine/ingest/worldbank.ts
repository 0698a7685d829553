/**
 * World Bank files beyond the WGI (engine/ingest/wgi.ts), format `wdi`:
 * - the tidy population table `iso3,country,year,population[,source]` (a World Bank API extract);
 * - the World Development Indicators download as the World Bank writes it: four preamble lines
 *   (`Data Source`, `Last Updated Date`), then `Country Name, Country Code, Indicator Name,
 *   Indicator Code, 1960, 1961, ...` with one row per economy and indicator, `..` or empty missing,
 *   and often an empty column after the last year (every line ends with a comma).
 * Economies are resolved by code with the shared alias table (ADO, ROM, KSV...: countries.ts);
 * aggregates (WLD, EUU, income groups) and economies that are not ISO countries (CHI, the
 * Channel Islands) are dropped and counted.
 */
import { resolveCountry } from '../../datasets/reference/countries.ts';
import type { WideLayout } from './layout.ts';
import { normaliseHeader } from './layout.ts';
import { periodColumns, type PeriodColumnsLayout } from './period-columns.ts';

/** The catalogue code of total population (World Bank SP.POP.TOTL), the denominator of derived rates. */
export const WB_POPULATION = 'wb_population';

/** WDI series codes -> catalogue codes; other series map to `wdi_<code>` (see wdiIndicatorCode). */
export const WDI_SERIES: Readonly<Record<string, string>> = {
  'SP.POP.TOTL': WB_POPULATION,
};

export function wdiIndicatorCode(series: string): string {
  const trimmed = series.trim();
  return WDI_SERIES[trimmed] ?? `wdi_${trimmed.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`;
}

const isAggregate = (code: string) => resolveCountry(code) === null;

const POPULATION_COLUMNS = ['iso3', 'country', 'year', 'population', 'source'];

export function looksLikeWbPopulation(header: readonly string[]): boolean {
  const names = header.map(normaliseHeader);
  return ['iso3', 'year', 'population'].every((n) => names.includes(n)) && names.every((n) => POPULATION_COLUMNS.includes(n));
}

export function wbPopulationLayout(header: readonly string[]): WideLayout {
  const column = (name: string) => header.map(normaliseHeader).indexOf(name);
  const source = column('source');
  return {
    kind: 'wide',
    format: 'wdi',
    header,
    entity: column('iso3'),
    period: column('year'),
    ...(source >= 0 ? { source } : {}),
    indicators: [{ column: column('population'), code: WB_POPULATION }],
    aggregateRows: { column: column('iso3'), isAggregate },
  };
}

const WDI_KEY = ['country_name', 'country_code', 'indicator_name', 'indicator_code'];

export function looksLikeWdi(header: readonly string[]): boolean {
  const names = header.map(normaliseHeader);
  return WDI_KEY.every((name, i) => names[i] === name) && /^\d{4}$/.test(header[4]?.trim() ?? '');
}

/** The WDI layout, or the column whose header is not a year. */
export function wdiLayout(header: readonly string[]): PeriodColumnsLayout | { problem: string } {
  const periods = periodColumns(header, 4);
  if ('bad' in periods) return { problem: `column ${periods.bad + 1} header "${header[periods.bad]!.trim()}" is not a year` };
  return {
    kind: 'period-columns',
    format: 'wdi',
    header,
    periods,
    rowKey: (fields) =>
      isAggregate(fields[1]!)
        ? { kind: 'dropped' }
        : { kind: 'series', entity: fields[1]!, entityColumn: 1, indicator: wdiIndicatorCode(fields[3]!), indicatorColumn: 3 },
  };
}

/**
 * True for the lines the World Bank writes above the header of a WDI download (`Data Source`,
 * `Last Updated Date`, lines of empty cells): skipped before the header is read.
 */
export function isWdiPreamble(fields: readonly string[]): boolean {
  const first = fields[0]?.trim() ?? '';
  return first === 'Data Source' || first === 'Last Updated Date' || fields.every((f) => f.trim() === '');
}
