/**
 * Domain types shared by the engine, the store, the API and the CLI.
 * Each type is defined once here; the store's row types and the API's schemas refer to these.
 */

/** Whether a higher value of an indicator means more risk (`higher_worse`) or less (`higher_better`). */
export type Polarity = 'higher_worse' | 'higher_better';

/** Crime areas used to group indicators into sub-scores. `context` holds covariates that are not scored (population). */
export const CRIME_AREAS = [
  'homicide',
  'violence',
  'sexual_offences',
  'drugs',
  'trafficking_in_persons',
  'firearms',
  'cybercrime',
  'corruption',
  'organised_crime',
  'property',
  'resilience',
  'governance',
  'context',
] as const;
export type CrimeArea = (typeof CRIME_AREAS)[number];

/** One entry of the indicator catalogue. */
export interface IndicatorDefinition {
  readonly code: string;
  readonly name: string;
  readonly unit: string;
  readonly crimeArea: CrimeArea;
  readonly polarity: Polarity;
  readonly description?: string;
  readonly source?: string;
  /** Plausible range for the unit; values outside are flagged by quality checks. */
  readonly plausibleMin?: number;
  readonly plausibleMax?: number;
  /**
   * For a count: where rates per 100,000 derived from it go (`indicator`) and the population
   * indicator that denominates them (`per100kOf`). Derived only where the source gives no rate.
   */
  readonly ratePer100k?: { readonly indicator: string; readonly per100kOf: string };
}

export type EntityKind = 'country' | 'region' | 'subnational';
export type OsceStatus = 'participating' | 'partner_asian' | 'partner_mediterranean';

export interface EntityDefinition {
  /** ISO 3166-1 alpha-3 for countries (XKX for Kosovo); other codes for regions. */
  readonly code: string;
  readonly name: string;
  readonly kind: EntityKind;
  readonly osceStatus: OsceStatus | null;
  readonly subregion: string | null;
  readonly iso2: string | null;
  /** The country a sub-national entity belongs to (GB-SCT -> GBR). */
  readonly parent?: string;
}

/** Sharing level of an ingestion batch (who may read its observations). */
export const SHARING_LEVELS = ['public', 'restricted', 'owner'] as const;
export type SharingLevel = (typeof SHARING_LEVELS)[number];

/** A typed period: years, quarters and months are distinct, never bare strings. */
export type Period =
  | { readonly kind: 'year'; readonly year: number }
  | { readonly kind: 'quarter'; readonly year: number; readonly quarter: 1 | 2 | 3 | 4 }
  | { readonly kind: 'month'; readonly year: number; readonly month: number };
