/**
 * The library of published reports (issue 10). One row per published report: what it is about
 * (entity or region, the states covered, framework, year, priority crime areas), its handling
 * (level and the agencies it may be released to, from its input batches' sharing), the exact
 * inputs it was rendered from (JSON text, byte for byte, with their SHA-256) and their provenance,
 * the documents themselves (HTML and PDF) with their hashes, and a full-text search vector.
 *
 * Published reports are immutable: a trigger refuses UPDATE, DELETE and TRUNCATE, so re-rendering
 * one always starts from what was published. The search vector is a generated column over the
 * title (weight A), the executive summary (B) and the document's text (C), English stemming;
 * PostgreSQL and PGlite both have the `english` configuration.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('reports')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('reference', 'text', (c) => c.notNull().unique())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('entity', 'region')`))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('entity_code', 'text')
    /** The region of a region report; the sub-region of an entity report's state. */
    .addColumn('region', 'text')
    .addColumn('entities', sql`text[]`, (c) => c.notNull())
    .addColumn('framework_id', 'text', (c) => c.notNull())
    .addColumn('framework_version', 'text', (c) => c.notNull())
    .addColumn('params_hash', 'text', (c) => c.notNull())
    .addColumn('year', 'integer', (c) => c.notNull())
    /** Crime areas the report ranks as a priority (classes 1-3) for some state it covers. */
    .addColumn('crime_areas', sql`text[]`, (c) => c.notNull())
    .addColumn('handling_level', 'text', (c) => c.notNull().check(sql`handling_level in ('public', 'restricted', 'owner')`))
    /** Agencies that may read every input batch (empty for a public report). */
    .addColumn('allowed_agencies', sql`text[]`, (c) => c.notNull())
    .addColumn('input_batches', sql`integer[]`, (c) => c.notNull())
    .addColumn('assessment_id', 'integer', (c) => c.references('assessments.id'))
    .addColumn('data_version', 'text', (c) => c.notNull())
    .addColumn('code_version', 'text', (c) => c.notNull())
    .addColumn('renderer_version', 'text', (c) => c.notNull())
    .addColumn('seed', 'integer')
    .addColumn('runs', 'integer')
    /** The inputs the documents were rendered from, as JSON text (byte for byte) and its hash. */
    .addColumn('inputs_json', 'text', (c) => c.notNull())
    .addColumn('inputs_sha256', 'text', (c) => c.notNull())
    .addColumn('provenance', 'jsonb', (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('search_text', 'text', (c) => c.notNull())
    .addColumn('search', sql`tsvector`, (c) =>
      c.generatedAlwaysAs(
        sql`setweight(to_tsvector('english'::regconfig, title), 'A') || setweight(to_tsvector('english'::regconfig, summary), 'B') || setweight(to_tsvector('english'::regconfig, search_text), 'C')`,
      ).stored(),
    )
    .addColumn('html', 'text', (c) => c.notNull())
    .addColumn('html_sha256', 'text', (c) => c.notNull())
    .addColumn('pdf', 'bytea')
    .addColumn('pdf_sha256', 'text')
    .addColumn('published_by', 'text', (c) => c.notNull())
    .addColumn('published_agency', 'text')
    .addColumn('published_role', 'text')
    .addColumn('purpose', 'text')
    .addColumn('published_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await sql`create index reports_search_idx on reports using gin (search)`.execute(db);
  await db.schema.createIndex('reports_subject_idx').on('reports').columns(['year', 'framework_id']).execute();
  await sql`create index reports_entities_idx on reports using gin (entities)`.execute(db);

  await sql`
    create or replace function threatlens_reports_immutable() returns trigger language plpgsql as $$
    begin
      raise exception 'published reports are immutable: % is refused (publish a new report instead)', tg_op using errcode = '42501';
    end
    $$`.execute(db);
  await sql`create trigger reports_immutable before update or delete on reports for each row execute function threatlens_reports_immutable()`.execute(db);
  await sql`create trigger reports_no_truncate before truncate on reports for each statement execute function threatlens_reports_immutable()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('reports').execute();
  await sql`drop function if exists threatlens_reports_immutable()`.execute(db);
}
