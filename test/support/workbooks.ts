/** Small .xlsx workbooks built in tests with exceljs, and a check that a refused file stored nothing. */
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { expect } from 'vitest';
import { ingestFile, type IngestOptions } from '../../datasets/ingest.ts';
import { ThreatLensError } from '../../engine/errors.ts';
import type { Store } from '../../engine/store/database.ts';

export interface SheetSpec {
  readonly name: string;
  /** Rows from row 1; `null` leaves a cell empty. */
  readonly rows: readonly (readonly (string | number | null)[])[];
}

export async function writeWorkbook(dir: string, file: string, sheets: readonly SheetSpec[]): Promise<string> {
  const workbook = new ExcelJS.Workbook();
  for (const spec of sheets) {
    const sheet = workbook.addWorksheet(spec.name);
    for (const row of spec.rows) sheet.addRow([...row]);
  }
  const path = join(dir, file);
  await workbook.xlsx.writeFile(path);
  return path;
}

export async function storeCounts(store: Store) {
  const count = async (table: 'ingestion_batches' | 'observations') =>
    Number((await store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  return { batches: await count('ingestion_batches'), observations: await count('observations') };
}

/** Ingests, expects a ThreatLensError of `code` whose message matches, and no new batch or observation. */
export async function expectRefused(store: Store, path: string, code: string, pattern: RegExp, options: IngestOptions = {}): Promise<ThreatLensError> {
  const before = await storeCounts(store);
  const error = await ingestFile(store, path, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'ingestion should have been refused').toBeInstanceOf(ThreatLensError);
  expect((error as ThreatLensError).code).toBe(code);
  expect((error as ThreatLensError).message).toMatch(pattern);
  expect(await storeCounts(store)).toEqual(before);
  return error as ThreatLensError;
}
