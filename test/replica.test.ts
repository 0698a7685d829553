/**
 * Read replica (DATABASE_REPLICA_URL): a PostgreSQL primary and a streaming-replication hot
 * standby from Debian's packages on loopback (test/support/postgres-replication.ts). Writes go to
 * the primary, dashboard reads to the standby; reads fall back to the primary while the standby is
 * down and return to it when it is back; no acknowledged write is lost across a standby restart or
 * a failover (promotion of the standby).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../api/app.ts';
import { ingestFile } from '../datasets/ingest.ts';
import { PUBLIC_DATA } from '../engine/access/roles.ts';
import { registerIndicators, seedReferenceData } from '../engine/store/catalogue.ts';
import { openStore, storeOptionsFromEnv, type Store } from '../engine/store/database.ts';
import { dataVersion } from '../engine/store/observations.ts';
import { tempDir } from './support/fixtures.ts';
import { findPostgresBinDir } from './support/postgres-cluster.ts';
import { startPrimaryWithStandby, type PrimaryWithStandby } from './support/postgres-replication.ts';
import { testKey } from './support/principals.ts';

const HAVE_POSTGRES = findPostgresBinDir() !== null;
if (!HAVE_POSTGRES) {
  console.warn('No PostgreSQL server under /usr/lib/postgresql (Debian package `postgresql`): the read-replica test is skipped.');
}

const RETRY_MS = 300;
const YEAR = 2020;
const MAP_URL = `/v1/dashboard/map?framework=osce-threat&year=${YEAR}&layer=indicator:unodc_homicide_rate`;

const PROBE_INDICATOR = { code: 'replica_probe_rate', name: 'Replica probe', unit: 'per 100,000 population', crimeArea: 'homicide', polarity: 'higher_worse' } as const;

interface MapAnswer {
  dataVersion: string;
  states: { entity: string; value: number | null }[];
}

describe('DATABASE_REPLICA_URL', () => {
  it('is read beside DATABASE_URL, and refused without a PostgreSQL primary', () => {
    expect(storeOptionsFromEnv({ DATABASE_URL: 'postgres://a/db', DATABASE_REPLICA_URL: 'postgres://b/db' })).toEqual({
      databaseUrl: 'postgres://a/db',
      replicaUrl: 'postgres://b/db',
    });
    expect(storeOptionsFromEnv({ DATABASE_URL: 'postgres://a/db' })).toEqual({ databaseUrl: 'postgres://a/db' });
    expect(() => storeOptionsFromEnv({ DATABASE_REPLICA_URL: 'postgres://b/db' })).toThrow(/DATABASE_REPLICA_URL is set but DATABASE_URL is not/);
    expect(() => storeOptionsFromEnv({ DATABASE_URL: 'postgres://a/db', DATABASE_REPLICA_URL: 'mysql://u:secret@b/db' })).toThrow(
      /DATABASE_REPLICA_URL must be a postgres:\/\/ URL.*mysql:\/\/u:\*\*\*@b\/db/,
    );
  });

  it('leaves a store without a replica reading from its one database', async () => {
    const store = await openStore({ inMemory: true });
    try {
      expect(store.readDb).toBe(store.db);
      expect(store.readTarget()).toBe('primary');
    } finally {
      await store.close();
    }
  });
});

describe.skipIf(!HAVE_POSTGRES)('read replica: primary and streaming standby on loopback', () => {
  let cluster: PrimaryWithStandby;
  let store: Store;
  let app: App;
  let headers: Record<string, string>;
  let dir: string;
  const logLines: string[] = [];
  /** Every ingestion the primary acknowledged: batch id and the value written for ALB. */
  const acknowledged: { batchId: number; value: number }[] = [];
  let nextValue = 1;

  /** One small public batch: Albania's homicide rate for YEAR, a new value each time (so a new file hash). */
  async function writeBatch(on: Store = store): Promise<{ batchId: number; value: number }> {
    const value = nextValue++;
    const path = join(dir, `batch-${value}.csv`);
    await writeFile(path, `entity,period,indicator,value\nALB,${YEAR},unodc_homicide_rate,${value}\nAUT,${YEAR},unodc_homicide_rate,0.5\n`);
    const summary = await ingestFile(on, path, { grade: 'B2' });
    expect(summary.batchId, `batch ${value} was not stored`).not.toBeNull();
    const written = { batchId: summary.batchId!, value };
    acknowledged.push(written);
    return written;
  }

  async function readMap(target: App = app): Promise<MapAnswer & { alb: number | null }> {
    const res = await target.inject({ method: 'GET', url: MAP_URL, headers });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<MapAnswer>();
    return { ...body, alb: body.states.find((s) => s.entity === 'ALB')!.value };
  }

  async function listedIndicators(): Promise<string[]> {
    const res = await app.inject({ method: 'GET', url: '/v1/indicators', headers });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ indicators: { code: string }[] }>().indicators.map((i) => i.code);
  }

  const inRecovery = async (db: Store['db']) => (await sql<{ r: boolean }>`select pg_is_in_recovery() as r`.execute(db)).rows[0]!.r;
  const serverPort = async (db: Store['db']) => (await sql<{ p: number }>`select inet_server_port() as p`.execute(db)).rows[0]!.p;

  /** Batches and observations as the given server has them, for comparing two servers. */
  async function contents(on: 'primary' | 'standby') {
    const batches = await cluster.query(on, 'select id, sha256 from ingestion_batches order by id');
    const observations = await cluster.query(on, 'select batch_id, entity_code, indicator_code, year, value from observations order by batch_id, entity_code');
    return { batches, observations };
  }

  beforeAll(async () => {
    cluster = await startPrimaryWithStandby();
    store = await openStore({
      databaseUrl: cluster.primary.url,
      replicaUrl: cluster.standbyUrl,
      replicaRetryMs: RETRY_MS,
      replicaLog: (line) => logLines.push(line),
    });
    await seedReferenceData(store.db);
    dir = await tempDir();
    await writeBatch();
    app = await buildApp({ store, access: { rateLimit: false } });
    headers = (await testKey(store, 'analyst')).headers;
    await cluster.waitForReplay();
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await store?.close();
    await cluster?.stop();
  });

  it('writes go to the primary and readDb answers from the standby', async () => {
    expect(await inRecovery(store.db)).toBe(false);
    expect(await serverPort(store.db)).toBe(cluster.primary.port);
    expect(await inRecovery(store.readDb)).toBe(true);
    expect(await serverPort(store.readDb)).toBe(cluster.standbyPort);
    // A write through readDb is refused by the standby (read-only transaction), not silently applied.
    await expect(sql`create table not_here (x int)`.execute(store.readDb)).rejects.toMatchObject({ code: '25006' });
    expect(store.readTarget()).toBe('replica');
    const health = await app.inject('/health');
    expect(health.json()).toMatchObject({ status: 'ok', store: 'postgres', reads: 'replica' });
  });

  it('measures replay lag under small ingestions (figures for docs/scaling.md)', async () => {
    const waits: number[] = [];
    const reported: number[] = [];
    for (let i = 0; i < 20; i++) {
      await writeBatch();
      waits.push(await cluster.waitForReplay());
      // PostgreSQL's own measure (the walsender's lag tracker on the primary), independent of our polling.
      const [stat] = await cluster.query<{ replay_ms: number | null; state: string }>(
        'primary',
        'select extract(epoch from replay_lag)::float8 * 1000 as replay_ms, state from pg_stat_replication',
      );
      expect(stat?.state).toBe('streaming');
      if (stat?.replay_ms !== null && stat?.replay_ms !== undefined) reported.push(stat.replay_ms);
    }
    waits.sort((a, b) => a - b);
    reported.sort((a, b) => a - b);
    const ms = (x: number | undefined) => (x === undefined ? 'n/a' : `${x.toFixed(1)} ms`);
    console.log(
      `replay wait after each of 20 ingestions: median ${ms(waits[10])}, max ${ms(waits[19])} (polled every 1 ms); ` +
        `pg_stat_replication.replay_lag (${reported.length} non-null samples): median ${ms(reported[Math.floor(reported.length / 2)])}, max ${ms(reported.at(-1))}`,
    );
    expect(waits[19]).toBeLessThan(5000);
  });

  it('a dashboard read is served by the standby: paused replay hides a new batch until resumed', async () => {
    const before = await readMap();
    expect(before.alb).toBe(acknowledged.at(-1)!.value);

    await cluster.query('standby', 'select pg_wal_replay_pause()');
    let written: { batchId: number; value: number };
    let primaryVersion: string;
    try {
      const deadline = Date.now() + 10_000;
      while ((await cluster.query<{ s: string }>('standby', 'select pg_get_wal_replay_pause_state() as s'))[0]!.s !== 'paused') {
        if (Date.now() > deadline) throw new Error('the standby did not pause replay within 10 s');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const servedBefore = store.readStats().replica;
      written = await writeBatch();
      // The primary has the new batch...
      primaryVersion = (await dataVersion(store.db, PUBLIC_DATA)).version;
      expect(primaryVersion).not.toBe(before.dataVersion);
      // ...the dashboard, reading from the paused standby, does not.
      const stale = await readMap();
      expect(stale.dataVersion).toBe(before.dataVersion);
      expect(stale.alb).toBe(before.alb);
      expect(store.readStats().replica).toBeGreaterThan(servedBefore);
      // The catalogue routes read from the standby too: an indicator registered now is not listed yet.
      await registerIndicators(store.db, [PROBE_INDICATOR]);
      expect(await listedIndicators()).not.toContain(PROBE_INDICATOR.code);
    } finally {
      // Resumed even when an expectation failed, so that the tests after this one see a live standby.
      await cluster.query('standby', 'select pg_wal_replay_resume()');
    }
    await cluster.waitForReplay();
    const fresh = await readMap();
    expect(fresh.dataVersion).toBe(primaryVersion);
    expect(fresh.alb).toBe(written.value);
    expect(await listedIndicators()).toContain(PROBE_INDICATOR.code);
  });

  it('a read whose standby connection is terminated mid-query is answered by the primary', async () => {
    const logBefore = logLines.length;
    const read = sql<{ r: boolean }>`select pg_is_in_recovery() as r, pg_sleep(1.5) as slept`.execute(store.readDb);
    // Wait until the read runs on the standby, then end its backend (57P01, as in a fast shutdown).
    const deadline = Date.now() + 10_000;
    let terminated = false;
    while (!terminated) {
      if (Date.now() > deadline) throw new Error('the read never appeared in pg_stat_activity on the standby');
      const rows = await cluster.query<{ t: boolean }>(
        'standby',
        "select pg_terminate_backend(pid) as t from pg_stat_activity where query like 'select pg_is_in_recovery() as r, pg_sleep%' and pid <> pg_backend_pid()",
      );
      terminated = rows.some((r) => r.t);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const result = await read;
    expect(result.rows[0]!.r).toBe(false);
    expect(store.readTarget()).toBe('primary');
    expect(logLines.slice(logBefore)).toHaveLength(1);
    expect(logLines.at(-1)).toMatch(/read replica unreachable \(57P01/);
    // The standby is still up: after the back-off, reads return to it.
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS + 50));
    expect(await inRecovery(store.readDb)).toBe(true);
    expect(store.readTarget()).toBe('replica');
    expect(logLines.slice(logBefore)).toHaveLength(2);
  });

  it('a read cancelled by a recovery conflict (40001) is answered by the primary; the standby stays in use', async () => {
    // Cancel conflicting standby queries at once (default 30 s) so that the conflict happens now.
    await cluster.query('standby', 'alter system set max_standby_streaming_delay = 0');
    await cluster.query('standby', 'select pg_reload_conf()');
    await cluster.query('primary', 'create table conflict_probe as select generate_series(1, 1000) as x');
    await cluster.waitForReplay();
    try {
      const logBefore = logLines.length;
      const servedBefore = store.readStats();
      // Holds a snapshot on the standby that still sees the rows the primary is about to vacuum away.
      const read = sql<{ r: boolean; n: number }>`select pg_is_in_recovery() as r, (select count(*)::int from conflict_probe) as n, pg_sleep(1.5) as slept`.execute(store.readDb);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await cluster.query('primary', 'delete from conflict_probe');
      await cluster.query('primary', 'vacuum conflict_probe');
      const result = await read;
      expect(result.rows[0]).toMatchObject({ r: false, n: 0 });
      const served = store.readStats();
      expect(served.primary).toBe(servedBefore.primary + 1);
      expect(store.readTarget()).toBe('replica');
      expect(logLines.slice(logBefore)).toHaveLength(0);
      // 'canceling statement due to conflict with recovery' is in the standby's log.
      expect(await cluster.standbyLog()).toMatch(/conflict with recovery/);
    } finally {
      await cluster.query('primary', 'drop table conflict_probe');
      await cluster.query('standby', 'alter system reset max_standby_streaming_delay');
      await cluster.query('standby', 'select pg_reload_conf()');
    }
  });

  it('standby restart: reads fall back to the primary, and no write is lost', async () => {
    const logBefore = logLines.length;
    await cluster.stopStandby();

    const during: number[] = [];
    for (let i = 0; i < 20; i++) {
      const written = await writeBatch();
      // Reads keep answering, from the primary: they see each write at once.
      const map = await readMap();
      expect(map.alb).toBe(written.value);
      during.push(written.batchId);
    }
    expect(store.readTarget()).toBe('primary');
    expect((await app.inject('/health')).json()).toMatchObject({ reads: 'primary' });
    // One line for the change, not one per failed retry.
    expect(logLines.slice(logBefore)).toHaveLength(1);
    expect(logLines.at(-1)).toMatch(/read replica unreachable .*ECONNREFUSED|read replica unreachable .*57P01|read replica unreachable/);

    const startedAt = performance.now();
    await cluster.startStandby();
    const startMs = performance.now() - startedAt;
    const catchUpMs = await cluster.waitForReplay();
    console.log(
      `standby restart: ${during.length} batches written while it was down; pg_ctl start took ${startMs.toFixed(0)} ms, ` +
        `then fully replayed ${catchUpMs.toFixed(1)} ms after it accepted connections`,
    );

    const onPrimary = await contents('primary');
    const onStandby = await contents('standby');
    expect(onStandby.batches).toEqual(onPrimary.batches);
    expect(onStandby.observations).toEqual(onPrimary.observations);
    const ids = onStandby.batches.map((b) => Number(b.id));
    for (const id of during) expect(ids).toContain(id);
    expect(onStandby.observations.filter((o) => o.entity_code === 'ALB')).toHaveLength(acknowledged.length);

    // After the back-off the replica serves reads again, and says so once.
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS + 50));
    const servedBefore = store.readStats();
    const map = await readMap();
    expect(map.alb).toBe(acknowledged.at(-1)!.value);
    expect(store.readTarget()).toBe('replica');
    expect(store.readStats().replica).toBeGreaterThan(servedBefore.replica);
    expect(await inRecovery(store.readDb)).toBe(true);
    expect(logLines.slice(logBefore)).toHaveLength(2);
    expect(logLines.at(-1)).toMatch(/read replica reachable again/);
  });

  it('failover: with the primary stopped, the promoted standby has every acknowledged write and takes new ones', async () => {
    await cluster.waitForReplay();
    const acknowledgedBefore = [...acknowledged];
    await cluster.primary.stopServer();

    // Reads through the replica still answer while the primary is down (before promotion).
    const readable = await sql<{ n: number }>`select count(*)::int as n from ingestion_batches`.execute(store.readDb);
    expect(readable.rows[0]!.n).toBe(acknowledgedBefore.length);

    await cluster.promoteStandby();
    // node-postgres takes one host per URL: failover means DATABASE_URL now names the promoted
    // server (or a virtual IP / pgbouncer in front of it). A restarted API opens it like this.
    const promoted = await openStore({ databaseUrl: cluster.standbyUrl });
    let promotedApp: App | undefined;
    try {
      expect(await inRecovery(promoted.db)).toBe(false);
      const rows = await promoted.db
        .selectFrom('observations')
        .select(['batch_id', 'value'])
        .where('entity_code', '=', 'ALB')
        .orderBy('batch_id')
        .execute();
      expect(rows.map((r) => ({ batchId: r.batch_id, value: r.value }))).toEqual(acknowledgedBefore);

      const written = await writeBatch(promoted);
      expect(written.batchId).toBeGreaterThan(acknowledgedBefore.at(-1)!.batchId);
      // The old API process, whose DATABASE_REPLICA_URL names the promoted server, reads the new write from it.
      expect(await inRecovery(store.readDb)).toBe(false);
      const afterWrite = await sql<{ n: number }>`select count(*)::int as n from ingestion_batches`.execute(store.readDb);
      expect(afterWrite.rows[0]!.n).toBe(acknowledged.length);
      // API keys were replicated too: the same key reads the new write from the promoted server.
      promotedApp = await buildApp({ store: promoted, access: { rateLimit: false } });
      const map = await readMap(promotedApp);
      expect(map.alb).toBe(written.value);
    } finally {
      await promotedApp?.close();
      await promoted.close();
    }
  });
});
