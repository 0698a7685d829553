/**
 * Appending to the audit chain in one round trip. The chain needs, under its lock, the hash of
 * the last entry before it can hash and insert the next ones: three statements, each a round trip
 * through a busy event loop while every other audited write waits for the lock. This function does
 * all three in the database. The caller still computes each entry's canonical content (the
 * definition of the hash stays in engine/store/audit.ts); PostgreSQL hashes
 * sha256(prev_hash || '\n' || content) over its UTF-8 bytes, as createHash does in Node.
 *
 * A volatile PL/pgSQL function takes a new snapshot for each statement under READ COMMITTED, so
 * the last hash is read after the lock is granted, never before.
 */
import { sql, type Kysely } from 'kysely';
import { GENESIS_HASH } from '../audit.ts';

const AUDIT_CHAIN_LOCK = 7331001;

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function threatlens_audit_append(
      p_at timestamptz, p_contents text[], p_actors text[], p_agencies text[], p_roles text[],
      p_actions text[], p_details text[], p_purposes text[], p_outcomes text[]
    ) returns table (entry_id integer, entry_prev_hash text, entry_hash text) language plpgsql volatile as $$
    declare
      previous text;
    begin
      perform pg_advisory_xact_lock(${sql.lit(AUDIT_CHAIN_LOCK)});
      select a.hash into previous from audit_log a order by a.id desc limit 1;
      previous := coalesce(previous, ${sql.lit(GENESIS_HASH)});
      for i in 1 .. coalesce(array_length(p_contents, 1), 0) loop
        entry_hash := encode(sha256(convert_to(previous || E'\\n' || p_contents[i], 'UTF8')), 'hex');
        insert into audit_log (at, actor, agency, role, action, details, purpose, outcome, prev_hash, hash)
        values (p_at, p_actors[i], p_agencies[i], p_roles[i], p_actions[i], p_details[i]::jsonb, p_purposes[i], p_outcomes[i], previous, entry_hash)
        returning audit_log.id into entry_id;
        entry_prev_hash := previous;
        return next;
        previous := entry_hash;
      end loop;
    end $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function if exists threatlens_audit_append(timestamptz, text[], text[], text[], text[], text[], text[], text[], text[])`.execute(db);
}
