/**
 * Eurostat bulk TSV (SDMX-TSV), e.g. `crim_off_cat`: the first column is a comma-joined key
 * (`freq,iccs,unit,geo\TIME_PERIOD`), then one column per period. Values may carry a flag after a
 * space (`123 p`); `:` is missing. Greece is `EL`; the United Kingdom's three jurisdictions
 * (UKC-L, UKM, UKN) resolve to sub-national entities (datasets/reference/subnational.ts); EU and
 * euro-area aggregates are dropped.
 */
import { parsePeriod } from '../period.ts';
import type { Period } from '../types.ts';

export interface EurostatLayout {
  readonly kind: 'eurostat';
  readonly format: 'eurostat';
  readonly header: readonly string[];
  /** Position of each dimension in the key, by name (`iccs`, `unit`, `geo`, ...). */
  readonly dimensions: ReadonlyMap<string, number>;
  readonly periods: readonly { readonly column: number; readonly period: Period }[];
}

export function isEurostatAggregate(geo: string): boolean {
  return /^(EU|EA|EEA|EFTA)\d*(_\d+)?$/.test(geo.trim());
}

export function looksLikeEurostat(header: readonly string[]): boolean {
  return /\\TIME_PERIOD$/i.test(header[0]?.trim() ?? '') && header[0]!.includes(',');
}

export function eurostatLayout(header: readonly string[]): EurostatLayout | { problem: string } {
  const key = header[0]!.trim().replace(/\\TIME_PERIOD$/i, '');
  const dimensions = new Map(key.split(',').map((name, i) => [name.trim().toLowerCase(), i]));
  for (const required of ['unit', 'geo']) {
    if (!dimensions.has(required)) return { problem: `the key column has no "${required}" dimension` };
  }
  const periods: { column: number; period: Period }[] = [];
  for (let column = 1; column < header.length; column++) {
    const period = parsePeriod(header[column]!);
    if (!period) return { problem: `column ${column + 1} header "${header[column]!.trim()}" is not a period` };
    periods.push({ column, period });
  }
  return { kind: 'eurostat', format: 'eurostat', header, dimensions, periods };
}

/** The catalogue code of a Eurostat series: dataset dimension (e.g. ICCS) and unit. */
export function eurostatIndicatorCode(dimensionValue: string, unit: string): string {
  const suffix = unit === 'NR' ? 'count' : unit === 'P_HTHAB' ? 'per_100k' : unit.toLowerCase();
  return `eurostat_${dimensionValue.toLowerCase()}_${suffix}`;
}
