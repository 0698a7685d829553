/**
 * The GI-TOC Global Organized Crime Index tables (the workbook's sheets saved as CSV, the
 * CSV editions, and the 2025 extract with ISO2 codes). Each file is one edition: the period of
 * every value is the edition year, read from the layout or given with `--period`.
 */
import { GOCI_INDICATORS } from '../../datasets/reference/goci.ts';
import type { Period } from '../types.ts';
import type { WideLayout } from './layout.ts';

/** "Criminal markets avg," (2023) and "Criminal markets" (2021) are the same column. */
function gociColumnName(header: string): string {
  return header.trim().replace(/\s+avg,?$/i, '').trim().toLowerCase();
}

const BY_COLUMN = new Map(GOCI_INDICATORS.map((i) => [i.column.toLowerCase(), i]));
const DESCRIPTIVE = new Set(['', 'continent', 'region', 'name', 'latitude', 'longitude', 'unnamed: 0']);

export function looksLikeGoci(header: readonly string[]): boolean {
  const names = new Set(header.map(gociColumnName));
  return names.has('political leadership and governance') && names.has('human trafficking') && names.has('law enforcement');
}

/**
 * The edition a GOCI table belongs to when the file does not say: the 2025 extract is the one
 * with coordinates; 2023 added cyber-dependent and financial crimes to the 2021 markets.
 */
export function gociEdition(header: readonly string[]): number {
  const names = new Set(header.map(gociColumnName));
  if (names.has('latitude')) return 2025;
  if (names.has('cyber-dependent crimes')) return 2023;
  return 2021;
}

export function gociLayout(header: readonly string[], period?: Period): WideLayout | null {
  const names = header.map(gociColumnName);
  // ISO2 codes where the file has them (Namibia's "NA" is a code, not a missing value), else names.
  const entity = names.indexOf('code') >= 0 ? names.indexOf('code') : names.indexOf('country');
  if (entity < 0) return null;
  const indicators: { column: number; code: string }[] = [];
  names.forEach((name, column) => {
    if (column === entity || DESCRIPTIVE.has(name) || name === 'country') return;
    const indicator = BY_COLUMN.get(name);
    if (indicator) indicators.push({ column, code: indicator.code });
  });
  if (indicators.length < 20) return null;
  return { kind: 'wide', format: 'goci', header, entity, period: { fixed: period ?? { kind: 'year', year: gociEdition(header) } }, indicators };
}
