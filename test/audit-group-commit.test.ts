/**
 * Group commit of audited writes (engine/store/audit.ts auditedWrite): writes that arrive together
 * share one transaction, one chain lock and one commit, and the chain stays exactly as if they
 * had been written one by one; a write whose own work fails takes nobody else down with it.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertAssessment, type AssessmentRecord } from '../engine/store/assessments.ts';
import { appendAudit, auditedWrite, GroupWriter, verifyAuditChain, type AuditEntry, type GroupWrite } from '../engine/store/audit.ts';
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

  it('commits writes that arrive together in fewer transactions, with the chain intact', async () => {
    const appended = await Promise.all(Array.from({ length: 200 }, (_, i) => appendAudit(store.db, entry(i))));
    // Each write learns its own entry.
    expect(new Set(appended.map((a) => a.id)).size).toBe(200);
    const rows = await store.db.selectFrom('audit_log').select(['id', 'details']).where('action', '=', 'test.group').orderBy('id').execute();
    const stored = rows.map((r) => (typeof r.details === 'string' ? JSON.parse(r.details) : r.details).i as number);
    expect([...stored].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    for (const [k, a] of appended.entries()) expect(stored[rows.findIndex((r) => r.id === a.id)]).toBe(k);
    const transactions = await transactionsOf(store, 'test.group');
    // At most 64 to a group: at least 4 transactions; far fewer than one per write.
    expect(transactions).toBeGreaterThanOrEqual(4);
    expect(transactions).toBeLessThan(20);
    const verified = await verifyAuditChain(store.db);
    expect(verified.problems).toEqual([]);
    expect(verified.ok).toBe(true);
  });

  it('runs two groups at once, the chain ordering their appends', async () => {
    let running = 0;
    let most = 0;
    const slowWrite: GroupWrite<number, number> = async (trx, items) => {
      running += 1;
      most = Math.max(most, running);
      try {
        await sql`select pg_sleep(0.05)`.execute(trx);
        return items.map((i) => ({ value: i, entry: { ...entry(i), action: 'test.concurrent' } }));
      } finally {
        running -= 1;
      }
    };
    const writer = new GroupWriter(store.db, slowWrite, { concurrency: 2, maxGroup: 10 });
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => writer.submit(i)));
    expect(results.map((r) => r.value)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    // PGlite has one connection: its transactions never overlap; PostgreSQL's do.
    expect(most).toBe(kind === 'postgres' ? 2 : 1);
    expect(await transactionsOf(store, 'test.concurrent')).toBeGreaterThanOrEqual(6);
    expect((await verifyAuditChain(store.db)).ok).toBe(true);
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
    const stored = await store.db.selectFrom('audit_log').select('details').where('action', '=', 'test.partial').execute();
    // Every write but the failing one is stored; two groups commit in either order, so compare sorted.
    expect(stored.map((r) => (typeof r.details === 'string' ? JSON.parse(r.details) : r.details).i as number).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 30 }, (_, i) => i).filter((i) => i !== 17),
    );
    // The writes grouped with the failing one ran again, in a transaction without it.
    expect([...attempts.values()].some((n) => n > 1)).toBe(true);
    expect((await verifyAuditChain(store.db)).ok).toBe(true);
  });

  it('a failing append takes its whole group down and stores none of it', async () => {
    const before = await store.db.selectFrom('audit_log').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    // An entry whose details cannot be serialised as JSON (a BigInt) fails in the append, after the group's write.
    const bad: AuditEntry = { actor: 'x', action: 'test.bad', details: { n: 1n }, outcome: 'ok' };
    const addAgencies: GroupWrite<number, number> = async (trx, items) => {
      for (const i of items) await sql`insert into agencies (code, name) values (${`group-${i}`}, 'Group test agency')`.execute(trx);
      return items.map((i) => ({ value: i, entry: i === 3 ? bad : { ...entry(i), action: 'test.rolledback' } }));
    };
    // One group at a time: the first goes alone, the five behind it together.
    const writer = new GroupWriter(store.db, addAgencies, { concurrency: 1 });
    const settled = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => writer.submit(i)));
    expect(settled[0]!.status).toBe('fulfilled');
    expect(settled.slice(1).map((s) => s.status)).toEqual(Array(5).fill('rejected'));
    const after = await store.db.selectFrom('audit_log').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n) - Number(before.n)).toBe(1);
    const agencies = await store.db.selectFrom('agencies').select('code').where('code', 'like', 'group-%').execute();
    expect(agencies.map((a) => a.code)).toEqual(['group-0']);
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

