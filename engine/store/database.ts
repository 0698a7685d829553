/**
 * Opening the store: PGlite (embedded PostgreSQL, the default: nothing to install) or a real
 * PostgreSQL server when a `postgres://` URL is given. The same migrations and queries run on both.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, Migrator, PostgresDialect, type Migration, type MigrationProvider } from 'kysely';
import pg from 'pg';
import * as initial from './migrations/0001_initial.ts';
import * as derivedBatches from './migrations/0002_derived_batches.ts';
import * as modelsJobsAnomalies from './migrations/0003_models_jobs_anomalies.ts';
import * as accessControl from './migrations/0004_access_control.ts';
import * as reports from './migrations/0005_reports.ts';
import * as changeNotifications from './migrations/0006_change_notifications.ts';
import * as batchHashPerOwner from './migrations/0007_batch_hash_per_owner.ts';
import * as auditAppendFunction from './migrations/0008_audit_append_function.ts';
import * as notifyAnomalyRuns from './migrations/0009_notify_anomaly_runs.ts';
import * as notifyIndicators from './migrations/0010_notify_indicators.ts';
import { serialisedPGliteDialect } from './pglite-dialect.ts';
import { ReplicaRoutingPool, type ReadTarget } from './replica.ts';
import type { Database } from './schema.ts';

// PostgreSQL returns bigint and numeric as strings by default; our bigints are small counts.
pg.types.setTypeParser(pg.types.builtins.INT8, (text) => Number(text));

export type StoreKind = 'pglite' | 'postgres';

export interface Store {
  readonly db: Kysely<Database>;
  /**
   * For dashboard reads that may lag the primary by the standby's replay delay: the streaming
   * replica at DATABASE_REPLICA_URL, or the primary while it is unreachable (engine/store/replica.ts).
   * Without a replica, the same object as `db`. Never write through it.
   */
  readonly readDb: Kysely<Database>;
  /** Where `readDb` queries go now: 'replica', or 'primary' (no replica, or the replica is down). */
  readTarget(): ReadTarget;
  /** Queries answered through `readDb` by each server since the store was opened; not counted (zeros) without a replica. */
  readStats(): { replica: number; primary: number };
  readonly kind: StoreKind;
  /** Where the data lives, for logs: a directory, `memory`, or the URL without its password. */
  readonly location: string;
  /** The raw PGlite client (PGlite stores only), for bulk paths that Kysely does not cover. */
  readonly pglite?: PGlite;
  /** The pg pool (PostgreSQL stores only). */
  readonly pool?: pg.Pool;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** `postgres://...` selects PostgreSQL; anything else is ignored. */
  readonly databaseUrl?: string;
  /** PGlite data directory; `memory://` or undefined with inMemory for a throwaway store. */
  readonly dataDir?: string;
  readonly inMemory?: boolean;
  /** `postgres://...` of a streaming-replication standby of `databaseUrl`, for `readDb`. */
  readonly replicaUrl?: string;
  /** How long reads stay on the primary after the replica failed before it is tried again (default 2000 ms). */
  readonly replicaRetryMs?: number;
  /** Where changes of the read target are reported (default console.warn). */
  readonly replicaLog?: (line: string) => void;
}

/** The directory used when neither DATABASE_URL nor THREATLENS_DATA_DIR says otherwise. */
export const DEFAULT_DATA_DIR = '.threatlens';

/** Reads DATABASE_URL, DATABASE_REPLICA_URL and THREATLENS_DATA_DIR. */
export function storeOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): StoreOptions {
  if (env.DATABASE_REPLICA_URL && !env.DATABASE_URL?.startsWith('postgres')) {
    throw new Error('DATABASE_REPLICA_URL is set but DATABASE_URL is not a postgres:// URL: a read replica needs a PostgreSQL primary in DATABASE_URL.');
  }
  if (env.DATABASE_REPLICA_URL && !env.DATABASE_REPLICA_URL.startsWith('postgres')) {
    throw new Error(`DATABASE_REPLICA_URL must be a postgres:// URL of a standby; got "${redactPassword(env.DATABASE_REPLICA_URL)}".`);
  }
  if (env.DATABASE_URL) return { databaseUrl: env.DATABASE_URL, ...(env.DATABASE_REPLICA_URL ? { replicaUrl: env.DATABASE_REPLICA_URL } : {}) };
  return { dataDir: env.THREATLENS_DATA_DIR ?? DEFAULT_DATA_DIR };
}

