/**
 * `threatlens fetch`: downloads a publisher's current file (datasets/sources.ts) with Node's
 * global fetch and a timeout, streams it to a temporary file in the output directory and renames
 * it when complete, so that a failed download never leaves a half-written file under the real
 * name. The SHA-256 is computed while streaming. Optionally ingests what it fetched.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { ThreatLensError } from '../engine/errors.ts';
import type { Store } from '../engine/store/database.ts';
import { ingestFile, type IngestOptions, type IngestSummary } from './ingest.ts';
import { resolveCountry } from './reference/countries.ts';
import { FETCH_SOURCES, sourceUrl, type FetchSource } from './sources.ts';

export const DEFAULT_FETCH_TIMEOUT_MS = 120_000;

export interface FetchOptions {
  /** Directory to save into (created if absent); default the current directory. */
  readonly outDir?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** For the whole download of each request, body included. */
  readonly timeoutMs?: number;
}

export interface FetchResult {
  readonly source: string;
  readonly url: string;
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
}

export function findSource(id: string): FetchSource {
  const source = FETCH_SOURCES.find((s) => s.id === id);
  if (!source) {
    throw new ThreatLensError('TL_BAD_OPTION', `unknown source "${id}"; choose one of ${FETCH_SOURCES.map((s) => s.id).join(', ')}`);
  }
  return source;
}

/** Network error codes that mean "could not talk to the server", with words for them. */
const NETWORK_REASONS: Readonly<Record<string, string>> = {
  ENOTFOUND: 'DNS lookup failed',
  EAI_AGAIN: 'DNS lookup failed',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed',
};

/** Why a request failed, in words, or null when it is not a network failure (a bug: rethrow). */
export function networkReason(error: unknown, timeoutMs: number): string | null {
  const e = error as { name?: string; code?: string; cause?: { code?: string; name?: string } } | null;
  if (e?.name === 'TimeoutError' || e?.cause?.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  const code = e?.cause?.code ?? e?.code;
  if (code && NETWORK_REASONS[code]) return `${NETWORK_REASONS[code]}: ${code}`;
  if (e?.name === 'TypeError' && /fetch failed|terminated/.test(String((error as Error).message))) return 'the connection failed';
  return null;
}

function unreachable(url: URL, source: FetchSource, reason: string, cause: unknown): ThreatLensError {
  return new ThreatLensError(
    'TL_FETCH_UNREACHABLE',
    `cannot reach ${url.host} (${reason}); ThreatLens fetches from the publisher's public address — check the network ` +
      `or download the file by hand from ${source.url} and run threatlens ingest`,
    { cause },
  );
}

/** GET with a timeout; network failures become TL_FETCH_UNREACHABLE, HTTP errors TL_FETCH_HTTP. */
async function get(url: URL, source: FetchSource, timeoutMs: number): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  } catch (error) {
    const reason = networkReason(error, timeoutMs);
    if (reason) throw unreachable(url, source, reason, error);
    throw error;
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new ThreatLensError(
      'TL_FETCH_HTTP',
      `${url.host} answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''} for ${url.href}; nothing was saved. ` +
        `The publisher may have moved the file: download it by hand from ${source.url} and run threatlens ingest`,
    );
  }
  return response;
}

function partPath(final: string): string {
  return join(resolve(final, '..'), `.${randomBytes(6).toString('hex')}.part`);
}

/** Streams a response body to `final` through a temporary file, hashing it on the way. */
async function saveBody(response: Response, final: string, url: URL, source: FetchSource, timeoutMs: number): Promise<{ bytes: number; sha256: string }> {
  const part = partPath(final);
  const hash = createHash('sha256');
  let bytes = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  try {
    if (!response.body) throw new Error('the response has no body');
    await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), count, createWriteStream(part));
    await rename(part, final);
  } catch (error) {
    await rm(part, { force: true });
    const reason = networkReason(error, timeoutMs);
    if (reason) throw unreachable(url, source, reason, error);
    throw error;
  }
  return { bytes, sha256: hash.digest('hex') };
}

