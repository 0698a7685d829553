/**
 * The indicator catalogue ThreatLens ships with. Each entry says the unit, the crime area and
 * the polarity (whether a higher value means more risk). Real-source connectors add theirs here.
 */
import type { IndicatorDefinition } from '../../engine/types.ts';
import { DEMO_INDICATORS } from '../demo/catalogue.ts';
import { GOCI_INDICATORS } from './goci.ts';

export const BUILTIN_INDICATORS: readonly IndicatorDefinition[] = [
  ...DEMO_INDICATORS,
  // Without the connector-only fields (column, group, editions).
  ...GOCI_INDICATORS.map(({ column: _column, group: _group, editions: _editions, ...definition }) => definition),
];
