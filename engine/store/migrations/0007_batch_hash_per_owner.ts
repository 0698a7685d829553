/**
 * A file's hash is unique per owner agency, not across all agencies. With one global constraint,
 * an agency uploading a file learnt (as "duplicate of batch N") that another agency already held
 * a restricted batch with exactly that content: a confirmation oracle across the sharing rules.
 * Now each agency's duplicates are its own; two agencies may hold the same file.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table ingestion_batches drop constraint ingestion_batches_sha256_key`.execute(db);
  await sql`alter table ingestion_batches add constraint ingestion_batches_owner_sha256_key unique (owner_agency, sha256)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table ingestion_batches drop constraint ingestion_batches_owner_sha256_key`.execute(db);
  await sql`alter table ingestion_batches add constraint ingestion_batches_sha256_key unique (sha256)`.execute(db);
}
