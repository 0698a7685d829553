/**
 * A change to the indicator catalogue notifies like new data (migration 0006): API processes
 * remember the catalogue's codes, against which the built-in frameworks are checked
 * (api/frameworks.ts), as long as they trust a data version; an indicator registered by another
 * process must reach them at once.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create trigger indicators_notify_changed
    after insert or update or delete or truncate on indicators
    for each statement execute function notify_data_changed()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger if exists indicators_notify_changed on indicators`.execute(db);
}
