/**
 * The Our World in Data connector on the real homicide file (../shared/datasets/real; skipped
 * where absent): countries by ISO3 code, Kosovo by OWID_KOS, regions and aggregates dropped.
 */
import { readFileSync } from 'node:fs';
import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFile, type IngestSummary } from '../datasets/ingest.ts';
import { isOwidAggregate } from '../engine/ingest/owid.ts';
import type { Store } from '../engine/store/database.ts';
import { hasRealData, realDataFile } from './support/shared-data.ts';
import { openTestStore } from './support/stores.ts';

const FILE = ['owid_homicide_rate', 'homicide-rate-unodc.csv'];

describe('isOwidAggregate', () => {
  it.each([
    ['OWID_WRL', true],
    ['UN_EUR', true],
    ['', true],
    ['OWID_KOS', false],
    ['DEU', false],
  ])('%j -> %s', (code, aggregate) => {
    expect(isOwidAggregate(code)).toBe(aggregate);
  });
});

describe.skipIf(!hasRealData('OWID connector tests', FILE))('OWID connector on the UNODC homicide file', () => {
  let store: Store;
  let summary: IngestSummary;
  let rows: string[][];

  beforeAll(async () => {
    // Read here, not while collecting: collection runs even when the suite is skipped.
    rows = Papa.parse<string[]>(readFileSync(realDataFile(...FILE), 'utf8').trim()).data.slice(1);
    store = await openTestStore('pglite');
    summary = await ingestFile(store, realDataFile(...FILE), { grade: 'A2' });
  });
  afterAll(async () => {
    await store?.close();
  });

  it('stores every country row and drops every aggregate row, rejecting nothing', () => {
    const aggregates = rows.filter((r) => isOwidAggregate(r[1]!)).length;
    expect(aggregates).toBeGreaterThan(0);
    expect(summary).toMatchObject({ format: 'owid', rejected: 0, droppedAggregates: aggregates, accepted: rows.length - aggregates });
  });

  it('puts known values where the file has them', async () => {
    const value = async (entity: string, year: number) =>
      (
        await store.db
          .selectFrom('observations')
          .select('value')
          .where('indicator_code', '=', 'unodc_homicide_rate')
          .where('entity_code', '=', entity)
          .where('year', '=', year)
          .executeTakeFirst()
      )?.value;
    // homicide-rate-unodc.csv: "Germany,DEU,2020,0.9350856,Europe".
    expect(await value('DEU', 2020)).toBe(0.9350856);
    const kosovo = rows.find((r) => r[1] === 'OWID_KOS')!;
    expect(await value('XKX', Number(kosovo[2]))).toBe(Number(kosovo[3]));
    const stored = await store.db.selectFrom('observations').select('entity_code').distinct().execute();
    expect(stored.some((r) => r.entity_code.startsWith('OWID') || r.entity_code.startsWith('UN_'))).toBe(false);
    // SOURCE.md: Kyrgyzstan is absent from this file.
    expect(stored.some((r) => r.entity_code === 'KGZ')).toBe(false);
  });
});
