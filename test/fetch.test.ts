/**
 * `threatlens fetch` against a local HTTP server (node:http on 127.0.0.1) that serves the real
 * files from ../shared/datasets/real (skipped where absent) on the publishers' paths; the real
 * publishers are never contacted. Checks: byte-for-byte downloads (SHA-256 as in SOURCE.md), the
 * World Bank API pages as a tidy CSV, --ingest, and failures that leave no file behind.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchAndIngest, fetchSource, worldBankRowsToCsv } from '../datasets/fetch.ts';
import { baseEnvName, FETCH_SOURCES, sourceUrl } from '../datasets/sources.ts';
import { ThreatLensError } from '../engine/errors.ts';
import type { Store } from '../engine/store/database.ts';
import { tempDir } from './support/fixtures.ts';
import { hasRealData, realDataFile } from './support/shared-data.ts';
import { openTestStore } from './support/stores.ts';

const OWID = ['owid_homicide_rate', 'homicide-rate-unodc.csv'];
const EUROSTAT = ['eurostat_crim_off_cat', 'estat_crim_off_cat.tsv'];
const POPULATION = ['worldbank_population', 'pop_by_country.csv'];

describe('source addresses', () => {
  const owid = FETCH_SOURCES.find((s) => s.id === 'owid-homicide')!;
  it('uses the publisher\'s address unless a mirror or a per-source base is set', () => {
    expect(sourceUrl(owid, {}).href).toBe(owid.url);
    expect(sourceUrl(owid, { THREATLENS_FETCH_MIRROR: 'http://127.0.0.1:8080' }).href).toBe(
      'http://127.0.0.1:8080/grapher/homicide-rate-unodc.csv?v=1&csvType=full&useColumnShortNames=false',
    );
    expect(baseEnvName('owid-homicide')).toBe('THREATLENS_FETCH_BASE_OWID_HOMICIDE');
    expect(sourceUrl(owid, { THREATLENS_FETCH_MIRROR: 'http://a', THREATLENS_FETCH_BASE_OWID_HOMICIDE: 'http://b/m/' }).href).toMatch(/^http:\/\/b\/m\/grapher\//);
  });

  it('writes World Bank API rows as the tidy CSV, countries only, years with a value only', () => {
    const csv = worldBankRowsToCsv([
      { countryiso3code: 'WLD', country: { value: 'World' }, date: '2020', value: 7.8e9 },
      { countryiso3code: 'DEU', country: { value: 'Germany' }, date: '2021', value: 83196078 },
      { countryiso3code: 'DEU', country: { value: 'Germany' }, date: '2020', value: 83160871 },
      { countryiso3code: 'KOR', country: { value: 'Korea, Rep.' }, date: '2020', value: 51836239 },
      { countryiso3code: 'FRA', country: { value: 'France' }, date: '2024', value: null },
    ]);
    expect(csv).toBe('iso3,country,year,population,source\nDEU,Germany,2020,83160871,World Bank WDI\nDEU,Germany,2021,83196078,World Bank WDI\nKOR,"Korea, Rep.",2020,51836239,World Bank WDI\n');
  });

  it('refuses an unknown source, naming the known ones', async () => {
    await expect(fetchSource('nope', { outDir: await tempDir() })).rejects.toThrow(/unknown source "nope"; choose one of owid-homicide, eurostat-crim-off-cat, worldbank-population/);
  });
});

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** World Bank API v2 JSON pages built from the shared tidy CSV (which came from that API). */
function worldBankPages(csvText: string, perPage: number): unknown[][] {
  const rows = csvText.trim().split(/\r?\n/).slice(1).map((line) => {
    const m = /^([^,]*),("(?:[^"]|"")*"|[^,]*),(\d+),([^,]*),/.exec(line)!;
    return { countryiso3code: m[1], country: { id: '', value: m[2]!.replace(/^"|"$/g, '').replace(/""/g, '"') }, date: m[3], value: m[4] === '' ? null : Number(m[4]) };
  });
  const pages = Math.ceil(rows.length / perPage);
  return Array.from({ length: pages }, (_, i) => [
    { page: i + 1, pages, per_page: perPage, total: rows.length },
    rows.slice(i * perPage, (i + 1) * perPage),
  ]);
}

