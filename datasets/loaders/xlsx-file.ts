/**
 * Reading Excel workbooks (.xlsx) as they come, with exceljs's streaming reader: each sheet's
 * rows become the same `{ line, fields }` records the CSV reader gives (line = the spreadsheet
 * row number, fields = cell texts), so that layouts, record parsers, duplicate detection and the
 * store are shared with CSV. Nothing here parses XML or zip by hand.
 */
import { open } from 'node:fs/promises';
import ExcelJS from 'exceljs';
import { ThreatLensError } from '../../engine/errors.ts';
import type { CsvRecord } from './csv-file.ts';

/** Rows handed on at a time: a few hundred awaits for a 46,000-row sheet. */
const BATCH_ROWS = 2000;
/** A sheet's header is looked for in its first rows only (titles and notes come above it). */
const HEADER_SEARCH_ROWS = 20;

/** True for a zip archive (`PK\x03\x04`), which is what an .xlsx file is. */
export async function isZipFile(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
  } finally {
    await handle.close();
  }
}

/**
 * The text of one cell as a CSV file would have it. Numbers use JavaScript's shortest
 * round-trip form (`String`), so the parsed number is the exact double Excel stored; formulas
 * give their cached result, rich text its plain text, errors their code (`#N/A`).
 */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Object.is(value, -0) ? '0' : String(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (typeof value === 'object') {
    const cell = value as { richText?: { text: string }[]; result?: unknown; text?: unknown; error?: string; formula?: string; sharedFormula?: string };
    if (cell.richText) return cell.richText.map((part) => part.text).join('');
    if ('formula' in cell || 'sharedFormula' in cell) return cellText(cell.result);
    if (cell.error !== undefined) return String(cell.error);
    if (cell.text !== undefined) return cellText(cell.text);
  }
  return String(value);
}

/** Cell texts of an exceljs row (its `values` array is 1-based and sparse). */
export function rowFields(values: unknown): string[] {
  if (!Array.isArray(values)) return [];
  const fields: string[] = [];
  for (let column = 1; column < values.length; column++) fields.push(cellText(values[column]).trim());
  return fields;
}

/**
 * The header of a sheet: the first row, among its first rows, with at least two distinct
 * non-empty cells. A title above it ("Drug seizures, 2018-2022") has one; a title sheet's
 * merged banner repeats one text across its cells.
 */
export function isHeaderCandidate(fields: readonly string[]): boolean {
  return new Set(fields.filter((f) => f !== '')).size >= 2;
}

/** Drops trailing empty cells of a header (formatted but empty columns to its right). */
function trimRight(fields: string[]): string[] {
  let end = fields.length;
  while (end > 0 && fields[end - 1] === '') end--;
  return fields.slice(0, end);
}

export interface SheetTable<T> {
  readonly sheet: string;
  readonly header: CsvRecord;
  /** What `open` made of the header (the layout and the record parser). */
  readonly table: T;
  /** The data records below the header, cut or padded to the header's width where the extra cells are empty. */
  readonly batches: AsyncGenerator<CsvRecord[]>;
}

/**
 * Streams the tables of a workbook, one per sheet whose header `open` accepts. `open` throws a
 * ThreatLensError for a header it does not know; such sheets are skipped. When no sheet is
 * accepted, the error names every sheet and why (the header error of each), so that a zip that is
 * not a workbook, or a workbook of unknown sheets, stores nothing. Each table must be read to the
 * end before the next is asked for: the reader is one pass over the file.
 */
export async function* readWorkbookTables<T>(
  path: string,
  file: string,
  open: (sheet: string, header: CsvRecord) => T,
): AsyncGenerator<SheetTable<T>> {
  const refused: ThreatLensError[] = [];
  const seen: string[] = [];
  let accepted = 0;
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(path, { sharedStrings: 'cache', hyperlinks: 'ignore', styles: 'ignore', worksheets: 'emit', entries: 'ignore' });
  const sheets = reader[Symbol.asyncIterator]();
  for (;;) {
    const next = await notAWorkbookOnError(file, () => sheets.next());
    if (next.done) break;
    const worksheet = next.value;
    const sheet = (worksheet as unknown as { name?: string }).name ?? `sheet ${seen.length + 1}`;
    seen.push(sheet);
    const rows = worksheet[Symbol.asyncIterator]();
    const nextRecord = async (): Promise<CsvRecord | undefined> => {
      for (;;) {
        const row = await notAWorkbookOnError(file, () => rows.next());
        if (row.done) return undefined;
        const fields = rowFields(row.value.values);
        if (fields.some((f) => f !== '')) return { line: row.value.number, fields };
      }
    };
    let header: CsvRecord | undefined;
    for (let searched = 0; searched < HEADER_SEARCH_ROWS; searched++) {
      const record = await nextRecord();
      if (!record) break;
      if (isHeaderCandidate(record.fields)) {
        header = { line: record.line, fields: trimRight(record.fields) };
        break;
      }
    }
    let table: T | undefined;
    if (header) {
      try {
        table = open(sheet, header);
      } catch (error) {
        if (!(error instanceof ThreatLensError) || error.code !== 'TL_INPUT_HEADER') throw error;
        refused.push(error);
      }
    }
    if (!header || table === undefined) {
      while (await nextRecord()); // the reader is one pass: a skipped sheet is read through
      continue;
    }
    accepted++;
    const width = header.fields.length;
    const batches = async function* (): AsyncGenerator<CsvRecord[]> {
      let batch: CsvRecord[] = [];
      for (let record = await nextRecord(); record; record = await nextRecord()) {
        batch.push({ line: record.line, fields: fitToWidth(record.fields, width) });
        if (batch.length >= BATCH_ROWS) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    };
    yield { sheet, header, table, batches: batches() };
  }
  if (accepted > 0) return;
  if (refused.length === 1) throw refused[0]!;
  const why = refused.length > 0 ? `\n  ${refused.map((e) => e.message).join('\n  ')}` : '';
  throw new ThreatLensError(
    'TL_INPUT_HEADER',
    seen.length === 0
      ? `${file}: the workbook has no worksheets`
      : `${file}: no sheet of the workbook is a known table (sheets: ${seen.map((s) => `"${s}"`).join(', ')})${why}`,
    { issues: refused.length > 0 ? refused.flatMap((e) => e.issues) : [{ file, message: 'no known sheet' }] },
  );
}

/** A row as wide as the header: empty cells beyond it are dropped, missing ones added empty. */
function fitToWidth(fields: string[], width: number): string[] {
  if (fields.length === width) return fields;
  if (fields.length < width) return [...fields, ...new Array<string>(width - fields.length).fill('')];
  return fields.slice(width).every((f) => f === '') ? fields.slice(0, width) : fields;
}

/** exceljs and its unzipper fail with their own errors on a zip that is not a workbook. */
async function notAWorkbookOnError<R>(file: string, step: () => Promise<R>): Promise<R> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof ThreatLensError) throw error;
    throw new ThreatLensError(
      'TL_INPUT_NOT_CSV',
      `${file}: the file is binary, not CSV text, and not a readable Excel workbook (.xlsx): ${(error as Error).message}. ` +
        'Save it as .xlsx or export it as CSV.',
      { cause: error },
    );
  }
}
