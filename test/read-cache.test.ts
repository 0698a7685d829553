/**
 * The read cache (api/read-cache.ts) and the change notifications that keep it exact
 * (engine/store/changes.ts, migrations 0006, 0009 and 0010): answers are remembered per data version,
 * versions (and the anomaly flags stored for them) are trusted for a while, and a change committed
 * by any process drops them at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../api/app.ts';
import { builtinFramework } from '../api/frameworks.ts';
import { ReadCache } from '../api/read-cache.ts';
import { ingestFile } from '../datasets/ingest.ts';
import { OSCE_PARTICIPATING_ISO3 } from '../datasets/reference/osce.ts';
import { PUBLIC_DATA } from '../engine/access/roles.ts';
import { refreshRiskScores } from '../engine/scoring/refresh.ts';
import { severityOf } from '../engine/anomaly/types.ts';
import { saveAnomalyRun } from '../engine/store/anomalies.ts';
import { listenForDataChanges } from '../engine/store/changes.ts';
import { openStore, type Store } from '../engine/store/database.ts';
import { dataVersion } from '../engine/store/observations.ts';
import { tempDir, writeFixture } from './support/fixtures.ts';
import { testKey, type TestCredential } from './support/principals.ts';
import { openTestStore, STORE_KINDS } from './support/stores.ts';

function panelCsv(year: number, scale: number): string {
  const lines = ['entity,period,indicator,value'];
  OSCE_PARTICIPATING_ISO3.forEach((iso3, i) => lines.push(`${iso3},${year},homicide_rate,${(((i + 1) / 10) * scale).toFixed(3)}`, `${iso3},${year},robbery_rate,${60 - i}`));
  return `${lines.join('\n')}\n`;
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each(STORE_KINDS)('read cache and change notifications on %s', (kind) => {
  let store: Store;
  /** Another process's connection to the same database (PostgreSQL), or the same store (PGlite: one process). */
  let writer: Store;
  let app: App;
  let key: TestCredential;
  let dir: string;
  let files = 0;

  const ingestPublic = async (scale: number) => {
    await ingestFile(writer, await writeFixture(dir, `panel-${++files}.csv`, panelCsv(2021, scale)), { grade: 'B2' });
    await refreshRiskScores(writer.db);
  };
  const read = async () => {
    const res = await app.inject({ url: '/v1/risk-scores?year=2021', headers: key.headers });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    return { version: res.json().dataVersion as string, etag: res.headers.etag as string, top: res.json().scores[0] };
  };

  beforeAll(async () => {
    store = await openTestStore(kind);
    writer = kind === 'postgres' ? await openStore({ databaseUrl: (store.pool!.options as { connectionString: string }).connectionString }) : store;
    dir = await tempDir();
    await ingestPublic(1);
    // A version trusted for a minute: only a notification can make a change visible sooner.
    app = await buildApp({ store, access: { rateLimit: false }, versionTtlMs: 60_000 });
    await app.ready();
    key = await testKey(store, 'viewer');
  });
  afterAll(async () => {
    await app?.close();
    if (writer !== store) await writer?.close();
    await store?.close();
  });

  it('serves the same bytes while nothing changes, with a hash ETag and 304 for it', async () => {
    const first = await read();
    const second = await read();
    expect(second).toEqual(first);
    const notModified = await app.inject({ url: '/v1/risk-scores?year=2021', headers: { ...key.headers, 'if-none-match': first.etag } });
    expect(notModified.statusCode).toBe(304);
    expect(notModified.body).toBe('');
  });

  it('shows a change committed by another connection at once, though versions are trusted for a minute', async () => {
    const before = await read();
    await ingestPublic(3);
    const expected = (await dataVersion(writer.db, PUBLIC_DATA)).version;
    expect(expected).not.toBe(before.version);
    const after = await until(read, (r) => r.version === expected, 5_000);
    expect(after.version).toBe(expected);
    expect(after.etag).not.toBe(before.etag);
    expect(after.top).not.toEqual(before.top);
  });

  it('a subscription hears each committed change, and nothing of a rolled-back one', async () => {
    const heard: (string | null)[] = [];
    const subscription = await listenForDataChanges(writer, (table) => heard.push(table));
    try {
      await until(async () => heard.length, (n) => n > 0 || kind === 'pglite', 2_000);
      heard.length = 0;
      // A statement on a watched table, rolled back: its notification is never delivered.
      await writer.db.transaction().execute(async (trx) => {
        await trx.deleteFrom('risk_scores').where('year', '=', -1).execute();
        throw new Error('roll back');
      }).catch(() => undefined);
      // A committed one on the same table is heard (so the silence above is not deafness).
      await writer.db.deleteFrom('risk_scores').where('year', '=', -1).execute();
      await until(async () => heard.length, (n) => n >= 1, 5_000);
      expect(heard).toEqual(['risk_scores']);
      heard.length = 0;
      await ingestPublic(5);
      await until(async () => heard.length, (n) => n >= 2, 5_000);
      expect(heard).toContain('ingestion_batches');
      expect(heard).toContain('risk_scores');
      expect(new Set(heard)).toEqual(new Set(['ingestion_batches', 'risk_scores']));
      heard.length = 0;
      await saveRun((await dataVersion(writer.db, PUBLIC_DATA)).version, []);
      await until(async () => heard.length, (n) => n >= 1, 5_000);
      expect(heard).toEqual(['anomaly_runs']);
    } finally {
      await subscription.close();
    }
  });

  it("remembers an assessment's anomaly flags, and shows another process's detection run at once", async () => {
    const version = (await dataVersion(store.db, PUBLIC_DATA)).version;
    const flagsOfAlb = () => app.assessmentComputer.anomalyFlags(store.db, version, PUBLIC_DATA, 'ALB', 2021);
    const before = await flagsOfAlb();
    const run = await saveRun(version, ['ALB']);
    const after = await until(flagsOfAlb, (flags) => flags?.runId === run.id, 5_000);
    expect(after?.runId, 'the new run was never seen').toBe(run.id);
    expect(before?.runId).not.toBe(run.id);
    expect(after!.flags.map((f) => `${f.entity} ${f.indicator} ${f.period} ${f.detector}`)).toEqual(['ALB homicide_rate 2021 ensemble']);
  });

  it('audits every restricted read, those answered from memory (without a promise) included', async () => {
    const owner = await testKey(store, 'analyst', 'agency-r');
    const ownerHeaders = { ...owner.headers, 'x-purpose': 'read cache audit check' };
    const readAsOwner = async () => {
      const res = await app.inject({ url: '/v1/risk-scores?year=2021', headers: ownerHeaders });
      expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
      return res.json().dataVersion as string;
    };
    const versionBefore = await readAsOwner();
    const lines = ['entity,period,indicator,value', ...OSCE_PARTICIPATING_ISO3.map((iso3, i) => `${iso3},2021,homicide_rate,${(i + 1) / 7}`)];
    const batch = (await ingestFile(writer, await writeFixture(dir, 'owned.csv', `${lines.join('\n')}\n`), { grade: 'B2', owner: 'agency-r', sharing: 'owner' })).batchId!;
    // Once the owner's read shows the new version, the notification has arrived: the version and
    // then the answer are remembered, and the next reads are answered from memory.
    expect(await until(readAsOwner, (version) => version !== versionBefore, 5_000)).not.toBe(versionBefore);
    const audited = async () =>
      (await store.db.selectFrom('audit_log').select('details').where('action', '=', 'read.restricted').where('agency', '=', 'agency-r').execute()).filter((row) =>
        (row.details as { batches: number[] }).batches.includes(batch),
      ).length;
    const auditedBefore = await audited();
    await readAsOwner();
    await readAsOwner();
    expect(await audited()).toBe(auditedBefore + 2);
  });

  it('remembers the indicator catalogue for the built-in frameworks, and hears another process change it at once', async () => {
    // A leaf of the demo framework with no observations in this store: it can leave the catalogue.
    const leaf = 'goci_market_arms_trafficking';
    const framework = () => builtinFramework(store, 'osce-threat-demo', app.readCache).then(() => 'loaded', (error: Error) => error.message);
    expect(await framework()).toBe('loaded');
    const row = await writer.db.selectFrom('indicators').selectAll().where('code', '=', leaf).executeTakeFirstOrThrow();
    await writer.db.deleteFrom('indicators').where('code', '=', leaf).execute();
    // The codes are trusted for a minute here: only the notification (migration 0010) can make this visible sooner.
    expect(await until(framework, (outcome) => outcome !== 'loaded', 5_000)).toMatch(new RegExp(`"${leaf}" is not an indicator in the catalogue`));
    await writer.db.insertInto('indicators').values(row).execute();
    expect(await until(framework, (outcome) => outcome === 'loaded', 5_000)).toBe('loaded');
  });

  /** A detection run on `version` (by the other connection) flagging homicide in 2021 for `entities`. */
  function saveRun(version: string, entities: string[]) {
    return saveAnomalyRun(writer.db, {
      dataVersion: version,
      codeVersion: 'test',
      detectors: { ensemble: { version: null, params: {} } },
      cellsScored: 57,
      createdBy: 'tester',
      flags: entities.map((entity) => ({
        entity,
        indicator: 'homicide_rate',
        period: '2021',
        detector: 'ensemble',
        score: 0.9,
        severity: severityOf(0.9),
        value: 5,
        expected: 1,
        interval: [0.5, 1.5],
        attributions: [{ indicator: 'homicide_rate', share: 1, value: 5, expected: 1 }],
        likelyCause: 'data_problem',
        reason: '2021: test flag',
        batchIds: [],
      })),
    });
  }
});

