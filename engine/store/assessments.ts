/**
 * Stored assessments: what an analyst asked for, the result, and everything needed to reproduce
 * it (data version and batch hashes, framework id, version and parameter hash, code version, seed).
 * The insert and its audit entry commit together.
 */
import type { Kysely } from 'kysely';
import { appendAudit } from './audit.ts';
import type { Database } from './schema.ts';

export interface AssessmentRecord {
  readonly entity: string | null;
  readonly year: number;
  readonly method: string;
  readonly methodVersion: string;
  readonly paramsHash: string;
  readonly dataVersion: string;
  readonly codeVersion: string;
  readonly seed: number | null;
  readonly result: unknown;
  readonly provenance: unknown;
  readonly requestedBy: string;
  readonly purpose: string | null;
}

export interface StoredAssessment extends AssessmentRecord {
  readonly id: number;
  readonly createdAt: string;
}

export async function insertAssessment(db: Kysely<Database>, record: AssessmentRecord): Promise<StoredAssessment> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('assessments')
      .values({
        entity_code: record.entity,
        year: record.year,
        method: record.method,
        method_version: record.methodVersion,
        params_hash: record.paramsHash,
        data_version: record.dataVersion,
        code_version: record.codeVersion,
        seed: record.seed,
        result: JSON.stringify(record.result),
        provenance: JSON.stringify(record.provenance),
        requested_by: record.requestedBy,
        purpose: record.purpose,
      })
      .returning(['id', 'created_at'])
      .executeTakeFirstOrThrow();
    await appendAudit(trx, {
      actor: record.requestedBy,
      action: 'assessment.create',
      details: { assessmentId: row.id, entity: record.entity, year: record.year, method: record.method, dataVersion: record.dataVersion },
      purpose: record.purpose,
      outcome: 'ok',
    });
    return { ...record, id: row.id, createdAt: new Date(row.created_at).toISOString() };
  });
}

export async function getAssessment(db: Kysely<Database>, id: number): Promise<StoredAssessment | undefined> {
  const row = await db.selectFrom('assessments').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  // pg returns jsonb parsed; PGlite as well. bigint seeds arrive as text from pg.
  return {
    id: row.id,
    entity: row.entity_code,
    year: row.year,
    method: row.method,
    methodVersion: row.method_version,
    paramsHash: row.params_hash,
    dataVersion: row.data_version,
    codeVersion: row.code_version,
    seed: row.seed === null ? null : Number(row.seed),
    result: row.result,
    provenance: row.provenance,
    requestedBy: row.requested_by,
    purpose: row.purpose,
    createdAt: new Date(row.created_at).toISOString(),
  };
}
