/**
 * The library of published reports (migration 0005): publish (insert, with its audit entry, in one
 * transaction), read, list and search with PostgreSQL full-text search. Rows are immutable (a
 * trigger refuses changes). A report is readable by a data scope only when every batch it was
 * computed from is (the intersection rule of engine/access/sharing.ts); to anyone else it does not
 * exist. Plain Kysely and SQL that run on PGlite and PostgreSQL alike.
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { ALL_DATA, type DataScope } from '../access/roles.ts';
import { appendAudit } from './audit.ts';
import type { Database } from './schema.ts';
import { batchArrayVisible } from './visibility.ts';

export type HandlingLevel = 'public' | 'restricted' | 'owner';

/** An input batch of a report as the report and GET /v1/reports/:id show it. */
export interface ReportInputBatch {
  readonly id: number;
  readonly source: string;
  readonly fileName: string;
  readonly sha256: string;
  /** Admiralty (B2) or Europol (A1) grade as written. */
  readonly grade: string;
  readonly scheme: string;
  readonly sharingLevel: HandlingLevel;
  readonly ownerAgency: string;
  readonly sharedWith: readonly string[];
  readonly synthetic: boolean;
  readonly createdAt: string;
}

export interface ReportRecord {
  readonly reference: string;
  readonly kind: 'entity' | 'region';
  readonly title: string;
  readonly entity: string | null;
  readonly region: string | null;
  readonly entities: readonly string[];
  readonly frameworkId: string;
  readonly frameworkVersion: string;
  readonly paramsHash: string;
  readonly year: number;
  readonly crimeAreas: readonly string[];
  readonly handlingLevel: HandlingLevel;
  readonly allowedAgencies: readonly string[];
  readonly inputBatches: readonly ReportInputBatch[];
  readonly assessmentId: number | null;
  readonly dataVersion: string;
  readonly codeVersion: string;
  readonly rendererVersion: string;
  readonly seed: number | null;
  readonly runs: number | null;
  /** The rendering inputs as JSON text, stored byte for byte. */
  readonly inputsJson: string;
  readonly provenance: unknown;
  readonly summary: string;
  readonly searchText: string;
  readonly html: string;
  readonly pdf: Uint8Array | null;
  readonly publishedBy: string;
  readonly publishedAgency: string | null;
  readonly publishedRole: string | null;
  readonly purpose: string | null;
  /** ISO 8601, decided before rendering: the documents print it. */
  readonly publishedAt: string;
  /** Extra facts for the audit entry. */
  readonly auditDetails?: Record<string, unknown>;
}

export interface ReportSummary {
  readonly id: number;
  readonly reference: string;
  readonly kind: 'entity' | 'region';
  readonly title: string;
  readonly entity: string | null;
  readonly region: string | null;
  readonly entities: readonly string[];
  readonly framework: { readonly id: string; readonly version: string };
  readonly year: number;
  readonly crimeAreas: readonly string[];
  readonly handling: { readonly level: HandlingLevel; readonly allowedAgencies: readonly string[] };
  readonly dataVersion: string;
  /** Ids of the batches the report was computed from (GET /v1/reports/:ref lists them in full). */
  readonly inputBatchIds: readonly number[];
  readonly publishedAt: string;
  readonly publishedBy: string;
  readonly summary: string;
  readonly documents: { readonly html: { readonly sha256: string; readonly bytes: number }; readonly pdf: { readonly sha256: string; readonly bytes: number } | null };
  /** Full-text search only: ts_rank_cd of the query, and the summary with the matches marked. */
  readonly rank?: number;
  readonly headline?: string;
}

export interface StoredReport extends ReportSummary {
  readonly paramsHash: string;
  readonly assessmentId: number | null;
  readonly codeVersion: string;
  readonly rendererVersion: string;
  readonly seed: number | null;
  readonly runs: number | null;
  readonly inputBatches: readonly ReportInputBatch[];
  readonly inputsSha256: string;
  readonly provenance: unknown;
  readonly purpose: string | null;
  readonly publishedAgency: string | null;
  readonly publishedRole: string | null;
}

export const sha256Hex = (content: string | Uint8Array) => createHash('sha256').update(content).digest('hex');

const SUMMARY_COLUMNS = [
  'r.id',
  'r.reference',
  'r.kind',
  'r.title',
  'r.entity_code',
  'r.region',
  'r.entities',
  'r.framework_id',
  'r.framework_version',
  'r.year',
  'r.crime_areas',
  'r.handling_level',
  'r.allowed_agencies',
  'r.data_version',
  'r.input_batches',
  'r.published_at',
  'r.published_by',
  'r.summary',
  'r.html_sha256',
  'r.pdf_sha256',
] as const;

type SummaryRow = {
  id: number;
  reference: string;
  kind: 'entity' | 'region';
  title: string;
  entity_code: string | null;
  region: string | null;
  entities: string[];
  framework_id: string;
  framework_version: string;
  year: number;
  crime_areas: string[];
  handling_level: HandlingLevel;
  allowed_agencies: string[];
  data_version: string;
  input_batches: number[];
  published_at: Date;
  published_by: string;
  summary: string;
  html_sha256: string;
  pdf_sha256: string | null;
  html_bytes: number;
  pdf_bytes: number | null;
};

