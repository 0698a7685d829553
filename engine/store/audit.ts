/**
 * The audit log is append-only and hash-chained: each entry stores the hash of the one before and
 * its own hash over (previous hash, content), content being the canonical JSON of at, actor,
 * agency, role, action, details, purpose and outcome. A trigger refuses UPDATE, DELETE and
 * TRUNCATE (migration 0004); `verifyAuditChain` finds entries changed by anyone who got around it
 * (altered, removed or reordered) and says which.
 *
 * hash = sha256(prev_hash + "\n" + canonicalJson(content)), hex; the first entry's prev_hash is
 * 64 zeros. An oversight body can recompute the chain from an export (GET /v1/audit/export) with
 * nothing but this definition (test/reference/ref_audit_chain.py does).
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Selectable } from 'kysely';
import type { AuditLogTable, Database } from './schema.ts';

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
  return auditHashOfContent(prevHash, auditContent(at, entry));
}

/** What an entry's hash covers: its canonical JSON. */
function auditContent(at: string, entry: AuditEntry): string {
  return canonicalJson({
    at,
    actor: entry.actor,
    agency: entry.agency ?? null,
    role: entry.role ?? null,
    action: entry.action,
    details: entry.details,
    purpose: entry.purpose ?? null,
    outcome: entry.outcome,
  });
}

function auditHashOfContent(prevHash: string, content: string): string {
  return createHash('sha256').update(prevHash).update('\n').update(content).digest('hex');
}

const UNSTORABLE_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text PostgreSQL can store as UTF-8 (no NUL, no lone surrogate: each becomes U+FFFD), so the hash verifies. */
function storableText<T extends string | null | undefined>(text: T): T {
  return (typeof text === 'string' ? text.replace(UNSTORABLE_TEXT, '\uFFFD') : text) as T;
}

/** JSON as the database will give it back (undefined dropped, NaN null, dates as text, keys and text storable). */
function asStoredJson(value: Record<string, unknown>): Record<string, unknown> {
  const clean = (v: unknown): unknown => {
    if (typeof v === 'string') return storableText(v);
    if (Array.isArray(v)) return v.map(clean);
    if (v && typeof v === 'object' && !(v instanceof Date)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [storableText(k), clean(x)]));
    return v;
  };
  return JSON.parse(JSON.stringify(clean(value))) as Record<string, unknown>;
}

function storable(entry: AuditEntry): AuditEntry {
  return {
    ...entry,
    actor: storableText(entry.actor),
    agency: storableText(entry.agency),
    role: storableText(entry.role),
    action: storableText(entry.action),
    purpose: storableText(entry.purpose),
    details: asStoredJson(entry.details),
  };
}

export interface AppendedAudit {
  readonly id: number;
  readonly hash: string;
}

/**
 * Appends entries in the order given, each chained onto the one before. Call it inside the
 * transaction whose work they record: the chain's lock is held until that transaction ends.
 */
export async function appendAuditEntries(trx: Transaction<Database>, entries: readonly AuditEntry[]): Promise<AppendedAudit[]> {
  if (entries.length === 0) return [];
  const stored = entries.map(storable);
  const at = new Date().toISOString();
  // The lock (which serialises appends, so that two writers never chain onto the same
  // predecessor), the last hash, the hashes and the inserts: one round trip (migration 0008).
  const contents = stored.map((entry) => auditContent(at, entry));
  const { rows } = await sql<{ entry_id: number; entry_prev_hash: string; entry_hash: string }>`select entry_id, entry_prev_hash, entry_hash from threatlens_audit_append(
    ${at}::timestamptz,
    ${contents}::text[],
    ${stored.map((entry) => entry.actor)}::text[],
    ${stored.map((entry) => entry.agency ?? null)}::text[],
    ${stored.map((entry) => entry.role ?? null)}::text[],
    ${stored.map((entry) => entry.action)}::text[],
    ${stored.map((entry) => JSON.stringify(entry.details))}::text[],
    ${stored.map((entry) => entry.purpose ?? null)}::text[],
    ${stored.map((entry) => entry.outcome)}::text[])`.execute(trx);
  if (rows.length !== stored.length) throw new Error(`the audit chain appended ${rows.length} entries of ${stored.length}`);
  // The database's hashes must be auditHash's, or verification would later fail: check each
  // (and its link to the one before) and roll back rather than store a chain that cannot verify.
  rows.forEach((r, i) => {
    const linked = i === 0 || r.entry_prev_hash === rows[i - 1]!.entry_hash;
    if (!linked || auditHashOfContent(r.entry_prev_hash, contents[i]!) !== r.entry_hash) throw new Error('the database chained an audit entry differently from auditHash');
  });
  const appended = rows.map((r) => ({ id: Number(r.entry_id), hash: r.entry_hash }));
  // The chain is verified in id order: ids must follow the chain.
  if (appended.some((a, i) => i > 0 && a.id <= appended[i - 1]!.id)) throw new Error('audit entries were numbered out of chain order');
  return appended;
}

