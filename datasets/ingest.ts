/**
 * Where data enters ThreatLens. `ingestFile` reads a CSV file (long or wide layout), validates every
 * row against the catalogue, and stores the valid observations as one batch in one transaction:
 * all of it, or (unless --skip-invalid) nothing. Re-ingesting a file with the same content is a no-op.
 */
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { formatIssue, ThreatLensError, type InputIssue } from '../engine/errors.ts';
import { findPersonColumns } from '../engine/ingest/person-columns.ts';
import { createRecordParser, detectLayout, isPreamble, type Layout, type LayoutFormat, type ParsedObservation, type RecordResult } from '../engine/ingest/layout.ts';
import { batchGrade, formatGrade, parseGrade, type BatchGrade } from '../engine/ingest/grades.ts';
import { readHeaderRecord } from './loaders/csv-header.ts';
import { PUBLIC_AGENCY, loadCatalogueView } from '../engine/store/catalogue.ts';
import { findBatchBySha256, isSameFileBatchError, writeBatch, type BatchCounts } from '../engine/store/batches.ts';
import type { Store } from '../engine/store/database.ts';
import { parsePeriod } from '../engine/period.ts';
import type { Period, SharingLevel } from '../engine/types.ts';
import { fileSize, readCsvBatches, sha256File, sniffCsv, type CsvRecord } from './loaders/csv-file.ts';
import { isZipFile, readWorkbookTables } from './loaders/xlsx-file.ts';

export interface IngestOptions {
  readonly format?: LayoutFormat;
  /** The period of every value, for files that hold one period and do not say it (a GOCI edition). */
  readonly period?: string;
  /** Name of the publisher or dataset; defaults to the file name. */
  readonly source?: string;
  readonly owner?: string;
  readonly sharing?: SharingLevel;
  readonly sharedWith?: readonly string[];
  /**
   * Grade of source and information: Admiralty `B2` or Europol 4x4 `europol:A1`. Always wins over
   * the connector's default (engine/ingest/grades.ts DEFAULT_GRADES).
   */
  readonly grade?: string;
  /** Store the valid rows and report the rejected ones instead of refusing the whole file. */
  readonly skipInvalid?: boolean;
  /** With skipInvalid: where to write the rejected rows with reasons (CSV). */
  readonly rejectReportPath?: string;
  readonly actor?: string;
  readonly synthetic?: boolean;
  readonly onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Observations per INSERT; tuned in bench/. */
  readonly chunkSize?: number;
}

export interface IngestSummary {
  readonly batchId: number | null;
  readonly file: string;
  readonly sha256: string;
  readonly format: string;
  readonly accepted: number;
  readonly rejected: number;
  readonly missing: number;
  /** Rows about regions or aggregates (OWID_WRL, UN_EUR...) that the format drops. */
  readonly droppedAggregates: number;
  /** Rows of a breakdown the catalogue does not hold (GLOTIP victims by citizenship), dropped. */
  readonly droppedBreakdowns?: number;
  /** The sheets read, for a workbook (.xlsx). */
  readonly sheets?: readonly string[];
  readonly skippedAsDuplicate: boolean;
  /** The grade the batch was stored with, whether it was the connector's default, and why. */
  readonly grade?: BatchGrade;
  /** The batch that already holds this exact file, when skippedAsDuplicate. */
  readonly duplicateOf?: number;
  readonly rejectReport?: string;
  /** The first rejected rows with reasons (all of them are in the reject report). */
  readonly issues: readonly InputIssue[];
}

/** Issues kept in memory and shown; the count of all of them is always exact. */
const MAX_REPORTED_ISSUES = 1000;
/** In strict mode, stop reading after this many issues: the file is refused anyway. */
const STRICT_ISSUE_LIMIT = 100;

