/**
 * Access control (issue 6):
 * - `api_keys`: keys stored as SHA-256 hashes of the whole key (the key is shown once), each with
 *   an agency, a role, an expiry and a revocation time;
 * - `assessments.input_batches`: the batches an assessment was computed from, so that reading it
 *   can require every one of them to be visible (the intersection rule); back-filled from the
 *   batch list of older assessments' provenance; and who asked (agency and role);
 * - the audit log becomes append-only for every role, the table owner included: a trigger refuses
 *   UPDATE, DELETE and TRUNCATE. Only someone who can alter the table (disable the trigger) can
 *   change it, and `threatlens audit verify` finds what such a person changed. On PostgreSQL,
 *   the API can also run as a role granted SELECT and INSERT only (.tmp/readme/access-control.md).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('agency', 'text', (c) => c.notNull().references('agencies.code'))
    .addColumn('role', 'text', (c) =>
      c.notNull().check(sql`role in ('viewer', 'analyst', 'data_scientist', 'oversight', 'admin')`),
    )
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('revoked_by', 'text')
    .execute();

  await db.schema
    .alterTable('assessments')
    .addColumn('input_batches', sql`integer[]`, (c) => c.notNull().defaultTo(sql`'{}'::integer[]`))
    .execute();
  await db.schema.alterTable('assessments').addColumn('requested_agency', 'text').execute();
  await db.schema.alterTable('assessments').addColumn('requested_role', 'text').execute();
  await sql`
    update assessments set input_batches = coalesce(
      array(select (b ->> 'id')::integer from jsonb_array_elements(provenance -> 'batches') as b order by 1),
      '{}'::integer[])
    where jsonb_typeof(provenance -> 'batches') = 'array'`.execute(db);

  await sql`
    create or replace function threatlens_audit_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_log is append-only: % is refused', tg_op using errcode = '42501';
    end
    $$`.execute(db);
  await sql`create trigger audit_log_append_only before update or delete on audit_log for each row execute function threatlens_audit_append_only()`.execute(db);
  await sql`create trigger audit_log_no_truncate before truncate on audit_log for each statement execute function threatlens_audit_append_only()`.execute(db);
  // The table owner keeps its rights (it needs them to migrate); others never get them by default.
  await sql`revoke update, delete, truncate on audit_log from public`.execute(db);
  await db.schema.createIndex('audit_log_action_idx').on('audit_log').columns(['action', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('audit_log_action_idx').ifExists().execute();
  await sql`drop trigger if exists audit_log_no_truncate on audit_log`.execute(db);
  await sql`drop trigger if exists audit_log_append_only on audit_log`.execute(db);
  await sql`drop function if exists threatlens_audit_append_only()`.execute(db);
  await db.schema.alterTable('assessments').dropColumn('requested_role').execute();
  await db.schema.alterTable('assessments').dropColumn('requested_agency').execute();
  await db.schema.alterTable('assessments').dropColumn('input_batches').execute();
  await db.schema.dropTable('api_keys').execute();
}