/**
 * Appends one entry. Inside a transaction, it is part of that transaction; on the database itself,
 * it is committed with other appends waiting at the same moment (auditedWrite).
 */
export async function appendAudit(trx: Transaction<Database> | Kysely<Database>, entry: AuditEntry): Promise<AppendedAudit> {
  if (trx.isTransaction) return (await appendAuditEntries(trx as Transaction<Database>, [entry]))[0]!;
  return (await auditedWrite(trx, async () => ({ value: undefined, entry }))).audit;
}

// ---------------------------------------------------------------------------------------------
// Group commit
// ---------------------------------------------------------------------------------------------

/** What one audited write gives back: its own value, and its entry in the log. */
export interface AuditedResult<T> {
  readonly value: T;
  readonly audit: AppendedAudit;
}

/**
 * Writes a group of items in `trx` and returns, for each item in order, its value and the audit
 * entry that records it. It must only write in `trx`: it runs again, item by item, if it fails.
 */
export type GroupWrite<I, T> = (trx: Transaction<Database>, items: readonly I[]) => Promise<Array<{ value: T; entry: AuditEntry }>>;

interface Pending<I, T> {
  readonly item: I;
  readonly resolve: (result: AuditedResult<T>) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit for audited writes. The chain makes every append wait for the one before to commit
 * (one lock, held through the commit's WAL flush), and each statement of a transaction waits its
 * turn on a busy event loop; one write at a time topped out at about a hundred a second. Items
 * that arrive while `concurrency` groups (default 2) are in their transactions wait, and then go
 * together in the next one: their rows (as one statement where `write` can), and their entries
 * appended in one statement, for one lock and one flush. Two groups overlap everything but the
 * append and the commit, which the chain's lock orders. An idle writer starts at once, so a lone
 * write waits for nothing. (Mixed load of bench:load, 2 cores: one group at a time 2,261 req/s,
 * p99 128 ms; two 2,782 req/s, p99 82 ms.)
 *
 * If the group's write fails, each of its items is tried again alone, so that the item at fault
 * gets its own error and the others are stored. If the append or the commit fails, every item of
 * the group gets that error: none was stored (or, if the connection died in the commit, its fate
 * is as unknown as that of a single write).
 */
export class GroupWriter<I, T> {
  private pending: Array<Pending<I, T>> = [];
  private active = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly write: GroupWrite<I, T>,
    private readonly options: { readonly maxGroup?: number; readonly concurrency?: number } = {},
  ) {}

  submit(item: I): Promise<AuditedResult<T>> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.active < (this.options.concurrency ?? 2) && this.pending.length > 0) {
      const group = this.pending.splice(0, this.options.maxGroup ?? 64);
      this.active += 1;
      void this.commit(group).finally(() => {
        this.active -= 1;
        this.pump();
      });
    }
  }

  private async commit(group: Array<Pending<I, T>>): Promise<void> {
    let writeFailed = false;
    let results: Array<AuditedResult<T>>;
    try {
      results = await this.db.transaction().execute(async (trx) => {
        let written: Array<{ value: T; entry: AuditEntry }>;
        try {
          written = await this.write(trx, group.map((p) => p.item));
        } catch (error) {
          writeFailed = true;
          throw error;
        }
        if (written.length !== group.length) throw new Error(`a group write returned ${written.length} results for ${group.length} items`);
        const audits = await appendAuditEntries(trx, written.map((w) => w.entry));
        return written.map((w, i) => ({ value: w.value, audit: audits[i]! }));
      });
    } catch (error) {
      if (writeFailed && group.length > 1) {
        for (const one of group) await this.commit([one]);
      } else {
        for (const p of group) p.reject(error);
      }
      return;
    }
    group.forEach((p, i) => p.resolve(results[i]!));
  }
}

/** A write that the audit log must record: its rows, written in `trx`, and the entry that records them. */
export type AuditedWork<T> = (trx: Transaction<Database>) => Promise<{ value: T; entry: AuditEntry }>;

const runEach: GroupWrite<AuditedWork<unknown>, unknown> = async (trx, works) => {
  const written: Array<{ value: unknown; entry: AuditEntry }> = [];
  for (const work of works) written.push(await work(trx));
  return written;
};

