/**
 * The UNODC drug-seizures connector: the real World Drug Report 2024 annex workbook
 * (../shared/datasets/real; skipped where absent) and small workbooks built here. Expected
 * figures come from an independent read of the sheet with Python's standard library (zipfile +
 * ElementTree; openpyxl is not installed), applying the connector's rules in Python.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFile, type IngestSummary } from '../datasets/ingest.ts';
import { BUILTIN_INDICATORS } from '../datasets/reference/indicators.ts';
import { isPublishedTotal, seizureGroupCode, seizureSubgroupCode } from '../engine/ingest/unodc-seizures.ts';
import type { Store } from '../engine/store/database.ts';
import { hasRealData, realDataFile } from './support/shared-data.ts';
import { useScratchStore, openTestStore } from './support/stores.ts';
import { expectRefused, writeWorkbook } from './support/workbooks.ts';

const FILE = ['unodc_drug_seizures', 'drug_seizures_2018_2022.xlsx'];
const TITLE = ['Drug seizures, 2018-2022'];
const HEADER = ['Region', 'SubRegion', 'Country', 'DrugGroup', 'DrugSubGroup', 'DrugName', 'Reference year', 'Kilograms', 'msCode'];
const COCAINE = 'Cocaine-type';
const row = (iso3: string, group: string, subgroup: string, drug: string, year: number, kg: number | string | null) => ['Europe', 'X', 'X', group, subgroup, drug, year, kg, iso3];

describe('seizure indicator codes', () => {
  it('names groups and subgroups shortly, straightening the file\'s quotes', () => {
    expect(seizureGroupCode('cocaine')).toBe('unodc_seizures_cocaine_kg');
    expect(seizureSubgroupCode('cannabis', 'Cannabis herb (marijuana)')).toBe('unodc_seizures_cannabis_cannabis_herb_marijuana_kg');
    expect(seizureSubgroupCode('ecstasy', '“Ecstasy”-type substances')).toBe('unodc_seizures_ecstasy_ecstasy_type_substances_kg');
    const codes = new Map(BUILTIN_INDICATORS.map((i) => [i.code, i]));
    expect(codes.get('unodc_seizures_ecstasy_ecstasy_type_substances_kg')).toMatchObject({ unit: 'kilograms', crimeArea: 'context' });
  });

  it('knows the file\'s total rows', () => {
    expect(isPublishedTotal('Reported total hallucinogens', 'Total hallucinogens (including the above, ...)')).toBe(true);
    expect(isPublishedTotal('“Ecstasy”-type substances', 'Total "ecstasy"-type substances (including the above, ...)')).toBe(true);
    expect(isPublishedTotal('Cocaine', 'Cocaine hydrochloride')).toBe(false);
  });
});

describe('seizure workbooks built here', () => {
  const scratch = useScratchStore();

  it('reads the header below the title; sums drugs; a published total beats the sum; zeros stay, empties are missing', async () => {
    const path = await writeWorkbook(scratch.dir, 'seizures-small.xlsx', [{ name: 'Export', rows: [
      TITLE,
      HEADER,
      row('DEU', COCAINE, 'Cocaine', 'Cocaine hydrochloride', 2022, 20047),
      row('DEU', COCAINE, 'Cocaine', '"Crack" cocaine', 2022, 2.433),
      row('DEU', COCAINE, 'Coca-type', 'Coca leaf', 2022, 0),
      row('DEU', COCAINE, 'Coca-type', 'Coca paste', 2022, null),
      row('DEU', 'Hallucinogens', 'LSD', 'LSD', 2022, 0.5),
      row('DEU', 'Hallucinogens', 'Reported total hallucinogens', 'Total hallucinogens (including the above)', 2022, 3),
    ] }]);
    const summary = await ingestFile(scratch.store, path);
    expect(summary).toMatchObject({ format: 'unodc-seizures', rejected: 0, missing: 1, droppedAggregates: 0, accepted: 5, sheets: ['Export'] });
    const stored = await scratch.store.db.selectFrom('observations').select(['indicator_code', 'value', 'flags']).where('batch_id', '=', summary.batchId!).orderBy('indicator_code').execute();
    expect(stored.map((o) => [o.indicator_code, o.value, o.flags])).toEqual([
      ['unodc_seizures_cocaine_coca_type_kg', 0, []],
      ['unodc_seizures_cocaine_cocaine_kg', 20049.433, ['sum']],
      ['unodc_seizures_cocaine_kg', 20049.433, ['sum']],
      ['unodc_seizures_hallucinogens_kg', 3, []],
      ['unodc_seizures_hallucinogens_lsd_kg', 0.5, []],
    ]);
  });

  it('refuses a text value in Kilograms, naming file, sheet, line 4 and the column; stores nothing', async () => {
    const path = await writeWorkbook(scratch.dir, 'seizures-text.xlsx', [{ name: 'Export', rows: [TITLE, HEADER, row('FRA', COCAINE, 'Cocaine', 'Cocaine', 2021, 10), row('FRA', COCAINE, 'Cocaine', 'Cocaine', 2022, 'twelve')] }]);
    await expectRefused(scratch.store, path, 'TL_INPUT_INVALID_ROWS', /seizures-text\.xlsx, sheet "Export", line 4, field "Kilograms": "twelve" is not a number/);
  });

  it('refuses a sheet without msCode at its header line (2)', async () => {
    const path = await writeWorkbook(scratch.dir, 'seizures-no-code.xlsx', [{ name: 'Export', rows: [TITLE, HEADER.slice(0, 8), row('FRA', COCAINE, 'Cocaine', 'Cocaine', 2021, 10).slice(0, 8)] }]);
    await expectRefused(scratch.store, path, 'TL_INPUT_HEADER', /seizures-no-code\.xlsx, sheet "Export", line 2, field "msCode": not a UNODC drug seizures table: column "msCode" is missing/, { format: 'unodc-seizures' });
  });

  it('refuses a header with no data rows', async () => {
    const path = await writeWorkbook(scratch.dir, 'seizures-empty.xlsx', [{ name: 'Export', rows: [TITLE, HEADER] }]);
    await expectRefused(scratch.store, path, 'TL_INPUT_EMPTY', /seizures-empty\.xlsx, sheet "Export", line 2: the header has no data rows/);
  });

  it('refuses a zip that is not a workbook and a workbook with no known sheet', async () => {
    const { writeFixture } = await import('./support/fixtures.ts');
    const zip = await writeFixture(scratch.dir, 'not-a-workbook.xlsx', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00, 0x08, 0x00, 0x00, 0x00]));
    await expectRefused(scratch.store, zip, 'TL_INPUT_NOT_CSV', /not-a-workbook\.xlsx: the file is binary, not CSV text, and not a readable Excel workbook/);
    const notes = await writeWorkbook(scratch.dir, 'notes.xlsx', [{ name: 'Notes', rows: [['Meeting notes'], ['nothing', 'tabular', 'here']] }, { name: 'Cover', rows: [['Title only']] }]);
    await expectRefused(scratch.store, notes, 'TL_INPUT_HEADER', /notes\.xlsx, sheet "Notes", line 2/);
  });
});

describe.skipIf(!hasRealData('UNODC drug seizures connector tests', FILE))('seizures connector on drug_seizures_2018_2022.xlsx', () => {
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
      .select(['value', 'flags'])
      .where('indicator_code', '=', indicator)
      .where('entity_code', '=', entity)
      .where('year', '=', year)
      .executeTakeFirst();

  it('stores every row of the 11,013, rejecting nothing', () => {
    // Independent read: 72 empty Kilograms cells; 6,240 country-subgroup-years and 3,842 country-group-years.
    expect(summary).toMatchObject({ format: 'unodc-seizures', rejected: 0, missing: 72, droppedAggregates: 0, accepted: 6240 + 3842, sheets: ['Export'] });
  });

  it('puts the kilograms where the file has them', async () => {
    // Rows 7421-7422: DEU, Cocaine-type, Cocaine, "Crack" cocaine 2.4329999999999998 and Cocaine hydrochloride 20047 (2022).
    expect((await get('DEU', 'unodc_seizures_cocaine_cocaine_kg', 2022))?.value).toBeCloseTo(20049.433, 6);
    expect((await get('DEU', 'unodc_seizures_cocaine_kg', 2022))?.value).toBeCloseTo(20049.433, 6);
    // Row 8834: NLD, Cocaine (total of the above, ...), 2021, 72808.
    expect((await get('NLD', 'unodc_seizures_cocaine_cocaine_kg', 2021))?.value).toBe(72808);
    // Rows 10622-10624: AUS, three "Reported total ATS" rows of 2020: 1.6715 + 10.983030000000001 + 12559.42.
    expect(await get('AUS', 'unodc_seizures_ats_kg', 2020)).toEqual({ value: expect.closeTo(12572.07453, 6), flags: ['sum'] });
    // ALB, Cannabis herb (marijuana), 2022: 3764.806919 kg.
    expect((await get('ALB', 'unodc_seizures_cannabis_cannabis_herb_marijuana_kg', 2022))?.value).toBeCloseTo(3764.806919, 6);
  });

  it('keeps zeros as zeros: 573 country-subgroup-years are 0 kg', async () => {
    const zeros = await store.db.selectFrom('observations').select((eb) => eb.fn.countAll<number>().as('n')).where('indicator_code', 'like', 'unodc_seizures_%').where('indicator_code', 'not in', BUILTIN_INDICATORS.filter((i) => /^unodc_seizures_[a-z]+_kg$/.test(i.code)).map((i) => i.code)).where('value', '=', 0).executeTakeFirstOrThrow();
    expect(Number(zeros.n)).toBe(573);
  });
});
