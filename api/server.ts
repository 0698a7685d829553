/**
 * The main job: open (and migrate) the store, seed reference data, load the demo panel when the
 * store is empty, compute risk scores, and serve the API. `npm start` and `threatlens serve` run it.
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { loadDemoData, storeIsEmpty } from '../datasets/demo/load.ts';
import { refreshRiskScores } from '../engine/scoring/refresh.ts';
import { seedReferenceData } from '../engine/store/catalogue.ts';
import { describeStoreError, isStoreUnavailable } from '../engine/store/availability.ts';
import { openStore, storeOptionsFromEnv, type Store, type StoreOptions } from '../engine/store/database.ts';
import type { Role } from '../engine/access/roles.ts';
import { buildApp, DEFAULT_BODY_LIMIT, type App } from './app.ts';
import { accessOptionsFromEnv, DEMO_AGENCY } from './auth/plugin.ts';
import { loadSheddingFromEnv, SERVE_MAX_EVENT_LOOP_DELAY_MS } from './load-shedding.ts';

export interface ServeOptions {
  readonly port: number;
  readonly host: string;
  readonly store?: StoreOptions;
  /** Load the synthetic demo panel when the store holds no data (default true). */
  readonly demoIfEmpty?: boolean;
  /**
   * Answer requests without a credential as this role of agency `demo` (`--demo-access`, which
   * `npm start` uses). Off by default: then only /health, /docs and the dashboard's files answer
   * without a key.
   */
  readonly demoAccessRole?: Role;
  readonly log?: (line: string) => void;
  /** How long to wait at start for a PostgreSQL that is not reachable (default: THREATLENS_DB_WAIT_SECONDS, 60 s). */
  readonly databaseWaitMs?: number;
}

export interface RunningServer {
  readonly app: App;
  readonly store: Store;
  readonly url: string;
  close(): Promise<void>;
}

export async function prepareStore(storeOptions: StoreOptions, demoIfEmpty: boolean, log: (line: string) => void): Promise<Store> {
  const store = await openStore(storeOptions);
  try {
    log(`store: ${store.kind} at ${store.location}`);
    await seedReferenceData(store.db);
    if (demoIfEmpty && (await storeIsEmpty(store.db))) {
      const dir = store.kind === 'pglite' && store.location !== 'memory' ? join(store.location, 'demo') : join(tmpdir(), 'threatlens-demo');
      log('store is empty: loading the SYNTHETIC demo panel (57 states, 2000-2024)...');
      const summary = await loadDemoData(store, dir);
      log(`demo data: ${summary.accepted} observations in batch ${summary.batchId}; ground truth in ${summary.truthPath}`);
    }
    const scored = await refreshRiskScores(store.db);
    log(`risk scores: ${scored.years.length} years (${scored.years[0] ?? '-'}-${scored.years[scored.years.length - 1] ?? '-'}), data version ${scored.dataVersion}`);
    return store;
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
}

/** How long `serve` waits for an unreachable PostgreSQL at start (THREATLENS_DB_WAIT_SECONDS, default 60). */
export function databaseWaitFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.THREATLENS_DB_WAIT_SECONDS;
  if (raw === undefined || raw === '') return 60_000;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`THREATLENS_DB_WAIT_SECONDS must be a number of seconds >= 0; got "${raw}"`);
  return seconds * 1000;
}

/**
 * prepareStore, waiting for the database if it is not reachable yet (a server and its database
 * started together, or a database restarting). Every step can run again (reference data is
 * upserted; the demo is one batch, stored whole or not at all, and loaded only into an empty
 * store), so it starts again from the top, with a growing pause, until `waitMs` has passed. Any
 * other error ends it at once.
 */
export async function prepareStoreWhenReachable(storeOptions: StoreOptions, demoIfEmpty: boolean, log: (line: string) => void, waitMs: number): Promise<Store> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await prepareStore(storeOptions, demoIfEmpty, log);
    } catch (error) {
      const waited = Date.now() - started;
      if (!isStoreUnavailable(error) || waited >= waitMs) throw error;
      const pauseMs = Math.min(500 * 2 ** (attempt - 1), 5_000, waitMs - waited);
      log(`database not reachable (${describeStoreError(error)}); trying again in ${(pauseMs / 1000).toFixed(1)} s (waiting up to ${Math.round(waitMs / 1000)} s: THREATLENS_DB_WAIT_SECONDS)`);
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}