const writers = new WeakMap<Kysely<Database>, Map<GroupWrite<never, unknown>, GroupWriter<never, unknown>>>();

/** The one GroupWriter of `db` for `write` (a module-level function), made on first use. */
export function groupWriterFor<I, T>(db: Kysely<Database>, write: GroupWrite<I, T>): GroupWriter<I, T> {
  let byWrite = writers.get(db);
  if (!byWrite) writers.set(db, (byWrite = new Map()));
  let writer = byWrite.get(write as GroupWrite<never, unknown>) as GroupWriter<I, T> | undefined;
  if (!writer) byWrite.set(write as GroupWrite<never, unknown>, (writer = new GroupWriter(db, write)) as unknown as GroupWriter<never, unknown>);
  return writer;
}

/**
 * Runs `work` in a transaction and appends the audit entry it returns in the same transaction,
 * committed together with other audited writes waiting at the same moment (GroupWriter).
 * `work` may run more than once if another write in its group fails: it must only write in `trx`.
 */
export function auditedWrite<T>(db: Kysely<Database>, work: AuditedWork<T>): Promise<AuditedResult<T>> {
  return groupWriterFor(db, runEach).submit(work) as Promise<AuditedResult<T>>;
}

// ---------------------------------------------------------------------------------------------
// Reading and verifying
// ---------------------------------------------------------------------------------------------

export interface StoredAuditEntry {
  readonly id: number;
  readonly at: string;
  readonly actor: string;
  readonly agency: string | null;
  readonly role: string | null;
  readonly action: string;
  readonly details: Record<string, unknown>;
  readonly purpose: string | null;
  readonly outcome: string;
  readonly prevHash: string;
  readonly hash: string;
}

type AuditRow = Selectable<AuditLogTable>;

