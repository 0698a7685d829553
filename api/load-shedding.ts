/**
 * Load shedding with @fastify/under-pressure: while the database is not reachable, or the process
 * is overloaded (event-loop delay, heap, RSS), every route except /health answers at once with 503,
 * `Retry-After` and a problem+json body, instead of queueing behind connection attempts or a
 * blocked event loop. The database is pinged (`select 1`) every `storeCheckMs`; when it answers
 * again, requests are served again without a restart.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import underPressure from '@fastify/under-pressure';
import { sql } from 'kysely';
import type { Store } from '../engine/store/database.ts';
import { describeStoreError } from '../engine/store/availability.ts';
import { DEFAULT_RETRY_AFTER_SECONDS, sendStoreUnavailable, type Problem } from './problem.ts';

export interface LoadSheddingOptions {
  /** Shed when the mean event-loop delay of the last second exceeds this (ms); 0 = off. */
  readonly maxEventLoopDelayMs: number;
  /** Shed when the V8 heap in use exceeds this (bytes); 0 = off. */
  readonly maxHeapUsedBytes: number;
  /** Shed when the resident set exceeds this (bytes); 0 = off. */
  readonly maxRssBytes: number;
  /** Retry-After of every 503 (seconds). */
  readonly retryAfterSeconds: number;
  /** How often a PostgreSQL database is pinged (ms); 0 = never (then a failing query still answers 503). PGlite is never pinged. */
  readonly storeCheckMs: number;
  /** A ping that takes longer than this counts as a failure (ms). */
  readonly storeCheckTimeoutMs: number;
}

/** Defaults for `buildApp`: the store check on, no process limits (tests run heavy work in-process). */
export const DEFAULT_LOAD_SHEDDING: LoadSheddingOptions = {
  maxEventLoopDelayMs: 0,
  maxHeapUsedBytes: 0,
  maxRssBytes: 0,
  retryAfterSeconds: DEFAULT_RETRY_AFTER_SECONDS,
  storeCheckMs: 2_000,
  storeCheckTimeoutMs: 2_000,
};

/** The event-loop limit `threatlens serve` uses when THREATLENS_MAX_EVENT_LOOP_DELAY_MS is not set. */
export const SERVE_MAX_EVENT_LOOP_DELAY_MS = 1_000;

function nonNegativeInteger(env: NodeJS.ProcessEnv, name: string, fallback: number, minimum = 0): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < minimum) throw new Error(`${name} must be an integer >= ${minimum}; got "${text}"`);
  return value;
}

/**
 * THREATLENS_MAX_EVENT_LOOP_DELAY_MS, THREATLENS_MAX_HEAP_USED_BYTES, THREATLENS_MAX_RSS_BYTES
 * (0 = off), THREATLENS_RETRY_AFTER_SECONDS, THREATLENS_STORE_CHECK_MS (0 = off),
 * THREATLENS_STORE_CHECK_TIMEOUT_MS; unset ones take `defaults`.
 */
export function loadSheddingFromEnv(env: NodeJS.ProcessEnv = process.env, defaults: Partial<LoadSheddingOptions> = {}): LoadSheddingOptions {
  const base = { ...DEFAULT_LOAD_SHEDDING, ...defaults };
  return {
    maxEventLoopDelayMs: nonNegativeInteger(env, 'THREATLENS_MAX_EVENT_LOOP_DELAY_MS', base.maxEventLoopDelayMs),
    maxHeapUsedBytes: nonNegativeInteger(env, 'THREATLENS_MAX_HEAP_USED_BYTES', base.maxHeapUsedBytes),
    maxRssBytes: nonNegativeInteger(env, 'THREATLENS_MAX_RSS_BYTES', base.maxRssBytes),
    retryAfterSeconds: nonNegativeInteger(env, 'THREATLENS_RETRY_AFTER_SECONDS', base.retryAfterSeconds, 1),
    storeCheckMs: nonNegativeInteger(env, 'THREATLENS_STORE_CHECK_MS', base.storeCheckMs),
    storeCheckTimeoutMs: nonNegativeInteger(env, 'THREATLENS_STORE_CHECK_TIMEOUT_MS', base.storeCheckTimeoutMs, 1),
  };
}

/** What the last database ping said; /health reads it. */
export class StoreHealth {
  up = true;
  /** When the current state began (ms since the epoch). */
  since = Date.now();
  /** The last ping's error while down: a code or short message, never a host or SQL. */
  lastError: string | undefined;

