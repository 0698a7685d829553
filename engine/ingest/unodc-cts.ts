/**
 * UNODC data-portal long CSV (Crime Trends Survey and the other `data_cts_*` exports):
 * `Iso3_code, Country, Region, Subregion, Indicator, Dimension, Category, Sex, Age, Year,
 * Unit of measurement, VALUE, Source`. Each category becomes two indicators, counts (never
 * scored) and rates per 100,000; the per-row `Source` (CTS, MoI, NSO...) is kept. The UK reports
 * as three jurisdictions (GBR_E_W, GBR_S, GBR_NI), which resolve to sub-national entities; partial-country
 * codes such as IRQ_C (central Iraq) are dropped and counted. Disaggregations other than
 * Sex = Total and Age = Total are refused until the catalogue has indicators for them.
 */
import { resolveCountry } from '../../datasets/reference/countries.ts';
import { SUBNATIONAL_ALIASES } from '../../datasets/reference/subnational.ts';
import type { LongLayout } from './layout.ts';

const REQUIRED = ['iso3_code', 'category', 'sex', 'age', 'year', 'unit of measurement', 'value'];

export function looksLikeUnodcCts(header: readonly string[]): boolean {
  const names = header.map((h) => h.trim().toLowerCase());
  return REQUIRED.every((r) => names.includes(r));
}

export function slugify(text: string): string {
  return text
    .toLowerCase()
    .replace(/\(cy\)/g, '')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
}

/** The catalogue code of a UNODC category in a unit: counts `_count`, rates `_per_100k`. */
export function unodcCtsIndicatorCode(category: string, unit: string, sex = 'Total', age = 'Total'): string {
  const suffix = /rate per 100,?000/i.test(unit) ? 'per_100k' : /^counts?$/i.test(unit.trim()) ? 'count' : slugify(unit);
  const disaggregation = [sex, age].filter((d) => d.trim() !== 'Total').map(slugify);
  return ['unodc_cts', slugify(category), ...disaggregation, suffix].join('_');
}

export function unodcCtsLayout(header: readonly string[]): LongLayout {
  const column = (name: string) => header.findIndex((h) => h.trim().toLowerCase() === name);
  const [category, sex, age, unit] = [column('category'), column('sex'), column('age'), column('unit of measurement')];
  const entity = column('iso3_code');
  return {
    kind: 'long',
    format: 'unodc-cts',
    header,
    entity,
    period: column('year'),
    indicator: category,
    value: column('value'),
    source: column('source') >= 0 ? column('source') : undefined,
    indicatorFromRow: (fields) => unodcCtsIndicatorCode(fields[category]!, fields[unit]!, fields[sex]!, fields[age]!),
    aggregateRows: { column: entity, isAggregate: (code) => !(code in SUBNATIONAL_ALIASES) && resolveCountry(code) === null },
  };
}
