/**
 * Faults (issue 9): PostgreSQL stopped under load. A real server process (`threatlens serve`) on a
 * throwaway PostgreSQL cluster (test/support/postgres-cluster.ts, never the dev server) answers a
 * steady load while the cluster is stopped with `pg_ctl stop -m fast` and started again: every
 * answer is 2xx or 503 with Retry-After and problem+json (never 500, a reset or a hang), the process
 * lives on, and it serves again on its own once the database is back. Also: the error shapes
 * node-postgres produces in such an outage, all classified as "database away"; the job runner
 * riding out an outage; under-pressure's process limits on an in-process app (PGlite).
 *
 * Skipped, with a message, when no PostgreSQL server binaries are installed (Debian's postgresql).
 * Timings are printed; assertions use generous bounds (a shared 2-core machine).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../api/app.ts';
import { DEFAULT_LOAD_SHEDDING, loadSheddingFromEnv } from '../api/load-shedding.ts';
import { prepareStoreWhenReachable } from '../api/server.ts';
import { isStoreUnavailable } from '../engine/store/availability.ts';
import { openStore, type Store } from '../engine/store/database.ts';
import { createJob, getJob } from '../engine/store/jobs.ts';
import { JobRunner } from '../models/job-runner.ts';
import { findPostgresBinDir, freePort, startTemporaryPostgres, type TemporaryPostgres } from './support/postgres-cluster.ts';
import { openTestStore } from './support/stores.ts';

const CLI = join(import.meta.dirname, '..', 'bin', 'threatlens.mjs');
const HAVE_POSTGRES = findPostgresBinDir() !== null;
if (!HAVE_POSTGRES) {
  console.warn('test/faults-database.test.ts: no PostgreSQL server under /usr/lib/postgresql (apt-get install postgresql): the outage tests are skipped.');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('which errors mean "the database is away"', () => {
  it('says yes for outage shapes and no for errors that are bugs or bad input', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    // Node 20 with a host name that resolves to ::1 and 127.0.0.1: an AggregateError, empty message.
    const aggregate = Object.assign(new AggregateError([refused, refused], ''), { code: 'ECONNREFUSED' });
    const wrapped = new Error('could not list batches', { cause: refused });
    expect(isStoreUnavailable(refused)).toBe(true);
    expect(isStoreUnavailable(aggregate)).toBe(true);
    expect(isStoreUnavailable(new AggregateError([refused], ''))).toBe(true);
    expect(isStoreUnavailable(wrapped)).toBe(true);
    expect(isStoreUnavailable(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe(true);
    expect(isStoreUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isStoreUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);

    expect(isStoreUnavailable(Object.assign(new Error('syntax error at or near "selec"'), { code: '42601' }))).toBe(false);
    expect(isStoreUnavailable(Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' }))).toBe(false);
    expect(isStoreUnavailable(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(false);
    expect(isStoreUnavailable(null)).toBe(false);
    expect(isStoreUnavailable('ECONNREFUSED')).toBe(false);
  });
});

const DEMO = { demoAccess: { role: 'analyst', agency: 'demo' } } as const;

describe('load shedding on an in-process app (PGlite)', () => {
  let store: Store;
  const apps: App[] = [];
  beforeAll(async () => {
    store = await openTestStore('pglite');
  });
  afterAll(async () => {
    // Closing the apps clears under-pressure's timers: vitest must be able to exit.
    await Promise.all(apps.map((app) => app.close()));
    await store?.close();
  });

  it('answers 503 problem+json with Retry-After over the heap limit, but never sheds /health', async () => {
    const app = await buildApp({ store, access: DEMO, loadShedding: { ...DEFAULT_LOAD_SHEDDING, maxHeapUsedBytes: 1, retryAfterSeconds: 7 } });
    apps.push(app);
    // under-pressure samples memory every second; before the first sample it reads 0.
    await sleep(1_300);
    const shed = await app.inject({ method: 'GET', url: '/v1/indicators' });
    expect(shed.statusCode, shed.body).toBe(503);
    expect(shed.headers['retry-after']).toBe('7');
    expect(shed.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(shed.json()).toMatchObject({ status: 503, code: 'TL_OVERLOADED' });
    expect(shed.json().detail).toBe(`the server is overloaded (heap ${shed.json().detail.match(/heap (\d+) MiB/)?.[1]} MiB > 0 MiB); retry in 7 s`);
    const health = await app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode, health.body).toBe(200);
    expect(health.json()).toMatchObject({ status: 'ok', store: 'pglite' });
  });

  it('answers 503 while the event loop lags beyond the limit, and serves again when it does not', async () => {
    const app = await buildApp({ store, access: DEMO, loadShedding: { ...DEFAULT_LOAD_SHEDDING, maxEventLoopDelayMs: 50 } });
    apps.push(app);
    const before = await app.inject({ method: 'GET', url: '/v1/indicators' });
    expect(before.statusCode, before.body).toBe(200);
    // Block the loop 200 ms at a time for 2.5 s: every one-second sample then has a mean delay far above 50 ms.
    const until = Date.now() + 2_500;
    while (Date.now() < until) {
      const blockEnd = Date.now() + 200;
      while (Date.now() < blockEnd) {
        // busy
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    const lag = app.memoryUsage().eventLoopDelay;
    expect(lag, 'precondition: under-pressure saw the lag').toBeGreaterThan(50);
    const shed = await app.inject({ method: 'GET', url: '/v1/indicators' });
    expect(shed.statusCode, shed.body).toBe(503);
    expect(shed.json()).toMatchObject({ code: 'TL_OVERLOADED' });
    expect(shed.json().detail).toMatch(/event-loop delay \d+ ms > 50 ms/);
    expect(Number(shed.headers['retry-after'])).toBe(DEFAULT_LOAD_SHEDDING.retryAfterSeconds);
    // Two quiet samples later the lag is gone and requests are served again.
    await sleep(2_300);
    const after = await app.inject({ method: 'GET', url: '/v1/indicators' });
    expect(after.statusCode, `event-loop delay now ${app.memoryUsage().eventLoopDelay} ms; ${after.body}`).toBe(200);
  });

  it('reads its limits from the environment and refuses nonsense with the variable named', () => {
    expect(loadSheddingFromEnv({}, { maxEventLoopDelayMs: 1000 })).toEqual({ ...DEFAULT_LOAD_SHEDDING, maxEventLoopDelayMs: 1000 });
    expect(
      loadSheddingFromEnv({ THREATLENS_MAX_EVENT_LOOP_DELAY_MS: '0', THREATLENS_MAX_RSS_BYTES: '2000000000', THREATLENS_RETRY_AFTER_SECONDS: '9', THREATLENS_STORE_CHECK_MS: '500' }, { maxEventLoopDelayMs: 1000 }),
    ).toMatchObject({ maxEventLoopDelayMs: 0, maxRssBytes: 2_000_000_000, retryAfterSeconds: 9, storeCheckMs: 500 });
    expect(() => loadSheddingFromEnv({ THREATLENS_MAX_EVENT_LOOP_DELAY_MS: '1s' })).toThrow(/THREATLENS_MAX_EVENT_LOOP_DELAY_MS must be an integer >= 0; got "1s"/);
    expect(() => loadSheddingFromEnv({ THREATLENS_RETRY_AFTER_SECONDS: '0' })).toThrow(/THREATLENS_RETRY_AFTER_SECONDS must be an integer >= 1/);
  });
});

describe.skipIf(!HAVE_POSTGRES)('PostgreSQL stopped and started again', () => {
  let cluster: TemporaryPostgres;
  beforeAll(async () => {
    cluster = await startTemporaryPostgres({ database: 'threatlens_faults' });
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('every error node-postgres raises during the outage is classified as "database away"', async () => {
    const seen = new Map<string, unknown>();
    const unclassified: string[] = [];
    const note = (where: string, error: unknown) => {
      const { code, message } = error as { code?: string; message?: string };
      const key = `${where}: ${code ?? '-'} ${String(message).replace(/127\.0\.0\.1:\d+/, 'HOST:PORT')}`;
      if (!seen.has(key)) seen.set(key, error);
      if (!isStoreUnavailable(error)) unclassified.push(key);
    };
    const pool = new pg.Pool({ connectionString: cluster.url, max: 6 });
    pool.on('error', (error) => note('idle pool client', error));
    // A pool that waits at most 300 ms for a client: its own timeout errors when all are busy.
    const small = new pg.Pool({ connectionString: cluster.url, max: 1, connectionTimeoutMillis: 300 });
    small.on('error', (error) => note('idle pool client', error));
    const dedicated = new pg.Client({ connectionString: cluster.url });
    await dedicated.connect();
    dedicated.on('error', (error) => note('dedicated client', error));

    let running = true;
    const loop = async (run: () => Promise<unknown>, where: string) => {
      while (running) {
        try {
          await run();
        } catch (error) {
          note(where, error);
          await sleep(20);
        }
      }
    };
    const loops = [
      ...Array.from({ length: 8 }, (_, i) => loop(() => pool.query(i % 2 ? 'select pg_sleep(0.3)' : 'select 1'), 'pool query')),
      ...Array.from({ length: 3 }, () => loop(() => small.query('select pg_sleep(0.5)'), 'small pool query')),
    ];
    await sleep(1_000);
    await cluster.stopServer();
    await dedicated.query('select 1').catch((error: unknown) => note('dedicated client reused', error));
    await sleep(1_500);
    await cluster.startServer();
    await sleep(1_500);
    running = false;
    await Promise.all(loops);
    await Promise.all([pool.end(), small.end(), dedicated.end().catch(() => undefined)]);

    console.log(`error shapes seen while PostgreSQL was stopped and started:\n  ${[...seen.keys()].join('\n  ')}`);
    expect(unclassified, 'errors not recognised as an outage (they would be answered 500)').toEqual([]);
    const keys = [...seen.keys()].join('\n');
    // The shapes the classification was written for must actually occur (else this test proves little).
    expect(keys).toMatch(/ECONNREFUSED/);
    expect(keys).toMatch(/57P01|Connection terminated unexpectedly|ECONNRESET/);
    expect(keys).toMatch(/timeout exceeded when trying to connect/);
    expect(keys).toMatch(/not queryable/);
  }, 60_000);

  it('the job runner logs the outage, keeps polling, and records a job that finished during it', async () => {
    const store = await openStore({ databaseUrl: cluster.url });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const lines: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const runner = new JobRunner({
      store,
      pollMs: 200,
      progressEveryMs: 0,
      log: (line) => lines.push(line),
      handlers: {
        // Reports progress, then waits (the database goes away meanwhile), reports again, finishes.
        wait: async (_job, { progress }) => {
          await progress({ percent: 10, progress: { step: 'before' } });
          await gate;
          await progress({ percent: 90, progress: { step: 'during the outage' } });
          return { finished: true };
        },
      },
    });
    try {
      const job = await createJob(store.db, { kind: 'wait', requestedBy: 'fault test' });
      await runner.start();
      const deadline = Date.now() + 20_000;
      while ((await getJob(store.db, job.id)).state !== 'running') {
        if (Date.now() > deadline) throw new Error('the job was never claimed');
        await sleep(100);
      }
      await cluster.stopServer();
      release();
      // The handler returns while the database is down: its progress write is skipped, its result retried.
      await sleep(2_000);
      await cluster.startServer();
      let final = await getJob(store.db, job.id).catch(() => undefined);
      while (final?.state !== 'succeeded') {
        if (Date.now() > deadline + 20_000) throw new Error(`the job ended as ${final?.state}; runner log:\n${lines.join('\n')}`);
        await sleep(200);
        final = await getJob(store.db, job.id).catch(() => undefined);
      }
      expect(final.result).toEqual({ finished: true });
      // Then it polls on: a job queued after the outage is run too.
      const after = await createJob(store.db, { kind: 'wait', requestedBy: 'fault test' });
      while ((await getJob(store.db, after.id)).state !== 'succeeded') {
        if (Date.now() > deadline + 40_000) throw new Error(`the job queued after the outage was not run; runner log:\n${lines.join('\n')}`);
        await sleep(200);
      }
      const log = lines.join('\n');
      expect(log).toMatch(/job runner: the database is not reachable \((ECONNREFUSED|57P01|57P03)[^)]*\); polling again every 200 ms/);
      expect(log).toMatch(/job runner: the database is reachable again after \d+\.\d s/);
      // Logged once per outage, not once per poll.
      expect(log.match(/not reachable/g)?.length).toBe(1);
      expect(unhandled).toEqual([]);
    } finally {
      release();
      process.off('unhandledRejection', onUnhandled);
      await runner.stop();
      await store.close();
    }
  }, 90_000);

  describe('a server process under load', () => {
    let server: ChildProcess;
    let output = '';
    let base = '';

    beforeAll(async () => {
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      server = spawn(process.execPath, [CLI, 'serve', '--port', String(port), '--demo-access', 'analyst'], {
        env: { ...process.env, DATABASE_URL: cluster.url, DATABASE_REPLICA_URL: '', THREATLENS_JOBS: 'on', THREATLENS_RATE_LIMIT: '0', LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const append = (chunk: Buffer) => (output += chunk.toString());
      server.stdout!.on('data', append);
      server.stderr!.on('data', append);
      const deadline = Date.now() + 120_000;
      while (!/ThreatLens API on/.test(output)) {
        if (server.exitCode !== null) throw new Error(`threatlens serve exited with ${server.exitCode}:\n${output.slice(-3000)}`);
        if (Date.now() > deadline) throw new Error(`threatlens serve did not start within 120 s:\n${output.slice(-3000)}`);
        await sleep(100);
      }
    }, 150_000);

    afterAll(async () => {
      if (server && server.exitCode === null) {
        const exited = new Promise((resolve) => server.once('exit', resolve));
        server.kill('SIGTERM');
        await Promise.race([exited, sleep(15_000)]);
        if (server.exitCode === null) server.kill('SIGKILL');
      }
    });

    interface Answer {
      readonly kind: string;
      readonly sentAt: number;
      readonly at: number;
      readonly status: number;
      readonly retryAfter: string | null;
      readonly contentType: string | null;
      readonly code?: string;
      readonly detail?: string;
      readonly error?: string;
    }

    const REQUESTS: Record<string, () => [string, RequestInit?]> = {
      'risk-scores osce-threat-demo': () => ['/v1/risk-scores?framework=osce-threat-demo&year=2022'],
      'risk-scores simple': () => ['/v1/risk-scores?year=2022'],
      observations: () => ['/v1/observations?entity=ALB&limit=5'],
      assessment: () => [
        '/v1/assessments',
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ framework: 'osce-threat-demo', year: 2022, entity: 'ALB', runs: 50, seed: 1, purpose: 'database outage fault test' }),
        },
      ],
      health: () => ['/health'],
    };
    // Longer than any answer may take: a request without an answer by then counts as a hang.
    const REQUEST_TIMEOUT_MS = 15_000;

    async function send(kind: string): Promise<Answer> {
      const [path, init] = REQUESTS[kind]!();
      const sentAt = Date.now();
      try {
        const response = await fetch(base + path, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        const text = await response.text();
        const contentType = response.headers.get('content-type');
        let body: { code?: string; detail?: string } = {};
        if (contentType?.includes('json')) body = JSON.parse(text) as typeof body;
        return {
          kind,
          sentAt,
          at: Date.now(),
          status: response.status,
          retryAfter: response.headers.get('retry-after'),
          contentType,
          ...(body.code ? { code: body.code } : {}),
          ...(body.detail ? { detail: body.detail } : {}),
        };
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause;
        return { kind, sentAt, at: Date.now(), status: 0, retryAfter: null, contentType: null, error: `${(error as Error).name}: ${(error as Error).message}${cause?.code ? ` (${cause.code})` : ''}` };
      }
    }

    it('answers only 2xx or 503 with Retry-After during the outage, stays up, and recovers on its own', async () => {
      const kinds = Object.keys(REQUESTS);
      // Warm: every kind answers 2xx before the outage.
      for (const kind of kinds) {
        const answer = await send(kind);
        expect(answer.status, `${kind} before the outage: ${JSON.stringify(answer)}`).toBeGreaterThanOrEqual(200);
        expect(answer.status).toBeLessThan(300);
      }

      const answers: Answer[] = [];
      let running = true;
      const worker = async (offset: number) => {
        for (let i = offset; running; i++) {
          answers.push(await send(kinds[i % kinds.length]!));
        }
      };
      const workers = Array.from({ length: 6 }, (_, i) => worker(i));

      await sleep(3_000);
      const stopAsked = Date.now();
      await cluster.stopServer();
      const stopped = Date.now();
      await sleep(8_000);
      const startAsked = Date.now();
      await cluster.startServer();
      const started = Date.now();
      // Load goes on until every kind has answered 2xx again (or 30 s).
      const recoveredBy = (kind: string) => answers.find((a) => a.kind === kind && a.sentAt >= started && a.status >= 200 && a.status < 300);
      while (!kinds.every(recoveredBy) && Date.now() - started < 30_000) await sleep(100);
      const recovered = Date.now();
      await sleep(3_000);
      running = false;
      await Promise.all(workers);

      // Counts per kind and status, and the timings, for the README.
      const counts: Record<string, Record<string, number>> = {};
      for (const a of answers) {
        const row = (counts[a.kind] ??= {});
        const key = a.error ? 'error' : String(a.status);
        row[key] = (row[key] ?? 0) + 1;
      }
      const first503 = answers.filter((a) => a.status === 503 && a.at >= stopAsked).sort((a, b) => a.at - b.at)[0];
      const firstShed = answers.filter((a) => a.status === 503 && /database ping/.test(a.detail ?? '')).sort((a, b) => a.at - b.at)[0];
      const firstOk = (kind: string) => recoveredBy(kind)?.at;
      const timings = {
        stopTookMs: stopped - stopAsked,
        stopToFirst503Ms: first503 ? first503.at - stopAsked : null,
        stopToFirstShed503Ms: firstShed ? firstShed.at - stopAsked : null,
        startTookMs: started - startAsked,
        readyToFirst2xxMs: Object.fromEntries(kinds.map((kind) => [kind, firstOk(kind) !== undefined ? firstOk(kind)! - started : null])),
        readyToAll2xxMs: recovered - started,
        slowestAnswerMs: Math.max(...answers.map((a) => a.at - a.sentAt)),
        answers: answers.length,
      };
      console.log(`answers during the outage test, by kind and status: ${JSON.stringify(counts, null, 1)}\ntimings: ${JSON.stringify(timings, null, 1)}`);

      expect(server.exitCode, `the server process exited during the test:\n${output.slice(-4000)}`).toBeNull();

      // 1. Never a 500, a reset or a hang: 2xx, or 503 with Retry-After and a problem+json body.
      const errors = answers.filter((a) => a.error);
      expect(errors.slice(0, 5), `${errors.length} requests got no HTTP answer`).toEqual([]);
      const unexpected = answers.filter((a) => !(a.status >= 200 && a.status < 300) && a.status !== 503);
      expect(unexpected.slice(0, 5), `${unexpected.length} answers neither 2xx nor 503`).toEqual([]);
      const bad503 = answers.filter(
        (a) => a.status === 503 && !(a.retryAfter !== null && /^[1-9]\d*$/.test(a.retryAfter) && a.contentType?.startsWith('application/problem+json') && /retry in \d+ s/.test(a.detail ?? '')),
      );
      expect(bad503.slice(0, 5), `${bad503.length} 503s without Retry-After or problem+json`).toEqual([]);
      expect(answers.filter((a) => a.status === 503).every((a) => a.code === 'TL_STORE_UNAVAILABLE' || a.code === 'TL_OVERLOADED')).toBe(true);
      expect(timings.slowestAnswerMs, 'the slowest answer (a hang would hit 15 s)').toBeLessThan(REQUEST_TIMEOUT_MS);

      // 2. While the database was down, routes that must read or write it answered 503.
      const duringOutage = (kind: string) => answers.filter((a) => a.kind === kind && a.sentAt >= stopped + 500 && a.at < startAsked);
      for (const kind of ['observations', 'assessment', 'health']) {
        const during = duringOutage(kind);
        expect(during.length, `${kind} requests during the outage`).toBeGreaterThan(0);
        expect(during.filter((a) => a.status !== 503), `${kind} answered other than 503 with the database down`).toEqual([]);
      }
      expect(firstShed, 'no request was shed by the database ping (under-pressure health check)').toBeDefined();

      // 3. The process lived through it and recovered without a restart: every kind 2xx again.
      expect(server.exitCode, output.slice(-3000)).toBeNull();
      for (const kind of kinds) expect(recoveredBy(kind), `${kind} never answered 2xx after PostgreSQL came back`).toBeDefined();
      const lastSeconds = answers.filter((a) => a.sentAt >= recovered + 500);
      expect(lastSeconds.length).toBeGreaterThan(0);
      expect(lastSeconds.filter((a) => a.status < 200 || a.status >= 300), 'answers after recovery').toEqual([]);
      expect(lastSeconds.some((a) => a.kind === 'assessment' && a.status === 201), 'an assessment written after recovery').toBe(true);

      // 4. The server said what happened, the job runner included, and nothing went unhandled.
      expect(output).toMatch(/database not reachable \([^)]+\): answering 503 with Retry-After/);
      expect(output).toMatch(/database reachable again after \d+\.\d s: serving requests/);
      expect(output).toMatch(/job runner: the database is not reachable/);
      expect(output).not.toMatch(/unhandled|uncaught/i);
    }, 120_000);
  });
});

describe.skipIf(!HAVE_POSTGRES)('a server started while PostgreSQL is down', () => {
  let cluster: TemporaryPostgres;
  beforeAll(async () => {
    cluster = await startTemporaryPostgres({ database: 'threatlens_late' });
    await cluster.stopServer();
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('gives up at once without a wait, and otherwise waits for the database and then starts', async () => {
    const lines: string[] = [];
    const quick = Date.now();
    const refused = await prepareStoreWhenReachable({ databaseUrl: cluster.url }, false, (line) => lines.push(line), 0).catch((error: unknown) => error);
    expect(isStoreUnavailable(refused)).toBe(true);
    expect(Date.now() - quick).toBeLessThan(10_000);

    const started = Date.now();
    const opening = prepareStoreWhenReachable({ databaseUrl: cluster.url }, false, (line) => lines.push(line), 60_000);
    await sleep(2_500);
    await cluster.startServer();
    const store = await opening;
    try {
      console.log(`store opened ${Date.now() - started} ms after the first try, the database started after 2.5 s`);
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_500);
      expect(lines.filter((line) => /database not reachable/.test(line)), lines.join("\n")).not.toEqual([]);
      expect(lines.find((line) => /database not reachable/.test(line))).toMatch(/database not reachable \(ECONNREFUSED\); trying again in [0-9.]+ s/);
      // Migrated and seeded: the catalogue is there.
      const entities = await store.db.selectFrom('entities').select('code').execute();
      expect(entities.length).toBeGreaterThanOrEqual(57);
    } finally {
      await store.close();
    }
  }, 120_000);
});

