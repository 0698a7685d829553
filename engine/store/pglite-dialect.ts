/**
 * PGlite has one connection. kysely-pglite hands every caller that same connection at once, so a
 * transaction could interleave with another request's queries. This dialect wraps it so that a
 * caller holds the connection from acquire to release: one query or one transaction at a time.
 */
import type { PGlite } from '@electric-sql/pglite';
import { KyselyPGlite } from 'kysely-pglite';
import type { DatabaseConnection, Dialect, Driver, TransactionSettings } from 'kysely';

class SerialisedDriver implements Driver {
  readonly #inner: Driver;
  #queue: Promise<void> = Promise.resolve();
  readonly #releases = new WeakMap<DatabaseConnection, () => void>();

  constructor(inner: Driver) {
    this.#inner = inner;
  }

  async init(): Promise<void> {
    await this.#inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    let release!: () => void;
    const turn = new Promise<void>((resolve) => (release = resolve));
    const previous = this.#queue;
    this.#queue = previous.then(() => turn);
    await previous;
    // A fresh wrapper per holder so that release() frees exactly this turn.
    const inner = await this.#inner.acquireConnection();
    const connection: DatabaseConnection = {
      executeQuery: (query) => inner.executeQuery(query),
      streamQuery: (query, chunkSize) => inner.streamQuery(query, chunkSize),
    };
    this.#releases.set(connection, release);
    return connection;
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const release = this.#releases.get(connection);
    this.#releases.delete(connection);
    release?.();
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.#inner.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.rollbackTransaction(connection);
  }

  async destroy(): Promise<void> {
    await this.#queue;
    await this.#inner.destroy();
  }
}

export function serialisedPGliteDialect(client: PGlite): Dialect {
  const base = new KyselyPGlite(client).dialect;
  return {
    createAdapter: () => base.createAdapter(),
    createDriver: () => new SerialisedDriver(base.createDriver()),
    createIntrospector: (db) => base.createIntrospector(db),
    createQueryCompiler: () => base.createQueryCompiler(),
  };
}