export async function serve(options: ServeOptions): Promise<RunningServer> {
  const log = options.log ?? ((line: string) => console.log(line));
  const store = await prepareStoreWhenReachable(options.store ?? storeOptionsFromEnv(), options.demoIfEmpty ?? true, log, options.databaseWaitMs ?? databaseWaitFromEnv());
  if (options.demoAccessRole) {
    log(
      `WARNING: demo access is on: requests without a credential are served as role ${options.demoAccessRole} of agency "${DEMO_AGENCY}". ` +
        'Anyone who can reach this server can read its public data and create assessments. Never use --demo-access on a server others can reach, or with real restricted data.',
    );
  }
  // Request logs at info level cost ~60% of throughput (shared/docs/METHODS.md): warn by default.
  const app = await buildApp({
    store,
    logger: { level: process.env.LOG_LEVEL ?? 'warn' },
    access: { ...accessOptionsFromEnv(), demoAccess: options.demoAccessRole ? { role: options.demoAccessRole, agency: DEMO_AGENCY } : false },
    bodyLimit: bodyLimitFromEnv(),
    ...trustProxyFromEnv(),
    // Training jobs run here, in worker threads (THREATLENS_JOBS=off for API-only processes).
    jobs: process.env.THREATLENS_JOBS !== 'off',
    // 503 + Retry-After when the event loop lags over 1 s (THREATLENS_MAX_EVENT_LOOP_DELAY_MS) or the database is down.
    loadShedding: loadSheddingFromEnv(process.env, { maxEventLoopDelayMs: SERVE_MAX_EVENT_LOOP_DELAY_MS }),
    // Dashboard reads trust a data version this long; change notifications from any process drop it sooner.
    versionTtlMs: versionTtlFromEnv(),
  });
  await app.listen({ port: options.port, host: options.host });
  // The port actually bound (options.port may be 0: any free port).
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const url = `http://${options.host === '0.0.0.0' ? 'localhost' : options.host}:${port}`;
  log(`ThreatLens API on ${url}`);
  log(`  crime map:    ${url}/`);
  log(`  risk scores:  ${url}/v1/risk-scores?year=2020`);
  log(`  API docs:     ${url}/docs  (OpenAPI: ${url}/docs/json)`);
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= app.close().then(() => store.close()));
  return { app, store, url, close };
}

/** Runs until SIGINT/SIGTERM, then lets in-flight requests finish and closes the store. */
export async function serveUntilSignalled(options: ServeOptions): Promise<void> {
  const server = await serve(options);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.log(`${signal}: finishing in-flight requests and closing the store...`);
      server.close().then(
        () => process.exit(0),
        (error: unknown) => {
          console.error(error);
          process.exit(1);
        },
      );
    });
  }
}

export const DEFAULT_PORT = 3000;

/** THREATLENS_TRUST_PROXY: `true`, or comma-separated addresses or subnets of the proxies in front. */
function trustProxyFromEnv(env: NodeJS.ProcessEnv = process.env): { trustProxy?: boolean | string[] } {
  const value = env.THREATLENS_TRUST_PROXY;
  if (!value) return {};
  if (value === 'true') return { trustProxy: true };
  return { trustProxy: value.split(',').map((s) => s.trim()).filter(Boolean) };
}

/** THREATLENS_VERSION_TTL_MS: how long a data version is trusted without re-reading it (default 1000; 0 re-reads it per request). */
function versionTtlFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  if (env.THREATLENS_VERSION_TTL_MS === undefined || env.THREATLENS_VERSION_TTL_MS === '') return 1000;
  const ms = Number(env.THREATLENS_VERSION_TTL_MS);
  if (!Number.isInteger(ms) || ms < 0 || ms > 60_000) throw new Error(`THREATLENS_VERSION_TTL_MS must be a whole number of milliseconds from 0 to 60000; got "${env.THREATLENS_VERSION_TTL_MS}"`);
  return ms;
}

/** THREATLENS_BODY_LIMIT: the largest request body in bytes (default 256 KiB). */
function bodyLimitFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  if (!env.THREATLENS_BODY_LIMIT) return DEFAULT_BODY_LIMIT;
  const bytes = Number(env.THREATLENS_BODY_LIMIT);
  if (!Number.isInteger(bytes) || bytes < 1024) throw new Error(`THREATLENS_BODY_LIMIT must be a number of bytes >= 1024; got "${env.THREATLENS_BODY_LIMIT}"`);
  return bytes;
}
