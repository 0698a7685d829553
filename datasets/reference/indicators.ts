/**
 * The indicator catalogue ThreatLens ships with. Each entry says the unit, the crime area and
 * the polarity (whether a higher value means more risk). Real-source connectors add theirs here.
 */
import type { CrimeArea, IndicatorDefinition } from '../../engine/types.ts';
import { DEMO_INDICATORS } from '../demo/catalogue.ts';
import { eurostatIndicatorCode } from '../../engine/ingest/eurostat.ts';
import { unodcCtsIndicatorCode } from '../../engine/ingest/unodc-cts.ts';
import { WGI_DIMENSIONS } from '../../engine/ingest/wgi.ts';
import { WB_POPULATION } from '../../engine/ingest/worldbank.ts';
import { MPS_CATEGORIES, mpsIndicatorCode } from '../../engine/ingest/london-mps.ts';
import { GOCI_INDICATORS } from './goci.ts';
import { UNODC_GLOTIP_INDICATORS, UNODC_SEIZURE_INDICATORS } from './unodc-workbooks.ts';

/** Indicators of real publishers' files, read by the connectors in engine/ingest. */
export const SOURCE_INDICATORS: readonly IndicatorDefinition[] = [
  {
    code: 'unodc_homicide_rate',
    name: 'Intentional homicide rate (UNODC)',
    unit: 'per 100,000 population',
    crimeArea: 'homicide',
    polarity: 'higher_worse',
    description: 'Victims of intentional homicide per 100,000 population, both sexes, all ages (UNODC).',
    source: 'UNODC, Intentional Homicide Victims (via Our World in Data)',
    plausibleMin: 0,
    plausibleMax: 150,
  },
  {
    code: WB_POPULATION,
    name: 'Population, total (World Bank)',
    unit: 'persons',
    crimeArea: 'context',
    // Context indicators are never scored; the polarity is required by the type but means nothing.
    polarity: 'higher_worse',
    description: 'Total population, midyear (World Bank WDI SP.POP.TOTL): the denominator of rates per 100,000 derived from counts; never scored.',
    source: 'World Bank, World Development Indicators',
    plausibleMin: 1,
    plausibleMax: 2e9,
  },
];

const WGI_INDICATORS: IndicatorDefinition[] = Object.values(WGI_DIMENSIONS).flatMap(({ code, name }) => [
  {
    code,
    name: `${name} (WGI estimate)`,
    unit: 'estimate, about -2.5 to 2.5',
    crimeArea: 'governance' as const,
    polarity: 'higher_better' as const,
    description: `World Bank Worldwide Governance Indicators: ${name.toLowerCase()}, estimate of governance (higher is better).`,
    source: 'World Bank, Worldwide Governance Indicators',
    plausibleMin: -3,
    plausibleMax: 3,
  },
  {
    code: `${code}_se`,
    name: `${name} (WGI standard error)`,
    unit: 'standard error of the estimate',
    crimeArea: 'context' as const,
    polarity: 'higher_worse' as const,
    description: `Standard error of the WGI ${name.toLowerCase()} estimate; kept with the estimate, never scored.`,
    source: 'World Bank, Worldwide Governance Indicators',
    plausibleMin: 0,
    plausibleMax: 2,
  },
]);

/** Eurostat crim_off_cat: offences by ICCS category, as counts (never scored) and per 100,000. */
const EUROSTAT_ICCS: readonly [string, string, CrimeArea][] = [
  ['ICCS0101', 'Intentional homicide', 'homicide'],
  ['ICCS0102', 'Attempted intentional homicide', 'homicide'],
  ['ICCS020111', 'Serious assault', 'violence'],
  ['ICCS020221', 'Kidnapping', 'violence'],
  ['ICCS0301', 'Sexual violence', 'sexual_offences'],
  ['ICCS03011', 'Rape', 'sexual_offences'],
  ['ICCS03012', 'Sexual assault', 'sexual_offences'],
  ['ICCS0302', 'Sexual exploitation', 'sexual_offences'],
  ['ICCS030221', 'Child pornography', 'sexual_offences'],
  ['ICCS0401', 'Robbery', 'property'],
  ['ICCS0501', 'Burglary', 'property'],
  ['ICCS05012', 'Burglary of private residential premises', 'property'],
  ['ICCS0502', 'Theft', 'property'],
  ['ICCS05021', 'Theft of a motorized vehicle or parts thereof', 'property'],
  ['ICCS0601', 'Unlawful acts involving controlled drugs or precursors', 'drugs'],
  ['ICCS0701', 'Fraud', 'property'],
  ['ICCS0703', 'Corruption', 'corruption'],
  ['ICCS07031', 'Bribery', 'corruption'],
  ['ICCS07041', 'Money laundering', 'corruption'],
  ['ICCS0903', 'Acts against computer systems', 'cybercrime'],
  ['ICCS09051', 'Participation in an organized criminal group', 'organised_crime'],
];

