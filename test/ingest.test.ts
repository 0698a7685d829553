/**
 * Ingestion on every store kind: valid long and wide files land as one batch; each kind of bad
 * input gives an error that names file, line and field, and leaves the store exactly as it was.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFile } from '../datasets/ingest.ts';
import { ThreatLensError } from '../engine/errors.ts';
import { registerIndicators } from '../engine/store/catalogue.ts';
import type { Store } from '../engine/store/database.ts';
import { TEST_INDICATORS, tempDir, writeFixture } from './support/fixtures.ts';
import { openTestStore, STORE_KINDS } from './support/stores.ts';

const LONG = `entity,period,indicator,value,unit,source
DEU,2019,t_homicide,0.95,"per 100,000 population",UNODC
DEU,2020,t_homicide,0.93,"per 100,000 population",UNODC
Türkiye,2020,t_homicide,2.6,,UNODC
Republic of Moldova,2020,t_homicide,3.1,,UNODC
FRA,2020,t_seizures,<5,,customs
`;

async function snapshot(store: Store) {
  const batches = await store.db.selectFrom('ingestion_batches').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const observations = await store.db.selectFrom('observations').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const audit = await store.db.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return { batches: Number(batches.n), observations: Number(observations.n), audit: Number(audit.n) };
}

async function expectRefused(store: Store, path: string, code: string, pattern: RegExp, options = {}) {
  const before = await snapshot(store);
  let caught: unknown;
  try {
    await ingestFile(store, path, options);
  } catch (error) {
    caught = error;
  }
  expect(caught, 'ingestion should have been refused').toBeInstanceOf(ThreatLensError);
  const error = caught as ThreatLensError;
  expect(error.code).toBe(code);
  expect(error.message).toMatch(pattern);
  expect(await snapshot(store)).toEqual(before);
  return error;
}

describe.each(STORE_KINDS)('ingestion on %s', (kind) => {
  let store: Store;
  let dir: string;

  beforeAll(async () => {
    store = await openTestStore(kind);
    await registerIndicators(store.db, TEST_INDICATORS);
    dir = await tempDir();
  });
  afterAll(async () => {
    await store?.close();
  });

  it('stores a long file as one batch with its provenance and an audit entry', async () => {
    const path = await writeFixture(dir, 'long.csv', LONG);
    const summary = await ingestFile(store, path, { source: 'UNODC test', owner: 'agency-a', sharing: 'owner', grade: 'B2' });
    expect(summary).toMatchObject({ accepted: 5, rejected: 0, skippedAsDuplicate: false, format: 'long' });
    const batch = await store.db.selectFrom('ingestion_batches').selectAll().where('id', '=', summary.batchId!).executeTakeFirstOrThrow();
    expect(batch).toMatchObject({
      source: 'UNODC test',
      file_name: 'long.csv',
      owner_agency: 'agency-a',
      sharing_level: 'owner',
      source_reliability: 'B',
      information_credibility: '2',
      rows_read: 5,
      rows_accepted: 5,
      rows_rejected: 0,
      format: 'long',
    });
    expect(batch.sha256).toMatch(/^[0-9a-f]{64}$/);
    const rows = await store.db.selectFrom('observations').selectAll().where('batch_id', '=', summary.batchId!).orderBy('entity_code').execute();
    expect(rows.map((r) => r.entity_code)).toEqual(['DEU', 'DEU', 'FRA', 'MDA', 'TUR']);
    const censored = rows.find((r) => r.entity_code === 'FRA')!;
    expect(censored).toMatchObject({ value: 5, value_qualifier: '<', row_source: 'customs', period: '2020', period_kind: 'year', year: 2020 });
    const audit = await store.db.selectFrom('audit_log').selectAll().where('action', '=', 'ingest').execute();
    expect(audit.some((a) => (a.details as { batchId: number }).batchId === summary.batchId)).toBe(true);
  });

  it('treats re-ingesting the same content by the same owner as a no-op', async () => {
    const path = await writeFixture(dir, 'long-again.csv', LONG);
    const before = await snapshot(store);
    const summary = await ingestFile(store, path, { owner: 'agency-a', sharing: 'owner' });
    expect(summary.skippedAsDuplicate).toBe(true);
    expect(summary.duplicateOf).toBeGreaterThan(0);
    expect(await snapshot(store)).toEqual(before);
  });

  it('stores the same content sent twice at once by one owner once; the other is the duplicate', async () => {
    const content = LONG.replace('0.95', '0.96');
    const [a, b] = [await writeFixture(dir, 'race-a.csv', content), await writeFixture(dir, 'race-b.csv', content)];
    const before = await snapshot(store);
    // Both pass the check for an existing batch before either commits: the unique key decides.
    const summaries = await Promise.all([ingestFile(store, a, { owner: 'agency-c', sharing: 'owner' }), ingestFile(store, b, { owner: 'agency-c', sharing: 'owner' })]);
    const stored = summaries.filter((s) => !s.skippedAsDuplicate);
    const skipped = summaries.filter((s) => s.skippedAsDuplicate);
    expect(stored).toHaveLength(1);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]!.duplicateOf).toBe(stored[0]!.batchId);
    const after = await snapshot(store);
    expect(after.batches - before.batches).toBe(1);
    expect(after.observations - before.observations).toBe(5);
  });

  it('stores a wide file (one column per indicator, names or codes), skipping missing cells', async () => {
    const path = await writeFixture(
      dir,
      'wide.csv',
      'Country,Code,Year,Test homicide rate,t_rule_of_law\nAustria,AUT,2021,0.8,1.8\nAlbania,ALB,2021,..,-0.3\nArmenia,ARM,2021-Q2,1.5,\n',
    );
    const summary = await ingestFile(store, path);
    expect(summary).toMatchObject({ format: 'wide', accepted: 4, missing: 2, rejected: 0 });
    const arm = await store.db.selectFrom('observations').selectAll().where('entity_code', '=', 'ARM').executeTakeFirstOrThrow();
    expect(arm).toMatchObject({ indicator_code: 't_homicide', period: '2021-Q2', period_kind: 'quarter', value: 1.5 });
  });

  it('refuses a text value in a number column, naming line and field', async () => {
    const path = await writeFixture(dir, 'bad-type.csv', 'entity,period,indicator,value\nDEU,2018,t_homicide,0.9\nDEU,2017,t_homicide,twelve\n');
    const error = await expectRefused(store, path, 'TL_INPUT_INVALID_ROWS', /bad-type\.csv, line 3, field "value": "twelve" is not a number/);
    expect(error.issues[0]).toMatchObject({ file: 'bad-type.csv', line: 3, field: 'value' });
  });

  it('refuses an unknown country', async () => {
    const path = await writeFixture(dir, 'bad-country.csv', 'entity,period,indicator,value\nNarnia,2018,t_homicide,0.9\n');
    await expectRefused(store, path, 'TL_INPUT_INVALID_ROWS', /line 2, field "entity": unknown country or entity "Narnia"/);
  });

  it('refuses an unknown indicator and a unit that contradicts the catalogue', async () => {
    const path = await writeFixture(
      dir,
      'bad-indicator.csv',
      'entity,period,indicator,value,unit\nDEU,2018,t_nonexistent,1,\nDEU,2018,t_homicide,1,kg\n',
    );
    const error = await expectRefused(store, path, 'TL_INPUT_INVALID_ROWS', /unknown indicator "t_nonexistent"/);
    expect(error.message).toMatch(/line 3, field "unit": unit "kg" does not match the catalogue unit/);
  });

  it('refuses duplicate rows, naming both lines', async () => {
    const path = await writeFixture(dir, 'dup.csv', 'entity,period,indicator,value\nDEU,2015,t_homicide,1\nITA,2015,t_homicide,1\nDEU,2015,t_homicide,2\n');
    await expectRefused(store, path, 'TL_INPUT_INVALID_ROWS', /line 4: duplicate of line 2/);
  });

  it('refuses a file cut short inside a quoted field', async () => {
    const path = await writeFixture(dir, 'cut.csv', 'entity,period,indicator,value,source\nDEU,2014,t_homicide,1,"UNODC\n');
    await expectRefused(store, path, 'TL_INPUT_MALFORMED', /cut\.csv, line \d+: a quoted field is not closed/);
  });

  it('refuses a file cut short in the middle of a row', async () => {
    const path = await writeFixture(dir, 'cut-row.csv', 'entity,period,indicator,value\nDEU,2013,t_homicide,1\nDEU,2012,t_hom');
    await expectRefused(store, path, 'TL_INPUT_INVALID_ROWS', /line 3: the row has 3 columns, the header has 4/);
  });

  it('refuses person-level columns', async () => {
    const path = await writeFixture(dir, 'persons.csv', 'entity,period,indicator,value,victim_name,date_of_birth\nDEU,2011,t_homicide,1,X,Y\n');
    await expectRefused(store, path, 'TL_INPUT_PERSON_DATA', /"victim_name", "date_of_birth" identify persons/);
  });

  it('refuses a file that is not CSV', async () => {
    const zip = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00, 0x08, 0x00, 0x00, 0x00]);
    const path = await writeFixture(dir, 'workbook.xlsx', zip);
    await expectRefused(store, path, 'TL_INPUT_NOT_CSV', /binary, not CSV text/);
    const png = await writeFixture(dir, 'image.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]));
    await expectRefused(store, png, 'TL_INPUT_NOT_CSV', /binary/);
    const prose = await writeFixture(dir, 'notes.txt', 'These are meeting notes\nnot a table at all\n');
    await expectRefused(store, prose, 'TL_INPUT_NOT_CSV', /single column/);
  });

  it('refuses a header without a period column', async () => {
    const path = await writeFixture(dir, 'no-period.csv', 'entity,indicator,value\nDEU,t_homicide,1\n');
    await expectRefused(store, path, 'TL_INPUT_HEADER', /line 1: no period column/);
  });

  it('rolls back chunks already written when a later row is bad', async () => {
    const lines = ['entity,period,indicator,value'];
    for (let year = 1950; year < 2000; year++) lines.push(`DEU,${year},t_seizures,${year - 1900}`);
    lines.push('DEU,2000,t_seizures,oops');
    const path = await writeFixture(dir, 'late-error.csv', `${lines.join('\n')}\n`);
    await expectRefused(store, path, 'TL_INPUT_INVALID_ROWS', /line 52/, { chunkSize: 7 });
  });

  it('with skipInvalid stores the valid rows and reports the rejected ones with reasons', async () => {
    const path = await writeFixture(
      dir,
      'mixed.csv',
      'entity,period,indicator,value\nESP,2019,t_homicide,0.6\nAtlantis,2019,t_homicide,1\nESP,2020,t_homicide,n/a\nESP,2021,t_homicide,abc\n',
    );
    const report = `${dir}/mixed.rejected.csv`;
    const summary = await ingestFile(store, path, { skipInvalid: true, rejectReportPath: report });
    expect(summary).toMatchObject({ accepted: 1, rejected: 2, missing: 1, rejectReport: report });
    const text = await readFile(report, 'utf8');
    expect(text.split('\n')[0]).toBe('file,line,field,value,reason');
    expect(text).toContain('mixed.csv,3,entity,Atlantis,');
    expect(text).toContain('mixed.csv,5,value,abc,');
  });
});
