/**
 * Reading CSV files as they come: hashing, sniffing (is this CSV at all, which delimiter), and
 * streaming records with their line numbers so that every error can name file and line.
 * Parsing is csv-parse's (RFC 4180, quotes, BOM); nothing here splits lines by hand.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Transform } from 'node:stream';
import { parse, type Info } from 'csv-parse';
import { ThreatLensError } from '../../engine/errors.ts';

export interface CsvRecord {
  /** 1-based line number in the file where the record starts. */
  readonly line: number;
  readonly fields: string[];
}

export type Delimiter = ',' | ';' | '\t';

export async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    throw new ThreatLensError('TL_INPUT_NOT_FOUND', `${path}: no such file`, { cause: error });
  }
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const SNIFF_BYTES = 64 * 1024;

/**
 * Looks at the first 64 KiB: refuses binary content (spreadsheets, archives, images) and picks
 * the delimiter that splits the header line into the most columns.
 */
export async function sniffCsv(path: string): Promise<{ delimiter: Delimiter }> {
  await fileSize(path);
  const handle = await open(path, 'r');
  let head: Buffer;
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
    head = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  const name = basename(path);
  if (head.length === 0) throw new ThreatLensError('TL_INPUT_EMPTY', `${name}: the file is empty`);
  if (head.includes(0) || looksLikeZip(head)) {
    throw new ThreatLensError(
      'TL_INPUT_NOT_CSV',
      `${name}: the file is binary, not CSV text (a spreadsheet or archive?). Export it as CSV, or use a connector that reads the format.`,
    );
  }
  const text = head.toString('utf8');
  if (text.includes('\uFFFD')) {
    throw new ThreatLensError('TL_INPUT_NOT_CSV', `${name}: the file is not UTF-8 text. Save it as UTF-8 CSV.`);
  }
  const firstLine = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  const candidates: Delimiter[] = [',', ';', '\t'];
  const counts = candidates.map((d) => firstLine.split(d).length);
  const best = counts.indexOf(Math.max(...counts));
  if ((counts[best] ?? 1) < 2) {
    throw new ThreatLensError(
      'TL_INPUT_NOT_CSV',
      `${name}, line 1: the header has a single column; expected comma-, semicolon- or tab-separated columns.`,
    );
  }
  return { delimiter: candidates[best]! };
}

function looksLikeZip(head: Buffer): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}

export interface ReadCsvOptions {
  readonly delimiter: Delimiter;
  /** Called with the bytes read so far, for progress bars. */
  readonly onBytes?: (bytesRead: number) => void;
}

/** Streams the records of a CSV file (header included) with their line numbers. */
export async function* readCsvRecords(path: string, options: ReadCsvOptions): AsyncGenerator<CsvRecord> {
  const name = basename(path);
  let bytesRead = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytesRead += chunk.length;
      options.onBytes?.(bytesRead);
      callback(null, chunk);
    },
  });
  const parser = parse({
    delimiter: options.delimiter,
    bom: true,
    info: true,
    skip_empty_lines: true,
    // Rows with the wrong number of columns are reported per row by the layout, not fatal here.
    relax_column_count: true,
  });
  const source = createReadStream(path, { highWaterMark: 256 * 1024 });
  source.on('error', (error) => parser.destroy(error));
  source.pipe(counter).pipe(parser);
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: Info }>) {
      yield { line: item.info.lines - countNewlines(item.record), fields: item.record };
    }
  } catch (error) {
    throw csvSyntaxError(name, error);
  } finally {
    source.destroy();
  }
}

// csv-parse reports the line where a record ends; a quoted field may span lines.
function countNewlines(fields: string[]): number {
  let n = 0;
  for (const field of fields) {
    if (field.length > 0 && field.includes('\n')) n += field.split('\n').length - 1;
  }
  return n;
}

function csvSyntaxError(file: string, error: unknown): ThreatLensError {
  const err = error as { code?: string; lines?: number; message?: string };
  const line = err.lines;
  let message = err.message ?? String(error);
  if (err.code === 'CSV_QUOTE_NOT_CLOSED') message = 'a quoted field is not closed: the file is cut short or has a stray quote';
  const where = line !== undefined ? `${file}, line ${line}` : file;
  return new ThreatLensError('TL_INPUT_MALFORMED', `${where}: ${message}`, {
    issues: [{ file, ...(line !== undefined ? { line } : {}), message }],
    cause: error,
  });
}
