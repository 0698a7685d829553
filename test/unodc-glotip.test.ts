/**
 * The UNODC GLOTIP connector: the real dataUNODC workbook (../shared/datasets/real; skipped where
 * absent) and small workbooks built here. Expected figures come from an independent read of the
 * sheet with Python's standard library (zipfile + ElementTree over xl/worksheets/sheet1.xml and
 * xl/sharedStrings.xml; openpyxl is not installed), grouping rows by the same rules.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFile, type IngestSummary } from '../datasets/ingest.ts';
import { BUILTIN_INDICATORS } from '../datasets/reference/indicators.ts';
import { glotipIndicatorCode, glotipValueText } from '../engine/ingest/unodc-glotip.ts';
import type { Store } from '../engine/store/database.ts';
import { hasRealData, realDataFile } from './support/shared-data.ts';
import { useScratchStore, openTestStore } from './support/stores.ts';
import { expectRefused, writeWorkbook } from './support/workbooks.ts';

const FILE = ['unodc_glotip', 'data_glotip.xlsx'];
const HEADER = ['Iso3_code', 'Country', 'Region', 'Subregion', 'Indicator', 'Dimension', 'Category', 'Sex', 'Age', 'Year', 'Unit of measurement', 'txtVALUE', 'Source'];
const row = (iso3: string, indicator: string, dimension: string, category: string, sex: string, age: string, year: number, value: string) =>
  [iso3, 'X', 'Europe', 'X', indicator, dimension, category, sex, age, year, 'Counts', value, 'GLOTIP'];

describe('glotipIndicatorCode', () => {
  it.each([
    ['Detected trafficking victims', 'Female', '18 years or over', 'Sexual exploitation', 'unodc_glotip_detected_victims_female_adult_sexual_exploitation_count'],
    ['Detected trafficking victims', 'Total', 'Total', 'Total', 'unodc_glotip_detected_victims_count'],
    ['Persons convicted', 'Male', '0 to 17 years', 'Total', 'unodc_glotip_persons_convicted_male_child_count'],
    ['Persons prosecuted', 'Unknown', 'Unknown', 'Total', 'unodc_glotip_persons_prosecuted_sex_unknown_age_unknown_count'],
  ])('%s, %s, %s, %s -> %s', (indicator, sex, age, form, code) => expect(glotipIndicatorCode(indicator, sex, age, form)).toBe(code));

  it('knows no label it was not told about', () => expect(glotipIndicatorCode('Detected trafficking victims', 'Total', '65+', 'Total')).toBeUndefined());

  it('every code it makes for the file is in the catalogue; counts are never scored, their rates are', () => {
    const codes = new Map(BUILTIN_INDICATORS.map((i) => [i.code, i]));
    expect(codes.get('unodc_glotip_detected_victims_female_adult_sexual_exploitation_count')?.crimeArea).toBe('context');
    expect(codes.get('unodc_glotip_detected_victims_count')?.ratePer100k?.indicator).toBe('unodc_glotip_detected_victims_per_100k');
    expect(codes.get('unodc_glotip_detected_victims_per_100k')?.crimeArea).toBe('trafficking_in_persons');
    expect(new Set(BUILTIN_INDICATORS.map((i) => i.code)).size).toBe(BUILTIN_INDICATORS.length);
  });

  it('reads GLOTIP thousands ("10,627") and leaves other text to the value parser', () => {
    expect(glotipValueText('10,627')).toBe('10627');
    expect(glotipValueText('<5')).toBe('<5');
    expect(glotipValueText('1,2')).toBe('1,2');
  });
});

describe('GLOTIP workbooks built here', () => {
  const scratch = useScratchStore();

  it('keeps `<5` censored, sums rows that repeat a key, drops origin breakdowns and aggregates', async () => {
    const path = await writeWorkbook(scratch.dir, 'glotip-small.xlsx', [{ name: 'data_glotip_1', rows: [
      HEADER,
      row('AUT', 'Detected trafficking victims', 'Total', 'Total', 'Total', 'Total', 2019, '1,234'),
      row('AUT', 'Detected trafficking victims', 'Total', 'Total', 'Female', 'Total', 2019, '<5'),
      row('AUT', 'Detected trafficking victims', 'by form of exploitation', 'Other forms of exploitation', 'Total', 'Total', 2019, '7'),
      row('AUT', 'Detected trafficking victims', 'by form of exploitation', 'Other forms of exploitation', 'Total', 'Total', 2019, '<5'),
      row('AUT', 'Detected trafficking victims', 'by citizenship', 'Romania', 'Total', 'Total', 2019, '12'),
      ['', 'Sark', 'Europe', 'X', 'Detected trafficking victims', 'Total', 'Total', 'Total', 'Total', 2019, 'Counts', '<5', 'GLOTIP'],
    ] }]);
    const summary = await ingestFile(scratch.store, path);
    expect(summary).toMatchObject({ format: 'unodc-glotip', accepted: 3, rejected: 0, droppedAggregates: 1, droppedBreakdowns: 1, sheets: ['data_glotip_1'] });
    const stored = await scratch.store.db.selectFrom('observations').select(['indicator_code', 'value', 'value_qualifier']).where('batch_id', '=', summary.batchId!).orderBy('indicator_code').execute();
    expect(stored).toEqual([
      { indicator_code: 'unodc_glotip_detected_victims_count', value: 1234, value_qualifier: null },
      { indicator_code: 'unodc_glotip_detected_victims_female_count', value: 5, value_qualifier: '<' },
      // 7 + a value under 5: under 12, still censored.
      { indicator_code: 'unodc_glotip_detected_victims_other_exploitation_count', value: 12, value_qualifier: '<' },
    ]);
  });

  it('refuses a text value, naming file, sheet, line and column, and stores nothing', async () => {
    const path = await writeWorkbook(scratch.dir, 'glotip-text.xlsx', [{ name: 'data_glotip_1', rows: [
      HEADER,
      row('DEU', 'Persons convicted', 'Total', 'Total', 'Total', 'Total', 2019, '12'),
      row('DEU', 'Persons convicted', 'Total', 'Total', 'Total', 'Total', 2020, 'twelve'),
    ] }]);
    const error = await expectRefused(scratch.store, path, 'TL_INPUT_INVALID_ROWS', /glotip-text\.xlsx, sheet "data_glotip_1", line 3, field "txtVALUE": "twelve" is not a number/);
    expect(error.issues[0]).toMatchObject({ line: 3, field: 'txtVALUE' });
  });

  it('refuses a missing required column with --format unodc-glotip, naming it', async () => {
    const path = await writeWorkbook(scratch.dir, 'glotip-no-value.xlsx', [{ name: 'data', rows: [HEADER.slice(0, 11), row('DEU', 'Persons convicted', 'Total', 'Total', 'Total', 'Total', 2019, '12').slice(0, 11)] }]);
    await expectRefused(scratch.store, path, 'TL_INPUT_HEADER', /glotip-no-value\.xlsx, sheet "data", line 1, field "txtVALUE": not a UNODC GLOTIP table: column "txtVALUE" is missing/, { format: 'unodc-glotip' });
  });

  it('refuses a header with no data rows, naming its line', async () => {
    const path = await writeWorkbook(scratch.dir, 'glotip-empty.xlsx', [{ name: 'data_glotip_1', rows: [HEADER] }]);
    await expectRefused(scratch.store, path, 'TL_INPUT_EMPTY', /glotip-empty\.xlsx, sheet "data_glotip_1", line 1: the header has no data rows/);
  });
});

describe.skipIf(!hasRealData('UNODC GLOTIP connector tests', FILE))('GLOTIP connector on data_glotip.xlsx', () => {
  let store: Store;
  let summary: IngestSummary;
  beforeAll(async () => {
    store = await openTestStore('pglite');
    summary = await ingestFile(store, realDataFile(...FILE));
  }, 120_000);
  afterAll(async () => {
    await store?.close();
  });

  const get = (entity: string, indicator: string, year: number) =>
    store.db
      .selectFrom('observations')
      .select(['value', 'value_qualifier', 'row_source'])
      .where('indicator_code', '=', indicator)
      .where('entity_code', '=', entity)
      .where('year', '=', year)
      .executeTakeFirst();

  it('stores every country row but the origin breakdowns, rejecting nothing', () => {
    // Independent read: 46,556 data rows; 983 whose code is not a country (27 without an ISO3 code, such as Sark, and 956 of the UNODC regions CAR, CAS, EEU, MCA, MCN, SAF, SAM, which have no country name); 9,551
    // by citizenship or country of repatriation; 35,498 distinct keys in the rest.
    expect(summary).toMatchObject({ format: 'unodc-glotip', rejected: 0, droppedAggregates: 983, droppedBreakdowns: 9551, accepted: 35498, missing: 0, sheets: ['data_glotip_1'] });
  });

  it('puts known values where the file has them', async () => {
    // Row 9717: DEU, Detected trafficking victims, Total, Total, Total, Total, 2018, "503".
    expect(await get('DEU', 'unodc_glotip_detected_victims_count', 2018)).toEqual({ value: 503, value_qualifier: null, row_source: 'GLOTIP' });
    // Row 9753: DEU, ..., by form of exploitation, Sexual exploitation, Female, 18 years or over, 2018, "336".
    expect((await get('DEU', 'unodc_glotip_detected_victims_female_adult_sexual_exploitation_count', 2018))?.value).toBe(336);
    // Row 14108: GBR, Detected trafficking victims, Total..., 2019, "10,627" (text with a thousands separator).
    expect((await get('GBR', 'unodc_glotip_detected_victims_count', 2019))?.value).toBe(10627);
    // Row 36792: USA, Persons convicted, Total, 2019, "475".
    expect((await get('USA', 'unodc_glotip_persons_convicted_count', 2019))?.value).toBe(475);
  });

  it('keeps the censored values censored: 16,626 keys have a `<5` part', async () => {
    const censored = await store.db.selectFrom('observations').select((eb) => eb.fn.countAll<number>().as('n')).where('indicator_code', 'like', 'unodc_glotip_%').where('value_qualifier', '=', '<').executeTakeFirstOrThrow();
    expect(Number(censored.n)).toBe(16626);
  });
});