export async function ingestFile(store: Store, path: string, options: IngestOptions = {}): Promise<IngestSummary> {
  const db = store.db;
  const file = basename(path);
  const totalBytes = await fileSize(path);
  // Refuse a bad --grade before any work; the batch's grade is settled once the connector is known.
  if (options.grade !== undefined) parseGrade(options.grade);
  const sharing = options.sharing ?? 'public';
  const owner = options.owner ?? PUBLIC_AGENCY;
  if (sharing === 'restricted' && (options.sharedWith ?? []).length === 0 && owner === PUBLIC_AGENCY) {
    throw new ThreatLensError('TL_BAD_OPTION', 'restricted sharing needs an owner agency (--owner) or agencies to share with');
  }
  const fixedPeriod = options.period === undefined ? undefined : parsePeriod(options.period);
  if (fixedPeriod === null) throw new ThreatLensError('TL_BAD_OPTION', `period "${options.period}" is not a year, quarter or month such as 2023`);
  const sha256 = await sha256File(path);
  const duplicate = (existing: { id: number; format: string }): IngestSummary => ({
    batchId: null,
    file,
    sha256,
    format: existing.format,
    accepted: 0,
    rejected: 0,
    missing: 0,
    droppedAggregates: 0,
    skippedAsDuplicate: true,
    duplicateOf: existing.id,
    issues: [],
  });
  const existing = await findBatchBySha256(db, sha256, owner);
  if (existing) return duplicate(existing);
  const catalogue = await loadCatalogueView(db);
  const requestedFormat = options.format ?? 'auto';
  const chunkSize = options.chunkSize ?? 5000;

  const issues: InputIssue[] = [];
  let issueCount = 0;
  let missing = 0;
  let droppedAggregates = 0;
  let droppedBreakdowns = 0;
  const sheets: string[] = [];
  const addIssues = (found: readonly InputIssue[]) => {
    issueCount += found.length;
    for (const issue of found) if (issues.length < MAX_REPORTED_ISSUES) issues.push(issue);
  };

  // The first header before the batch opens: the connector decides the batch's default grade.
  const tables = (await isZipFile(path))
    ? workbookTables(path, file, requestedFormat, catalogue, fixedPeriod)
    : await csvTables(path, file, requestedFormat, catalogue, fixedPeriod, options.onProgress ? (bytes) => options.onProgress!(bytes, totalBytes) : undefined);
  const first = await tables.next();
  if (first.done) throw new ThreatLensError('TL_INPUT_EMPTY', `${file}: the file has no table`);
  const layout = first.value.layout;
  const grade = batchGrade(layout.format, options.grade);

  const written = await writeBatch(
    store,
    {
      source: options.source ?? file,
      fileName: file,
      sha256,
      format: layout.format,
      ownerAgency: owner,
      sharingLevel: sharing,
      sharedWith: options.sharedWith ?? [],
      sourceReliability: grade.source,
      informationCredibility: grade.information,
      gradingScheme: grade.scheme,
      synthetic: options.synthetic ?? false,
      createdBy: options.actor ?? 'cli',
    },
    async (write): Promise<BatchCounts> => {
      const seen = new DuplicateIndex();
      let rowsRead = 0;
      let rowsRejected = 0;
      let accepted = 0;
      let buffer: ParsedObservation[] = [];
      // One chunk is written while the next is parsed.
      let pending: Promise<void> | undefined;
      const flush = async () => {
        const chunk = buffer;
        buffer = [];
        if (pending) await pending;
        pending = write(chunk);
        pending.catch(() => undefined);
      };

      /** Takes one row's result; false once strict mode has seen enough issues to refuse the file. */
      const take = (result: RecordResult, label: string): boolean => {
        missing += result.missing;
        if (result.dropped) {
          if (result.dropped === 'breakdown') droppedBreakdowns++;
          else droppedAggregates++;
          return true;
        }
        const rowIssues = result.issues;
        for (const observation of result.observations) {
          const firstLine = seen.claim(observation.entity, observation.indicator, observation.period, observation.line);
          if (firstLine !== undefined) {
            rowIssues.push({
              file: label,
              line: observation.line,
              message: `duplicate of line ${firstLine}: ${observation.entity} ${observation.indicator} ${observation.periodText} appears twice`,
            });
          }
        }
        if (rowIssues.length > 0) {
          rowsRejected++;
          addIssues(rowIssues);
          return options.skipInvalid === true || issueCount < STRICT_ISSUE_LIMIT;
        }
        // In strict mode a file with any issue is refused: stop spending time on writes.
        if (!options.skipInvalid && issueCount > 0) return true;
        accepted += result.observations.length;
        for (const observation of result.observations) buffer.push(observation);
        return true;
      };

      try {
        reading: for (let next: IteratorResult<Table, void> = first; !next.done; next = await tables.next()) {
          const table = next.value;
          if (table.sheet !== undefined) sheets.push(table.sheet);
          let tableRows = 0;
          for await (const records of table.batches) for (const record of records) {
            if (record.line <= table.header.line) continue;
            rowsRead++;
            tableRows++;
            if (!take(table.parseRecord(record.fields, record.line), table.label)) break reading;
            if (buffer.length >= chunkSize) await flush();
          }
          if (tableRows === 0) {
            throw new ThreatLensError('TL_INPUT_EMPTY', `${table.label}, line ${table.header.line}: the header has no data rows below it`, {
              issues: [{ file: table.label, line: table.header.line, message: 'the header has no data rows below it' }],
            });
          }
          // Layouts that sum rows (the UNODC workbooks) give their observations at the end.
          const { finish } = table.parseRecord as { finish?: () => ParsedObservation[] };
          if (finish) {
            for (const observation of finish()) {
              if (!take({ observations: [observation], issues: [], missing: 0 }, table.label)) break reading;
              if (buffer.length >= chunkSize) await flush();
            }
          }
        }
      } finally {
        await tables.return(undefined);
      }
      await flush();
      await pending;

      if (rowsRead === 0) {
        throw new ThreatLensError('TL_INPUT_EMPTY', `${file}: the file has a header but no data rows`);
      }
      if (issueCount > 0 && !options.skipInvalid) {
        const shown = issues.slice(0, 20).map(formatIssue).join('\n  ');
        throw new ThreatLensError(
          'TL_INPUT_INVALID_ROWS',
          `${file}: ${issueCount}${issueCount >= STRICT_ISSUE_LIMIT ? '+' : ''} problem(s); nothing was stored. ` +
            `Fix them, or use --skip-invalid to store the valid rows and report the rest.\n  ${shown}`,
          { issues },
        );
      }
      if (accepted === 0) {
        throw new ThreatLensError('TL_INPUT_INVALID_ROWS', `${file}: no valid observations; nothing was stored`, { issues });
      }
      // The grade and whether it was a default go into the batch's audit entry with the counts.
      const withGrade: BatchCounts & { grade: string; gradeIsDefault: boolean } = {
        rowsRead,
        rowsAccepted: accepted,
        rowsRejected,
        format: layout.format,
        grade: formatGrade(grade),
        gradeIsDefault: grade.isDefault,
      };
      return withGrade;
    },
  ).catch(async (error: unknown) => {
    // The same file from the same owner, committed by another ingestion (this process or another)
    // after the check above: this one rolled back, and reports that batch as a duplicate does.
    const committed = isSameFileBatchError(error) ? await findBatchBySha256(db, sha256, owner) : undefined;
    if (committed) return committed;
    throw error;
  });
  if (!('counts' in written)) return duplicate(written);
  const { batchId, counts } = written;

  let rejectReport: string | undefined;
  if (options.skipInvalid && issueCount > 0 && options.rejectReportPath) {
    await writeRejectReport(options.rejectReportPath, issues);
    rejectReport = options.rejectReportPath;
  }
  return {
    batchId,
    file,
    sha256,
    format: counts.format ?? requestedFormat,
    accepted: counts.rowsAccepted,
    rejected: counts.rowsRejected,
    missing,
    droppedAggregates,
    ...(droppedBreakdowns > 0 ? { droppedBreakdowns } : {}),
    ...(sheets.length > 0 ? { sheets } : {}),
    skippedAsDuplicate: false,
    grade,
    ...(rejectReport ? { rejectReport } : {}),
    issues: issues.slice(0, 100),
  };
}

