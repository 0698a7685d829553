/**
 * Group commit of audited writes (engine/store/audit.ts auditedWrite): writes that arrive together
 * share one transaction, one chain lock and one commit, and the chain stays exactly as if they
 * had been written one by one; a write whose own work fails takes nobody else down with it.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertAssessment, type AssessmentRecord } from '../engine/store/assessments.ts';
import { appendAudit, auditedWrite, verifyAuditChain, type AuditEntry } from '../engine/store/audit.ts';
import type { Store, StoreKind } from '../engine/store/database.ts';
import { openTestStore, STORE_KINDS } from './support/stores.ts';

const entry = (i: number): AuditEntry => ({ actor: `writer-${i}`, action: 'test.group', details: { i }, outcome: 'ok' });

/** How many transactions wrote the audit entries of `action` (xmin is the inserting transaction). */
async function transactionsOf(store: Store, action: string): Promise<number> {
  const { rows } = await sql<{ n: string }>`select count(distinct xmin::text) as n from audit_log where action = ${action}`.execute(store.db);
  return Number(rows[0]!.n);
}

describe.each(STORE_KINDS)('group commit of audited writes on %s', (kind: StoreKind) => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore(kind);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('commits writes that arrive together in fewer transactions, with the chain intact and in submission order', async () => {
    const appended = await Promise.all(Array.from({ length: 200 }, (_, i) => appendAudit(store.db, entry(i))));
    const ids = appended.map((a) => a.id);
    // Each write learns its own entry; the entries follow the order in which they were submitted.
    expect(new Set(ids).size).toBe(200);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const rows = await store.db.selectFrom('audit_log').select(['id', 'details']).where('action', '=', 'test.group').orderBy('id').execute();
    expect(rows.map((r) => (typeof r.details === 'string' ? JSON.parse(r.details) : r.details).i)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    const transactions = await transactionsOf(store, 'test.group');
    // The first write goes alone (nothing waits for it); the 199 behind it go in groups of at most 64.
    expect(transactions).toBeGreaterThanOrEqual(1 + Math.ceil(199 / 64));
    expect(transactions).toBeLessThan(20);
    const verified = await verifyAuditChain(store.db);
    expect(verified.problems).toEqual([]);
    expect(verified.ok).toBe(true);
  });

  it('a write whose work fails gets its own error; the others of its group are stored', async () => {
    const attempts = new Map<number, number>();
    const writes = Array.from({ length: 30 }, (_, i) =>
      auditedWrite(store.db, async (trx) => {
        attempts.set(i, (attempts.get(i) ?? 0) + 1);
        if (i === 17) {
          // A real failure inside the transaction: the table does not exist.
          await sql`insert into no_such_table values (1)`.execute(trx);
        }
        await sql`select ${i}::int`.execute(trx);
        return { value: i, entry: { ...entry(i), action: 'test.partial' } };
      }),
    );
    const settled = await Promise.allSettled(writes);
    const rejected = settled.flatMap((s, i) => (s.status === 'rejected' ? [{ i, reason: String(s.reason) }] : []));
    expect(rejected.map((r) => r.i)).toEqual([17]);
    expect(rejected[0]!.reason).toMatch(/no_such_table/);
    expect(settled.filter((s) => s.status === 'fulfilled').map((s) => (s as PromiseFulfilledResult<{ value: number }>).value.value)).toEqual(
      Array.from({ length: 30 }, (_, i) => i).filter((i) => i !== 17),
    );
    const stored = await store.db.selectFrom('audit_log').select('details').where('action', '=', 'test.partial').orderBy('id').execute();
    expect(stored.map((r) => (typeof r.details === 'string' ? JSON.parse(r.details) : r.details).i)).toEqual(
      Array.from({ length: 30 }, (_, i) => i).filter((i) => i !== 17),
    );
    // The writes grouped with the failing one ran again, in a transaction without it.
    expect([...attempts.values()].some((n) => n > 1)).toBe(true);
    expect((await verifyAuditChain(store.db)).ok).toBe(true);
  });

  it('a failing append takes its whole group down and stores none of it', async () => {
    const before = await store.db.selectFrom('audit_log').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    // An entry whose details cannot be serialised as JSON (a BigInt) fails in the append, after every work ran.
    const bad: AuditEntry = { actor: 'x', action: 'test.bad', details: { n: 1n }, outcome: 'ok' };
    const writes = [
      auditedWrite(store.db, async (trx) => {
        await sql`select 1`.execute(trx);
        return { value: 'first', entry: entry(1) };
      }),
      ...Array.from({ length: 5 }, (_, i) =>
        auditedWrite(store.db, async (trx) => {
          await sql`insert into agencies (code, name) values (${`group-${i}`}, 'Group test agency')`.execute(trx);
          return { value: i, entry: i === 2 ? bad : { ...entry(i), action: 'test.rolledback' } };
        }),
      ),
    ];
    const settled = await Promise.allSettled(writes);
    // The first went alone and was stored; the five behind it were one group, and all failed.
    expect(settled[0]!.status).toBe('fulfilled');
    expect(settled.slice(1).every((s) => s.status === 'rejected')).toBe(true);
    const after = await store.db.selectFrom('audit_log').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n) - Number(before.n)).toBe(1);
    const agencies = await store.db.selectFrom('agencies').select('code').where('code', 'like', 'group-%').execute();
    expect(agencies).toEqual([]);
    expect((await verifyAuditChain(store.db)).ok).toBe(true);
  });

  it('assessments asked for together are inserted in one statement; each gets its own row and its own audit entry', async () => {
    const record = (i: number): AssessmentRecord => ({
      entity: i % 2 ? 'ALB' : null,
      year: 2020 + (i % 3),
      method: 'test-method',
      methodVersion: '1',
      paramsHash: 'p',
      dataVersion: 'v',
      codeVersion: 'c',
      seed: i % 4 === 0 ? null : 1000 + i,
      result: { i, text: `result ${i}` },
      provenance: { i },
      requestedBy: `analyst-${i % 5}`,
      purpose: i % 3 ? `purpose ${i}` : null,
      requestedAgency: `agency-${i % 2}`,
      requestedRole: 'analyst',
      inputBatches: [i],
    });
    const stored = await Promise.all(Array.from({ length: 40 }, (_, i) => insertAssessment(store.db, record(i))));
    expect(new Set(stored.map((s) => s.id)).size).toBe(40);
    for (const [i, s] of stored.entries()) {
      const row = await store.db.selectFrom('assessments').select(['result', 'requested_by', 'input_batches']).where('id', '=', s.id).executeTakeFirstOrThrow();
      const result = typeof row.result === 'string' ? JSON.parse(row.result) : row.result;
      expect(result.i).toBe(i);
      expect(row.requested_by).toBe(`analyst-${i % 5}`);
      expect(row.input_batches).toEqual([i]);
    }
    const entries = await store.db.selectFrom('audit_log').select(['actor', 'details']).where('action', '=', 'assessment.create').orderBy('id').execute();
    const byAssessment = new Map(entries.map((e) => [(typeof e.details === 'string' ? JSON.parse(e.details) : e.details).assessmentId as number, e]));
    for (const [i, s] of stored.entries()) {
      const entry = byAssessment.get(s.id)!;
      expect(entry.actor).toBe(`analyst-${i % 5}`);
      expect((typeof entry.details === 'string' ? JSON.parse(entry.details) : entry.details).batches).toEqual([i]);
    }
    const { rows } = await sql<{ n: string }>`select count(distinct xmin::text) as n from assessments where method = 'test-method'`.execute(store.db);
    expect(Number(rows[0]!.n)).toBeLessThanOrEqual(3);
    expect((await verifyAuditChain(store.db)).ok).toBe(true);
  });
});

