/**
 * Catalogue entries of the UNODC workbook connectors (engine/ingest/unodc-glotip.ts,
 * engine/ingest/unodc-seizures.ts). Counts and kilograms are `context`, never scored directly;
 * the GLOTIP totals get rates per 100,000 derived from World Bank population, which are scored.
 */
import type { IndicatorDefinition } from '../../engine/types.ts';
import { GLOTIP_AGES, GLOTIP_FORMS, GLOTIP_MEASURES, GLOTIP_SEXES, glotipIndicatorCode } from '../../engine/ingest/unodc-glotip.ts';
import { SEIZURE_GROUPS, seizureGroupCode, seizureSubgroupCode } from '../../engine/ingest/unodc-seizures.ts';
import { WB_POPULATION } from '../../engine/ingest/worldbank.ts';

const GLOTIP_SOURCE = 'UNODC, Global Report on Trafficking in Persons (GLOTIP data)';
/** Forms of exploitation are published for victims and convictions only. */
const WITH_FORMS = new Set(['detected_victims', 'persons_convicted']);
/** The totals that get a derived rate (scored): what GLOTIP compares across countries. */
const WITH_RATES = new Set(['detected_victims', 'persons_prosecuted', 'persons_convicted']);

const SEX_AGE: readonly [string, string][] = [
  ...['total', 'female', 'male', 'other'].flatMap((sex) => ['total', '0 to 17 years', '18 years or over'].map((age): [string, string] => [sex, age])),
  ['unknown', 'unknown'],
];
const label = (text: string) => (text === 'total' ? '' : text);

export const GLOTIP_RATE_CODE = (slug: string) => `unodc_glotip_${slug}_per_100k`;

export const UNODC_GLOTIP_INDICATORS: IndicatorDefinition[] = Object.entries(GLOTIP_MEASURES).flatMap(([measure, { slug, name }]) => {
  const forms = WITH_FORMS.has(slug) ? Object.keys(GLOTIP_FORMS) : ['total'];
  const counts = SEX_AGE.flatMap(([sex, age]) =>
    forms.map((form): IndicatorDefinition => {
      const code = glotipIndicatorCode(measure, sex, age, form)!;
      const parts = [sex === 'unknown' ? 'sex unknown' : label(sex), age === 'unknown' ? 'age unknown' : label(age), label(form)].filter(Boolean);
      const isTotal = parts.length === 0;
      return {
        code,
        name: `${name}${isTotal ? '' : `: ${parts.join(', ')}`} (GLOTIP)`,
        unit: 'number of persons',
        crimeArea: 'context',
        polarity: 'higher_worse',
        description: `${name}${isTotal ? ', total' : `, ${parts.join(', ')}`}, as reported to UNODC for the Global Report on Trafficking in Persons. Detection depends on national effort; small counts are censored (<5). A count: never scored.`,
        source: GLOTIP_SOURCE,
        plausibleMin: 0,
        plausibleMax: 1e6,
        ...(isTotal && WITH_RATES.has(slug) ? { ratePer100k: { indicator: GLOTIP_RATE_CODE(slug), per100kOf: WB_POPULATION } } : {}),
      };
    }),
  );
  const rates: IndicatorDefinition[] = WITH_RATES.has(slug)
    ? [{
        code: GLOTIP_RATE_CODE(slug),
        name: `${name} per 100,000 population (GLOTIP)`,
        unit: 'per 100,000 population',
        crimeArea: 'trafficking_in_persons',
        polarity: 'higher_worse',
        description: `${name} per 100,000 population, derived from the GLOTIP count and World Bank population (never from censored counts). A higher value can mean more trafficking or more detection.`,
        source: `${GLOTIP_SOURCE}; World Bank population`,
        plausibleMin: 0,
        plausibleMax: 1000,
      }]
    : [];
  return [...counts, ...rates];
});

const SEIZURE_SOURCE = 'UNODC, World Drug Report, statistical annex: drug seizures';

function seizureIndicator(code: string, name: string, description: string): IndicatorDefinition {
  return {
    code,
    name: `${name}, seized (kg, UNODC)`,
    unit: 'kilograms',
    crimeArea: 'context',
    polarity: 'higher_worse',
    description: `${description} Seizures measure enforcement as much as trafficking: never scored.`,
    source: SEIZURE_SOURCE,
    plausibleMin: 0,
    plausibleMax: 1e7,
  };
}

export const UNODC_SEIZURE_INDICATORS: IndicatorDefinition[] = SEIZURE_GROUPS.flatMap(({ slug, name, subgroups }) => [
  seizureIndicator(seizureGroupCode(slug), name, `Kilograms of ${name.toLowerCase()} seized in the year: the file's total of the group where it gives one, otherwise the sum of the group's rows.`),
  ...subgroups.map((subgroup) =>
    seizureIndicator(seizureSubgroupCode(slug, subgroup), `${name}: ${subgroup.replace(/"/g, '')}`, `Kilograms of ${subgroup.replace(/"/g, '').toLowerCase()} (${name.toLowerCase()}) seized in the year, summed over the drugs of the subgroup.`),
  ),
]);
