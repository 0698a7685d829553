/**
 * The audit trail on each store: append-only (the trigger refuses UPDATE, DELETE, TRUNCATE), and
 * tampering by someone who gets around it (disables the trigger, as the table owner can) is
 * detected and located by verifyAuditChain, GET /v1/audit/verify and `threatlens audit verify`:
 * an altered entry, an altered entry with its hash recomputed, a removed entry, the first entry
 * removed, two entries swapped, an entry moved to the end, and the last entries cut off (found
 * with an anchor). The export recomputes with an independent Python implementation.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../api/app.ts';
import { ingestFile } from '../datasets/ingest.ts';
import { apiRoleGrantStatements, appendAudit, auditHash, verifyAuditChain } from '../engine/store/audit.ts';
import { seedReferenceData } from '../engine/store/catalogue.ts';
import { openStore, type Store, type StoreKind } from '../engine/store/database.ts';
import { createAgency, createApiKey, revokeApiKey } from '../engine/store/keys.ts';
import { tempDir, writeFixture } from './support/fixtures.ts';
import { testKey } from './support/principals.ts';
import { openTestStore, STORE_KINDS } from './support/stores.ts';

const run = promisify(execFile);

/** Ten entries of several kinds: an ingestion, an agency, keys, and hand-written ones with awkward content. */
async function fillAuditLog(store: Store): Promise<void> {
  const dir = await tempDir();
  await ingestFile(store, await writeFixture(dir, 'a.csv', 'entity,period,indicator,value\nDEU,2020,homicide_rate,0.8\n'), { grade: 'B2', actor: 'test-ingest' });
  await createAgency(store.db, 'agency-a', 'Agency A', { actor: 'admin-1' });
  const key = await createApiKey(store.db, { name: 'analyst key', agency: 'agency-a', role: 'analyst' }, { actor: 'admin-1', agency: 'agency-a', role: 'admin' });
  await revokeApiKey(store.db, key.id, { actor: 'admin-1' });
  const details: Record<string, unknown>[] = [
    { route: '/v1/observations', batches: [1, 2], entities: ['DEU', 'FRA'] },
    { text: 'Grüße, Łódź, 東京, "quotes", back\\slash, tab\there', nested: { b: 2, a: [1.5, 0.1, -0, 1e21, null] } },
    { z: 1, a: 2, m: { y: true, x: false } },
    { undefinedDropped: undefined, big: 12345678901234, small: 1e-7 },
    { empty: {}, list: [] },
    { route: '/v1/assessments', batches: [1], purposeLength: 42 },
  ];
  for (const [i, d] of details.entries()) {
    await appendAudit(store.db, { actor: `tester-${i}`, agency: i % 2 ? 'agency-a' : null, role: 'analyst', action: `test.${i}`, details: d, purpose: i % 3 ? `purpose ${i}` : null, outcome: 'ok' });
  }
}

async function ids(store: Store): Promise<number[]> {
  return (await store.db.selectFrom('audit_log').select('id').orderBy('id').execute()).map((r) => r.id);
}

/** Runs SQL as someone who can alter the table: the append-only trigger is switched off around it. */
async function tamper(store: Store, statements: string[]): Promise<void> {
  await store.db.transaction().execute(async (trx) => {
    await sql`alter table audit_log disable trigger audit_log_append_only`.execute(trx);
    for (const s of statements) await sql.raw(s).execute(trx);
    await sql`alter table audit_log enable trigger audit_log_append_only`.execute(trx);
  });
}

const COLUMNS = 'at, actor, agency, role, action, details, purpose, outcome, prev_hash, hash';

