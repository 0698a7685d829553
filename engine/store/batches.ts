/**
 * Writing an ingestion batch: the batch row, its observations and the audit entry commit in one
 * transaction or not at all. Observations go in with COPY (see bench/ for the speed against a
 * plain COPY of the same rows).
 */
import { finished } from 'node:stream/promises';
import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import { from as copyFrom } from 'pg-copy-streams';
import type { ParsedObservation } from '../ingest/layout.ts';
import type { SharingLevel } from '../types.ts';
import { appendAudit } from './audit.ts';
import { ensureAgency } from './catalogue.ts';
import type { Store } from './database.ts';
import type { Database, IngestionBatch } from './schema.ts';

export interface BatchMetadata {
  readonly source: string;
  readonly fileName: string;
  readonly sha256: string;
  readonly format: string;
  readonly ownerAgency: string;
  readonly sharingLevel: SharingLevel;
  readonly sharedWith: readonly string[];
  readonly sourceReliability: string;
  readonly informationCredibility: string;
  readonly gradingScheme: 'admiralty' | 'europol_4x4';
  readonly synthetic: boolean;
  readonly createdBy: string;
}

export interface BatchCounts {
  readonly rowsRead: number;
  readonly rowsAccepted: number;
  readonly rowsRejected: number;
  /** The format as detected from the file, when it was known only after reading the header. */
  readonly format?: string;
}

export type ChunkWriter = (chunk: readonly ParsedObservation[]) => Promise<void>;

/** The owner's batch holding exactly this file, if any (another agency's files are never looked at). */
export async function findBatchBySha256(db: Kysely<Database>, sha256: string, ownerAgency: string): Promise<IngestionBatch | undefined> {
  return db.selectFrom('ingestion_batches').selectAll().where('sha256', '=', sha256).where('owner_agency', '=', ownerAgency).executeTakeFirst();
}

/**
 * True when `error` is PostgreSQL refusing a second batch of the same file from the same owner
 * (the unique key of migration 0007): another ingestion of it committed while this one ran.
 */
export function isSameFileBatchError(error: unknown): boolean {
  const e = error as { code?: unknown; constraint?: unknown } | null;
  return e?.code === '23505' && e.constraint === 'ingestion_batches_owner_sha256_key';
}

/**
 * Runs `fill` inside a transaction with a writer for observation chunks. If `fill` throws, the
 * transaction rolls back and nothing of the batch remains.
 */
export async function writeBatch(
  store: Store,
  meta: BatchMetadata,
  fill: (write: ChunkWriter) => Promise<BatchCounts>,
): Promise<{ batchId: number; counts: BatchCounts }> {
  return inBulkTransaction(store, async (trx, openSink) => {
    await ensureAgency(trx, meta.ownerAgency);
    const { id: batchId } = await trx
      .insertInto('ingestion_batches')
      .values({
        source: meta.source,
        file_name: meta.fileName,
        sha256: meta.sha256,
        format: meta.format,
        owner_agency: meta.ownerAgency,
        sharing_level: meta.sharingLevel,
        shared_with: [...meta.sharedWith],
        source_reliability: meta.sourceReliability,
        information_credibility: meta.informationCredibility,
        grading_scheme: meta.gradingScheme,
        rows_read: 0,
        rows_accepted: 0,
        rows_rejected: 0,
        synthetic: meta.synthetic,
        created_by: meta.createdBy,
      })
      .returning('id')
      .executeTakeFirstOrThrow();

    const sink = openSink();
    let counts: BatchCounts;
    try {
      counts = await fill((chunk) => (chunk.length > 0 ? sink.write(observationsAsCsv(batchId, chunk)) : Promise.resolve()));
    } catch (error) {
      // End the COPY first: the connection cannot roll back while a COPY is open.
      await sink.abort(error);
      throw error;
    }
    await sink.end();

    await trx
      .updateTable('ingestion_batches')
      .set({
        rows_read: counts.rowsRead,
        rows_accepted: counts.rowsAccepted,
        rows_rejected: counts.rowsRejected,
        ...(counts.format ? { format: counts.format } : {}),
      })
      .where('id', '=', batchId)
      .execute();
    await appendAudit(trx, {
      actor: meta.createdBy,
      agency: meta.ownerAgency,
      action: 'ingest',
      details: { batchId, file: meta.fileName, sha256: meta.sha256, format: meta.format, ...counts },
      outcome: 'ok',
    });
    return { batchId, counts };
  });
}

