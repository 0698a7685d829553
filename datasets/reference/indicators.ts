/**
 * The indicator catalogue ThreatLens ships with. Each entry says the unit, the crime area and
 * the polarity (whether a higher value means more risk). Real-source connectors add theirs here.
 */
import type { IndicatorDefinition } from '../../engine/types.ts';
import { DEMO_INDICATORS } from '../demo/catalogue.ts';
import { WGI_DIMENSIONS } from '../../engine/ingest/wgi.ts';
import { GOCI_INDICATORS } from './goci.ts';

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

export const BUILTIN_INDICATORS: readonly IndicatorDefinition[] = [
  ...DEMO_INDICATORS,
  ...SOURCE_INDICATORS,
  ...WGI_INDICATORS,
  // Without the connector-only fields (column, group, editions).
  ...GOCI_INDICATORS.map(({ column: _column, group: _group, editions: _editions, ...definition }) => definition),
];
