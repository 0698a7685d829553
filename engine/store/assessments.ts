/**
 * Stored assessments: what an analyst asked for, the result, and everything needed to reproduce
 * it (data version and batch hashes, framework id, version and parameter hash, code version, seed).
 * The insert and its audit entry commit together. An assessment records the batches it was
 * computed from; reading it needs every one of them visible (engine/access/sharing.ts).
 */
import type { Kysely } from 'kysely';
import { ALL_DATA, type DataScope } from '../access/roles.ts';
import { scopeAllowsResult } from '../access/sharing.ts';
import { groupWriterFor, type AuditEntry, type GroupWrite } from './audit.ts';
import type { Database } from './schema.ts';
import { batchSharing } from './visibility.ts';

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
  /** `result` as JSON, when the caller has it already (stored as is, and answered as is by the API). */
  readonly resultJson?: string;
  readonly provenance: unknown;
  readonly requestedBy: string;
  readonly purpose: string | null;
  /** Agency and role of who asked, when known (the API's principal). */
  readonly requestedAgency?: string | null;
  readonly requestedRole?: string | null;
  /** The batches the result was computed from (values and grades). */
  readonly inputBatches?: readonly number[];
  /** The indicators it read, for the audit entry. */
  readonly indicators?: readonly string[];
  /** Extra facts for the audit entry (e.g. the requester named in the request body). */
  readonly auditDetails?: Record<string, unknown>;
}

export interface StoredAssessment extends AssessmentRecord {
  readonly id: number;
  readonly createdAt: string;
}

function assessmentRow(record: AssessmentRecord) {
  return {
    entity_code: record.entity,
    year: record.year,
    method: record.method,
    method_version: record.methodVersion,
    params_hash: record.paramsHash,
    data_version: record.dataVersion,
    code_version: record.codeVersion,
    seed: record.seed,
    result: record.resultJson ?? JSON.stringify(record.result),
    provenance: JSON.stringify(record.provenance),
    requested_by: record.requestedBy,
    purpose: record.purpose,
    input_batches: [...(record.inputBatches ?? [])],
    requested_agency: record.requestedAgency ?? null,
    requested_role: record.requestedRole ?? null,
  };
}

function creationEntry(record: AssessmentRecord, id: number): AuditEntry {
  return {
    actor: record.requestedBy,
    agency: record.requestedAgency ?? null,
    role: record.requestedRole ?? null,
    action: 'assessment.create',
    details: {
      ...record.auditDetails,
      assessmentId: id,
      entity: record.entity,
      year: record.year,
      method: record.method,
      dataVersion: record.dataVersion,
      ...(record.inputBatches ? { batches: [...record.inputBatches] } : {}),
      ...(record.indicators ? { indicators: [...record.indicators] } : {}),
    },
    purpose: record.purpose,
    outcome: 'ok',
  };
}

/** The assessments of one group, in one INSERT; each with its audit entry (assessment.create). */
const insertGroup: GroupWrite<AssessmentRecord, { id: number; created_at: Date | string }> = async (trx, records) => {
  const rows = await trx
    .insertInto('assessments')
    .values(records.map(assessmentRow))
    .returning(['id', 'created_at', 'requested_by', 'seed', 'entity_code', 'purpose', 'requested_agency'])
    .execute();
  // PostgreSQL returns the rows of a multi-row VALUES in order; were it ever otherwise, an audit
  // entry would name another request's assessment: check, and roll back rather than mislabel.
  rows.forEach((row, i) => {
    const r = records[i]!;
    const same = row.requested_by === r.requestedBy && (row.seed === null ? r.seed === null : Number(row.seed) === r.seed) && row.entity_code === r.entity && row.purpose === r.purpose && row.requested_agency === (r.requestedAgency ?? null);
    if (!same) throw new Error('assessment rows came back out of order from a multi-row insert');
  });
  return rows.map((row, i) => ({ value: { id: row.id, created_at: row.created_at }, entry: creationEntry(records[i]!, row.id) }));
};

/**
 * Stores an assessment with its audit entry (assessment.create), committed together with the
 * assessments asked for at the same moment (group commit: GroupWriter in engine/store/audit.ts).
 */
export async function insertAssessment(db: Kysely<Database>, record: AssessmentRecord): Promise<StoredAssessment> {
  const { value } = await groupWriterFor(db, insertGroup).submit(record);
  const { auditDetails: _details, indicators: _indicators, ...stored } = record;
  return { ...stored, id: value.id, createdAt: new Date(value.created_at).toISOString() };
}

/**
 * A stored assessment, if `scope` may see every batch it was computed from; otherwise undefined,
 * exactly as if it did not exist.
 */
export async function getAssessment(db: Kysely<Database>, id: number, scope: DataScope = ALL_DATA): Promise<StoredAssessment | undefined> {
  const row = await db.selectFrom('assessments').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  if (scope.kind !== 'all' && !scopeAllowsResult(scope, await batchSharing(db, row.input_batches), row.input_batches)) return undefined;
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
    requestedAgency: row.requested_agency,
    requestedRole: row.requested_role,
    inputBatches: row.input_batches,
    createdAt: new Date(row.created_at).toISOString(),
  };
}
