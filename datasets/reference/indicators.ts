/**
 * The indicator catalogue ThreatLens ships with. Each entry says the unit, the crime area and
 * the polarity (whether a higher value means more risk). Real-source connectors add theirs here.
 */
import type { IndicatorDefinition } from '../../engine/types.ts';
import { DEMO_INDICATORS } from '../demo/catalogue.ts';
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

export const BUILTIN_INDICATORS: readonly IndicatorDefinition[] = [
  ...DEMO_INDICATORS,
  ...SOURCE_INDICATORS,
  // Without the connector-only fields (column, group, editions).
  ...GOCI_INDICATORS.map(({ column: _column, group: _group, editions: _editions, ...definition }) => definition),
];