const EUROSTAT_INDICATORS: IndicatorDefinition[] = EUROSTAT_ICCS.flatMap(([iccs, name, crimeArea]) => [
  {
    code: eurostatIndicatorCode(iccs, 'P_HTHAB'),
    name: `${name}, police-recorded offences per 100,000 (Eurostat)`,
    unit: 'per 100,000 population',
    crimeArea,
    polarity: 'higher_worse' as const,
    description: `${iccs} ${name}: offences recorded by the police per 100,000 inhabitants (Eurostat crim_off_cat). Compare trends within a country rather than levels across countries.`,
    source: 'Eurostat, crim_off_cat',
    plausibleMin: 0,
    plausibleMax: 20000,
  },
  {
    code: eurostatIndicatorCode(iccs, 'NR'),
    name: `${name}, police-recorded offences (Eurostat)`,
    unit: 'number of offences',
    crimeArea: 'context' as const,
    polarity: 'higher_worse' as const,
    description: `${iccs} ${name}: number of offences recorded by the police (Eurostat crim_off_cat); counts are not compared across countries, never scored.`,
    source: 'Eurostat, crim_off_cat',
    plausibleMin: 0,
    plausibleMax: 1e8,
  },
]);

/** UNODC data-portal categories (data_cts_corruption_and_economic_crime), as counts and rates. */
const UNODC_CTS_CATEGORIES: readonly [string, CrimeArea][] = [
  ['Corruption', 'corruption'],
  ['Corruption: Bribery', 'corruption'],
  ['Corruption: Other acts of corruption', 'corruption'],
  ['Money laundering', 'corruption'],
  ['Fraud', 'property'],
  ['Fraud: Cyber-related (Cy)', 'cybercrime'],
  ['Smuggling of migrants', 'organised_crime'],
  ['Theft', 'property'],
  ['Theft: of a motorized vehicle', 'property'],
  ['Burglary', 'property'],
  ['Unlawful access to a computer system', 'cybercrime'],
  ['Unlawful interception or access of computer data', 'cybercrime'],
  ['Unlawful interference with a computer system or computer data', 'cybercrime'],
  ['Acts that cause environmental pollution or degradation', 'organised_crime'],
  ['Acts that result in the depletion of degradation of natural resources', 'organised_crime'],
  ['Acts involving the movement of dumping of waste', 'organised_crime'],
  ['Trade or possession of protected or prohibited species of faune and flora', 'organised_crime'],
];

const UNODC_CTS_INDICATORS: IndicatorDefinition[] = UNODC_CTS_CATEGORIES.flatMap(([category, crimeArea]) => [
  {
    code: unodcCtsIndicatorCode(category, 'Rate per 100,000 population'),
    name: `${category}, offences per 100,000 (UNODC)`,
    unit: 'per 100,000 population',
    crimeArea,
    polarity: 'higher_worse' as const,
    description: `Police-recorded offences of ${category.toLowerCase()} per 100,000 population (UN-CTS). Definitions differ between countries: compare trends within a country.`,
    source: 'UNODC, Crime Trends Survey (data portal)',
    plausibleMin: 0,
    plausibleMax: 20000,
  },
  {
    code: unodcCtsIndicatorCode(category, 'Counts'),
    // UNODC publishes most rates itself; where it did not, the rate is derived from World Bank population.
    ratePer100k: { indicator: unodcCtsIndicatorCode(category, 'Rate per 100,000 population'), per100kOf: WB_POPULATION },
    name: `${category}, offences (UNODC)`,
    unit: 'number of offences',
    crimeArea: 'context' as const,
    polarity: 'higher_worse' as const,
    description: `Police-recorded offences of ${category.toLowerCase()} (UN-CTS); counts are not compared across countries, never scored.`,
    source: 'UNODC, Crime Trends Survey (data portal)',
    plausibleMin: 0,
    plausibleMax: 1e8,
  },
]);

/** London MPS monthly recorded offences by minor category: counts, never scored (no borough population). */
const MPS_INDICATORS: IndicatorDefinition[] = MPS_CATEGORIES.map(([major, minor]) => ({
  code: mpsIndicatorCode(minor),
  name: `${titleCase(major)}: ${minor.toLowerCase()}, recorded offences (London MPS)`,
  unit: 'number of offences',
  crimeArea: 'context' as const,
  polarity: 'higher_worse' as const,
  description: `Offences of ${minor.toLowerCase()} (major group ${major.toLowerCase()}) recorded by the Metropolitan Police in a month, by London borough. Counting rules change: fraud moved to Action Fraud in 2013.`,
  source: 'Metropolitan Police Service, MPS Borough Level Crime (London Datastore)',
  plausibleMin: 0,
  plausibleMax: 1e5,
}));

function titleCase(text: string): string {
  return text.charAt(0) + text.slice(1).toLowerCase();
}

export const BUILTIN_INDICATORS: readonly IndicatorDefinition[] = [
  ...DEMO_INDICATORS,
  ...SOURCE_INDICATORS,
  ...WGI_INDICATORS,
  ...EUROSTAT_INDICATORS,
  ...UNODC_CTS_INDICATORS,
  ...UNODC_GLOTIP_INDICATORS,
  ...UNODC_SEIZURE_INDICATORS,
  ...MPS_INDICATORS,
  // Without the connector-only fields (column, group, editions).
  ...GOCI_INDICATORS.map(({ column: _column, group: _group, editions: _editions, ...definition }) => definition),
];
