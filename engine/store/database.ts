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
import { serialisedPGliteDialect } from './pglite-dialect.ts';
import type { Database } from './schema.ts';

// PostgreSQL returns bigint and numeric as strings by default; our bigints are small counts.
pg.types.setTypeParser(pg.types.builtins.INT8, (text) => Number(text));

export type StoreKind = 'pglite' | 'postgres';

export interface Store {
  readonly db: Kysely<Database>;
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
}

/** The directory used when neither DATABASE_URL nor THREATLENS_DATA_DIR says otherwise. */
export const DEFAULT_DATA_DIR = '.threatlens';

/** Reads DATABASE_URL and THREATLENS_DATA_DIR. */
export function storeOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): StoreOptions {
  if (env.DATABASE_URL) return { databaseUrl: env.DATABASE_URL };
  return { dataDir: env.THREATLENS_DATA_DIR ?? DEFAULT_DATA_DIR };
}

/** Opens the store and brings its schema up to date. Open it once per process. */
export async function openStore(options: StoreOptions): Promise<Store> {
  const store = options.databaseUrl?.startsWith('postgres')
    ? openPostgres(options.databaseUrl)
    : await openPGlite(options);
  try {
    await migrateToLatest(store.db);
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

function openPostgres(url: string): Store {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle client whose connection drops (server restart, a terminated backend) is discarded by
  // the pool, which connects anew on the next query; unheard, its 'error' would end the process.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    kind: 'postgres',
    location: redactPassword(url),
    pool,
    close: () => db.destroy(),
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
  return { db, kind: 'pglite', location, pglite: client, close: () => db.destroy() };
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
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

export async function migrateToLatest(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const cause = error instanceof Error ? error.message : String(error ?? '');
    throw new Error(`Store migration ${failed?.migrationName ?? ''} failed: ${cause}`.trim(), { cause: error });
  }
}