/** One table of a file: a CSV file has one; a workbook one per known sheet. */
interface Table {
  /** The file, and the sheet of a workbook, as messages name it. */
  readonly label: string;
  readonly sheet?: string;
  readonly header: CsvRecord;
  readonly layout: Layout;
  readonly parseRecord: ReturnType<typeof createRecordParser>;
  /** Records from the top of the table (lines up to the header's are skipped). */
  readonly batches: AsyncIterable<CsvRecord[]>;
}

function openTable(
  label: string,
  header: CsvRecord,
  format: LayoutFormat,
  catalogue: Awaited<ReturnType<typeof loadCatalogueView>>,
  options: { period?: Period; headerLine?: number },
) {
  refusePersonColumns(label, header.line, header.fields);
  const layout = detectLayout(header.fields, format, label, catalogue, options);
  return { layout, parseRecord: createRecordParser(layout, label, catalogue) };
}

async function csvTables(
  path: string,
  file: string,
  format: LayoutFormat,
  catalogue: Awaited<ReturnType<typeof loadCatalogueView>>,
  period: Period | undefined,
  onBytes: ((bytes: number) => void) | undefined,
): Promise<AsyncGenerator<Table, void, undefined>> {
  const { delimiter } = await sniffCsv(path);
  const header = await readHeaderRecord(path, delimiter, isPreamble);
  if (!header) throw new ThreatLensError('TL_INPUT_EMPTY', `${file}: the file has no header`);
  const table: Table = {
    label: file,
    header,
    ...openTable(file, header, format, catalogue, period ? { period } : {}),
    batches: readCsvBatches(path, { delimiter, ...(onBytes ? { onBytes } : {}) }),
  };
  return (async function* () {
    yield table;
  })();
}

/**
 * The known sheets of a workbook, each with its own header line; a sheet named after a year
 * (GI-TOC's `2023_dataset`) gives the period of a GOCI edition unless --period says it. Sheets
 * of another connector than the first known sheet's are skipped: a batch is one connector.
 */
