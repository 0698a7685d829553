/**
 * Writing an ingestion batch: the batch row, its observations and the audit entry commit in one
 * transaction or not at all. Observations go in with one `INSERT ... SELECT FROM unnest(...)`
 * per chunk, which runs unchanged on PGlite and PostgreSQL (see bench/ for its speed against COPY).
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { ParsedObservation } from '../ingest/layout.ts';
import type { SharingLevel } from '../types.ts';
import { appendAudit } from './audit.ts';
import { ensureAgency } from './catalogue.ts';
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
}

export type ChunkWriter = (chunk: readonly ParsedObservation[]) => Promise<void>;

export async function findBatchBySha256(db: Kysely<Database>, sha256: string): Promise<IngestionBatch | undefined> {
  return db.selectFrom('ingestion_batches').selectAll().where('sha256', '=', sha256).executeTakeFirst();
}

export async function listBatches(db: Kysely<Database>): Promise<IngestionBatch[]> {
  return db.selectFrom('ingestion_batches').selectAll().orderBy('id').execute();
}

/**
 * Runs `fill` inside a transaction with a writer for observation chunks. If `fill` throws, the
 * transaction rolls back and nothing of the batch remains.
 */
export async function writeBatch(
  db: Kysely<Database>,
  meta: BatchMetadata,
  fill: (write: ChunkWriter) => Promise<BatchCounts>,
): Promise<{ batchId: number; counts: BatchCounts }> {
  return db.transaction().execute(async (trx) => {
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

    const counts = await fill((chunk) => insertObservations(trx, batchId, chunk));

    await trx
      .updateTable('ingestion_batches')
      .set({ rows_read: counts.rowsRead, rows_accepted: counts.rowsAccepted, rows_rejected: counts.rowsRejected })
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

async function insertObservations(trx: Transaction<Database>, batchId: number, chunk: readonly ParsedObservation[]): Promise<void> {
  if (chunk.length === 0) return;
  const n = chunk.length;
  const entities = new Array<string>(n);
  const indicators = new Array<string>(n);
  const periods = new Array<string>(n);
  const kinds = new Array<string>(n);
  const years = new Array<number>(n);
  const values = new Array<number>(n);
  const qualifiers = new Array<string | null>(n);
  const flags = new Array<string | null>(n);
  const sources = new Array<string | null>(n);
  for (let i = 0; i < n; i++) {
    const o = chunk[i]!;
    entities[i] = o.entity;
    indicators[i] = o.indicator;
    periods[i] = o.periodText;
    kinds[i] = o.period.kind;
    years[i] = o.period.year;
    values[i] = o.value;
    qualifiers[i] = o.qualifier;
    flags[i] = o.flags.length > 0 ? o.flags.join(',') : null;
    sources[i] = o.source;
  }
  await sql`
    insert into observations
      (batch_id, entity_code, indicator_code, period, period_kind, year, value, value_qualifier, flags, row_source)
    select ${batchId}, e, i, p, k, y, v, q, coalesce(string_to_array(f, ','), '{}'::text[]), s
    from unnest(
      ${entities}::text[], ${indicators}::text[], ${periods}::text[], ${kinds}::text[],
      ${years}::int2[], ${values}::float8[], ${qualifiers}::text[], ${flags}::text[], ${sources}::text[]
    ) as t(e, i, p, k, y, v, q, f, s)
  `.execute(trx);
}