describe.each(STORE_KINDS)('the audit trail on %s', (kind: StoreKind) => {
  const stores: Store[] = [];
  const fresh = async () => {
    const store = await openTestStore(kind);
    stores.push(store);
    await fillAuditLog(store);
    return store;
  };
  afterAll(async () => {
    for (const s of stores) await s.close();
  });

  it('an untouched chain verifies; its head anchors it', async () => {
    const store = await fresh();
    const all = await ids(store);
    expect(all).toHaveLength(10);
    const result = await verifyAuditChain(store.db);
    expect(result).toMatchObject({ ok: true, entries: 10, firstId: all[0], lastId: all[9], problems: [], truncated: false });
    const last = await store.db.selectFrom('audit_log').select('hash').orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
    expect(result.head).toBe(last.hash);
    expect((await verifyAuditChain(store.db, { anchor: result.head! })).anchor).toEqual({ hash: result.head, foundAt: all[9] });
  });

  it('refuses UPDATE, DELETE and TRUNCATE of audit rows, even to the table owner', async () => {
    const store = await fresh();
    await expect(sql`update audit_log set outcome = 'refused' where id = (select min(id) from audit_log)`.execute(store.db)).rejects.toThrow(/audit_log is append-only: UPDATE is refused/);
    await expect(sql`delete from audit_log where id = (select min(id) from audit_log)`.execute(store.db)).rejects.toThrow(/audit_log is append-only: DELETE is refused/);
    await expect(sql`truncate audit_log`.execute(store.db)).rejects.toThrow(/audit_log is append-only: TRUNCATE is refused/);
    expect((await verifyAuditChain(store.db)).ok).toBe(true);
  });

  it('locates an altered entry', async () => {
    const store = await fresh();
    const [, , , , k] = await ids(store);
    await tamper(store, [`update audit_log set details = jsonb_set(details, '{batches}', '[1]') where id = ${k}`]);
    const result = await verifyAuditChain(store.db);
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => [p.kind, p.id])).toEqual([['altered', k]]);
    expect(result.problems[0]!.message).toMatch(new RegExp(`entry ${k} \\(test\\.0, .*\\) was altered`));
  });

  it('locates an entry altered with its hash recomputed, at the break it leaves', async () => {
    const store = await fresh();
    const all = await ids(store);
    const k = all[6]!;
    const row = await store.db.selectFrom('audit_log').selectAll().where('id', '=', k).executeTakeFirstOrThrow();
    const forged = { actor: 'someone-else', agency: row.agency, role: row.role, action: row.action, details: row.details as Record<string, unknown>, purpose: row.purpose, outcome: row.outcome as 'ok' };
    const forgedHash = auditHash(row.prev_hash, new Date(row.at).toISOString(), forged);
    await tamper(store, [`update audit_log set actor = 'someone-else', hash = '${forgedHash}' where id = ${k}`]);
    const result = await verifyAuditChain(store.db);
    expect(result.problems.map((p) => [p.kind, p.id, p.afterId])).toEqual([['removed', all[7], k]]);
    expect(result.problems[0]!.message).toMatch(new RegExp(`between entry ${k} and entry ${all[7]}.*or entry ${k} was altered and its hash recomputed`));
  });

  it('locates a removed entry, and a removed first entry', async () => {
    const store = await fresh();
    const all = await ids(store);
    await tamper(store, [`delete from audit_log where id = ${all[3]}`]);
    let result = await verifyAuditChain(store.db);
    expect(result.problems.map((p) => [p.kind, p.id, p.afterId])).toEqual([['removed', all[4], all[2]]]);
    expect(result.problems[0]!.message).toMatch(new RegExp(`the chain breaks between entry ${all[2]} and entry ${all[4]}`));

    await tamper(store, [`delete from audit_log where id = ${all[0]}`]);
    result = await verifyAuditChain(store.db);
    expect(result.problems.map((p) => [p.kind, p.id, p.afterId])).toEqual([['removed', all[1], null], ['removed', all[4], all[2]]]);
    expect(result.problems[0]!.message).toMatch(new RegExp(`before entry ${all[1]}, the first one stored`));
  });

  it('locates two swapped entries, and an entry moved to the end', async () => {
    const store = await fresh();
    const all = await ids(store);
    const [a, b] = [all[5]!, all[6]!];
    // Swap every column but the id: the order of the log changes, each row stays self-consistent.
    await tamper(store, [
      `create temporary table swap as select * from audit_log where id in (${a}, ${b})`,
      // Out of the unique index's way first, as a forger would.
      `update audit_log set hash = 'x' || hash where id = ${a}`,
      `update audit_log t set (${COLUMNS}) = (select ${COLUMNS} from swap s where s.id = ${a}) where t.id = ${b}`,
      `update audit_log t set (${COLUMNS}) = (select ${COLUMNS} from swap s where s.id = ${b}) where t.id = ${a}`,
      'drop table swap',
    ]);
    let result = await verifyAuditChain(store.db);
    expect(result.problems.every((p) => p.kind === 'reordered'), JSON.stringify(result.problems)).toBe(true);
    expect(result.problems.map((p) => p.id)).toEqual([a, b, all[7]]);
    expect(result.problems[0]!.message).toMatch(new RegExp(`entry ${a} follows entry ${b} in the chain but is stored after entry ${all[4]}`));

    const moved = await fresh();
    const movedIds = await ids(moved);
    const m = movedIds[2]!;
    await tamper(moved, [
      `create temporary table keep as select * from audit_log where id = ${m}`,
      `delete from audit_log where id = ${m}`,
      `insert into audit_log (${COLUMNS}) select ${COLUMNS} from keep`,
      'drop table keep',
    ]);
    result = await verifyAuditChain(moved.db);
    const newId = result.lastId!;
    expect(result.problems.map((p) => [p.kind, p.id])).toEqual([['reordered', movedIds[3]], ['reordered', newId]]);
  });

  it('finds the last entries cut off only with an anchor', async () => {
    const store = await fresh();
    const all = await ids(store);
    const head = (await verifyAuditChain(store.db)).head!;
    await tamper(store, [`delete from audit_log where id >= ${all[8]}`]);
    expect((await verifyAuditChain(store.db)).ok).toBe(true);
    const anchored = await verifyAuditChain(store.db, { anchor: head });
    expect(anchored.ok).toBe(false);
    expect(anchored.problems.map((p) => p.kind)).toEqual(['anchor_missing']);
    expect(anchored.anchor).toEqual({ hash: head, foundAt: null });
  });

  it('GET /v1/audit/verify and /v1/audit for oversight; the export recomputes in Python', async () => {
    const store = await fresh();
    const app: App = await buildApp({ store, access: { rateLimit: false } });
    try {
      const oversight = await testKey(store, 'oversight', 'ombudsman');
      const analyst = await testKey(store, 'analyst', 'agency-a');
      const page1 = await app.inject({ url: '/v1/audit?limit=4', headers: oversight.headers });
      expect(page1.statusCode).toBe(200);
      const first = page1.json();
      expect(first.entries).toHaveLength(4);
      expect(first.entries[0]).toMatchObject({ actor: 'test-ingest', action: 'ingest', outcome: 'ok', prevHash: '0'.repeat(64) });
      const page2 = (await app.inject({ url: `/v1/audit?limit=4&cursor=${first.nextCursor}`, headers: oversight.headers })).json();
      expect(page2.entries[0].id).toBeGreaterThan(first.entries[3].id);
      expect(page2.entries[0].prevHash).toBe(first.entries[3].hash);
      const keys = (await app.inject({ url: '/v1/audit?action=key.create', headers: oversight.headers })).json();
      expect(keys.entries.map((e: { details: { keyRole: string } }) => e.details.keyRole)).toEqual(['analyst', 'oversight', 'analyst']);
      expect((await app.inject({ url: '/v1/audit', headers: analyst.headers })).statusCode).toBe(403);

      const exported = await app.inject({ url: '/v1/audit/export', headers: oversight.headers });
      expect(exported.statusCode).toBe(200);
      expect(exported.headers['content-type']).toMatch(/application\/x-ndjson/);
      const lines = exported.body.trim().split('\n');
      expect(lines.length).toBeGreaterThanOrEqual(13);
      const csv = await app.inject({ url: '/v1/audit/export?format=csv', headers: oversight.headers });
      expect(csv.body.split('\n')[0]).toBe('id,at,actor,agency,role,action,details,purpose,outcome,prevHash,hash');

      if (existsSync('/usr/bin/python3')) {
        const checked = spawnSync('/usr/bin/python3', ['test/reference/ref_audit_chain.py'], { input: exported.body, encoding: 'utf8' });
        expect(checked.status, checked.stderr).toBe(0);
        const ref = JSON.parse(checked.stdout);
        expect(ref).toMatchObject({ entries: lines.length, ok: true, badHash: [], badLink: [] });
        expect(ref.head).toBe(JSON.parse(lines[lines.length - 1]!).hash);
      } else {
        console.warn('/usr/bin/python3 is absent: the independent recomputation of the chain is skipped');
      }

      const ok = (await app.inject({ url: '/v1/audit/verify', headers: oversight.headers })).json();
      expect(ok).toMatchObject({ ok: true, problems: [] });
      const all = await ids(store);
      await tamper(store, [`update audit_log set purpose = 'rewritten' where id = ${all[2]}`]);
      const admin = await testKey(store, 'admin', 'agency-a');
      const bad = await app.inject({ url: '/v1/audit/verify', headers: admin.headers });
      expect(bad.statusCode).toBe(200);
      expect(bad.json().ok).toBe(false);
      expect(bad.json().problems.map((p: { kind: string; id: number }) => [p.kind, p.id])).toEqual([['altered', all[2]]]);
      if (existsSync('/usr/bin/python3')) {
        const again = (await app.inject({ url: '/v1/audit/export', headers: oversight.headers })).body;
        const ref = JSON.parse(spawnSync('/usr/bin/python3', ['test/reference/ref_audit_chain.py'], { input: again, encoding: 'utf8' }).stdout);
        expect(ref).toMatchObject({ ok: false, badHash: [all[2]], badLink: [] });
      }
    } finally {
      await app.close();
    }
  });

  it('threatlens audit verify names the tampered entry and exits 1', async () => {
    let env: NodeJS.ProcessEnv;
    let store: Store;
    if (kind === 'pglite') {
      const dataDir = `${await tempDir()}/store`;
      store = await openStore({ dataDir });
      await seedReferenceData(store.db);
      env = { ...process.env, THREATLENS_DATA_DIR: dataDir, DATABASE_URL: '' };
    } else {
      store = await openTestStore(kind);
      stores.push(store);
      env = { ...process.env, DATABASE_URL: store.location };
    }
    await fillAuditLog(store);
    const all = await ids(store);
    const cli = async (...args: string[]) => {
      try {
        const { stdout, stderr } = await run(process.execPath, ['bin/threatlens.mjs', ...args], { env });
        return { code: 0, stdout, stderr };
      } catch (error) {
        const e = error as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    };
    await tamper(store, [`delete from audit_log where id = ${all[5]}`]);
    if (kind === 'pglite') await store.close();
    const text = await cli('audit', 'verify');
    expect(text.code, text.stderr).toBe(1);
    expect(text.stdout).toMatch(/^TAMPERED: 9 entries/);
    expect(text.stdout).toMatch(new RegExp(`removed\\s+${all[6]}\\s+the chain breaks between entry ${all[4]} and entry ${all[6]}`));
    const json = JSON.parse((await cli('audit', 'verify', '--format', 'json')).stdout);
    expect(json.problems.map((p: { kind: string; id: number }) => [p.kind, p.id])).toEqual([['removed', all[6]]]);
  });

  it.runIf(kind === 'postgres')('a role granted as the API needs cannot update, delete or unprotect audit rows', async () => {
    const store = await fresh();
    const role = `tl_api_${Math.random().toString(16).slice(2, 10)}`;
    await sql.raw(`create role ${role} login`).execute(store.db);
    for (const statement of apiRoleGrantStatements(role)) await sql.raw(statement).execute(store.db);
    const url = new URL(store.location);
    url.username = role;
    const asApi = new pg.Client({ connectionString: url.toString() });
    await asApi.connect();
    try {
      await expect(asApi.query('update audit_log set outcome = $1', ['refused'])).rejects.toThrow(/permission denied for table audit_log/);
      await expect(asApi.query('delete from audit_log')).rejects.toThrow(/permission denied for table audit_log/);
      await expect(asApi.query('truncate audit_log')).rejects.toThrow(/permission denied for table audit_log/);
      await expect(asApi.query('alter table audit_log disable trigger audit_log_append_only')).rejects.toThrow(/must be owner of table audit_log/);
      // It can still do its work: read, and append (through the same function the API uses).
      const apiStore = await openStore({ databaseUrl: url.toString() });
      try {
        await appendAudit(apiStore.db, { actor: 'api', action: 'test.append', details: {}, outcome: 'ok' });
        await ingestFile(apiStore, await writeFixture(await tempDir(), 'b.csv', 'entity,period,indicator,value\nFRA,2020,homicide_rate,1.1\n'), { grade: 'B2' });
        expect((await verifyAuditChain(apiStore.db)).ok).toBe(true);
      } finally {
        await apiStore.close();
      }
    } finally {
      await asApi.end();
      await sql.raw(`drop owned by ${role}`).execute(store.db);
      await sql.raw(`drop role ${role}`).execute(store.db);
    }
  });
});