async function* workbookTables(
  path: string,
  file: string,
  format: LayoutFormat,
  catalogue: Awaited<ReturnType<typeof loadCatalogueView>>,
  period: Period | undefined,
): AsyncGenerator<Table, void, undefined> {
  let firstFormat: string | undefined;
  const tables = readWorkbookTables(path, file, (sheet, header) => {
    const label = `${file}, sheet "${sheet}"`;
    const year = /^((?:19|20)\d\d)(?:_|\b)/.exec(sheet)?.[1];
    const sheetPeriod = period ?? (year ? { kind: 'year' as const, year: Number(year) } : undefined);
    const opened = openTable(label, header, format, catalogue, { ...(sheetPeriod ? { period: sheetPeriod } : {}), headerLine: header.line });
    if (firstFormat !== undefined && opened.layout.format !== firstFormat) {
      const message = `a ${opened.layout.format} table, not ${firstFormat} like the workbook's first sheet: skipped`;
      throw new ThreatLensError('TL_INPUT_HEADER', `${label}, line ${header.line}: ${message}`, { issues: [{ file: label, line: header.line, message }] });
    }
    firstFormat = opened.layout.format;
    return { label, ...opened };
  });
  for await (const { sheet, header, table, batches } of tables) yield { ...table, sheet, header, batches };
}

function refusePersonColumns(file: string, line: number, header: readonly string[]): void {
  const personColumns = findPersonColumns(header);
  if (personColumns.length === 0) return;
  throw new ThreatLensError(
    'TL_INPUT_PERSON_DATA',
    `${file}, line ${line}: columns ${personColumns.map((c) => `"${c}"`).join(', ')} identify persons; ` +
      'ThreatLens stores aggregate statistics only. Remove them and aggregate the data before ingesting.',
    { issues: personColumns.map((field) => ({ file, line, field, message: 'identifies persons' })) },
  );
}

async function writeRejectReport(path: string, issues: readonly InputIssue[]): Promise<void> {
  const quote = (text: string) => (/[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
  const lines = ['file,line,field,value,reason'];
  for (const issue of issues) {
    lines.push([issue.file, String(issue.line ?? ''), issue.field ?? '', issue.value ?? '', issue.message].map(quote).join(','));
  }
  await writeFile(path, `${lines.join('\n')}\n`);
}

/**
 * Remembers (entity, indicator, period) keys of a file to find duplicate rows. Keys are packed
 * into one integer and kept in an open-addressing hash table of typed arrays: a million rows cost
 * 24 MB and no garbage, where a Map of a million entries cost 80 MB and 0.7 s (bench/).
 */
class DuplicateIndex {
  readonly #entities = new Map<string, number>();
  readonly #indicators = new Map<string, number>();
  #keys = new Float64Array(1 << 16).fill(-1);
  #lines = new Int32Array(1 << 16);
  #size = 0;

  /** Records the key; returns the line that already had it, if any. */
  claim(entity: string, indicator: string, period: Period, line: number): number | undefined {
    const key = (this.#id(this.#entities, entity) * 65536 + this.#id(this.#indicators, indicator)) * 1_000_000 + periodNumber(period);
    const slot = this.#find(this.#keys, key);
    if (this.#keys[slot] === key) return this.#lines[slot];
    this.#keys[slot] = key;
    this.#lines[slot] = line;
    if (++this.#size * 2 > this.#keys.length) this.#grow();
    return undefined;
  }

  #find(keys: Float64Array, key: number): number {
    const mask = keys.length - 1;
    // Fibonacci hashing of the low and high 32 bits, then linear probing.
    let slot = (Math.imul((key % 4294967296) ^ Math.floor(key / 4294967296), 0x9e3779b1) >>> 0) & mask;
    while (keys[slot] !== -1 && keys[slot] !== key) slot = (slot + 1) & mask;
    return slot;
  }

  #grow(): void {
    const oldKeys = this.#keys;
    const oldLines = this.#lines;
    this.#keys = new Float64Array(oldKeys.length * 2).fill(-1);
    this.#lines = new Int32Array(oldKeys.length * 2);
    for (let i = 0; i < oldKeys.length; i++) {
      if (oldKeys[i] === -1) continue;
      const slot = this.#find(this.#keys, oldKeys[i]!);
      this.#keys[slot] = oldKeys[i]!;
      this.#lines[slot] = oldLines[i]!;
    }
  }

  #id(map: Map<string, number>, text: string): number {
    let id = map.get(text);
    if (id === undefined) {
      id = map.size;
      map.set(text, id);
    }
    return id;
  }
}

function periodNumber(period: Period): number {
  switch (period.kind) {
    case 'year':
      return period.year * 100;
    case 'month':
      return period.year * 100 + period.month;
    case 'quarter':
      return period.year * 100 + 20 + period.quarter;
  }
}