  constructor(
    private readonly store: Store,
    private readonly timeoutMs: number,
    private readonly log: (level: 'warn' | 'info', message: string) => void,
  ) {}

  /** Pings the database; resolves to whether it answered within the timeout. Never rejects. */
  async check(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        // Rejected from setImmediate: after an event-loop stall, the poll phase first reads an
        // answer that arrived meanwhile, so a busy process is not mistaken for a missing database.
        timer = setTimeout(() => setImmediate(() => reject(new Error(`no answer to select 1 within ${this.timeoutMs} ms`))), this.timeoutMs);
      });
      await Promise.race([sql`select 1`.execute(this.store.db), timeout]);
      this.record(true);
    } catch (error) {
      this.record(false, describeStoreError(error));
    } finally {
      clearTimeout(timer);
    }
    return this.up;
  }

  private record(up: boolean, error?: string): void {
    this.lastError = error;
    if (up === this.up) return;
    const seconds = ((Date.now() - this.since) / 1000).toFixed(1);
    this.up = up;
    this.since = Date.now();
    if (up) this.log('warn', `database reachable again after ${seconds} s: serving requests`);
    else this.log('warn', `database not reachable (${error}): answering 503 with Retry-After until it answers again`);
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The database ping's state (load shedding); undefined when store checks are off or the store is PGlite. */
    storeHealth: StoreHealth | undefined;
  }
}

/** Routes that answer for themselves under pressure: /health reports the outage, it is not shed. */
function exempt(request: FastifyRequest): boolean {
  const url = request.routeOptions.url ?? request.url;
  return url === '/health' || url.startsWith('/health/');
}

function sendOverloaded(reply: FastifyReply, retryAfterSeconds: number, instance: string, what: string): void {
  const problem: Problem = {
    type: 'https://threatlens.dev/problems/TL_OVERLOADED',
    title: 'Server overloaded',
    status: 503,
    detail: `the server is overloaded (${what}); retry in ${retryAfterSeconds} s`,
    code: 'TL_OVERLOADED',
    instance,
  };
  void reply.status(503).header('retry-after', String(retryAfterSeconds)).type('application/problem+json').send(problem);
}

/** Registers @fastify/under-pressure on `app` (the root: it covers every route). */
export async function registerLoadShedding(app: FastifyInstance, store: Store, options: LoadSheddingOptions): Promise<void> {
  // PGlite runs inside this process and cannot go away; pinging it would only queue behind long
  // transactions and shed requests for nothing. PostgreSQL is pinged.
  const health =
    options.storeCheckMs > 0 && store.kind === 'postgres'
      ? new StoreHealth(store, options.storeCheckTimeoutMs, (level, message) => app.log[level](message))
      : undefined;
  app.decorate('storeHealth', health);
  await app.register(underPressure, {
    maxEventLoopDelay: options.maxEventLoopDelayMs,
    maxHeapUsedBytes: options.maxHeapUsedBytes,
    maxRssBytes: options.maxRssBytes,
    retryAfter: options.retryAfterSeconds,
    ...(health ? { healthCheck: () => health.check(), healthCheckInterval: options.storeCheckMs } : {}),
    pressureHandler: (request, reply, type, value) => {
      // Returning without sending lets the request through.
      if (exempt(request)) return;
      if (type === underPressure.TYPE_HEALTH_CHECK) {
        const seconds = health ? Math.round((Date.now() - health.since) / 1000) : 0;
        sendStoreUnavailable(reply, options.retryAfterSeconds, request.url, undefined, `no answer to the database ping for ${seconds} s (${health?.lastError ?? 'unknown error'})`);
        return;
      }
      const what =
        type === underPressure.TYPE_EVENT_LOOP_DELAY
          ? `event-loop delay ${Math.round(value ?? 0)} ms > ${options.maxEventLoopDelayMs} ms`
          : type === underPressure.TYPE_HEAP_USED_BYTES
            ? `heap ${Math.round((value ?? 0) / 2 ** 20)} MiB > ${Math.round(options.maxHeapUsedBytes / 2 ** 20)} MiB`
            : type === underPressure.TYPE_RSS_BYTES
              ? `resident memory ${Math.round((value ?? 0) / 2 ** 20)} MiB > ${Math.round(options.maxRssBytes / 2 ** 20)} MiB`
              : type;
      sendOverloaded(reply, options.retryAfterSeconds, request.url, what);
    },
  });
}
