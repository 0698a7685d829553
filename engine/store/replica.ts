/**
 * Dashboard reads from a PostgreSQL streaming-replication standby (DATABASE_REPLICA_URL), falling
 * back to the primary while the standby cannot be reached.
 *
 * Why a pool facade and not a Dialect of our own: Kysely's PostgresDialect accepts any object with
 * pg.Pool's `connect()` and `end()` (kysely's `PostgresPool`), and its driver asks the pool for a
 * client for every query (or transaction). So routing needs only a `connect()` that hands out a
 * standby client while the standby answers and a primary client otherwise; Kysely's query
 * compiler, adapter and transactions stay untouched.
 *
 * The rules:
 * - A connection failure on the standby (refused, terminated, shut down, starting up, timed out)
 *   marks it down; the read is served by the primary. When the failure comes mid-query, that query
 *   runs again on the primary unless it is inside a transaction: a read is safe to repeat.
 * - While down, reads go to the primary; after `retryAfterMs` the next read tries the standby
 *   again. A standby query that succeeds marks it up. Each change is logged once.
 * - A hot-standby recovery conflict (SQLSTATE 40001, "canceling statement due to conflict with
 *   recovery") reruns that one read on the primary without marking the standby down.
 */
import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pg from 'pg';

export type ReadTarget = 'replica' | 'primary';

export interface ReplicaRoutingOptions {
  /** How long reads stay on the primary after the standby failed, before it is tried again (default 2000). */
  readonly retryAfterMs?: number;
  /** Told once per change of where reads go (default console.warn). */
  readonly log?: (line: string) => void;
}

/** Errors that say "this server is not reachable right now", not "this query is wrong". */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND',
  '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006',
]);
const UNREACHABLE_MESSAGE = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i;
const RECOVERY_CONFLICT = '40001';

export function isServerUnreachable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = (error as { message?: unknown } | null)?.message;
  return (typeof code === 'string' && UNREACHABLE_CODES.has(code)) || (typeof message === 'string' && UNREACHABLE_MESSAGE.test(message));
}

const describe = (error: unknown): string => {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' ? `${code}: ${message}` : message;
};

/** A pg.Pool look-alike for Kysely's PostgresDialect that routes reads to the standby when it answers. */
export class ReplicaRoutingPool implements PostgresPool {
  readonly #primary: pg.Pool;
  readonly #replica: pg.Pool;
  readonly #retryAfterMs: number;
  readonly #log: (line: string) => void;
  /** When the standby last failed; null while it is considered up. */
  #downSince: number | null = null;
  #served = { replica: 0, primary: 0 };

  constructor(primary: pg.Pool, replica: pg.Pool, options: ReplicaRoutingOptions = {}) {
    this.#primary = primary;
    this.#replica = replica;
    this.#retryAfterMs = options.retryAfterMs ?? 2000;
    this.#log = options.log ?? ((line) => console.warn(line));
  }

  /** Where reads go now: the standby, or the primary while the standby is down. */
  target(): ReadTarget {
    return this.#downSince === null ? 'replica' : 'primary';
  }

  /** Queries answered by each server since the store was opened. */
  served(): { replica: number; primary: number } {
    return { ...this.#served };
  }

  async connect(): Promise<PostgresPoolClient> {
    if (this.#downSince === null || Date.now() - this.#downSince >= this.#retryAfterMs) {
      try {
        return new RoutedClient(this, await this.#replica.connect(), 'replica');
      } catch (error) {
        if (!isServerUnreachable(error)) throw error;
        this.markDown(error);
      }
    }
    return new RoutedClient(this, await this.#primary.connect(), 'primary');
  }

  primaryClient(): Promise<pg.PoolClient> {
    return this.#primary.connect();
  }

  /** Ends the standby's pool only: the primary's belongs to the store's main Kysely instance. */
  async end(): Promise<void> {
    await this.#replica.end();
  }

  markDown(error: unknown): void {
    if (this.#downSince === null) this.#log(`read replica unreachable (${describe(error)}): dashboard reads go to the primary; retrying every ${this.#retryAfterMs} ms`);
    this.#downSince = Date.now();
  }

  noteServed(target: ReadTarget): void {
    this.#served[target] += 1;
    if (target === 'replica' && this.#downSince !== null) {
      this.#downSince = null;
      this.#log('read replica reachable again: dashboard reads go to the replica');
    }
  }
}

const ignoreError = (): void => undefined;

/** One checked-out client, on the standby or the primary; moves to the primary if the standby goes away. */
class RoutedClient implements PostgresPoolClient {
  readonly #router: ReplicaRoutingPool;
  #client: pg.PoolClient;
  #target: ReadTarget;
  #inTransaction = false;

  constructor(router: ReplicaRoutingPool, client: pg.PoolClient, target: ReadTarget) {
    this.#router = router;
    this.#client = client;
    this.#target = target;
    // pg emits 'error' on a checked-out client whose connection drops; unheard, it ends the
    // process. The failing query's rejection already tells us, so the event itself is ignored.
    client.on('error', ignoreError);
  }

  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(sqlOrCursor: string | PostgresCursor<R>, parameters: ReadonlyArray<unknown> = []): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    if (typeof sqlOrCursor !== 'string') throw new Error('streaming (a cursor) is not supported on the read-replica connection');
    return this.#run<R>(sqlOrCursor, parameters);
  }

  async #run<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
    try {
      const result = await this.#execute<R>(sql, parameters);
      this.#router.noteServed(this.#target);
      return result;
    } catch (error) {
      if (this.#target !== 'replica') throw error;
      const unreachable = isServerUnreachable(error);
      if (!unreachable && (error as { code?: unknown }).code !== RECOVERY_CONFLICT) throw error;
      if (unreachable) this.#router.markDown(error);
      const wasInTransaction = this.#inTransaction;
      if (unreachable || !wasInTransaction) await this.#moveToPrimary(unreachable ? error : undefined);
      // A transaction begun on the standby cannot continue elsewhere: the caller's transaction fails.
      if (wasInTransaction) throw error;
      const result = await this.#execute<R>(sql, parameters);
      this.#router.noteServed('primary');
      return result;
    }
  }

  async #execute<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
    const result = (await this.#client.query(sql, [...parameters])) as unknown as PostgresQueryResult<R>;
    if (/^\s*(begin|start\s+transaction)\b/i.test(sql)) this.#inTransaction = true;
    else if (/^\s*(commit|end|rollback(?!\s+to\b))\b/i.test(sql)) this.#inTransaction = false;
    return result;
  }

  /** Gives the standby client back (dropped from its pool when broken) and takes a primary client. */
  async #moveToPrimary(brokenBy: unknown): Promise<void> {
    const replicaClient = this.#client;
    replicaClient.removeListener('error', ignoreError);
    replicaClient.release(brokenBy instanceof Error ? brokenBy : undefined);
    this.#client = await this.#router.primaryClient();
    this.#client.on('error', ignoreError);
    this.#target = 'primary';
    this.#inTransaction = false;
  }

  release(): void {
    this.#client.removeListener('error', ignoreError);
    this.#client.release();
  }
}
