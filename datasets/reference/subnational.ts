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

/**
 * The 32 London boroughs by their ONS GSS codes (E09000002-E09000033; E09000001, the City of
 * London, has its own police and is not in MPS files), as the London MPS files name them.
 */
export const LONDON_BOROUGHS: Readonly<Record<string, string>> = {
  E09000002: 'Barking and Dagenham',
  E09000003: 'Barnet',
  E09000004: 'Bexley',
  E09000005: 'Brent',
  E09000006: 'Bromley',
  E09000007: 'Camden',
  E09000008: 'Croydon',
  E09000009: 'Ealing',
  E09000010: 'Enfield',
  E09000011: 'Greenwich',
  E09000012: 'Hackney',
  E09000013: 'Hammersmith and Fulham',
  E09000014: 'Haringey',
  E09000015: 'Harrow',
  E09000016: 'Havering',
  E09000017: 'Hillingdon',
  E09000018: 'Hounslow',
  E09000019: 'Islington',
  E09000020: 'Kensington and Chelsea',
  E09000021: 'Kingston upon Thames',
  E09000022: 'Lambeth',
  E09000023: 'Lewisham',
  E09000024: 'Merton',
  E09000025: 'Newham',
  E09000026: 'Redbridge',
  E09000027: 'Richmond upon Thames',
  E09000028: 'Southwark',
  E09000029: 'Sutton',
  E09000030: 'Tower Hamlets',
  E09000031: 'Waltham Forest',
  E09000032: 'Wandsworth',
  E09000033: 'Westminster',
};

/** Heathrow and London City airports, policed by the MPS and reported apart from any borough. */
export const LONDON_AIRPORTS = 'GB-MPS-AIRPORTS';

function londonAreas(): EntityDefinition[] {
  return [
    ...Object.entries(LONDON_BOROUGHS).map(([gss, name]) => subnational(gss, `${name} (London borough)`, 'GBR')),
    subnational(LONDON_AIRPORTS, 'London Heathrow and London City Airports (MPS)', 'GBR'),
  ];
}

export const SUBNATIONAL_ENTITIES: readonly EntityDefinition[] = [
  subnational('GB-EAW', 'England and Wales', 'GBR'),
  subnational('GB-SCT', 'Scotland', 'GBR'),
  subnational('GB-NIR', 'Northern Ireland', 'GBR'),
  ...londonAreas(),
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

