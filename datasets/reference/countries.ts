/**
 * Country names and codes as real files write them, resolved to ISO 3166-1 alpha-3.
 * The ISO list and its English names come from `i18n-iso-countries`; the aliases below are the
 * spellings UN, World Bank, Eurostat, OWID and GI-TOC files use that the library does not know.
 */
import { createRequire } from 'node:module';
import countries from 'i18n-iso-countries';
import type { EntityDefinition } from '../../engine/types.ts';
import { OSCE_PARTICIPATING_STATES, OSCE_PARTNERS } from './osce.ts';

const require = createRequire(import.meta.url);
countries.registerLocale(require('i18n-iso-countries/langs/en.json'));

/** ThreatLens writes Kosovo as XKX (World Bank, UN CTS); the library uses XKK. */
export const KOSOVO = 'XKX';

/** Non-ISO codes seen in real files, mapped to ISO3. Aggregates are not listed: they stay unresolved. */
const CODE_ALIASES: Readonly<Record<string, string>> = {
  XKX: KOSOVO, // our own canonical code, which the library does not know
  XKK: KOSOVO,
  KSV: KOSOVO, // World Bank WGI
  OWID_KOS: KOSOVO, // Our World in Data
  XK: KOSOVO, // Eurostat, GI-TOC
  ADO: 'AND', // World Bank WGI (Andorra)
  ROM: 'ROU', // World Bank WGI (Romania)
  ZAR: 'COD', // World Bank WGI (DR Congo)
  TMP: 'TLS', // World Bank WGI (Timor-Leste)
  WBG: 'PSE', // World Bank WGI (West Bank and Gaza)
  EL: 'GRC', // Eurostat writes Greece as EL
  UK: 'GBR', // Eurostat writes the United Kingdom as UK
};

/** Names real files use that i18n-iso-countries does not resolve. Keys are normalised (see normaliseName). */
const NAME_ALIASES: Readonly<Record<string, string>> = {
  'republic of moldova': 'MDA',
  moldova: 'MDA',
  'moldova republic of': 'MDA',
  'kosovo under unscr 1244': KOSOVO,
  'kosovo under unsc res 1244': KOSOVO,
  kosovo: KOSOVO,
  'holy see': 'VAT',
  macedonia: 'MKD',
  'the former yugoslav republic of macedonia': 'MKD',
  'korea rep': 'KOR',
  'republic of korea': 'KOR',
  'korea republic of': 'KOR',
  'korea dem peoples rep': 'PRK',
  'democratic peoples republic of korea': 'PRK',
  'kyrgyz republic': 'KGZ',
  'slovak republic': 'SVK',
  'iran islamic republic of': 'IRN',
  'iran islamic rep': 'IRN',
  'bolivia plurinational state of': 'BOL',
  'venezuela bolivarian republic of': 'VEN',
  'venezuela rb': 'VEN',
  'viet nam': 'VNM',
  syria: 'SYR',
  'lao peoples democratic republic': 'LAO',
  'lao pdr': 'LAO',
  laos: 'LAO',
  'micronesia federated states of': 'FSM',
  'micronesia fed sts': 'FSM',
  micronesia: 'FSM',
  'cabo verde': 'CPV',
  'cape verde': 'CPV',
  'gambia the': 'GMB',
  'bahamas the': 'BHS',
  'egypt arab rep': 'EGY',
  'yemen rep': 'YEM',
  'congo rep': 'COG',
  'congo dem rep': 'COD',
  'dr congo': 'COD',
  'democratic republic of congo': 'COD',
  'republic of the congo': 'COG',
  'cote divoire': 'CIV',
  'st lucia': 'LCA',
  'st kitts and nevis': 'KNA',
  'st vincent and the grenadines': 'VCT',
  'saint vincent and the grenadines': 'VCT',
  'hong kong sar china': 'HKG',
  'china hong kong sar': 'HKG',
  'china hong kong special administrative region': 'HKG',
  'china macao special administrative region': 'MAC',
  'macao sar china': 'MAC',
  'united republic of tanzania': 'TZA',
  'state of palestine': 'PSE',
  palestine: 'PSE',
  'west bank and gaza': 'PSE',
  turkiye: 'TUR',
  'turkey turkiye': 'TUR',
  czechia: 'CZE',
  eswatini: 'SWZ',
  swaziland: 'SWZ',
  'timor leste': 'TLS',
  'east timor': 'TLS',
  'brunei darussalam': 'BRN',
  'russian federation': 'RUS',
  'united states of america': 'USA',
  'united kingdom of great britain and northern ireland': 'GBR',
  'netherlands kingdom of the': 'NLD',
  'curacao': 'CUW',
  'sint maarten dutch part': 'SXM',
  'st martin french part': 'MAF',
  'virgin islands us': 'VIR',
  'british virgin islands': 'VGB',
  'faroe islands': 'FRO',
  'guinea bissau': 'GNB',
  'sao tome and principe': 'STP',
  'north korea': 'PRK',
  'korea dpr': 'PRK', // GI-TOC
  brunei: 'BRN', // GI-TOC
  'south sudan': 'SSD',
};

