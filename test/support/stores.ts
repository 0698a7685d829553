/**
 * Stores for tests: every store test runs on PGlite, and again on PostgreSQL when DATABASE_URL is
 * set (.ci/run starts a server). Each PostgreSQL store is a fresh database, dropped on close, so
 * that test files running in parallel never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { seedReferenceData } from '../../engine/store/catalogue.ts';
import { openStore, type Store, type StoreKind } from '../../engine/store/database.ts';
import { tempDir } from './fixtures.ts';

export const STORE_KINDS: readonly StoreKind[] = process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

if (!process.env.DATABASE_URL) {
  console.warn('DATABASE_URL is not set: store tests run on PGlite only (.ci/run runs them on PostgreSQL too).');
}

/** Opens a fresh, migrated and seeded store of the given kind. */
export async function openTestStore(kind: StoreKind): Promise<Store> {
  if (kind === 'pglite') {
    const store = await openStore({ inMemory: true });
    await seedReferenceData(store.db);
    return store;
  }
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) throw new Error('DATABASE_URL is required for PostgreSQL tests');
  const name = `tl_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const store = await openStore({ databaseUrl: url.toString() });
  await seedReferenceData(store.db);
  return {
    ...store,
    close: async () => {
      await store.close();
      const cleanup = new pg.Client({ connectionString: adminUrl });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
}

/**
 * A fresh PGlite store and a temporary directory for the tests of one describe block, opened
 * before them and closed after: `const scratch = useScratchStore();` then `scratch.store`, `scratch.dir`.
 */
export function useScratchStore(): { readonly store: Store; readonly dir: string } {
  const state: { store?: Store; dir?: string } = {};
  beforeAll(async () => {
    state.store = await openTestStore('pglite');
    state.dir = await tempDir();
  });
  afterAll(async () => {
    await state.store?.close();
  });
  return {
    get store() {
      return state.store!;
    },
    get dir() {
      return state.dir!;
    },
  };
}