/** Opens the store and brings its schema up to date. Open it once per process. */
export async function openStore(options: StoreOptions): Promise<Store> {
  const store = options.databaseUrl?.startsWith('postgres')
    ? openPostgres(options.databaseUrl, options)
    : await openPGlite(options);
  try {
    await migrateToLatest(store.db);
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

function openPostgres(url: string, options: StoreOptions = {}): Store {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle client whose connection drops (server restart, a terminated backend) is discarded by
  // the pool, which connects anew on the next query; unheard, its 'error' would end the process.
  pool.on('error', () => undefined);
  // A client checked out (in a transaction, between two queries) when the server goes away emits
  // 'error' with no pool listener on it, which would end the process: swallow it here; the client
  // is then not queryable, its next query fails (answered 503), and the pool discards it on release.
  pool.on('connect', ignoreClientErrors);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  if (!options.replicaUrl) {
    return {
      db,
      readDb: db,
      readTarget: () => 'primary',
      readStats: () => ({ replica: 0, primary: 0 }),
      kind: 'postgres',
      location: redactPassword(url),
      pool,
      close: () => db.destroy(),
    };
  }
  if (!options.replicaUrl.startsWith('postgres')) throw new Error(`the read replica URL must be a postgres:// URL; got "${redactPassword(options.replicaUrl)}"`);
  // A replica that does not answer within 2 s (or a pool with no free client for that long) sends
  // the read to the primary rather than keep the request waiting.
  const replicaPool = new pg.Pool({ connectionString: options.replicaUrl, max: 10, connectionTimeoutMillis: 2000 });
  replicaPool.on('error', () => undefined);
  replicaPool.on('connect', ignoreClientErrors);
  const router = new ReplicaRoutingPool(pool, replicaPool, {
    ...(options.replicaRetryMs !== undefined ? { retryAfterMs: options.replicaRetryMs } : {}),
    ...(options.replicaLog ? { log: options.replicaLog } : {}),
  });
  const readDb = new Kysely<Database>({ dialect: new PostgresDialect({ pool: router }) });
  return {
    db,
    readDb,
    readTarget: () => router.target(),
    readStats: () => router.served(),
    kind: 'postgres',
    location: `${redactPassword(url)} (reads: ${redactPassword(options.replicaUrl)})`,
    pool,
    // The router's end() closes the replica's pool; db.destroy() the primary's.
    close: async () => {
      await readDb.destroy();
      await db.destroy();
    },
  };
}

async function openPGlite(options: StoreOptions): Promise<Store> {
  let client: PGlite;
  let location: string;
  if (options.inMemory || options.dataDir === 'memory://') {
    client = await PGlite.create();
    location = 'memory';
  } else {
    location = resolve(options.dataDir ?? DEFAULT_DATA_DIR);
    await mkdir(location, { recursive: true });
    client = await PGlite.create(location);
  }
  const db = new Kysely<Database>({ dialect: serialisedPGliteDialect(client) });
  return { db, readDb: db, readTarget: () => 'primary', readStats: () => ({ replica: 0, primary: 0 }), kind: 'pglite', location, pglite: client, close: () => db.destroy() };
}

function ignoreClientErrors(client: pg.PoolClient): void {
  client.on('error', () => undefined);
}

function redactPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres';
  }
}

const MIGRATIONS: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_derived_batches': derivedBatches,
  '0003_models_jobs_anomalies': modelsJobsAnomalies,
  '0004_access_control': accessControl,
  '0005_reports': reports,
  '0006_change_notifications': changeNotifications,
  '0007_batch_hash_per_owner': batchHashPerOwner,
  '0008_audit_append_function': auditAppendFunction,
  '0009_notify_anomaly_runs': notifyAnomalyRuns,
  '0010_notify_indicators': notifyIndicators,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

export async function migrateToLatest(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const cause = error instanceof Error ? error.message : String(error ?? '');
    throw new Error(`Store migration ${failed ? `${failed.migrationName} ` : ''}failed: ${cause}`, { cause: error });
  }
}
