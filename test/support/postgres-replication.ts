/**
 * A PostgreSQL primary with a streaming-replication hot standby, both throwaway clusters from
 * Debian's packages on loopback, for the read-replica tests: the standby is a `pg_basebackup -R`
 * copy of the primary with its own replication slot (so that WAL written while the standby is
 * stopped is kept for it), started on another free port. Everything is stopped and deleted by
 * stop(), and on process exit as a last resort.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, pgCommand, postgresIds, runPg, startTemporaryPostgres, waitUntilReady, type TemporaryPostgres } from './postgres-cluster.ts';

export interface PrimaryWithStandby {
  readonly primary: TemporaryPostgres;
  /** postgres://postgres@127.0.0.1:PORT/postgres of the standby (read-only until promoted). */
  readonly standbyUrl: string;
  readonly standbyPort: number;
  readonly standbyDataDir: string;
  /** Stops the standby (pg_ctl stop -m fast), keeping its data. */
  stopStandby(): Promise<void>;
  /** Starts the standby again on the same port; it reconnects to the primary and catches up. */
  startStandby(): Promise<void>;
  /** `pg_ctl promote`: the standby leaves recovery and accepts writes. */
  promoteStandby(): Promise<void>;
  /**
   * Waits until the standby has replayed everything the primary had written when this was
   * called (pg_current_wal_lsn on the primary, pg_last_wal_replay_lsn on the standby); returns
   * the milliseconds waited (from reading the primary's LSN, polled every 1 ms). Throws after `timeoutMs`.
   */
  waitForReplay(timeoutMs?: number): Promise<number>;
  /** Runs one SQL statement on the primary or the standby with a fresh connection. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(on: 'primary' | 'standby', sql: string, params?: unknown[]): Promise<R[]>;
  /** The standby's server log, for failure messages. */
  standbyLog(): Promise<string>;
  /** Stops both servers and deletes their directories; safe to call more than once. */
  stop(): Promise<void>;
}

const SLOT = 'threatlens_standby';

async function queryOnce<R extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startPrimaryWithStandby(): Promise<PrimaryWithStandby> {
  const primary = await startTemporaryPostgres();
  const bin = primary.binDir;
  const dir = await mkdtemp(join(tmpdir(), 'threatlens-standby-'));
  const data = join(dir, 'db');
  const logFile = join(dir, 'log');
  let standbyRunning = false;

  const stopSync = (): void => {
    if (standbyRunning) {
      try {
        const [file, argv] = pgCommand([join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop']);
        execFileSync(file, argv, { stdio: 'ignore' });
      } catch {
        // already stopped
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stopSync);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      process.removeListener('exit', stopSync);
      if (standbyRunning) await runPg([join(bin, 'pg_ctl'), '-D', data, '-m', 'fast', '-w', 'stop']).catch(() => undefined);
      standbyRunning = false;
      await rm(dir, { recursive: true, force: true });
      await primary.stop();
    })();
    return stopped;
  };

  try {
    if (process.getuid?.() === 0) {
      const { uid, gid } = await postgresIds();
      await chown(dir, uid, gid);
    }
    const port = await freePort();
    const standbyUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
    // -R writes primary_conninfo and standby.signal; -C -S creates the slot that keeps WAL for it.
    // initdb's pg_hba.conf (-A trust) already has `host replication all 127.0.0.1/32 trust`.
    await runPg([join(bin, 'pg_basebackup'), '-D', data, '-R', '-X', 'stream', '-C', '-S', SLOT, '-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '--no-sync']);

    const startStandby = async (): Promise<void> => {
      await runPg([
        join(bin, 'pg_ctl'), '-D', data, '-l', logFile, '-w', '-t', '60',
        '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c hot_standby=on`,
        'start',
      ]);
      standbyRunning = true;
      await waitUntilReady(bin, port);
    };
    const stopStandby = async (): Promise<void> => {
      await runPg([join(bin, 'pg_ctl'), '-D', data, '-m', 'fast', '-w', 'stop']);
      standbyRunning = false;
    };
    const urlOf = (on: 'primary' | 'standby') => (on === 'primary' ? primary.url : standbyUrl);
    const waitForReplay = async (timeoutMs = 30_000): Promise<number> => {
      // Both connections first, so that the time measured is replication, not connection set-up.
      const clients = [primary.url, standbyUrl].map((url) => new pg.Client({ connectionString: url }));
      for (const client of clients) client.on('error', () => undefined);
      try {
        await Promise.all(clients.map((client) => client.connect()));
        const [onPrimary, onStandby] = clients as [pg.Client, pg.Client];
        const started = performance.now();
        const lsn = (await onPrimary.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn')).rows[0]!.lsn;
        for (;;) {
          const { rows } = await onStandby.query<{ done: boolean | null }>('select pg_last_wal_replay_lsn() >= $1::pg_lsn as done', [lsn]);
          const waited = performance.now() - started;
          if (rows[0]?.done) return waited;
          if (waited > timeoutMs) throw new Error(`the standby on port ${port} has not replayed the primary's WAL up to ${lsn} after ${timeoutMs} ms`);
          await sleep(1);
        }
      } finally {
        await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
      }
    };

    await startStandby();
    const result: PrimaryWithStandby = {
      primary,
      standbyUrl,
      standbyPort: port,
      standbyDataDir: data,
      stopStandby,
      startStandby,
      promoteStandby: async () => {
        await runPg([join(bin, 'pg_ctl'), '-D', data, '-w', '-t', '60', 'promote']);
      },
      waitForReplay,
      query: (on, sql, params) => queryOnce(urlOf(on), sql, params),
      standbyLog: () => readFile(logFile, 'utf8').catch(() => ''),
      stop,
    };
    // The standby streams from the primary (not only restored the base backup).
    const deadline = Date.now() + 30_000;
    while ((await queryOnce<{ n: number }>(primary.url, 'select count(*)::int as n from pg_stat_replication'))[0]?.n !== 1) {
      if (Date.now() > deadline) throw new Error('the standby did not start streaming from the primary within 30 s');
      await sleep(100);
    }
    return result;
  } catch (error) {
    const log = await readFile(logFile, 'utf8').catch(() => '');
    await stop();
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`could not start a PostgreSQL standby: ${message}${log ? `\nstandby log:\n${log}` : ''}`, { cause: error });
  }
}
