/**
 * A throwaway PostgreSQL server from Debian's packages, for tests and benchmarks that need a real
 * server when DATABASE_URL is not set: initdb in a temporary directory, start on a free loopback
 * port, and on stop() shut it down and delete the directory. The same steps as .ci/run.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const PG_ROOT = '/usr/lib/postgresql';

export interface TemporaryPostgres {
  /** postgres://postgres@127.0.0.1:PORT/DATABASE, trust authentication. */
  url: string;
  /** Stops the server and deletes its directory; safe to call more than once. */
  stop(): Promise<void>;
  /** Stops the server (pg_ctl stop -m fast) but keeps its data: a database outage. */
  stopServer(): Promise<void>;
  /** Starts it again on the same port after stopServer(), and waits until it accepts connections. */
  startServer(): Promise<void>;
  /** The cluster's data directory and server binaries, for tests that set up more (a standby). */
  readonly dataDir: string;
  readonly binDir: string;
  readonly port: number;
}

/** The bin directory of the newest PostgreSQL server installed by Debian's packages, or null. */
export function findPostgresBinDir(): string | null {
  if (!existsSync(PG_ROOT)) return null;
  const versions = readdirSync(PG_ROOT)
    .filter((version) => existsSync(join(PG_ROOT, version, 'bin', 'postgres')))
    // Numeric, not lexical: 9.6 < 15 < 16.
    .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  return versions[0] ? join(PG_ROOT, versions[0], 'bin') : null;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

const isRoot = (): boolean => process.getuid?.() === 0;

/** argv to run a server tool: through `su postgres` when root, because PostgreSQL refuses root. */
export function pgCommand(args: readonly string[]): [string, string[]] {
  const [file, ...rest] = args;
  if (!file) throw new Error('empty command');
  if (!isRoot()) return [file, rest];
  return ['su', ['postgres', '-s', '/bin/bash', '-c', args.map(shellQuote).join(' ')]];
}

export async function runPg(args: readonly string[]): Promise<string> {
  const [file, argv] = pgCommand(args);
  const { stdout } = await execFileAsync(file, argv, { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

export async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const uid = Number((await execFileAsync('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await execFileAsync('id', ['-g', 'postgres'])).stdout.trim());
  return { uid, gid };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts a fresh PostgreSQL cluster. `database` (default "postgres") is created when it is not
 * the default one. Throws, naming Debian's `postgresql` package, when no server is installed.
 */
export async function startTemporaryPostgres(options: { database?: string } = {}): Promise<TemporaryPostgres> {
  const bin = findPostgresBinDir();
  if (!bin) {
    throw new Error(
      `No PostgreSQL server found under ${PG_ROOT}: install Debian's \`postgresql\` package ` +
        '(apt-get install postgresql) or set DATABASE_URL to an existing server.',
    );
  }
  const database = options.database ?? 'postgres';
  const dir = await mkdtemp(join(tmpdir(), 'threatlens-pg-'));
  const data = join(dir, 'db');
  const logFile = join(dir, 'log');

  let started = false;
  const stopSync = (): void => {
    // Last resort on process exit (a crashed benchmark): never leave a server running.
    if (started) {
      const [file, argv] = pgCommand([join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop']);
      try {
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
      if (started) {
        await runPg([join(bin, 'pg_ctl'), '-D', data, '-m', 'fast', '-w', 'stop']).catch(() => undefined);
      }
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  try {
    if (isRoot()) {
      const { uid, gid } = await postgresIds();
      await chown(dir, uid, gid);
    }
    const port = await freePort();
    await runPg([join(bin, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    started = true;
    // fsync off: a throwaway cluster, durability buys nothing here.
    const startServer = async (): Promise<void> => {
      await runPg([
        join(bin, 'pg_ctl'), '-D', data, '-l', logFile, '-w', '-t', '60',
        '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
        'start',
      ]);
      await waitUntilReady(bin, port);
    };
    const stopServer = async (): Promise<void> => {
      await runPg([join(bin, 'pg_ctl'), '-D', data, '-m', 'fast', '-w', 'stop']);
    };
    await startServer();
    if (database !== 'postgres') {
      await execFileAsync(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', database]);
    }
    return { url: `postgres://postgres@127.0.0.1:${port}/${encodeURIComponent(database)}`, stop, stopServer, startServer, dataDir: data, binDir: bin, port };
  } catch (error) {
    const log = await readFile(logFile, 'utf8').catch(() => '');
    await stop();
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`could not start a temporary PostgreSQL: ${message}${log ? `\nserver log:\n${log}` : ''}`, { cause: error });
  }
}

export async function waitUntilReady(bin: string, port: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await execFileAsync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-q']);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`PostgreSQL did not become ready on port ${port}`);
      await sleep(200);
    }
  }
}
