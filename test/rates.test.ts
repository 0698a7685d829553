/**
 * Counts to rates per 100,000: the pure derivation (hand-computed), the catalogue's plans, the
 * derived batch in the store (provenance, idempotence), and a real check against UNODC's own
 * published rate (../shared/datasets/real; skipped where absent).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFile } from '../datasets/ingest.ts';
import { BUILTIN_INDICATORS } from '../datasets/reference/indicators.ts';
import { deriveRates, ratePer100k, ratePlans, type RatePlan, type StoredAnnualValue } from '../engine/ingest/rates.ts';
import type { Store } from '../engine/store/database.ts';
import { DERIVED_RATE_FORMAT, deriveStoredRates } from '../engine/store/rates.ts';
import { tempDir, writeFixture } from './support/fixtures.ts';
import { hasRealData, realDataFile } from './support/shared-data.ts';
import { openTestStore } from './support/stores.ts';

const BURGLARY: RatePlan = { count: 'unodc_cts_burglary_count', rate: 'unodc_cts_burglary_per_100k', denominator: 'wb_population' };

const stored = (entity: string, indicator: string, year: number, value: number, more: Partial<StoredAnnualValue> = {}): StoredAnnualValue => ({
  entity, indicator, year, value, qualifier: null, batchId: 1, derived: false, ...more,
});

describe('ratePer100k and deriveRates', () => {
  it('a count of 250 in a state of 5,000,000 is 5 per 100,000', () => {
    expect(ratePer100k(250, 5_000_000)).toBe(5);
  });

  it('derives only where the source gave no rate and the same entity-year has a population', () => {
    const result = deriveRates([BURGLARY], [
      stored('AAA', BURGLARY.count, 2020, 250, { batchId: 3 }),
      stored('AAA', 'wb_population', 2020, 5_000_000, { batchId: 2 }),
      // The source published a rate: left alone.
      stored('BBB', BURGLARY.count, 2020, 100),
      stored('BBB', BURGLARY.rate, 2020, 1.9),
      stored('BBB', 'wb_population', 2020, 5_000_000),
      // No population of that year (2019 is not used for 2020).
      stored('CCC', BURGLARY.count, 2020, 10),
      stored('CCC', 'wb_population', 2019, 1_000_000),
      // Censored count.
      stored('DDD', BURGLARY.count, 2020, 5, { qualifier: '<' }),
      stored('DDD', 'wb_population', 2020, 1_000_000),
      // Already derived with this value.
      stored('EEE', BURGLARY.count, 2020, 30),
      stored('EEE', 'wb_population', 2020, 3_000_000),
      stored('EEE', BURGLARY.rate, 2020, 1, { derived: true }),
    ]);
    expect(result.rates).toEqual([{ entity: 'AAA', indicator: BURGLARY.rate, year: 2020, value: 5, countBatch: 3, populationBatch: 2 }]);
    expect(result).toMatchObject({ publishedBySource: 1, noDenominator: 1, censored: 1, unchanged: 1 });
  });

  it('recomputes a derived rate when the population changed', () => {
    const result = deriveRates([BURGLARY], [
      stored('EEE', BURGLARY.count, 2020, 30),
      stored('EEE', 'wb_population', 2020, 2_000_000, { batchId: 9 }),
      stored('EEE', BURGLARY.rate, 2020, 1, { derived: true }),
    ]);
    expect(result.rates.map((r) => [r.value, r.populationBatch])).toEqual([[1.5, 9]]);
  });
});

describe('rate plans in the catalogue', () => {
  const plans = ratePlans(BUILTIN_INDICATORS);
  const units = new Map(BUILTIN_INDICATORS.map((i) => [i.code, i.unit]));

  it('pairs every UNODC CTS count with its rate, denominated by World Bank population', () => {
    expect(plans).toContainEqual(BURGLARY);
    const cts = plans.filter((p) => p.count.startsWith('unodc_cts_'));
    expect(cts.length).toBeGreaterThan(10);
    for (const plan of cts) expect(units.get(plan.count)).toBe('number of offences');
    for (const plan of plans) {
      // counts of offences (UNODC CTS) or of persons (GLOTIP victims, prosecutions, convictions)
      expect(units.get(plan.count)).toMatch(/^number of (offences|persons)$/);
      expect(units.get(plan.rate)).toBe('per 100,000 population');
      expect(plan.denominator).toBe('wb_population');
    }
  });

  it('asks for no rate of a quantity that is not a count (kilograms of seizures)', () => {
    expect(plans.filter((p) => /kg/.test(units.get(p.count) ?? '') || /kg/.test(units.get(p.rate) ?? ''))).toEqual([]);
  });
});

describe('derived-rate batches in the store', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore('pglite');
  });
  afterAll(async () => {
    await store?.close();
  });

  it('stores 250 / 5,000,000 as 5 per 100,000 in a batch that names its count and population batches', async () => {
    const dir = await tempDir();
    const counts = await ingestFile(store, await writeFixture(dir, 'counts.csv', 'entity,period,indicator,value\nAUT,2020,unodc_cts_burglary_count,250\nGB-SCT,2020,unodc_cts_burglary_count,17637\n'));
    const population = await ingestFile(store, await writeFixture(dir, 'population.csv', 'entity,period,indicator,value\nAUT,2020,wb_population,5000000\n'));
    const summary = await deriveStoredRates(store, ratePlans(BUILTIN_INDICATORS));
    // Scotland has no World Bank population: no rate.
    expect(summary).toMatchObject({ derived: 1, noDenominator: 1, derivedFrom: [counts.batchId, population.batchId], grade: 'F6' });
    const row = await store.db
      .selectFrom('observations')
      .selectAll()
      .where('indicator_code', '=', 'unodc_cts_burglary_per_100k')
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ entity_code: 'AUT', period: '2020', value: 5, flags: ['derived'], batch_id: summary.batchId });
    expect(row.row_source).toBe(`derived: count batch ${counts.batchId}, population batch ${population.batchId}`);
    const batch = await store.db.selectFrom('ingestion_batches').selectAll().where('id', '=', summary.batchId!).executeTakeFirstOrThrow();
    expect(batch).toMatchObject({ format: DERIVED_RATE_FORMAT, derived_from: [counts.batchId, population.batchId], rows_accepted: 1 });
    const audit = await store.db.selectFrom('audit_log').select('action').orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(audit.action).toBe('derive-rates');
  });

  it('is idempotent: run again, it writes nothing', async () => {
    const before = (await store.db.selectFrom('ingestion_batches').select('id').execute()).length;
    expect(await deriveStoredRates(store, ratePlans(BUILTIN_INDICATORS))).toMatchObject({ batchId: null, derived: 0, unchanged: 1 });
    expect((await store.db.selectFrom('ingestion_batches').select('id').execute()).length).toBe(before);
  });
});

const POPULATION = ['worldbank_population', 'pop_by_country.csv'];
const CTS = ['unodc_cts_corruption_economic_crime', 'data_cts_corruption_and_economic_crime.csv'];

describe.skipIf(!hasRealData('rates from real counts and World Bank population', POPULATION, CTS))('rates from the real UNODC counts and World Bank population', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore('pglite');
    await ingestFile(store, realDataFile(...POPULATION));
    await ingestFile(store, realDataFile(...CTS));
  });
  afterAll(async () => {
    await store?.close();
  });

  const value = async (entity: string, indicator: string, year: number) =>
    (await store.db.selectFrom('observations').select('value').where('indicator_code', '=', indicator).where('entity_code', '=', entity).where('year', '=', year).executeTakeFirstOrThrow()).value!;

  it("recomputes Austria's 2020 bribery rate within 0.5% of UNODC's", async () => {
    // The file: AUT 2020 bribery 37 offences, 0.415367380660742 per 100,000; World Bank: 8,916,864.
    // 37 / 8,916,864 x 100,000 = 0.41494: 0.1% below UNODC, whose rate uses UN World Population
    // Prospects (37 / 0.41537 x 100,000 = 8,907,777 implied), not World Bank population. Rates
    // derived here differ from UNODC's by that much wherever the two population series differ.
    const count = await value('AUT', 'unodc_cts_corruption_bribery_count', 2020);
    const population = await value('AUT', 'wb_population', 2020);
    const published = await value('AUT', 'unodc_cts_corruption_bribery_per_100k', 2020);
    expect([count, population, published]).toEqual([37, 8916864, 0.415367380660742]);
    const recomputed = ratePer100k(count, population);
    expect(Math.abs(recomputed - published) / published).toBeLessThan(0.005);
  });

  it('derives nothing where UNODC published its rates (every count in this file has one)', async () => {
    // pandas: 11,377 counts and 11,377 rates, one for one; the 15 count rows of central Iraq are dropped.
    const summary = await deriveStoredRates(store, ratePlans(BUILTIN_INDICATORS));
    expect(summary).toMatchObject({ batchId: null, derived: 0, censored: 0, noDenominator: 0 });
    expect(summary.publishedBySource).toBe(11377 - 15);
  });
});
