/**
 * The World Bank connector (`wdi`): the real tidy population table (../shared/datasets/real;
 * skipped where absent) and a WDI download written here in the World Bank's own layout (four
 * preamble lines, `Country Name,Country Code,Indicator Name,Indicator Code,1960,...`, a trailing
 * comma on every line, empty cells and `..` missing, non-ISO codes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFile, type IngestSummary } from '../datasets/ingest.ts';
import { BUILTIN_INDICATORS } from '../datasets/reference/indicators.ts';
import { ThreatLensError } from '../engine/errors.ts';
import { looksLikeWbPopulation, looksLikeWdi, wdiIndicatorCode } from '../engine/ingest/worldbank.ts';
import type { Store } from '../engine/store/database.ts';
import { writeFixture } from './support/fixtures.ts';
import { hasRealData, realDataFile } from './support/shared-data.ts';
import { useScratchStore, openTestStore } from './support/stores.ts';

const FILE = ['worldbank_population', 'pop_by_country.csv'];

const value = async (store: Store, entity: string, year: number, indicator = 'wb_population') =>
  (
    await store.db
      .selectFrom('observations')
      .select('value')
      .where('indicator_code', '=', indicator)
      .where('entity_code', '=', entity)
      .where('year', '=', year)
      .executeTakeFirst()
  )?.value;

describe('wb_population in the catalogue', () => {
  it('is a context indicator in persons, never scored', () => {
    expect(BUILTIN_INDICATORS.find((i) => i.code === 'wb_population')).toMatchObject({ unit: 'persons', crimeArea: 'context' });
  });

  it('maps SP.POP.TOTL and recognises both World Bank layouts', () => {
    expect(wdiIndicatorCode('SP.POP.TOTL')).toBe('wb_population');
    expect(wdiIndicatorCode('NY.GDP.PCAP.CD')).toBe('wdi_ny_gdp_pcap_cd');
    expect(looksLikeWbPopulation(['iso3', 'country', 'year', 'population', 'source'])).toBe(true);
    expect(looksLikeWbPopulation(['iso3', 'country', 'year', 'population', 'homicides'])).toBe(false);
    expect(looksLikeWdi(['Country Name', 'Country Code', 'Indicator Name', 'Indicator Code', '1960', ''])).toBe(true);
  });
});

describe.skipIf(!hasRealData('World Bank population connector tests', FILE))('wdi connector on pop_by_country.csv', () => {
  let store: Store;
  let summary: IngestSummary;
  beforeAll(async () => {
    store = await openTestStore('pglite');
    summary = await ingestFile(store, realDataFile(...FILE));
  });
  afterAll(async () => {
    await store?.close();
  });

  it('stores every country row and drops the aggregates, rejecting nothing', () => {
    // Counted with pandas: 17,195 rows; 3,185 of them belong to 48 World Bank aggregates (WLD,
    // EUU, EMU, income and lending groups, regions...) and CHI (Channel Islands, not an ISO country).
    expect(summary).toMatchObject({ format: 'wdi', rejected: 0, accepted: 17195 - 3185, droppedAggregates: 3185, missing: 0 });
  });

  it('keeps the published populations', async () => {
    // Read from the file: "AUT,Austria,2020,8916864", "DEU,Germany,2023,83901923", "XKX,Kosovo,2020,1790151".
    expect(await value(store, 'AUT', 2020)).toBe(8916864);
    expect(await value(store, 'DEU', 2023)).toBe(83901923);
    expect(await value(store, 'XKX', 2020)).toBe(1790151);
    expect(await value(store, 'WLD', 2020)).toBeUndefined();
  });

  it('grades the batch A1 by default: an official World Bank series', async () => {
    expect(summary.grade).toMatchObject({ scheme: 'admiralty', source: 'A', information: '1', isDefault: true });
    const batch = await store.db.selectFrom('ingestion_batches').selectAll().where('id', '=', summary.batchId!).executeTakeFirstOrThrow();
    expect(batch).toMatchObject({ format: 'wdi', source_reliability: 'A', information_credibility: '1', grading_scheme: 'admiralty' });
  });
});

/** A WDI API download as the World Bank writes it, years 1960-2023, for a few economies. */
function wdiDownload(rows: readonly (readonly [name: string, code: string, values: Record<number, string>])[]): string {
  const years = Array.from({ length: 2023 - 1960 + 1 }, (_, i) => 1960 + i);
  const q = (text: string) => `"${text}"`;
  const lines = [
    '"Data Source","World Development Indicators",',
    '',
    '"Last Updated Date","2025-07-01",',
    '',
    `${['Country Name', 'Country Code', 'Indicator Name', 'Indicator Code', ...years.map(String)].map(q).join(',')},`,
    ...rows.map(([name, code, values]) =>
      `${[name, code, 'Population, total', 'SP.POP.TOTL', ...years.map((y) => values[y] ?? '')].map(q).join(',')},`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

describe('wdi connector on a World Bank WDI download', () => {
  const scratch = useScratchStore();

  it('skips the preamble, maps ROM, ADO and KSV, drops WLD, treats empty and .. as missing', async () => {
    const path = await writeFixture(
      scratch.dir,
      'API_SP.POP.TOTL_DS2_en_csv_v2.csv',
      wdiDownload([
        ['Romania', 'ROM', { 2020: '19265250', 2021: '19119880' }],
        ['Andorra', 'ADO', { 2020: '77380', 2021: '..' }],
        ['Kosovo', 'KSV', { 2020: '1790151' }],
        ['Korea, Rep.', 'KOR', { 2020: '51836239' }],
        ['World', 'WLD', { 2020: '7855075060' }],
      ]),
    );
    const summary = await ingestFile(scratch.store, path, { format: 'auto' });
    expect(summary).toMatchObject({ format: 'wdi', accepted: 5, rejected: 0, droppedAggregates: 1, missing: 4 * 64 - 5 });
    expect(await value(scratch.store, 'ROU', 2021)).toBe(19119880);
    expect(await value(scratch.store, 'AND', 2020)).toBe(77380);
    expect(await value(scratch.store, 'AND', 2021)).toBeUndefined();
    expect(await value(scratch.store, 'XKX', 2020)).toBe(1790151);
    expect(await value(scratch.store, 'KOR', 2020)).toBe(51836239);
  });

  it('names file, line and year of a bad value, and stores nothing', async () => {
    const path = await writeFixture(scratch.dir, 'bad-wdi.csv', wdiDownload([['Austria', 'AUT', { 2019: '8879920' }], ['Germany', 'DEU', { 2020: 'eighty million' }]]));
    const batches = async () => (await scratch.store.db.selectFrom('ingestion_batches').select('id').execute()).length;
    const before = await batches();
    const error = await ingestFile(scratch.store, path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThreatLensError);
    // Line 7: four preamble lines (two blank), the header on line 5, Austria on 6.
    expect((error as ThreatLensError).issues[0]).toMatchObject({ file: 'bad-wdi.csv', line: 7, field: '2020' });
    expect((error as ThreatLensError).message).toMatch(/bad-wdi\.csv, line 7, field "2020": "eighty million" is not a number/);
    expect(await batches()).toBe(before);
    expect(await value(scratch.store, 'AUT', 2019)).toBeUndefined();
  });
});