function summaryOf(r: SummaryRow): ReportSummary {
  return {
    id: r.id,
    reference: r.reference,
    kind: r.kind,
    title: r.title,
    entity: r.entity_code,
    region: r.region,
    entities: r.entities,
    framework: { id: r.framework_id, version: r.framework_version },
    year: r.year,
    crimeAreas: r.crime_areas,
    handling: { level: r.handling_level, allowedAgencies: r.allowed_agencies },
    dataVersion: r.data_version,
    inputBatchIds: r.input_batches,
    publishedAt: new Date(r.published_at).toISOString(),
    publishedBy: r.published_by,
    summary: r.summary,
    documents: {
      html: { sha256: r.html_sha256, bytes: Number(r.html_bytes) },
      pdf: r.pdf_sha256 === null || r.pdf_bytes === null ? null : { sha256: r.pdf_sha256, bytes: Number(r.pdf_bytes) },
    },
  };
}

/** Publishes a report: the row and its audit entry commit together. Returns the stored report. */
export async function insertReport(db: Kysely<Database>, record: ReportRecord): Promise<StoredReport> {
  const id = await db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('reports')
      .values({
        reference: record.reference,
        kind: record.kind,
        title: record.title,
        entity_code: record.entity,
        region: record.region,
        entities: [...record.entities],
        framework_id: record.frameworkId,
        framework_version: record.frameworkVersion,
        params_hash: record.paramsHash,
        year: record.year,
        crime_areas: [...record.crimeAreas],
        handling_level: record.handlingLevel,
        allowed_agencies: [...record.allowedAgencies],
        input_batches: record.inputBatches.map((b) => b.id),
        assessment_id: record.assessmentId,
        data_version: record.dataVersion,
        code_version: record.codeVersion,
        renderer_version: record.rendererVersion,
        seed: record.seed,
        runs: record.runs,
        inputs_json: record.inputsJson,
        inputs_sha256: sha256Hex(record.inputsJson),
        provenance: JSON.stringify({ ...(record.provenance as object), inputBatches: record.inputBatches }),
        summary: record.summary,
        search_text: record.searchText,
        html: record.html,
        html_sha256: sha256Hex(record.html),
        pdf: record.pdf,
        pdf_sha256: record.pdf ? sha256Hex(record.pdf) : null,
        published_by: record.publishedBy,
        published_agency: record.publishedAgency,
        published_role: record.publishedRole,
        purpose: record.purpose,
        published_at: record.publishedAt,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await appendAudit(trx, {
      actor: record.publishedBy,
      agency: record.publishedAgency,
      role: record.publishedRole,
      action: 'report.publish',
      details: {
        ...record.auditDetails,
        reportId: row.id,
        reference: record.reference,
        kind: record.kind,
        entities: [...record.entities],
        year: record.year,
        framework: record.frameworkId,
        handling: record.handlingLevel,
        allowedAgencies: [...record.allowedAgencies],
        batches: record.inputBatches.map((b) => b.id),
        assessmentId: record.assessmentId,
        htmlSha256: sha256Hex(record.html),
      },
      purpose: record.purpose,
      outcome: 'ok',
    });
    return row.id;
  });
  return (await getReport(db, id))!;
}

function summaryQuery(db: Kysely<Database>, scope: DataScope) {
  return db
    .selectFrom('reports as r')
    .select([...SUMMARY_COLUMNS, sql<number>`octet_length(r.html)`.as('html_bytes'), sql<number | null>`octet_length(r.pdf)`.as('pdf_bytes')])
    .where(batchArrayVisible(scope, 'r.input_batches'));
}

/** A published report's metadata and provenance, if `scope` may see every batch behind it. */
export async function getReport(db: Kysely<Database>, id: number, scope: DataScope = ALL_DATA): Promise<StoredReport | undefined> {
  const row = await summaryQuery(db, scope)
    .select(['r.params_hash', 'r.assessment_id', 'r.code_version', 'r.renderer_version', 'r.seed', 'r.runs', 'r.inputs_sha256', 'r.provenance', 'r.purpose', 'r.published_agency', 'r.published_role'])
    .where('r.id', '=', id)
    .executeTakeFirst();
  if (!row) return undefined;
  const provenance = (typeof row.provenance === 'string' ? JSON.parse(row.provenance) : row.provenance) as { inputBatches?: ReportInputBatch[] };
  const { inputBatches = [], ...rest } = provenance;
  return {
    ...summaryOf(row as unknown as SummaryRow),
    paramsHash: row.params_hash,
    assessmentId: row.assessment_id,
    codeVersion: row.code_version,
    rendererVersion: row.renderer_version,
    seed: row.seed === null ? null : Number(row.seed),
    runs: row.runs,
    inputBatches,
    inputsSha256: row.inputs_sha256,
    provenance: rest,
    purpose: row.purpose,
    publishedAgency: row.published_agency,
    publishedRole: row.published_role,
  };
}

