/**
 * The World Bank WGI connector on the real 2024 release (../shared/datasets/real; skipped where
 * absent): estimates and their standard errors, `..` as missing, non-ISO codes mapped.
 */
import { readFileSync } from 'node:fs';
import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFile, type IngestSummary } from '../datasets/ingest.ts';
import type { Store } from '../engine/store/database.ts';
import { hasRealData, realDataFile } from './support/shared-data.ts';
import { openTestStore } from './support/stores.ts';

const FILE = ['worldbank_wgi', 'wgidataset.csv'];

describe.skipIf(!hasRealData('WGI connector tests', FILE))('WGI connector on wgidataset.csv', () => {
  let store: Store;
  let summary: IngestSummary;
  let rows: Record<string, string>[];

  beforeAll(async () => {
    // Read here, not while collecting: collection runs even when the suite is skipped.
    rows = Papa.parse<Record<string, string>>(readFileSync(realDataFile(...FILE), 'utf8').replace(/^\uFEFF/, '').trim(), { header: true }).data;
    store = await openTestStore('pglite');
    summary = await ingestFile(store, realDataFile(...FILE), { grade: 'A2' });
  });
  afterAll(async () => {
    await store?.close();
  });

  const value = async (entity: string, indicator: string, year: number) =>
    (
      await store.db
        .selectFrom('observations')
        .select('value')
        .where('indicator_code', '=', indicator)
        .where('entity_code', '=', entity)
        .where('year', '=', year)
        .executeTakeFirst()
    )?.value;

  it('stores every estimate and standard error of every country row, rejecting nothing', () => {
    const countryRows = rows.filter((r) => r.code !== 'ANT');
    const present = countryRows.reduce((n, r) => n + (r.estimate !== '..' ? 1 : 0) + (r.stddev !== '..' ? 1 : 0), 0);
    expect(summary).toMatchObject({ format: 'wgi', rejected: 0, accepted: present, droppedAggregates: rows.length - countryRows.length });
    expect(summary.missing).toBeGreaterThan(0);
  });

  it('maps World Bank codes to ISO3 and keeps the values as published', async () => {
    const pick = (code: string, indicator: string, year: number) => rows.find((r) => r.code === code && r.indicator === indicator && r.year === String(year))!;
    const germany = pick('DEU', 'rl', 2023);
    expect(await value('DEU', 'wgi_rl', 2023)).toBe(Number(germany.estimate));
    expect(await value('DEU', 'wgi_rl_se', 2023)).toBe(Number(germany.stddev));
    expect(await value('ROU', 'wgi_rl', 2023)).toBe(Number(pick('ROM', 'rl', 2023).estimate));
    expect(await value('AND', 'wgi_cc', 2010)).toBe(Number(pick('ADO', 'cc', 2010).estimate));
    expect(await value('XKX', 'wgi_ge', 2015)).toBe(Number(pick('KSV', 'ge', 2015).estimate));
    // The WGI has no 1997, 1999 or 2001.
    expect(await value('DEU', 'wgi_rl', 2001)).toBeUndefined();
  });
});