/** Lower case, no diacritics, punctuation as spaces, single spaces: "Côte d'Ivoire" -> "cote divoire". */
export function normaliseName(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/['’`.]/g, '')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

let nameIndex: Map<string, string> | undefined;

function buildNameIndex(): Map<string, string> {
  const index = new Map<string, string>();
  const all = countries.getNames('en', { select: 'all' }) as Record<string, string[]>;
  for (const [alpha2, names] of Object.entries(all)) {
    const alpha3 = canonicalAlpha3(countries.alpha2ToAlpha3(alpha2));
    if (!alpha3) continue;
    for (const name of names) index.set(normaliseName(name), alpha3);
  }
  for (const member of [...OSCE_PARTICIPATING_STATES, ...OSCE_PARTNERS]) {
    index.set(normaliseName(member.name), member.iso3);
  }
  for (const [alias, alpha3] of Object.entries(NAME_ALIASES)) index.set(alias, alpha3);
  return index;
}

function canonicalAlpha3(alpha3: string | undefined): string | undefined {
  if (!alpha3) return undefined;
  return CODE_ALIASES[alpha3] ?? alpha3;
}

/**
 * Resolves a country code (ISO3, ISO2, or a known non-ISO code such as ROM or KSV) or a
 * country name to ISO3. Returns null for anything else, including aggregates such as WLD or
 * "Europe (UN)": those are not countries.
 *
 * @example resolveCountry('Türkiye') // 'TUR'
 * @example resolveCountry('ROM') // 'ROU'
 */
export function resolveCountry(codeOrName: string): string | null {
  const text = codeOrName.trim();
  if (text === '') return null;
  const upper = text.toUpperCase();
  const aliased = CODE_ALIASES[upper];
  if (aliased) return aliased;
  if (/^[A-Za-z]{3}$/.test(text) && countries.isValid(upper)) return canonicalAlpha3(upper) ?? null;
  // Two-letter codes only when written in capitals: "NA" is Namibia in GI-TOC files.
  if (/^[A-Z]{2}$/.test(text) && countries.isValid(upper)) return canonicalAlpha3(countries.alpha2ToAlpha3(upper)) ?? null;
  nameIndex ??= buildNameIndex();
  return nameIndex.get(normaliseName(text)) ?? null;
}

/** Every ISO 3166-1 country (plus Kosovo), with OSCE status and sub-region where it has one. */
export function countryEntities(): EntityDefinition[] {
  const osce = new Map([...OSCE_PARTICIPATING_STATES, ...OSCE_PARTNERS].map((m) => [m.iso3, m]));
  const entities: EntityDefinition[] = [];
  const alpha3Codes = countries.getAlpha3Codes() as Record<string, string>;
  for (const [rawAlpha3, alpha2] of Object.entries(alpha3Codes)) {
    const code = canonicalAlpha3(rawAlpha3)!;
    const member = osce.get(code);
    entities.push({
      code,
      name: member?.name ?? countries.getName(alpha2, 'en') ?? code,
      kind: 'country',
      osceStatus: member?.status ?? null,
      subregion: member?.subregion ?? null,
      iso2: code === KOSOVO ? 'XK' : alpha2,
    });
  }
  return entities.sort((a, b) => a.code.localeCompare(b.code));
}
