/**
 * A stored anomaly run notifies like new data (migration 0006): API processes remember the flags
 * an assessment reports per data version (api/read-cache.ts), and a detection run on the same
 * data changes them.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create trigger anomaly_runs_notify_changed
    after insert or update or delete or truncate on anomaly_runs
    for each statement execute function notify_data_changed()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger if exists anomaly_runs_notify_changed on anomaly_runs`.execute(db);
}