describe.skipIf(!hasRealData('fetch tests', OWID, EUROSTAT, POPULATION))('threatlens fetch from a local server', () => {
  let server: Server;
  let base: string;
  let handler: Handler;
  let pages: unknown[][];
  const files = new Map<string, Buffer>();
  const env = () => ({ THREATLENS_FETCH_MIRROR: base });
  const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

  /** Serves the real files on the publishers' paths. */
  const publisherPaths: Handler = (req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    const body = files.get(url.pathname);
    if (body) {
      res.writeHead(200, { 'content-type': 'text/csv' }).end(body);
    } else if (url.pathname === '/v2/country/all/indicator/SP.POP.TOTL') {
      const page = pages[Number(url.searchParams.get('page') ?? '1') - 1];
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(page ?? [{ message: 'no such page' }]));
    } else {
      res.writeHead(404).end('not found');
    }
  };

  beforeAll(async () => {
    files.set('/grapher/homicide-rate-unodc.csv', readFileSync(realDataFile(...OWID)));
    files.set('/eurostat/api/dissemination/sdmx/2.1/data/crim_off_cat', readFileSync(realDataFile(...EUROSTAT)));
    // Two pages, so that paging is exercised (the real API answers one page of 20,000).
    pages = worldBankPages(readFileSync(realDataFile(...POPULATION), 'utf8'), 10_000);
    handler = publisherPaths;
    server = createServer((req, res) => handler(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('downloads the OWID and Eurostat files byte for byte (SHA-256 as in their SOURCE.md)', async () => {
    handler = publisherPaths;
    const out = await tempDir();
    const owid = await fetchSource('owid-homicide', { outDir: out, env: env() });
    // SOURCE.md: sha256 5715fa1a...
    expect(owid).toMatchObject({ source: 'owid-homicide', bytes: 179_803, sha256: '5715fa1a32419df2c2ede152a8c7aea966791250024aab6f49baa235bd82a249' });
    expect(sha256(await readFile(owid.file))).toBe(owid.sha256);
    const eurostat = await fetchSource('eurostat-crim-off-cat', { outDir: out, env: env() });
    expect(eurostat.sha256).toBe('0cf2d8fc94f28f922fea92807485f0471b2d884678024a2dcb8965b255e468af');
    expect((await readdir(out)).sort()).toEqual(['estat_crim_off_cat.tsv', 'homicide-rate-unodc.csv']);
  });

  it('reads every World Bank API page and writes the countries as a tidy CSV', async () => {
    handler = publisherPaths;
    const fetched = await fetchSource('worldbank-population', { outDir: await tempDir(), env: env() });
    const text = await readFile(fetched.file, 'utf8');
    expect(sha256(text)).toBe(fetched.sha256);
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('iso3,country,year,population,source');
    // Every country-year of the shared copy is back, from both pages; aggregates (WLD) are not.
    // The shared copy has CRLF line ends; ours are LF.
    const shared = readFileSync(realDataFile(...POPULATION), 'utf8').trim().split(/\r?\n/).slice(1);
    const germany = shared.filter((l) => l.startsWith('DEU,'));
    expect(lines.filter((l) => l.startsWith('DEU,'))).toEqual(germany);
    expect(lines.some((l) => l.startsWith('WLD,'))).toBe(false);
    expect(lines.some((l) => l.startsWith('ZWE,'))).toBe(true);
  });

  describe('with --ingest', () => {
    let store: Store;
    beforeAll(async () => {
      store = await openTestStore('pglite');
    });
    afterAll(async () => {
      await store?.close();
    });

    it('stores what it fetched as a batch, once', async () => {
      handler = publisherPaths;
      const out = await tempDir();
      const { fetched, ingested } = await fetchAndIngest(store, 'owid-homicide', { outDir: out, env: env(), ingest: { grade: 'A2' } });
      expect(ingested).toMatchObject({ format: 'owid', sha256: fetched.sha256, rejected: 0, skippedAsDuplicate: false });
      expect(ingested.accepted).toBeGreaterThan(4000);
      const batch = await store.db.selectFrom('ingestion_batches').selectAll().where('id', '=', ingested.batchId!).executeTakeFirstOrThrow();
      expect(batch).toMatchObject({ file_name: 'homicide-rate-unodc.csv', source_reliability: 'A', information_credibility: '2', rows_accepted: ingested.accepted });
      expect(batch.source).toMatch(/Our World in Data/);
      const again = await fetchAndIngest(store, 'owid-homicide', { outDir: out, env: env() });
      expect(again.ingested).toMatchObject({ skippedAsDuplicate: true, duplicateOf: ingested.batchId });
    });

    it('ingests the World Bank population CSV it writes (the wdi connector reads that layout)', async () => {
      handler = publisherPaths;
      const { ingested } = await fetchAndIngest(store, 'worldbank-population', { outDir: await tempDir(), env: env() });
      expect(ingested).toMatchObject({ format: 'wdi', rejected: 0, skippedAsDuplicate: false });
      // pop_by_country.csv: "DEU,Germany,2020,83160871,World Bank WDI".
      const row = await store.db.selectFrom('observations').select('value').where('indicator_code', '=', 'wb_population').where('entity_code', '=', 'DEU').where('period', '=', '2020').executeTakeFirst();
      expect(row?.value).toBe(83160871);
    });
  });

  async function expectNoFileAfter(id: string, code: string, message: RegExp, timeoutMs?: number): Promise<void> {
    const out = await tempDir();
    const error = await fetchSource(id, { outDir: out, env: env(), ...(timeoutMs ? { timeoutMs } : {}) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThreatLensError);
    expect((error as ThreatLensError).code).toBe(code);
    expect((error as Error).message).toMatch(message);
    expect(await readdir(out)).toEqual([]);
  }

  it('answers HTTP 404 and 500 with a clear error and leaves no file', async () => {
    handler = (_req, res) => res.writeHead(404, 'Not Found').end('gone');
    await expectNoFileAfter('owid-homicide', 'TL_FETCH_HTTP', /^127\.0\.0\.1:\d+ answered HTTP 404 Not Found for http:\/\/127\.0\.0\.1:\d+\/grapher\/homicide-rate-unodc\.csv\?.*; nothing was saved\. .*download it by hand from https:\/\/ourworldindata\.org\/grapher\/homicide-rate-unodc\.csv/);
    handler = (_req, res) => res.writeHead(500).end('boom');
    await expectNoFileAfter('eurostat-crim-off-cat', 'TL_FETCH_HTTP', /answered HTTP 500/);
    await expectNoFileAfter('worldbank-population', 'TL_FETCH_HTTP', /answered HTTP 500/);
  });

  it('gives up after the timeout, also in the middle of the body, and leaves no half-written file', async () => {
    handler = () => undefined; // never answers
    await expectNoFileAfter('owid-homicide', 'TL_FETCH_UNREACHABLE', /^cannot reach 127\.0\.0\.1:\d+ \(no answer within 0\.3 s\)/, 300);
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.write('Entity,Code,Year,value\nGermany,DEU,2020,0.9\n'); // then nothing more
    };
    await expectNoFileAfter('owid-homicide', 'TL_FETCH_UNREACHABLE', /no answer within 0\.3 s/, 300);
  });
});

/** A loopback port with nothing listening. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('fetch when the publisher cannot be reached', () => {
  it('says which host, why, and what to do by hand', async () => {
    const port = await closedPort();
    const out = await tempDir();
    const error = await fetchSource('owid-homicide', { outDir: out, env: { THREATLENS_FETCH_MIRROR: `http://127.0.0.1:${port}` } }).catch((e: unknown) => e);
    expect((error as ThreatLensError).code).toBe('TL_FETCH_UNREACHABLE');
    expect((error as Error).message).toBe(
      `cannot reach 127.0.0.1:${port} (connection refused: ECONNREFUSED); ThreatLens fetches from the publisher's public address — ` +
        'check the network or download the file by hand from https://ourworldindata.org/grapher/homicide-rate-unodc.csv?v=1&csvType=full&useColumnShortNames=false and run threatlens ingest',
    );
    expect(await readdir(out)).toEqual([]);
  });

  it('exits 1 from the command line with that message', async () => {
    const port = await closedPort();
    const out = await tempDir();
    const result = await promisify(execFile)(process.execPath, ['bin/threatlens.mjs', 'fetch', 'eurostat-crim-off-cat', '--out', out], {
      env: { ...process.env, THREATLENS_FETCH_BASE_EUROSTAT_CRIM_OFF_CAT: `http://127.0.0.1:${port}`, DATABASE_URL: '', THREATLENS_DATA_DIR: `${out}/store` },
    }).catch((e: { code: number; stderr: string }) => e);
    expect((result as { code: number }).code).toBe(1);
    expect((result as { stderr: string }).stderr).toMatch(/^error TL_FETCH_UNREACHABLE: cannot reach 127\.0\.0\.1:\d+ \(connection refused: ECONNREFUSED\); .* download the file by hand from https:\/\/ec\.europa\.eu\/eurostat\/api\/dissemination\/sdmx\/2\.1\/data\/crim_off_cat\?format=TSV&compressed=false and run threatlens ingest$/m);
    expect(await readdir(out)).toEqual([]);
  }, 60_000);
});
