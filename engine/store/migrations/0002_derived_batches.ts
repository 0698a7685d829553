/**
 * Derived batches: rates per 100,000 computed from stored counts and population are stored as
 * their own batch (format `derived-rate`), which names the batches it was computed from.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('ingestion_batches')
    .addColumn('derived_from', sql`integer[]`, (c) => c.notNull().defaultTo(sql`'{}'::integer[]`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('ingestion_batches').dropColumn('derived_from').execute();
}