const COPY_BUFFER_BYTES = 8 * 1024 * 1024;
const COPY_OBSERVATIONS =
  'copy observations (batch_id, entity_code, indicator_code, period, period_kind, year, value, value_qualifier, flags, row_source)';

/** Receives observations as CSV text for COPY, within the batch's transaction. */
interface CopySink {
  write(csv: string): Promise<void>;
  end(): Promise<void>;
  /** Abandons the COPY (the server discards it) so that the transaction can roll back. */
  abort(reason: unknown): Promise<void>;
}

/**
 * A transaction in which observations are loaded with COPY, PostgreSQL's bulk path (several times
 * faster than INSERT). Kysely has no COPY, so the transaction runs on a connection that ThreatLens
 * holds itself: a pooled pg client, or PGlite's single session (which the serialised dialect
 * holds for us while the transaction is open).
 */
async function inBulkTransaction<T>(
  store: Store,
  work: (trx: Transaction<Database>, openSink: () => CopySink) => Promise<T>,
): Promise<T> {
  if (store.pglite) {
    const client = store.pglite;
    return store.db.transaction().execute((trx) =>
      work(trx, () => ({
        // PGlite reads COPY input from a blob it mounts at /dev/blob.
        write: async (csv) => {
          await client.query(`${COPY_OBSERVATIONS} from '/dev/blob' with (format csv)`, [], { blob: new Blob([csv]) });
        },
        end: async () => undefined,
        abort: async () => undefined,
      })),
    );
  }
  if (!store.pool) throw new Error('store has neither a PGlite client nor a pg pool');
  const client = await store.pool.connect();
  try {
    // A Kysely instance over this one client, so that its queries and our COPY share the transaction.
    const db = new Kysely<Database>({
      dialect: new PostgresDialect({
        // Kysely releases what it connects; this view of the client must not return it to the pool.
        pool: { connect: async () => ({ query: client.query.bind(client), release: () => undefined }), end: async () => undefined },
      }),
    });
    return await db.transaction().execute((trx) =>
      work(trx, () => {
        const stream = client.query(copyFrom(`${COPY_OBSERVATIONS} from stdin with (format csv)`));
        const done = finished(stream);
        done.catch(() => undefined);
        // Keep up to COPY_BUFFER_BYTES queued so that the server never waits for the next chunk
        // while we parse it; when more is queued, wait for the oldest chunk to be flushed (not for
        // the whole queue to drain, which would starve the server).
        const inFlight: { bytes: number; flushed: Promise<void> }[] = [];
        let queuedBytes = 0;
        return {
          write: async (csv) => {
            const bytes = Buffer.byteLength(csv);
            const flushed = new Promise<void>((resolve) => stream.write(csv, () => resolve()));
            inFlight.push({ bytes, flushed });
            queuedBytes += bytes;
            while (queuedBytes > COPY_BUFFER_BYTES) {
              const oldest = inFlight.shift()!;
              await Promise.race([oldest.flushed, done]);
              queuedBytes -= oldest.bytes;
            }
            // Yield to the event loop so that the socket is written while we parse the next chunk.
            await new Promise((resolve) => setImmediate(resolve));
          },
          end: async () => {
            stream.end();
            await done;
          },
          abort: async (reason) => {
            // pg-copy-streams answers destroy() with CopyFail; the server then ends the COPY.
            stream.destroy(reason instanceof Error ? reason : new Error(String(reason)));
            await done.catch(() => undefined);
          },
        };
      }),
    );
  } finally {
    client.release();
  }
}

/** Observations as CSV rows in COPY's column order. Unquoted empty fields are NULL. */
export function observationsAsCsv(batchId: number, chunk: readonly ParsedObservation[]): string {
  const prefix = `${batchId},`;
  let csv = '';
  for (const o of chunk) {
    csv +=
      prefix +
      o.entity + ',' +
      quoteCsv(o.indicator) + ',' +
      o.periodText + ',' +
      o.period.kind + ',' +
      o.period.year + ',' +
      o.value + ',' +
      (o.qualifier ?? '') + ',' +
      // Flags are word tokens (engine/ingest/layout.ts), safe inside an array literal.
      (o.flags.length > 0 ? `"{${o.flags.join(',')}}"` : '{}') + ',' +
      (o.source === null ? '' : quoteCsv(o.source)) + '\n';
  }
  return csv;
}

function quoteCsv(text: string): string {
  return /[",\r\n]/.test(text) || text === '' ? `"${text.replace(/"/g, '""')}"` : text;
}
