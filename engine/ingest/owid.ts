/**
 * Our World in Data grapher CSVs: `Entity,Code,Year,<value column>[,World region according to OWID]`.
 * Countries are identified by `Code` (ISO3, or OWID_KOS for Kosovo); regions and aggregates
 * (OWID_WRL, OWID_CIS, UN_EUR, an empty code...) are not countries and are dropped, counted.
 */
import type { CatalogueView, WideLayout } from './layout.ts';
import { normaliseHeader } from './layout.ts';

/** OWID column titles of indicators the catalogue knows under another name. */
const OWID_COLUMNS: Readonly<Record<string, string>> = {
  homicide_rate_per_100_000_population: 'unodc_homicide_rate',
};

export function looksLikeOwid(header: readonly string[]): boolean {
  return header[0] === 'Entity' && header[1] === 'Code' && header[2] === 'Year' && header.length >= 4;
}

export function isOwidAggregate(code: string): boolean {
  const trimmed = code.trim();
  return trimmed === '' || (/^(OWID_|UN_)/.test(trimmed) && trimmed !== 'OWID_KOS');
}

export function owidLayout(header: readonly string[], catalogue: CatalogueView): WideLayout | { unknown: string[] } {
  const indicators: { column: number; code: string }[] = [];
  const unknown: string[] = [];
  header.forEach((title, column) => {
    if (column < 3 || title === 'World region according to OWID') return;
    const normalised = normaliseHeader(title);
    const code = catalogue.indicatorUnits.has(title) ? title : (OWID_COLUMNS[normalised] ?? catalogue.indicatorNames.get(normalised));
    if (code) indicators.push({ column, code });
    else unknown.push(title);
  });
  if (unknown.length > 0) return { unknown };
  return { kind: 'wide', format: 'owid', header, entity: 1, period: 2, indicators, aggregateRows: { column: 1, isAggregate: isOwidAggregate } };
}
