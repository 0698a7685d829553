/**
 * The UNODC data-portal connector on the real corruption and economic crime file
 * (../shared/datasets/real; skipped where absent): category and unit as indicators, the row's
 * source kept, UK jurisdictions as sub-national entities, partial-country codes dropped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFile, type IngestSummary } from '../datasets/ingest.ts';
import { unodcCtsIndicatorCode } from '../engine/ingest/unodc-cts.ts';
import type { Store } from '../engine/store/database.ts';
import { hasRealData, realDataFile } from './support/shared-data.ts';
import { openTestStore } from './support/stores.ts';

const FILE = ['unodc_cts_corruption_economic_crime', 'data_cts_corruption_and_economic_crime.csv'];

describe('unodcCtsIndicatorCode', () => {
  it.each([
    ['Corruption: Bribery', 'Counts', 'unodc_cts_corruption_bribery_count'],
    ['Corruption: Bribery', 'Rate per 100,000 population', 'unodc_cts_corruption_bribery_per_100k'],
    ['Fraud: Cyber-related (Cy)', 'Counts', 'unodc_cts_fraud_cyber_related_count'],
  ])('%s, %s -> %s', (category, unit, code) => expect(unodcCtsIndicatorCode(category, unit)).toBe(code));

  it('keeps disaggregations other than Total in the code', () => {
    expect(unodcCtsIndicatorCode('Theft', 'Counts', 'Female', 'Total')).toBe('unodc_cts_theft_female_count');
  });
});

describe.skipIf(!hasRealData('UNODC CTS connector tests', FILE))('UNODC connector on data_cts_corruption_and_economic_crime.csv', () => {
  let store: Store;
  let summary: IngestSummary;
  beforeAll(async () => {
    store = await openTestStore('pglite');
    summary = await ingestFile(store, realDataFile(...FILE), { grade: 'A2' });
  });
  afterAll(async () => {
    await store?.close();
  });

  const get = (entity: string, indicator: string, year: number) =>
    store.db
      .selectFrom('observations')
      .select(['value', 'row_source'])
      .where('indicator_code', '=', indicator)
      .where('entity_code', '=', entity)
      .where('year', '=', year)
      .executeTakeFirst();

  it('stores all 22,754 rows but the 30 of central Iraq (IRQ_C), rejecting nothing', () => {
    // SOURCE.md: 22,754 rows; IRQ_C is a partial-country code (30 rows).
    expect(summary).toMatchObject({ format: 'unodc-cts', rejected: 0, droppedAggregates: 30, accepted: 22754 - 30 });
  });

  it('puts known values where the file has them, with their source', async () => {
    // "AUT,...,Corruption: Bribery,Total,Total,2020,Counts,37,CTS" and its rate 0.415367380660742.
    expect(await get('AUT', 'unodc_cts_corruption_bribery_count', 2020)).toEqual({ value: 37, row_source: 'CTS' });
    expect((await get('AUT', 'unodc_cts_corruption_bribery_per_100k', 2020))?.value).toBe(0.415367380660742);
    // "GBR_S,United Kingdom (Scotland),...,Burglary,Total,Total,2015,Counts,17637,CTS".
    expect((await get('GB-SCT', 'unodc_cts_burglary_count', 2015))?.value).toBe(17637);
  });
});
