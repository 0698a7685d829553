/**
 * UNODC Global Report on Trafficking in Persons (GLOTIP) data, as dataUNODC exports it
 * (`data_glotip.xlsx`, or the same table as CSV): `Iso3_code, Country, Region, Subregion,
 * Indicator, Dimension, Category, Sex, Age, Year, Unit of measurement, txtVALUE, Source`.
 *
 * Every disaggregation the file gives is its own count indicator (never scored):
 * `unodc_glotip_<measure>[_<sex>][_<age>][_<form>]_count`, a part left out where the file says
 * Total, e.g. `unodc_glotip_detected_victims_female_adult_sexual_exploitation_count`. Values are
 * text: `<5` is censored, `1,234` has a thousands separator. Rows by citizenship or by country of
 * repatriation (origin-destination pairs, with free-text origins) are dropped and counted as
 * breakdowns; rows whose code is not a country (UNODC regions such as CAR, CAS, SAM; Sark's empty
 * code; "Aruba/Curacao") are dropped as aggregates.
 */
import { resolveCountry } from '../../datasets/reference/countries.ts';
import type { RowReading, SummedLayout } from './summed.ts';

/** Indicator column -> measure part of the code. */
export const GLOTIP_MEASURES: Readonly<Record<string, { readonly slug: string; readonly name: string }>> = {
  'detected trafficking victims': { slug: 'detected_victims', name: 'Detected victims of trafficking in persons' },
  'persons prosecuted': { slug: 'persons_prosecuted', name: 'Persons prosecuted for trafficking in persons' },
  'persons convicted': { slug: 'persons_convicted', name: 'Persons convicted of trafficking in persons' },
  'persons brought into formal contact': { slug: 'persons_formal_contact', name: 'Persons brought into formal contact with the police for trafficking in persons' },
  'offences of trafficking in persons': { slug: 'offences', name: 'Offences of trafficking in persons' },
};
export const GLOTIP_SEXES: Readonly<Record<string, string>> = { total: '', female: 'female', male: 'male', other: 'sex_other', unknown: 'sex_unknown' };
export const GLOTIP_AGES: Readonly<Record<string, string>> = { total: '', '0 to 17 years': 'child', '18 years or over': 'adult', unknown: 'age_unknown' };
export const GLOTIP_FORMS: Readonly<Record<string, string>> = {
  total: '',
  'sexual exploitation': 'sexual_exploitation',
  'forced labour': 'forced_labour',
  'other forms of exploitation': 'other_exploitation',
};
/** Dimensions whose categories are other countries: not indicators of the reporting country. */
const ORIGIN_DIMENSIONS = new Set(['by citizenship', 'by country of repatriation']);
const REQUIRED = ['iso3_code', 'indicator', 'dimension', 'category', 'sex', 'age', 'year'];

const lower = (text: string) => text.trim().toLowerCase();

/** The GLOTIP value column: `txtVALUE` in the dataUNODC export, `VALUE` in some copies. */
function valueColumn(names: readonly string[]): number {
  const txt = names.indexOf('txtvalue');
  return txt >= 0 ? txt : names.indexOf('value');
}

/** A GLOTIP table has the UNODC portal columns and GLOTIP's `txtVALUE` (CTS files have `VALUE`). */
export function looksLikeGlotip(header: readonly string[]): boolean {
  const names = header.map(lower);
  return names.includes('txtvalue') && REQUIRED.every((r) => names.includes(r));
}

/** The columns a GLOTIP table lacks (for `--format unodc-glotip` on another table). */
export function missingGlotipColumns(header: readonly string[]): string[] {
  const names = header.map(lower);
  const missing = REQUIRED.filter((r) => !names.includes(r)).map((r) => (r === 'iso3_code' ? 'Iso3_code' : r.charAt(0).toUpperCase() + r.slice(1)));
  if (valueColumn(names) < 0) missing.push('txtVALUE');
  return missing;
}

/** The catalogue code of a GLOTIP row; undefined for a label this connector does not know. */
export function glotipIndicatorCode(indicator: string, sex: string, age: string, form: string): string | undefined {
  const measure = GLOTIP_MEASURES[lower(indicator)]?.slug;
  const parts = [GLOTIP_SEXES[lower(sex)], GLOTIP_AGES[lower(age)], GLOTIP_FORMS[lower(form)]];
  if (measure === undefined || parts.some((p) => p === undefined)) return undefined;
  return ['unodc_glotip', measure, ...parts.filter(Boolean), 'count'].join('_');
}

/** `1,234` as GLOTIP writes thousands -> `1234`; anything else unchanged (and checked later). */
export function glotipValueText(text: string): string {
  const trimmed = text.trim();
  return /^\d{1,3}(,\d{3})+$/.test(trimmed) ? trimmed.replace(/,/g, '') : trimmed;
}

export function glotipLayout(header: readonly string[]): SummedLayout {
  const names = header.map(lower);
  const at = (name: string) => names.indexOf(name);
  const [entity, indicator, dimension, category, sex, age] = ['iso3_code', 'indicator', 'dimension', 'category', 'sex', 'age'].map(at) as [number, number, number, number, number, number];
  const value = valueColumn(names);
  const source = at('source');
  const read = (fields: readonly string[]): RowReading => {
    const code = fields[entity]!.trim();
    // Regions (CAR, CAS, SAM... with no country name), partial territories and empty codes.
    if (resolveCountry(code) === null) return { kind: 'dropped', reason: 'aggregate' };
    if (ORIGIN_DIMENSIONS.has(lower(fields[dimension]!))) return { kind: 'dropped', reason: 'breakdown' };
    const form = lower(fields[dimension]!) === 'total' ? 'Total' : fields[category]!;
    const indicatorCode = glotipIndicatorCode(fields[indicator]!, fields[sex]!, fields[age]!, form);
    if (!indicatorCode) {
      const labels = [fields[indicator], fields[dimension], fields[category], fields[sex], fields[age]].map((t) => t!.trim()).join(' / ');
      return { kind: 'invalid', column: indicator, message: `"${labels}" is not a GLOTIP indicator, sex, age or form of exploitation this connector knows`, value: labels };
    }
    return { kind: 'parts', contributions: [{ indicator: indicatorCode, priority: 0 }], valueText: glotipValueText(fields[value]!) };
  };
  return { kind: 'summed', format: 'unodc-glotip', header, entity, period: at('year'), value, indicatorColumn: indicator, ...(source >= 0 ? { source } : {}), read };
}