interface WorldBankRow {
  readonly countryiso3code?: string;
  readonly country?: { readonly value?: string };
  readonly date?: string;
  readonly value?: number | null;
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * World Bank API rows as the tidy CSV of the shared copy (`iso3,country,year,population,source`),
 * countries only: aggregates (WLD, EUU, ...) have codes no country has and are left out, as are
 * years without a value. Sorted by code and year.
 */
export function worldBankRowsToCsv(rows: readonly WorldBankRow[]): string {
  const kept = rows
    .filter((r) => r.value !== null && r.value !== undefined && r.countryiso3code && r.date && resolveCountry(r.countryiso3code) === r.countryiso3code)
    .map((r) => ({ iso3: r.countryiso3code!, country: r.country?.value ?? '', year: r.date!, value: r.value! }))
    .sort((a, b) => a.iso3.localeCompare(b.iso3) || a.year.localeCompare(b.year));
  const lines = ['iso3,country,year,population,source', ...kept.map((r) => `${r.iso3},${csvField(r.country)},${r.year},${r.value},World Bank WDI`)];
  return `${lines.join('\n')}\n`;
}

/** Every page of a World Bank API v2 answer (`[meta, rows]`). */
async function worldBankRows(url: URL, source: FetchSource, timeoutMs: number): Promise<WorldBankRow[]> {
  const rows: WorldBankRow[] = [];
  for (let page = 1, pages = 1; page <= pages; page++) {
    const pageUrl = new URL(url);
    pageUrl.searchParams.set('page', String(page));
    const response = await get(pageUrl, source, timeoutMs);
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      const reason = networkReason(error, timeoutMs);
      if (reason) throw unreachable(pageUrl, source, reason, error);
      throw new ThreatLensError('TL_FETCH_HTTP', `${pageUrl.host} did not answer JSON for ${pageUrl.href}; download the file by hand from ${source.url}`, { cause: error });
    }
    const [meta, data] = Array.isArray(body) ? body : [];
    if (!Array.isArray(data)) {
      throw new ThreatLensError('TL_FETCH_HTTP', `${pageUrl.host} answered ${JSON.stringify(body).slice(0, 200)} for ${pageUrl.href}, not World Bank API data`);
    }
    rows.push(...(data as WorldBankRow[]));
    pages = Number((meta as { pages?: number } | undefined)?.pages ?? 1);
  }
  return rows;
}

/** Writes text to `final` through a temporary file (no half-written file under the real name). */
async function writeAtomically(final: string, text: string): Promise<{ bytes: number; sha256: string }> {
  const part = partPath(final);
  try {
    await writeFile(part, text);
    await rename(part, final);
  } catch (error) {
    await rm(part, { force: true });
    throw error;
  }
  return { bytes: Buffer.byteLength(text), sha256: createHash('sha256').update(text).digest('hex') };
}

/** Downloads a source's current file; resolves to where it is and its SHA-256. */
export async function fetchSource(id: string, options: FetchOptions = {}): Promise<FetchResult> {
  const source = findSource(id);
  const url = sourceUrl(source, options.env);
  const timeoutMs = options.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  const outDir = resolve(options.outDir ?? '.');
  await mkdir(outDir, { recursive: true });
  const file = join(outDir, source.fileName);
  const saved =
    source.kind === 'worldbank-json'
      ? await writeAtomically(file, worldBankRowsToCsv(await worldBankRows(url, source, timeoutMs)))
      : await saveBody(await get(url, source, timeoutMs), file, url, source, timeoutMs);
  return { source: source.id, url: url.href, file, ...saved };
}

/** Fetches a source and ingests the file with the source's format as one batch. */
export async function fetchAndIngest(
  store: Store,
  id: string,
  options: FetchOptions & { readonly ingest?: Omit<IngestOptions, 'format'> } = {},
): Promise<{ fetched: FetchResult; ingested: IngestSummary }> {
  const fetched = await fetchSource(id, options);
  const source = findSource(id);
  const ingested = await ingestFile(store, fetched.file, { source: source.title, ...options.ingest, format: source.ingestFormat });
  return { fetched, ingested };
}
