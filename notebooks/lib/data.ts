/**
 * Where the notebooks find their data: the real public files in ../shared/datasets/real (beside
 * the checkout, never copied into it; THREATLENS_REAL_DATA moves it), each with the connector
 * format that reads it, or, when they are absent, ThreatLens's synthetic demo panel.
 * THREATLENS_NOTEBOOK_DATA=demo forces the demo panel (the runner's --demo).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LayoutFormat } from '../../engine/ingest/layout.ts';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export function realDataDir(): string {
  return process.env.THREATLENS_REAL_DATA ?? resolve(REPO_ROOT, '..', 'shared', 'datasets', 'real');
}

/** A path as the notebooks print it: relative to the repository (../shared/datasets/real), so outputs do not depend on the machine. */
export const shownPath = (path: string) => relative(REPO_ROOT, path) || '.';

export interface RealFile {
  /** Folder under the real-data directory (it holds the file and its SOURCE.md). */
  readonly folder: string;
  readonly file: string;
  /** The `threatlens ingest --format` that reads it (README, "Ingestion"). */
  readonly format: LayoutFormat;
}

/** Every file of ../shared/datasets/real and its connector. */
export const REAL_FILES: readonly RealFile[] = [
  { folder: 'worldbank_population', file: 'pop_by_country.csv', format: 'wdi' },
  { folder: 'owid_homicide_rate', file: 'homicide-rate-unodc.csv', format: 'owid' },
  { folder: 'unodc_cts_corruption_economic_crime', file: 'data_cts_corruption_and_economic_crime.csv', format: 'unodc-cts' },
  { folder: 'unodc_glotip', file: 'data_glotip.xlsx', format: 'unodc-glotip' },
  { folder: 'unodc_drug_seizures', file: 'drug_seizures_2018_2022.xlsx', format: 'unodc-seizures' },
  { folder: 'gitoc_ocindex_csv', file: 'oc_2021.csv', format: 'goci' },
  { folder: 'gitoc_ocindex_csv', file: 'oc_2023.csv', format: 'goci' },
  { folder: 'gitoc_ocindex_2021_2023', file: 'global_oc_index.xlsx', format: 'goci' },
  { folder: 'gitoc_ocindex_2025', file: 'oc_index.csv', format: 'goci' },
  { folder: 'worldbank_wgi', file: 'wgidataset.csv', format: 'wgi' },
  { folder: 'eurostat_crim_off_cat', file: 'estat_crim_off_cat.tsv', format: 'eurostat' },
  { folder: 'london_mps_borough_monthly', file: 'mps_borough_level_crime_historical.csv', format: 'mps-borough' },
];

export const realPath = (f: RealFile) => join(realDataDir(), f.folder, f.file);

/** The first heading of a file's SOURCE.md: what it is, in the publisher's words. */
export function sourceTitle(f: RealFile): string {
  const path = join(realDataDir(), f.folder, 'SOURCE.md');
  if (!existsSync(path)) return '';
  const heading = readFileSync(path, 'utf8').split('\n').find((l) => l.startsWith('# '));
  return heading ? heading.slice(2).trim() : '';
}

export type DataMode = 'real' | 'demo';

/** `real` when every file wanted is there (and the demo is not forced), otherwise `demo`, with the reason. */
export function chooseData(wanted: readonly RealFile[] = REAL_FILES): { mode: DataMode; reason: string } {
  if (process.env.THREATLENS_NOTEBOOK_DATA === 'demo') return { mode: 'demo', reason: 'THREATLENS_NOTEBOOK_DATA=demo asks for the synthetic demo panel' };
  const missing = wanted.filter((f) => !existsSync(realPath(f)));
  if (missing.length === 0) return { mode: 'real', reason: `all ${wanted.length} files found in ${shownPath(realDataDir())}` };
  return { mode: 'demo', reason: `real data not found (${missing.length} of ${wanted.length} files missing, e.g. ${shownPath(realPath(missing[0]!))})` };
}
