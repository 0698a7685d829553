/**
 * The audit log is append-only and hash-chained: each entry stores the hash of the one before and
 * its own hash over (previous hash, content). Issue 6 adds verification and write protection;
 * the chain is written from the first entry so that nothing needs back-filling then.
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.ts';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEntry {
  readonly actor: string;
  readonly agency?: string | null;
  readonly role?: string | null;
  readonly action: string;
  readonly details: Record<string, unknown>;
  readonly purpose?: string | null;
  readonly outcome: 'ok' | 'refused' | 'failed';
}

/** Canonical JSON (sorted keys) so the hash does not depend on property order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value instanceof Date ? value.toISOString() : value);
}

export function auditHash(prevHash: string, at: string, entry: AuditEntry): string {
  const content = canonicalJson({
    at,
    actor: entry.actor,
    agency: entry.agency ?? null,
    role: entry.role ?? null,
    action: entry.action,
    details: entry.details,
    purpose: entry.purpose ?? null,
    outcome: entry.outcome,
  });
  return createHash('sha256').update(prevHash).update('\n').update(content).digest('hex');
}

/** Appends one entry. Call it inside the transaction whose work it records. */
export async function appendAudit(trx: Transaction<Database> | Kysely<Database>, entry: AuditEntry): Promise<void> {
  const run = async (tx: Transaction<Database>) => {
    // Serialise appends so that two writers never chain onto the same predecessor.
    await sql`select pg_advisory_xact_lock(7331001)`.execute(tx);
    const last = await tx.selectFrom('audit_log').select('hash').orderBy('id', 'desc').limit(1).executeTakeFirst();
    const prevHash = last?.hash ?? GENESIS_HASH;
    const at = new Date().toISOString();
    await tx
      .insertInto('audit_log')
      .values({
        at,
        actor: entry.actor,
        agency: entry.agency ?? null,
        role: entry.role ?? null,
        action: entry.action,
        details: JSON.stringify(entry.details),
        purpose: entry.purpose ?? null,
        outcome: entry.outcome,
        prev_hash: prevHash,
        hash: auditHash(prevHash, at, entry),
      })
      .execute();
  };
  if (trx.isTransaction) await run(trx as Transaction<Database>);
  else await trx.transaction().execute(run);
}
