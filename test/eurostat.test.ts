/**
 * The Eurostat bulk-TSV connector on the real crim_off_cat file (../shared/datasets/real; skipped
 * where absent): the comma-joined key, `:` as missing, Greece as EL, the UK's three jurisdictions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFile, type IngestSummary } from '../datasets/ingest.ts';
import { isEurostatAggregate } from '../engine/ingest/eurostat.ts';
import type { Store } from '../engine/store/database.ts';
import { hasRealData, realDataFile } from './support/shared-data.ts';
import { openTestStore } from './support/stores.ts';
import { tempDir, writeFixture } from './support/fixtures.ts';

const FILE = ['eurostat_crim_off_cat', 'estat_crim_off_cat.tsv'];

describe('isEurostatAggregate', () => {
  it.each([
    ['EU27_2020', true],
    ['EA19', true],
    ['EL', false],
    ['UKM', false],
  ])('%s -> %s', (geo, aggregate) => expect(isEurostatAggregate(geo)).toBe(aggregate));
});

describe('Eurostat connector', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore('pglite');
  });
  afterAll(async () => {
    await store?.close();
  });

  const value = async (entity: string, indicator: string, year: number) =>
    (
      await store.db
        .selectFrom('observations')
        .select(['value', 'flags'])
        .where('indicator_code', '=', indicator)
        .where('entity_code', '=', entity)
        .where('year', '=', year)
        .executeTakeFirst()
    );

  it('reads flags, drops EU aggregates and refuses a text value with line and column', async () => {
    const dir = await tempDir();
    const good = await writeFixture(
      dir,
      'small.tsv',
      'freq,iccs,unit,geo\\TIME_PERIOD\t2020 \t2021 \nA,ICCS0401,P_HTHAB,EL\t12.5 p\t: \nA,ICCS0401,P_HTHAB,EU27_2020\t30 \t31 \n',
    );
    const summary = await ingestFile(store, good);
    expect(summary).toMatchObject({ format: 'eurostat', accepted: 1, missing: 1, droppedAggregates: 1, rejected: 0 });
    expect(await value('GRC', 'eurostat_iccs0401_per_100k', 2020)).toEqual({ value: 12.5, flags: ['p'] });
    const bad = await writeFixture(dir, 'bad.tsv', 'freq,iccs,unit,geo\\TIME_PERIOD\t2020 \nA,ICCS0401,P_HTHAB,AT\tmany \n');
    await expect(ingestFile(store, bad)).rejects.toThrow(/bad\.tsv, line 2, field "2020 ": "many" is not a number/);
  });

  describe.skipIf(!hasRealData('Eurostat connector tests', FILE))('on estat_crim_off_cat.tsv', () => {
    let summary: IngestSummary;
    beforeAll(async () => {
      summary = await ingestFile(store, realDataFile(...FILE), { grade: 'A2' });
    });

    it('stores every value and counts every ":" as missing (SOURCE.md: 23,370 cells, 5,896 missing)', () => {
      expect(summary).toMatchObject({ format: 'eurostat', rejected: 0, droppedAggregates: 0, missing: 5896, accepted: 23370 - 5896 });
    });

    it('puts known values where the file has them, Greece and the UK jurisdictions included', async () => {
      // "A,ICCS0101,P_HTHAB,DE  0.80 ..." (2008) and "A,ICCS0101,NR,AT  58 ..." (2008).
      expect((await value('DEU', 'eurostat_iccs0101_per_100k', 2008))?.value).toBe(0.8);
      expect((await value('AUT', 'eurostat_iccs0101_count', 2008))?.value).toBe(58);
      const greece = await store.db.selectFrom('observations').select('entity_code').where('entity_code', '=', 'GRC').limit(1).execute();
      expect(greece).toHaveLength(1);
      for (const code of ['GB-EAW', 'GB-SCT', 'GB-NIR']) {
        const rows = await store.db.selectFrom('observations').select('year').where('entity_code', '=', code).execute();
        expect(rows.length, code).toBeGreaterThan(0);
        expect(Math.max(...rows.map((r) => r.year)), code).toBeLessThanOrEqual(2018);
      }
      const scotland = await store.db.selectFrom('entities').selectAll().where('code', '=', 'GB-SCT').executeTakeFirstOrThrow();
      expect(scotland).toMatchObject({ kind: 'subnational', parent_code: 'GBR' });
    });
  });
});
