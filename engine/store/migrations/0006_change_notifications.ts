/**
 * Change notifications (issue 9): API processes cache what they compute from the data (data
 * versions, risk-score tables, assessment inputs), so each must learn at once when another
 * process changes it. Statement-level triggers on the tables those caches depend on send
 * `NOTIFY threatlens_data_changed, '<table>'`; PostgreSQL delivers it at commit, to every
 * listening process (engine/store/changes.ts), and never for a rolled-back ingestion.
 *
 * ingestion_batches: the data version and what each scope may see (sharing lives on the batch).
 * risk_scores: the stored public composite that GET /v1/risk-scores serves without a framework.
 */
import { sql, type Kysely } from 'kysely';

export const DATA_CHANGED_CHANNEL = 'threatlens_data_changed';
const WATCHED_TABLES = ['ingestion_batches', 'risk_scores'] as const;

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function notify_data_changed() returns trigger language plpgsql as $$
    begin
      perform pg_notify(${sql.lit(DATA_CHANGED_CHANNEL)}, tg_table_name);
      return null;
    end $$`.execute(db);
  for (const table of WATCHED_TABLES) {
    await sql`
      create trigger ${sql.id(`${table}_notify_changed`)}
      after insert or update or delete or truncate on ${sql.id(table)}
      for each statement execute function notify_data_changed()`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of WATCHED_TABLES) await sql`drop trigger if exists ${sql.id(`${table}_notify_changed`)} on ${sql.id(table)}`.execute(db);
  await sql`drop function if exists notify_data_changed()`.execute(db);
}
