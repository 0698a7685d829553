/**
 * The 57 OSCE participating states and the Partners for Co-operation.
 * Source: OSCE, "Participating States" and "Partners for Co-operation" (osce.org), as of 2026.
 * Sub-regions are ThreatLens's own grouping for dashboards and imputation, not an OSCE category.
 */
import type { OsceStatus } from '../../engine/types.ts';

export const OSCE_SUBREGIONS = [
  'North America',
  'Northern Europe',
  'Western Europe',
  'Southern Europe',
  'Central Europe',
  'South-Eastern Europe',
  'Eastern Europe',
  'South Caucasus',
  'Central Asia',
] as const;
export type OsceSubregion = (typeof OSCE_SUBREGIONS)[number];

export interface OsceMember {
  readonly iso3: string;
  readonly name: string;
  readonly status: OsceStatus;
  readonly subregion: OsceSubregion | 'Asian Partners' | 'Mediterranean Partners';
}

const participating = (iso3: string, name: string, subregion: OsceSubregion): OsceMember => ({
  iso3,
  name,
  status: 'participating',
  subregion,
});

export const OSCE_PARTICIPATING_STATES: readonly OsceMember[] = [
  participating('ALB', 'Albania', 'South-Eastern Europe'),
  participating('AND', 'Andorra', 'Southern Europe'),
  participating('ARM', 'Armenia', 'South Caucasus'),
  participating('AUT', 'Austria', 'Western Europe'),
  participating('AZE', 'Azerbaijan', 'South Caucasus'),
  participating('BLR', 'Belarus', 'Eastern Europe'),
  participating('BEL', 'Belgium', 'Western Europe'),
  participating('BIH', 'Bosnia and Herzegovina', 'South-Eastern Europe'),
  participating('BGR', 'Bulgaria', 'South-Eastern Europe'),
  participating('CAN', 'Canada', 'North America'),
  participating('HRV', 'Croatia', 'South-Eastern Europe'),
  participating('CYP', 'Cyprus', 'Southern Europe'),
  participating('CZE', 'Czechia', 'Central Europe'),
  participating('DNK', 'Denmark', 'Northern Europe'),
  participating('EST', 'Estonia', 'Northern Europe'),
  participating('FIN', 'Finland', 'Northern Europe'),
  participating('FRA', 'France', 'Western Europe'),
  participating('GEO', 'Georgia', 'South Caucasus'),
  participating('DEU', 'Germany', 'Western Europe'),
  participating('GRC', 'Greece', 'Southern Europe'),
  participating('VAT', 'Holy See', 'Southern Europe'),
  participating('HUN', 'Hungary', 'Central Europe'),
  participating('ISL', 'Iceland', 'Northern Europe'),
  participating('IRL', 'Ireland', 'Northern Europe'),
  participating('ITA', 'Italy', 'Southern Europe'),
  participating('KAZ', 'Kazakhstan', 'Central Asia'),
  participating('KGZ', 'Kyrgyzstan', 'Central Asia'),
  participating('LVA', 'Latvia', 'Northern Europe'),
  participating('LIE', 'Liechtenstein', 'Western Europe'),
  participating('LTU', 'Lithuania', 'Northern Europe'),
  participating('LUX', 'Luxembourg', 'Western Europe'),
  participating('MLT', 'Malta', 'Southern Europe'),
  participating('MDA', 'Moldova', 'Eastern Europe'),
  participating('MCO', 'Monaco', 'Western Europe'),
  participating('MNG', 'Mongolia', 'Central Asia'),
  participating('MNE', 'Montenegro', 'South-Eastern Europe'),
  participating('NLD', 'Netherlands', 'Western Europe'),
  participating('MKD', 'North Macedonia', 'South-Eastern Europe'),
  participating('NOR', 'Norway', 'Northern Europe'),
  participating('POL', 'Poland', 'Central Europe'),
  participating('PRT', 'Portugal', 'Southern Europe'),
  participating('ROU', 'Romania', 'South-Eastern Europe'),
  participating('RUS', 'Russian Federation', 'Eastern Europe'),
  participating('SMR', 'San Marino', 'Southern Europe'),
  participating('SRB', 'Serbia', 'South-Eastern Europe'),
  participating('SVK', 'Slovakia', 'Central Europe'),
  participating('SVN', 'Slovenia', 'Central Europe'),
  participating('ESP', 'Spain', 'Southern Europe'),
  participating('SWE', 'Sweden', 'Northern Europe'),
  participating('CHE', 'Switzerland', 'Western Europe'),
  participating('TJK', 'Tajikistan', 'Central Asia'),
  participating('TUR', 'Türkiye', 'South-Eastern Europe'),
  participating('TKM', 'Turkmenistan', 'Central Asia'),
  participating('UKR', 'Ukraine', 'Eastern Europe'),
  participating('GBR', 'United Kingdom', 'Northern Europe'),
  participating('USA', 'United States', 'North America'),
  participating('UZB', 'Uzbekistan', 'Central Asia'),
];

export const OSCE_PARTNERS: readonly OsceMember[] = [
  { iso3: 'AFG', name: 'Afghanistan', status: 'partner_asian', subregion: 'Asian Partners' },
  { iso3: 'AUS', name: 'Australia', status: 'partner_asian', subregion: 'Asian Partners' },
  { iso3: 'JPN', name: 'Japan', status: 'partner_asian', subregion: 'Asian Partners' },
  { iso3: 'KOR', name: 'Republic of Korea', status: 'partner_asian', subregion: 'Asian Partners' },
  { iso3: 'THA', name: 'Thailand', status: 'partner_asian', subregion: 'Asian Partners' },
  { iso3: 'DZA', name: 'Algeria', status: 'partner_mediterranean', subregion: 'Mediterranean Partners' },
  { iso3: 'EGY', name: 'Egypt', status: 'partner_mediterranean', subregion: 'Mediterranean Partners' },
  { iso3: 'ISR', name: 'Israel', status: 'partner_mediterranean', subregion: 'Mediterranean Partners' },
  { iso3: 'JOR', name: 'Jordan', status: 'partner_mediterranean', subregion: 'Mediterranean Partners' },
  { iso3: 'MAR', name: 'Morocco', status: 'partner_mediterranean', subregion: 'Mediterranean Partners' },
  { iso3: 'TUN', name: 'Tunisia', status: 'partner_mediterranean', subregion: 'Mediterranean Partners' },
];

export const OSCE_PARTICIPATING_ISO3: readonly string[] = OSCE_PARTICIPATING_STATES.map((s) => s.iso3);
