/**
 * The Metropolitan Police's monthly recorded crime by London borough (London Datastore, "MPS
 * Borough Level Crime"), format `mps-borough`: `MajorText, MinorText, BoroughName, 201004, ...`,
 * one row per borough and offence, one column per month (YYYYMM), counts. Each minor offence
 * category is an indicator `mps_<minor>_count`; boroughs are sub-national entities of GBR by their
 * GSS codes (datasets/reference/subnational.ts); the airports row is its own entity; rows of
 * borough "Unknown" (offences with no location) are dropped and counted.
 */
import { LONDON_AIRPORTS, LONDON_BOROUGHS } from '../../datasets/reference/subnational.ts';
import { normaliseHeader } from './layout.ts';
import { periodColumns, type PeriodColumnsLayout } from './period-columns.ts';

/** Major and minor offence categories as MPS writes them (Home Office counting rules). */
export const MPS_CATEGORIES: readonly (readonly [major: string, minor: string])[] = [
  ['ARSON AND CRIMINAL DAMAGE', 'ARSON'],
  ['ARSON AND CRIMINAL DAMAGE', 'CRIMINAL DAMAGE'],
  ['BURGLARY', 'BURGLARY BUSINESS AND COMMUNITY'],
  ['BURGLARY', 'BURGLARY IN A DWELLING'],
  ['DRUG OFFENCES', 'POSSESSION OF DRUGS'],
  ['DRUG OFFENCES', 'TRAFFICKING OF DRUGS'],
  ['FRAUD AND FORGERY', 'FRAUD AND FORGERY'],
  ['MISCELLANEOUS CRIMES AGAINST SOCIETY', 'MISC CRIMES AGAINST SOCIETY'],
  ['POSSESSION OF WEAPONS', 'POSSESSION OF WEAPONS'],
  ['PUBLIC ORDER OFFENCES', 'OTHER OFFENCES PUBLIC ORDER'],
  ['PUBLIC ORDER OFFENCES', 'PUBLIC FEAR ALARM OR DISTRESS'],
  ['PUBLIC ORDER OFFENCES', 'RACE OR RELIGIOUS AGG PUBLIC FEAR'],
  ['PUBLIC ORDER OFFENCES', 'VIOLENT DISORDER'],
  ['ROBBERY', 'ROBBERY OF BUSINESS PROPERTY'],
  ['ROBBERY', 'ROBBERY OF PERSONAL PROPERTY'],
  ['SEXUAL OFFENCES', 'OTHER SEXUAL OFFENCES'],
  ['SEXUAL OFFENCES', 'RAPE'],
  ['THEFT', 'BICYCLE THEFT'],
  ['THEFT', 'OTHER THEFT'],
  ['THEFT', 'SHOPLIFTING'],
  ['THEFT', 'THEFT FROM THE PERSON'],
  ['VEHICLE OFFENCES', 'AGGRAVATED VEHICLE TAKING'],
  ['VEHICLE OFFENCES', 'INTERFERING WITH A MOTOR VEHICLE'],
  ['VEHICLE OFFENCES', 'THEFT FROM A VEHICLE'],
  ['VEHICLE OFFENCES', 'THEFT OR UNAUTH TAKING OF A MOTOR VEH'],
  ['VIOLENCE AGAINST THE PERSON', 'HOMICIDE'],
  ['VIOLENCE AGAINST THE PERSON', 'VIOLENCE WITH INJURY'],
  ['VIOLENCE AGAINST THE PERSON', 'VIOLENCE WITHOUT INJURY'],
];

/** `VIOLENCE WITH INJURY` -> `mps_violence_with_injury_count`. */
export function mpsIndicatorCode(minor: string): string {
  return `mps_${normaliseHeader(minor)}_count`;
}

/** Borough names as MPS writes them (case and spacing ignored) -> entity code. */
const AREAS = new Map<string, string>([
  ...Object.entries(LONDON_BOROUGHS).map(([gss, name]) => [normaliseHeader(name), gss] as [string, string]),
  [normaliseHeader('London Heathrow and London City Airports'), LONDON_AIRPORTS],
]);

const UNLOCATED = 'unknown';

export function looksLikeMpsBorough(header: readonly string[]): boolean {
  const names = header.slice(0, 3).map(normaliseHeader);
  return names.join(',') === 'majortext,minortext,boroughname' && /^\d{6}$/.test(header[3]?.trim() ?? '');
}

export function mpsBoroughLayout(header: readonly string[]): PeriodColumnsLayout | { problem: string } {
  const periods = periodColumns(header, 3);
  if ('bad' in periods) return { problem: `column ${periods.bad + 1} header "${header[periods.bad]!.trim()}" is not a month (YYYYMM)` };
  return {
    kind: 'period-columns',
    format: 'mps-borough',
    header,
    periods,
    rowKey: (fields) => {
      const area = normaliseHeader(fields[2]!);
      if (area === UNLOCATED) return { kind: 'dropped' };
      // An unknown borough stays as written, so that the parser reports it by name.
      return { kind: 'series', entity: AREAS.get(area) ?? fields[2]!, entityColumn: 2, indicator: mpsIndicatorCode(fields[1]!), indicatorColumn: 1 };
    },
  };
}