describe('ReadCache', () => {
  let store: Store;
  let dir: string;
  beforeAll(async () => {
    store = await openTestStore('pglite');
    dir = await tempDir();
    await ingestFile(store, await writeFixture(dir, 'a.csv', panelCsv(2020, 1)), { grade: 'B2' });
  });
  afterAll(async () => store?.close());

  it('trusts a version for its TTL (stale without a notification), and re-reads it after invalidate()', async () => {
    const cache = new ReadCache(() => store.db, { versionTtlMs: 60_000 });
    const first = await cache.dataVersion(PUBLIC_DATA);
    await ingestFile(store, await writeFixture(dir, 'b.csv', panelCsv(2020, 2)), { grade: 'B2' });
    expect((await cache.dataVersion(PUBLIC_DATA)).version).toBe(first.version);
    cache.invalidate();
    expect((await cache.dataVersion(PUBLIC_DATA)).version).not.toBe(first.version);
    // With no TTL every call reads the database.
    const exact = new ReadCache(() => store.db);
    await ingestFile(store, await writeFixture(dir, 'c.csv', panelCsv(2020, 3)), { grade: 'B2' });
    expect((await exact.dataVersion(PUBLIC_DATA)).version).toBe((await dataVersion(store.db, PUBLIC_DATA)).version);
  });

  it('remembers any read for the TTL, re-reads it after invalidate(), and forgets failures', async () => {
    const cache = new ReadCache(() => store.db, { versionTtlMs: 60_000 });
    let reads = 0;
    const read = async () => ++reads;
    expect(await cache.remember('a', read)).toBe(1);
    expect(await cache.remember('a', read)).toBe(1);
    expect(await cache.remember('b', read)).toBe(2);
    cache.invalidate();
    expect(await cache.remember('a', read)).toBe(3);
    await expect(cache.remember('c', () => Promise.reject(new Error('database down')))).rejects.toThrow('database down');
    expect(await cache.remember('c', read)).toBe(4);
    // With no TTL nothing is remembered.
    const exact = new ReadCache(() => store.db);
    expect(await exact.remember('a', read)).toBe(5);
    expect(await exact.remember('a', read)).toBe(6);
  });

  it('makes an answer once for concurrent requests, keeps it unless it is not cacheable, and forgets failures', async () => {
    const cache = new ReadCache(() => store.db);
    let made = 0;
    const make = async () => {
      made += 1;
      return { body: `{"n":${made}}`, batches: [1] };
    };
    const [a, b] = await Promise.all([cache.response('k', make), cache.response('k', make)]);
    expect(made).toBe(1);
    expect(a).toBe(b);
    expect(a.body.toString()).toBe('{"n":1}');
    expect(a.etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);

    await cache.response('lagging', async () => ({ body: 'x', batches: [], cacheable: false }));
    let remade = false;
    await cache.response('lagging', async () => ((remade = true), { body: 'y', batches: [] }));
    expect(remade).toBe(true);

    await expect(cache.response('failing', async () => Promise.reject(new Error('database away')))).rejects.toThrow('database away');
    expect((await cache.response('failing', async () => ({ body: 'ok', batches: [] }))).body.toString()).toBe('ok');
  });
});
