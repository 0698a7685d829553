/**
 * What makes a dashboard read cheap: the data version of each scope and the serialised answers
 * of the read routes, remembered in this process and dropped the moment any process changes the
 * data (engine/store/changes.ts: the triggers of migrations 0006, 0009 and 0010 notify at commit).
 *
 * Nothing here is state that two API processes could disagree on for long: every answer is
 * derived from the database and keyed by the data version it was computed from, so remembering
 * answers is always exact. Data versions are re-read on every request unless `versionTtlMs` > 0
 * (the server sets 1 s): then a version is trusted that long, and a change notification from
 * any process drops it at once; a missed notification (the listening connection was down, a
 * replica had not yet replayed the change) delays what a reader sees by at most the TTL.
 */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DataScope } from '../engine/access/roles.ts';
import { dataVersion } from '../engine/store/observations.ts';
import type { Database } from '../engine/store/schema.ts';
import { PromiseCache } from './promise-cache.ts';

export type DataVersionInfo = Awaited<ReturnType<typeof dataVersion>>;

export function scopeKey(scope: DataScope): string {
  return scope.kind === 'agency' ? `agency:${scope.agency}` : scope.kind;
}

export interface ReadCacheOptions {
  /** How long a data version is trusted without re-reading it (default 0: re-read on every request). */
  readonly versionTtlMs?: number;
  /** Serialised answers kept (default 256). */
  readonly maxResponses?: number;
}

export interface CachedResponse {
  readonly body: Buffer;
  /** A strong validator: the hash of the body. */
  readonly etag: string;
  /** What the answer was computed from, for the audit of restricted reads. */
  readonly batches: readonly number[];
}

interface Remembered {
  readonly value: Promise<unknown>;
  readonly readAt: number;
  /** Set once the read has succeeded. */
  settled?: { readonly value: unknown };
}

const versionKey = (scope: DataScope): string => `version|${scopeKey(scope)}`;

/** Values remembered for the TTL (data versions and what is read with them), at most. */
const MAX_REMEMBERED = 1024;

export class ReadCache {
  private readonly remembered = new Map<string, Remembered>();
  private readonly responses: PromiseCache<CachedResponse & { cacheable: boolean }>;
  readonly versionTtlMs: number;

  constructor(
    private readonly db: () => Kysely<Database>,
    options: ReadCacheOptions = {},
  ) {
    this.versionTtlMs = options.versionTtlMs ?? 0;
    this.responses = new PromiseCache(options.maxResponses ?? 256, (answer) => answer.cacheable);
  }

  /**
   * Something changed (or may have): forget the data versions. Answers stay: each is keyed by the
   * version it was computed from, so one that no longer applies is simply never asked for again
   * (and ages out); an agency's upload leaves the answers of every other scope valid.
   */
  invalidate(): void {
    this.remembered.clear();
  }

  /** The data version of what `scope` may see (the hash of its visible batches). */
  dataVersion(scope: DataScope): Promise<DataVersionInfo> {
    return this.remember(versionKey(scope), () => dataVersion(this.db(), scope));
  }

  /**
   * A read that only a change to the data can change (a data version; the anomaly flags stored
   * for one): trusted as long as a data version is, and dropped with the versions.
   */
  remember<T>(key: string, read: () => Promise<T>): Promise<T> {
    if (this.versionTtlMs <= 0) return read();
    const now = Date.now();
    const found = this.remembered.get(key);
    if (found && now - found.readAt < this.versionTtlMs) return found.value as Promise<T>;
    const value = read();
    const entry: Remembered = { value, readAt: now };
    this.remembered.delete(key);
    if (this.remembered.size >= MAX_REMEMBERED) this.remembered.delete(this.remembered.keys().next().value!);
    this.remembered.set(key, entry);
    value.then(
      (settled) => {
        entry.settled = { value: settled };
      },
      // A failed read is not remembered (the database may be back on the next request).
      () => {
        if (this.remembered.get(key) === entry) this.remembered.delete(key);
      },
    );
    return value;
  }

  /**
   * What `remember` would answer for `key` if it is already read and still trusted, without a
   * promise; otherwise undefined (then ask `remember`). A dashboard poll served from memory
   * needs no promise at all (api/routes/risk-scores.ts).
   */
  rememberedNow<T>(key: string): T | undefined {
    const entry = this.remembered.get(key);
    if (!entry?.settled || Date.now() - entry.readAt >= this.versionTtlMs) return undefined;
    return entry.settled.value as T;
  }

  /** The data version of `scope` if it is known and trusted now (see rememberedNow). */
  dataVersionNow(scope: DataScope): DataVersionInfo | undefined {
    return this.rememberedNow(versionKey(scope));
  }

  /**
   * The serialised answer under `key`, which must name the data version it was computed from:
   * made once by `make` however many requests ask for it at the same time, and remembered unless
   * `make` says it is not cacheable (computed from something newer than the version, or older).
   */
  response(key: string, make: () => Promise<{ body: string | Buffer | ArrayBuffer; batches: readonly number[]; cacheable?: boolean }>): Promise<CachedResponse> {
    return this.responses.get(key, async () => {
      const { body, batches, cacheable = true } = await make();
      const buffer = typeof body === 'string' ? Buffer.from(body) : Buffer.isBuffer(body) ? body : Buffer.from(body);
      return { body: buffer, etag: `"${createHash('sha256').update(buffer).digest('base64url').slice(0, 27)}"`, batches, cacheable };
    });
  }

  /** The serialised answer under `key` if it is already made, without a promise; otherwise undefined. */
  responseNow(key: string): CachedResponse | undefined {
    return this.responses.peek(key);
  }
}