function fromRow(row: AuditRow): StoredAuditEntry {
  return {
    id: row.id,
    at: new Date(row.at).toISOString(),
    actor: row.actor,
    agency: row.agency,
    role: row.role,
    action: row.action,
    details: (typeof row.details === 'string' ? JSON.parse(row.details) : row.details) as Record<string, unknown>,
    purpose: row.purpose,
    outcome: row.outcome,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** The hash an entry should have, recomputed from what is stored. */
export function recomputeHash(entry: StoredAuditEntry): string {
  return auditHash(entry.prevHash, entry.at, {
    actor: entry.actor,
    agency: entry.agency,
    role: entry.role,
    action: entry.action,
    details: entry.details,
    purpose: entry.purpose,
    outcome: entry.outcome as AuditEntry['outcome'],
  });
}

export interface AuditQuery {
  /** Entries with an id greater than this (the previous page's nextCursor). */
  readonly after?: number;
  readonly limit: number;
  readonly action?: string;
  readonly actor?: string;
  readonly agency?: string;
  readonly from?: string;
  readonly to?: string;
}

/** A page of entries in chain order (id ascending), keyset-paged. */
export async function listAudit(db: Kysely<Database>, query: AuditQuery): Promise<{ entries: StoredAuditEntry[]; nextCursor: number | null }> {
  let q = db.selectFrom('audit_log').selectAll().orderBy('id').limit(query.limit + 1);
  if (query.after !== undefined) q = q.where('id', '>', query.after);
  if (query.action !== undefined) q = q.where('action', '=', query.action);
  if (query.actor !== undefined) q = q.where('actor', '=', query.actor);
  if (query.agency !== undefined) q = q.where('agency', '=', query.agency);
  if (query.from !== undefined) q = q.where('at', '>=', new Date(query.from));
  if (query.to !== undefined) q = q.where('at', '<=', new Date(query.to));
  const rows = await q.execute();
  const page = rows.slice(0, query.limit).map(fromRow);
  return { entries: page, nextCursor: rows.length > query.limit ? page[page.length - 1]!.id : null };
}

/** Every entry in chain order, read in pages (bounded memory, for exports and verification). */
export async function* auditEntries(db: Kysely<Database>, pageSize = 2000): AsyncGenerator<StoredAuditEntry> {
  let after = 0;
  for (;;) {
    const rows = await db.selectFrom('audit_log').selectAll().where('id', '>', after).orderBy('id').limit(pageSize).execute();
    for (const row of rows) yield fromRow(row);
    if (rows.length < pageSize) return;
    after = rows[rows.length - 1]!.id;
  }
}

export type AuditProblemKind = 'altered' | 'removed' | 'reordered' | 'anchor_missing';

export interface AuditProblem {
  readonly kind: AuditProblemKind;
  /** The entry where the problem shows. */
  readonly id: number | null;
  /** The entry stored just before it (null at the start of the log). */
  readonly afterId: number | null;
  readonly message: string;
}

export interface AuditVerification {
  readonly ok: boolean;
  readonly entries: number;
  readonly firstId: number | null;
  readonly lastId: number | null;
  /** The hash of the last entry: note it, and pass it as `anchor` later to detect removal at the end. */
  readonly head: string | null;
  readonly anchor: { readonly hash: string; readonly foundAt: number | null } | null;
  readonly problems: readonly AuditProblem[];
  /** True when more problems were found than are listed. */
  readonly truncated: boolean;
}

const MAX_PROBLEMS = 1000;

/**
 * Walks the whole chain and reports every entry whose content no longer matches its hash
 * (altered), every break where an entry names a predecessor that no longer exists (removed, or
 * altered with its hash recomputed) and every entry that chains onto another entry than the one
 * stored before it (reordered). Removal at the very end leaves no break: pass an `anchor`, a head
 * hash noted earlier, to check that it is still in the chain.
 */
export async function verifyAuditChain(db: Kysely<Database>, options: { anchor?: string } = {}): Promise<AuditVerification> {
  const problems: AuditProblem[] = [];
  let truncated = false;
  const report = (p: AuditProblem) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
    else truncated = true;
  };
  const locate = async (hash: string): Promise<number | null> =>
    (await db.selectFrom('audit_log').select('id').where('hash', '=', hash).orderBy('id').limit(1).executeTakeFirst())?.id ?? null;

  let previous: StoredAuditEntry | null = null;
  let entries = 0;
  let firstId: number | null = null;
  for await (const entry of auditEntries(db)) {
    entries++;
    firstId ??= entry.id;
    if (recomputeHash(entry) !== entry.hash) {
      report({ kind: 'altered', id: entry.id, afterId: previous?.id ?? null, message: `entry ${entry.id} (${entry.action}, ${entry.at}) was altered: its content no longer matches its hash` });
    }
    const expected = previous ? previous.hash : GENESIS_HASH;
    if (entry.prevHash !== expected) {
      const where = previous ? `between entry ${previous.id} and entry ${entry.id}` : `before entry ${entry.id}, the first one stored`;
      if (entry.prevHash === GENESIS_HASH) {
        report({ kind: 'reordered', id: entry.id, afterId: previous?.id ?? null, message: `entry ${entry.id} was the first entry of the chain but is stored after entry ${previous?.id}: entries were reordered` });
      } else {
        const chainedOnto = await locate(entry.prevHash);
        if (chainedOnto !== null) {
          report({ kind: 'reordered', id: entry.id, afterId: previous?.id ?? null, message: `entry ${entry.id} follows entry ${chainedOnto} in the chain but is stored ${previous ? `after entry ${previous.id}` : 'first'}: entries were reordered` });
        } else {
          report({
            kind: 'removed',
            id: entry.id,
            afterId: previous?.id ?? null,
            message: `the chain breaks ${where}: the entry that entry ${entry.id} follows (hash ${entry.prevHash.slice(0, 12)}...) is missing: removed${previous ? `, or entry ${previous.id} was altered and its hash recomputed` : ''}`,
          });
        }
      }
    }
    previous = entry;
  }

  let anchor: AuditVerification['anchor'] = null;
  if (options.anchor !== undefined) {
    const foundAt = await locate(options.anchor);
    anchor = { hash: options.anchor, foundAt };
    if (foundAt === null) {
      report({ kind: 'anchor_missing', id: null, afterId: previous?.id ?? null, message: `the anchored entry (hash ${options.anchor.slice(0, 12)}...) is no longer in the log: entries up to it were removed or altered` });
    }
  }
  return { ok: problems.length === 0 && !truncated, entries, firstId, lastId: previous?.id ?? null, head: previous?.hash ?? null, anchor, problems, truncated };
}

/**
 * PostgreSQL grants for a role the API runs as (DATABASE_URL with that user): everything it
 * needs, but on the audit log only SELECT and INSERT, so that no request, whatever it did, could
 * change the trail, even with the append-only trigger disabled (which only the owner can do).
 * Run as the owner after migrating: `threatlens audit grant-api-role ROLE`.
 */
export function apiRoleGrantStatements(role: string): string[] {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role)) throw new Error(`"${role}" is not a plain PostgreSQL role name (lower-case letters, digits, _)`);
  return [
    `grant usage on schema public to ${role}`,
    `grant select, insert, update, delete on all tables in schema public to ${role}`,
    `revoke update, delete, truncate on audit_log from ${role}`,
    `grant usage, select on all sequences in schema public to ${role}`,
  ];
}