/** The JSON text a report was rendered from, exactly as published, and its hash. */
export async function getReportInputs(db: Kysely<Database>, id: number, scope: DataScope = ALL_DATA): Promise<{ json: string; sha256: string } | undefined> {
  const row = await db
    .selectFrom('reports as r')
    .select(['r.inputs_json', 'r.inputs_sha256'])
    .where('r.id', '=', id)
    .where(batchArrayVisible(scope, 'r.input_batches'))
    .executeTakeFirst();
  return row ? { json: row.inputs_json, sha256: row.inputs_sha256 } : undefined;
}

/** A published document (HTML text or PDF bytes) with its hash; undefined when absent or not visible. */
export async function getReportDocument(
  db: Kysely<Database>,
  id: number,
  format: 'html' | 'pdf',
  scope: DataScope = ALL_DATA,
): Promise<{ content: string | Uint8Array; sha256: string; reference: string } | undefined> {
  const q = db.selectFrom('reports as r').select(['r.reference']).where('r.id', '=', id).where(batchArrayVisible(scope, 'r.input_batches'));
  if (format === 'html') {
    const row = await q.select(['r.html', 'r.html_sha256']).executeTakeFirst();
    return row ? { content: row.html, sha256: row.html_sha256, reference: row.reference } : undefined;
  }
  const row = await q.select(['r.pdf', 'r.pdf_sha256']).executeTakeFirst();
  if (!row || row.pdf === null || row.pdf_sha256 === null) return undefined;
  return { content: new Uint8Array(row.pdf), sha256: row.pdf_sha256, reference: row.reference };
}

export interface ReportQuery {
  /** A state covered (an entity report about it, or a region report including it). */
  readonly entity?: string;
  readonly region?: string;
  /** A crime area the report ranks as a priority. */
  readonly crimeArea?: string;
  readonly year?: number;
  readonly fromYear?: number;
  readonly toYear?: number;
  readonly framework?: string;
  readonly handling?: HandlingLevel;
  /** Full-text search (websearch syntax: words, "phrases", -exclusions, or), English stemming. */
  readonly text?: string;
  readonly limit?: number;
  readonly offset?: number;
}

/**
 * Lists the reports `scope` may see that match every filter given: newest first, or with `text`
 * by relevance (ts_rank_cd over the weighted vector) with the matching summary marked.
 */
export async function listReports(db: Kysely<Database>, query: ReportQuery = {}, scope: DataScope = ALL_DATA): Promise<{ total: number; reports: ReportSummary[] }> {
  const text = query.text?.trim() ? query.text.trim() : undefined;
  const tsquery = text === undefined ? null : sql`websearch_to_tsquery('english'::regconfig, ${text})`;
  let q = summaryQuery(db, scope);
  if (query.entity !== undefined) q = q.where(sql<boolean>`${query.entity} = any(r.entities)`);
  if (query.region !== undefined) q = q.where('r.region', '=', query.region);
  if (query.crimeArea !== undefined) q = q.where(sql<boolean>`${query.crimeArea} = any(r.crime_areas)`);
  if (query.year !== undefined) q = q.where('r.year', '=', query.year);
  if (query.fromYear !== undefined) q = q.where('r.year', '>=', query.fromYear);
  if (query.toYear !== undefined) q = q.where('r.year', '<=', query.toYear);
  if (query.framework !== undefined) q = q.where('r.framework_id', '=', query.framework);
  if (query.handling !== undefined) q = q.where('r.handling_level', '=', query.handling);
  if (tsquery !== null) q = q.where(sql<boolean>`r.search @@ ${tsquery}`);

  const counted = await q.clearSelect().select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
  let page = q.limit(Math.min(Math.max(query.limit ?? 50, 1), 200)).offset(Math.max(query.offset ?? 0, 0));
  if (tsquery !== null) {
    page = page
      .select([
        sql<number>`ts_rank_cd(r.search, ${tsquery})`.as('rank'),
        sql<string>`ts_headline('english'::regconfig, r.summary, ${tsquery}, 'MaxFragments=2, MinWords=5, MaxWords=25, StartSel=<<, StopSel=>>')`.as('headline'),
      ])
      .orderBy(sql`ts_rank_cd(r.search, ${tsquery})`, 'desc');
  }
  const rows = await page.orderBy('r.published_at', 'desc').orderBy('r.id', 'desc').execute();
  return {
    total: Number(counted.n),
    reports: rows.map((r) => {
      const extra = r as unknown as { rank?: number; headline?: string };
      return {
        ...summaryOf(r as unknown as SummaryRow),
        ...(extra.rank !== undefined ? { rank: Math.round(Number(extra.rank) * 1e6) / 1e6 } : {}),
        ...(extra.headline !== undefined ? { headline: extra.headline } : {}),
      };
    }),
  };
}

/** The id of a report named by its id (`12`) or its reference (`TLR-20261122-ab12cd34`), whoever may see it. */
export async function resolveReportId(db: Kysely<Database>, ref: string | number): Promise<number | undefined> {
  if (typeof ref === 'number' || /^\d{1,9}$/.test(ref)) return Number(ref);
  const row = await db.selectFrom('reports').select('id').where('reference', '=', ref).executeTakeFirst();
  return row?.id;
}
