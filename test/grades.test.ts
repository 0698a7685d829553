/**
 * Source grades of batches: Admiralty and Europol 4x4 codes, the default of each connector, an
 * explicit grade that always wins, and the batch metadata that says which applied.
 */
import { describe, expect, it } from 'vitest';
import { ingestFile } from '../datasets/ingest.ts';
import { ThreatLensError } from '../engine/errors.ts';
import { batchGrade, DEFAULT_GRADES, parseGrade, worstGrade } from '../engine/ingest/grades.ts';
import { writeFixture } from './support/fixtures.ts';
import { useScratchStore } from './support/stores.ts';

describe('parseGrade', () => {
  it.each([
    ['B2', { scheme: 'admiralty', source: 'B', information: '2' }],
    [' f6 ', { scheme: 'admiralty', source: 'F', information: '6' }],
    ['europol:A1', { scheme: 'europol_4x4', source: 'A', information: '1' }],
    ['Europol-X4', { scheme: 'europol_4x4', source: 'X', information: '4' }],
    ['europol_4x4:c3', { scheme: 'europol_4x4', source: 'C', information: '3' }],
  ])('%s', (text, grade) => expect(parseGrade(text)).toEqual(grade));

  it.each([['G1'], ['A7'], ['europol:D1'], ['europol:A5'], ['X1'], ['']])('refuses %j with what a grade looks like', (text) => {
    expect(() => parseGrade(text)).toThrow(ThreatLensError);
    expect(() => parseGrade(text)).toThrow(/e\.g\./);
  });
});

describe('batchGrade', () => {
  it('takes the connector default, with a reason', () => {
    expect(batchGrade('wdi')).toMatchObject({ source: 'A', information: '1', isDefault: true });
    expect(batchGrade('goci')).toMatchObject({ source: 'B', information: '2', isDefault: true });
    expect(batchGrade('long')).toMatchObject({ source: 'F', information: '6', isDefault: true });
    expect(batchGrade('some-new-connector')).toMatchObject({ source: 'C', information: '3', isDefault: true });
    for (const { grade, reason } of Object.values(DEFAULT_GRADES)) {
      expect(parseGrade(grade).scheme).toBe('admiralty');
      expect(reason.length).toBeGreaterThan(10);
    }
  });

  it('lets an explicit grade win, in either scheme', () => {
    expect(batchGrade('wdi', 'C4')).toMatchObject({ scheme: 'admiralty', source: 'C', information: '4', isDefault: false });
    expect(batchGrade('long', 'europol:B2')).toMatchObject({ scheme: 'europol_4x4', source: 'B', information: '2', isDefault: false });
  });

  it('grades a derived value by its weakest input', () => {
    expect(worstGrade([parseGrade('A1'), parseGrade('B2'), parseGrade('A3')])).toEqual(parseGrade('B3'));
    expect(worstGrade([parseGrade('europol:A1'), parseGrade('europol:X2')])).toEqual(parseGrade('europol:X2'));
    expect(worstGrade([parseGrade('A1'), parseGrade('europol:A1')])).toEqual(parseGrade('F6'));
  });
});

describe('grades of ingested batches', () => {
  const scratch = useScratchStore();

  const batchRow = (id: number) => scratch.store.db.selectFrom('ingestion_batches').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const auditOf = async (id: number) => {
    const rows = await scratch.store.db.selectFrom('audit_log').select('details').where('action', '=', 'ingest').execute();
    return rows.map((r) => r.details as Record<string, unknown>).find((d) => d.batchId === id);
  };

  it('a generic long file without --grade is F6, stated as a default', async () => {
    const summary = await ingestFile(scratch.store, await writeFixture(scratch.dir, 'long.csv', 'entity,period,indicator,value\nAUT,2020,wb_population,8916864\n'));
    expect(summary.grade).toMatchObject({ scheme: 'admiralty', source: 'F', information: '6', isDefault: true });
    expect(await batchRow(summary.batchId!)).toMatchObject({ source_reliability: 'F', information_credibility: '6', grading_scheme: 'admiralty' });
    expect(await auditOf(summary.batchId!)).toMatchObject({ grade: 'F6', gradeIsDefault: true });
  });

  it('an explicit Europol grade wins and is stored in its scheme', async () => {
    const summary = await ingestFile(scratch.store, await writeFixture(scratch.dir, 'long2.csv', 'entity,period,indicator,value\nDEU,2020,wb_population,83160871\n'), { grade: 'europol:B2' });
    expect(summary.grade).toMatchObject({ scheme: 'europol_4x4', isDefault: false });
    expect(await batchRow(summary.batchId!)).toMatchObject({ source_reliability: 'B', information_credibility: '2', grading_scheme: 'europol_4x4' });
    expect(await auditOf(summary.batchId!)).toMatchObject({ grade: 'europol:B2', gradeIsDefault: false });
  });

  it('a bad grade is refused before anything is stored', async () => {
    const path = await writeFixture(scratch.dir, 'long3.csv', 'entity,period,indicator,value\nFRA,2020,wb_population,67571107\n');
    await expect(ingestFile(scratch.store, path, { grade: 'europol:E9' })).rejects.toMatchObject({ code: 'TL_BAD_OPTION' });
    expect(await scratch.store.db.selectFrom('observations').select('entity_code').where('entity_code', '=', 'FRA').execute()).toEqual([]);
  });
});
