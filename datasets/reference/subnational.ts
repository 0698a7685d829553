/**
 * Sub-national entities that real files report instead of their country, and the codes those
 * files use for them. The United Kingdom reports crime as three jurisdictions (ISO 3166-2:GB
 * groupings): Eurostat writes UKC-L, UKM, UKN; UNODC writes GBR_E_W, GBR_S, GBR_NI.
 */
import type { EntityDefinition } from '../../engine/types.ts';

const subnational = (code: string, name: string, parent: string): EntityDefinition => ({
  code,
  name,
  kind: 'subnational',
  osceStatus: null,
  subregion: null,
  iso2: null,
  parent,
});

export const SUBNATIONAL_ENTITIES: readonly EntityDefinition[] = [
  subnational('GB-EAW', 'England and Wales', 'GBR'),
  subnational('GB-SCT', 'Scotland', 'GBR'),
  subnational('GB-NIR', 'Northern Ireland', 'GBR'),
];

/** Publisher codes -> sub-national entity code. */
export const SUBNATIONAL_ALIASES: Readonly<Record<string, string>> = {
  'UKC-L': 'GB-EAW', // Eurostat
  UKM: 'GB-SCT',
  UKN: 'GB-NIR',
  GBR_E_W: 'GB-EAW', // UNODC
  GBR_S: 'GB-SCT',
  GBR_NI: 'GB-NIR',
};
