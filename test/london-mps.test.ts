/**
 * The London MPS connector (`mps-borough`) on the real monthly borough file
 * (../shared/datasets/real; skipped where absent): boroughs as sub-national entities of GBR by GSS
 * code, monthly periods, one count indicator per minor offence category.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFile, type IngestSummary } from '../datasets/ingest.ts';
import { LONDON_AIRPORTS, LONDON_BOROUGHS } from '../datasets/reference/subnational.ts';
import { mpsIndicatorCode } from '../engine/ingest/london-mps.ts';
import type { Store } from '../engine/store/database.ts';
import { hasRealData, realDataFile } from './support/shared-data.ts';
import { openTestStore } from './support/stores.ts';

const FILE = ['london_mps_borough_monthly', 'mps_borough_level_crime_historical.csv'];

describe('mpsIndicatorCode and the London entities', () => {
  it('names indicators by minor category', () => {
    expect(mpsIndicatorCode('VIOLENCE WITH INJURY')).toBe('mps_violence_with_injury_count');
    expect(mpsIndicatorCode('THEFT OR UNAUTH TAKING OF A MOTOR VEH')).toBe('mps_theft_or_unauth_taking_of_a_motor_veh_count');
  });

  it('declares the 32 boroughs by GSS code E09000002-E09000033', () => {
    const codes = Object.keys(LONDON_BOROUGHS);
    expect(codes).toHaveLength(32);
    expect(codes[0]).toBe('E09000002');
    expect(codes[31]).toBe('E09000033');
  });
});

describe.skipIf(!hasRealData('London MPS connector tests', FILE))('mps-borough connector on mps_borough_level_crime_historical.csv', () => {
  let store: Store;
  let summary: IngestSummary;
  beforeAll(async () => {
    store = await openTestStore('pglite');
    summary = await ingestFile(store, realDataFile(...FILE));
  });
  afterAll(async () => {
    await store?.close();
  });

  const count = async (entity: string, minor: string, month: string) =>
    (
      await store.db
        .selectFrom('observations')
        .select(['value', 'period_kind'])
        .where('indicator_code', '=', mpsIndicatorCode(minor))
        .where('entity_code', '=', entity)
        .where('period', '=', month)
        .executeTakeFirst()
    );

  it('stores every month of every located row; the 28 rows of borough "Unknown" are dropped and counted', () => {
    // pandas: 949 rows x 162 months (April 2010 - September 2023), no empty cell; 28 rows "Unknown".
    expect(summary).toMatchObject({ format: 'mps-borough', rejected: 0, droppedAggregates: 28, accepted: (949 - 28) * 162, missing: 0 });
    expect(summary.grade).toMatchObject({ source: 'B', information: '2', isDefault: true });
  });

  it('keeps borough-month counts as published, with monthly periods', async () => {
    // Read with pandas: Westminster (E09000033), VIOLENCE WITH INJURY, column 202309 = 355;
    // Barnet (E09000003), BURGLARY IN A DWELLING, 201004 = 220 and 201912 = 282.
    expect(await count('E09000033', 'VIOLENCE WITH INJURY', '2023-09')).toEqual({ value: 355, period_kind: 'month' });
    expect((await count('E09000003', 'BURGLARY IN A DWELLING', '2010-04'))?.value).toBe(220);
    expect((await count('E09000003', 'BURGLARY IN A DWELLING', '2019-12'))?.value).toBe(282);
    expect((await count(LONDON_AIRPORTS, 'SHOPLIFTING', '2015-07'))?.value).toBe(0);
    const parent = await store.db.selectFrom('entities').select(['parent_code', 'kind']).where('code', '=', 'E09000033').executeTakeFirstOrThrow();
    expect(parent).toEqual({ parent_code: 'GBR', kind: 'subnational' });
  });

  it('shows the 2013 fraud reporting break: FRAUD AND FORGERY falls to near zero', async () => {
    const rows = await store.db
      .selectFrom('observations')
      .select(['year', sql<number>`sum(value)`.as('total')])
      .where('indicator_code', '=', mpsIndicatorCode('FRAUD AND FORGERY'))
      .groupBy('year')
      .orderBy('year')
      .execute();
    const byYear = new Map(rows.map((r) => [r.year, Number(r.total)]));
    // pandas, boroughs and airports (not "Unknown"): 28,541 in 2012, 2,692 in 2013 (January
    // 2,401, then 286, 4, 1), at most 1 a year from 2014: recording moved to Action Fraud.
    expect(byYear.get(2012)).toBe(28541);
    expect(byYear.get(2013)).toBe(2692);
    for (let year = 2014; year <= 2023; year++) expect(byYear.get(year)).toBeLessThanOrEqual(1);
  });
});
