/**
 * POST /v1/ingest (issue 9): a CSV file as the raw body, streamed to disk and ingested as one
 * batch; 413 over the upload limit, 507 when the disk would drop under its reserve, the ingest
 * engine's 4xx with file, line and field; nothing stored and no temporary file left on any
 * refusal. The memory test runs a real server (`node bin/threatlens.mjs serve`) with a 128 MB
 * heap and streams a 300 MB body to it.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, statfs } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../api/app.ts';
import { benchIndicators } from '../bench/data.ts';
import { ingestFile } from '../datasets/ingest.ts';
import { OSCE_PARTICIPATING_ISO3 } from '../datasets/reference/osce.ts';
import { refreshRiskScores } from '../engine/scoring/refresh.ts';
import { registerIndicators, seedReferenceData } from '../engine/store/catalogue.ts';
import { openStore, type Store } from '../engine/store/database.ts';
import { tempDir, writeFixture } from './support/fixtures.ts';
import { testKey, type TestCredential } from './support/principals.ts';
import { freePort } from './support/postgres-cluster.ts';
import { openTestStore, STORE_KINDS } from './support/stores.ts';

const scratch: string[] = [];
async function scratchDir(label: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `threatlens-ingest-api-${label}-`));
  scratch.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Builds the app with upload settings in the environment (the route reads them when registered). */
async function appWithEnv(store: Store, env: Record<string, string>): Promise<App> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await buildApp({ store, access: { rateLimit: false } });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Homicide and robbery rates of every participating state in `year`: enough for the simple composite. */
function panelCsv(year: number, scale = 1): string {
  const lines = ['entity,period,indicator,value'];
  OSCE_PARTICIPATING_ISO3.forEach((iso3, i) => lines.push(`${iso3},${year},homicide_rate,${(((i + 1) / 10) * scale).toFixed(3)}`, `${iso3},${year},robbery_rate,${60 - i}`));
  return `${lines.join('\n')}\n`;
}

function problemOf(res: { statusCode: number; headers: Record<string, unknown>; json(): any }, status: number, code: string) {
  expect(res.statusCode, JSON.stringify(res.json()).slice(0, 500)).toBe(status);
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  const body = res.json();
  expect(body).toMatchObject({ status, code, type: `https://threatlens.dev/problems/${code}` });
  expect(typeof body.title).toBe('string');
  return body as { detail: string; issues?: { file?: string; line?: number; field?: string; message: string }[] };
}

describe.each(STORE_KINDS)('POST /v1/ingest on %s', (kind) => {
  let store: Store;
  let app: App;
  let uploadDir: string;
  const keys = {} as Record<'analyst' | 'viewer' | 'admin', TestCredential>;

  const batchCount = async () => Number((await store.db.selectFrom('ingestion_batches').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
  const scoreVersions = async () => (await store.db.selectFrom('risk_scores').select('data_version').distinct().execute()).map((r) => r.data_version).sort();
  const uploadsLeft = async () => readdir(uploadDir);
  const post = (target: App, url: string, headers: Record<string, string>, payload: string | Buffer | Readable) =>
    target.inject({ method: 'POST', url, headers: { 'content-type': 'text/csv', ...headers }, payload });

  beforeAll(async () => {
    store = await openTestStore(kind);
    await ingestFile(store, await writeFixture(await tempDir(), 'first.csv', panelCsv(2020)), { grade: 'B2' });
    await refreshRiskScores(store.db);
    uploadDir = await scratchDir('uploads');
    app = await appWithEnv(store, { THREATLENS_UPLOAD_DIR: uploadDir, THREATLENS_DISK_RESERVE: '0' });
    keys.analyst = await testKey(store, 'analyst', 'agency-a');
    keys.viewer = await testKey(store, 'viewer', 'agency-a');
    keys.admin = await testKey(store, 'admin', 'agency-a');
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('ingests a CSV body as one batch of the caller\'s agency: 201, scores refreshed, audited; the same file again is 200 and a no-op', async () => {
    const versionsBefore = await scoreVersions();
    const batchesBefore = await batchCount();
    const csv = panelCsv(2021, 2);
    const res = await post(app, '/v1/ingest?fileName=panel-2021.csv&grade=B2&source=unit%20test', keys.analyst.headers, csv);
    expect(res.statusCode, res.body.slice(0, 500)).toBe(201);
    const summary = res.json();
    expect(summary).toMatchObject({
      file: 'panel-2021.csv',
      bytes: Buffer.byteLength(csv),
      format: 'long',
      accepted: OSCE_PARTICIPATING_ISO3.length * 2,
      rejected: 0,
      skippedAsDuplicate: false,
      owner: 'agency-a',
      sharing: 'public',
      grade: { code: 'B2', isDefault: false },
      issues: [],
      issueCount: 0,
    });
    expect(res.headers.location).toBe(`/v1/quality?batch=${summary.batchId}`);
    expect(await batchCount()).toBe(batchesBefore + 1);

    const batch = await store.db.selectFrom('ingestion_batches').selectAll().where('id', '=', summary.batchId).executeTakeFirstOrThrow();
    expect(batch).toMatchObject({ owner_agency: 'agency-a', sharing_level: 'public', file_name: 'panel-2021.csv', source: 'unit test', created_by: `key:${keys.analyst.id}`, rows_accepted: 114 });
    const stored = await store.db.selectFrom('observations').select(['entity_code', 'value']).where('batch_id', '=', summary.batchId).where('indicator_code', '=', 'homicide_rate').where('entity_code', '=', 'ALB').execute();
    expect(stored).toEqual([{ entity_code: 'ALB', value: Number((((OSCE_PARTICIPATING_ISO3.indexOf('ALB') + 1) / 10) * 2).toFixed(3)) }]);

    // Risk scores recomputed: a new data version, and scores for the new year.
    const versionsAfter = await scoreVersions();
    expect(versionsAfter).not.toEqual(versionsBefore);
    expect(summary.riskScores.years).toEqual([2020, 2021]);
    expect(versionsAfter).toEqual([summary.riskScores.dataVersion]);

    const audit = await store.db.selectFrom('audit_log').select(['action', 'actor', 'agency', 'role', 'details', 'outcome']).where('action', 'in', ['ingest', 'ingest.upload']).where('actor', '=', `key:${keys.analyst.id}`).execute();
    expect(audit.find((a) => a.action === 'ingest')).toMatchObject({ agency: 'agency-a', outcome: 'ok', details: { batchId: summary.batchId, file: 'panel-2021.csv', sha256: summary.sha256 } });
    expect(audit.find((a) => a.action === 'ingest.upload')).toMatchObject({ role: 'analyst', outcome: 'ok', details: { route: '/v1/ingest', status: 201, batches: [summary.batchId] } });

    const again = await app.inject({ method: 'POST', url: '/v1/ingest?fileName=again.csv', headers: { ...keys.admin.headers, 'content-type': 'application/octet-stream' }, payload: Buffer.from(csv) });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ batchId: null, skippedAsDuplicate: true, duplicateOf: summary.batchId, accepted: 0 });
    expect(again.json().riskScores).toBeUndefined();
    expect(await batchCount()).toBe(batchesBefore + 1);
    expect(await scoreVersions()).toEqual(versionsAfter);
    expect(await uploadsLeft()).toEqual([]);
  });

  it('stores a restricted batch for the caller\'s agency and whom it names; the owner is never a query option', async () => {
    const versionsBefore = await scoreVersions();
    const res = await post(app, '/v1/ingest?sharing=restricted&sharedWith=agency-b,agency-c&grade=europol:A1', keys.analyst.headers, 'entity,period,indicator,value\nALB,2017,homicide_rate,9.5\n');
    expect(res.statusCode, res.body.slice(0, 300)).toBe(201);
    expect(res.json()).toMatchObject({ owner: 'agency-a', sharing: 'restricted', grade: { code: 'europol:A1', isDefault: false }, accepted: 1 });
    const batch = await store.db.selectFrom('ingestion_batches').selectAll().where('id', '=', res.json().batchId).executeTakeFirstOrThrow();
    expect(batch).toMatchObject({ owner_agency: 'agency-a', sharing_level: 'restricted' });
    expect([...(batch.shared_with as string[])].sort()).toEqual(['agency-b', 'agency-c']);
    // The published scores read public batches only: a restricted batch leaves their data version alone.
    expect(await scoreVersions()).toEqual(versionsBefore);
    const owner = await post(app, '/v1/ingest?owner=public', keys.analyst.headers, 'entity,period,indicator,value\nALB,2016,homicide_rate,1\n');
    expect(problemOf(owner, 400, 'TL_VALIDATION').detail).toMatch(/querystring must NOT have additional properties/);
  });

  it('never says whether another agency holds the same file: duplicates are found among the caller\'s own batches only', async () => {
    const csv = 'entity,period,indicator,value\nSRB,2015,homicide_rate,4.25\n';
    const first = await post(app, '/v1/ingest?sharing=owner', keys.analyst.headers, csv);
    expect(first.statusCode, first.body.slice(0, 300)).toBe(201);
    const other = await testKey(store, 'analyst', 'agency-z');
    const second = await post(app, '/v1/ingest?sharing=owner', other.headers, csv);
    // A new batch of agency-z, not "duplicate of" agency-a's restricted batch.
    expect(second.statusCode, second.body.slice(0, 300)).toBe(201);
    expect(second.json()).toMatchObject({ skippedAsDuplicate: false, owner: 'agency-z', accepted: 1 });
    expect(second.json().duplicateOf).toBeUndefined();
    expect(second.json().batchId).not.toBe(first.json().batchId);
    // The same agency again: its own duplicate.
    const again = await post(app, '/v1/ingest?sharing=owner', other.headers, csv);
    expect(again.json()).toMatchObject({ skippedAsDuplicate: true, duplicateOf: second.json().batchId });
  });

  it('answers uploads sent at once, each stored once: the same file twice at once is one batch and a duplicate', async () => {
    const batchesBefore = await batchCount();
    const files = [2011, 2012, 2013, 2014].map((year) => `entity,period,indicator,value\nMKD,${year},homicide_rate,1.5\n`);
    const sent = [...files, files[0]!].map((csv) => post(app, '/v1/ingest?sharing=owner&rescore=false&deriveRates=false', keys.analyst.headers, csv));
    const answers = await Promise.all(sent);
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 201, 201, 201, 201]);
    const duplicate = answers.find((a) => a.statusCode === 200)!.json();
    const original = answers.filter((a) => a.statusCode === 201).map((a) => a.json()).find((b) => b.batchId === duplicate.duplicateOf);
    expect(original, 'the duplicate names the batch stored from the same file').toBeDefined();
    expect(await batchCount()).toBe(batchesBefore + 4);
  });

  it('derives rates per 100,000 when a batch brings counts or population, and skips the derivation otherwise', async () => {
    const counts = await post(app, '/v1/ingest?rescore=false', keys.analyst.headers, 'entity,period,indicator,value\nALB,2019,unodc_cts_corruption_count,300\nALB,2019,wb_population,2800000\n');
    expect(counts.statusCode, counts.body.slice(0, 300)).toBe(201);
    expect(counts.json().derivedRates.derived).toBeGreaterThanOrEqual(1);
    const rate = await store.db.selectFrom('observations').select('value').where('batch_id', '=', counts.json().derivedRates.batchId).where('indicator_code', '=', 'unodc_cts_corruption_per_100k').where('entity_code', '=', 'ALB').executeTakeFirstOrThrow();
    // 300 / 2,800,000 x 100,000, by hand.
    expect(rate.value).toBeCloseTo(10.714, 3);
    const ratesOnly = await post(app, '/v1/ingest?rescore=false', keys.analyst.headers, 'entity,period,indicator,value\nALB,2018,homicide_rate,2.5\n');
    expect(ratesOnly.statusCode, ratesOnly.body.slice(0, 300)).toBe(201);
    expect(ratesOnly.json().derivedRates).toBeUndefined();
  });

  it('refuses callers without a key (401), viewers (403), and a body that is not a raw file (415)', async () => {
    const before = await batchCount();
    problemOf(await post(app, '/v1/ingest', {}, panelCsv(2022)), 401, 'TL_UNAUTHENTICATED');
    expect(problemOf(await post(app, '/v1/ingest', keys.viewer.headers, panelCsv(2022)), 403, 'TL_FORBIDDEN').detail).toMatch(/role viewer may not POST \/v1\/ingest; allowed: analyst, admin/);
    const json = await app.inject({ method: 'POST', url: '/v1/ingest', headers: keys.analyst.headers, payload: { csv: 'entity,period' } });
    expect(problemOf(json, 415, 'TL_INPUT_NOT_CSV').detail).toMatch(/raw request body with content-type text\/csv.*got content-type application\/json/);
    const none = await app.inject({ method: 'POST', url: '/v1/ingest', headers: keys.analyst.headers });
    expect(problemOf(none, 415, 'TL_INPUT_NOT_CSV').detail).toMatch(/got no content-type/);
    // A bad option is refused after the body was received: the file is removed all the same.
    const bad = await post(app, '/v1/ingest?format=xml', keys.analyst.headers, panelCsv(2022));
    expect(problemOf(bad, 400, 'TL_VALIDATION').detail).toMatch(/querystring\/format/);
    const grade = await post(app, '/v1/ingest?grade=Z9', keys.analyst.headers, panelCsv(2022));
    expect(problemOf(grade, 400, 'TL_BAD_OPTION').detail).toMatch(/Z9/);
    expect(await batchCount()).toBe(before);
    expect(await uploadsLeft()).toEqual([]);
  });

  it('answers a malformed CSV with 422 naming file, line and field; nothing stored', async () => {
    const before = await batchCount();
    const bad = await post(app, '/v1/ingest?fileName=bad.csv', keys.analyst.headers, 'entity,period,indicator,value\nALB,2022,homicide_rate,1.5\nAUT,2022,homicide_rate,twelve\n');
    const body = problemOf(bad, 422, 'TL_INPUT_INVALID_ROWS');
    expect(body.detail).toMatch(/bad\.csv, line 3, field "value": "twelve" is not a number/);
    expect(body.issues![0]).toMatchObject({ file: 'bad.csv', line: 3, field: 'value' });

    const quote = await post(app, '/v1/ingest?fileName=quote.csv', keys.analyst.headers, 'entity,period,indicator,value\nALB,2022,homicide_rate,1.5\n"AUT,2022,homicide_rate,2\n');
    expect(problemOf(quote, 422, 'TL_INPUT_MALFORMED').detail).toMatch(/quote\.csv, line 3: a quoted field is not closed/);
    const empty = await post(app, '/v1/ingest', keys.analyst.headers, '');
    expect(problemOf(empty, 422, 'TL_INPUT_EMPTY').detail).toMatch(/upload\.csv: the file is empty/);
    expect(await batchCount()).toBe(before);
    expect(await uploadsLeft()).toEqual([]);
    const failed = await store.db.selectFrom('audit_log').select(['details', 'outcome']).where('action', '=', 'ingest.upload').where('outcome', '=', 'failed').execute();
    expect(failed.map((f) => (f.details as { status: number }).status)).toEqual(expect.arrayContaining([422, 415, 400]));
  });

  it('answers random and near-CSV bodies with 201, 200 or a 4xx problem, never a 5xx, and leaves no file', async () => {
    const cell = fc.oneof(fc.constantFrom('ALB', 'AUT', 'Türkiye', 'XXX', '2020', '2020-Q5', 'homicide_rate', 'robbery_rate', 'nope', '1.5', '<5', '..', '', '"', '""', 'a,b', '1e400', '-0', '\u0000', '\r'), fc.string({ maxLength: 8 }));
    const csvLike = fc
      .tuple(fc.constantFrom('entity,period,indicator,value', 'entity;period;indicator;value', 'Entity,Code,Year,Homicide rate', 'name,birth_date,value', 'a'), fc.array(fc.array(cell, { minLength: 1, maxLength: 6 }), { maxLength: 12 }), fc.constantFrom('\n', '\r\n'))
      .map(([header, rows, eol]) => [header, ...rows.map((r) => r.join(header.includes(';') ? ';' : ','))].join(eol));
    const body = fc.oneof(csvLike, fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)));
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom('text/csv', 'application/octet-stream', 'text/csv; charset=utf-8'), async (payload, type) => {
        const res = await app.inject({ method: 'POST', url: '/v1/ingest?rescore=false&deriveRates=false', headers: { ...keys.analyst.headers, 'content-type': type }, payload });
        seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1);
        expect(res.statusCode, res.body.slice(0, 300)).toBeLessThan(500);
        if (res.statusCode >= 400) expect(res.json()).toMatchObject({ status: res.statusCode, code: expect.stringMatching(/^TL_/), detail: expect.any(String) });
      }),
      { numRuns: 300, seed: 20261122 },
    );
    expect(seen.get(422) ?? 0, JSON.stringify([...seen])).toBeGreaterThan(0);
    expect(await uploadsLeft()).toEqual([]);
  }, 120_000);

  it('refuses an upload over its own limit with 413, before reading when Content-Length says so, and stores nothing', async () => {
    const limited = await appWithEnv(store, { THREATLENS_UPLOAD_DIR: uploadDir, THREATLENS_UPLOAD_LIMIT: '2000', THREATLENS_DISK_RESERVE: '0' });
    try {
      const before = await batchCount();
      const csv = panelCsv(2023); // about 3.5 kB
      expect(Buffer.byteLength(csv)).toBeGreaterThan(2000);
      const declared = await post(limited, '/v1/ingest', keys.analyst.headers, csv);
      const body = problemOf(declared, 413, 'TL_UPLOAD_TOO_LARGE');
      expect(body.detail).toMatch(new RegExp(`larger than the limit of 2000 bytes.*Content-Length says ${Buffer.byteLength(csv)} bytes.*THREATLENS_UPLOAD_LIMIT`));
      expect(declared.headers.connection).toBe('close');
      // Streamed without Content-Length: refused once the count passes the limit.
      const streamed = await post(limited, '/v1/ingest', keys.analyst.headers, Readable.from([csv.slice(0, 1500), csv.slice(1500)]));
      expect(problemOf(streamed, 413, 'TL_UPLOAD_TOO_LARGE').detail).toMatch(/larger than the limit of 2000 bytes \(0\.0 MiB\); nothing was stored/);
      // Under the limit, the same route works; the 256 KiB JSON limit does not apply to uploads either.
      expect((await post(limited, '/v1/ingest', keys.analyst.headers, 'entity,period,indicator,value\nALB,2023,homicide_rate,1.25\n')).statusCode).toBe(201);
      expect(await batchCount()).toBe(before + 1);
      expect(await uploadsLeft()).toEqual([]);
    } finally {
      await limited.close();
    }
    const big = `entity,period,indicator,value\n${'ALB,2024,homicide_rate,..\n'.repeat(20_000)}AUT,2024,homicide_rate,1\n`;
    expect(Buffer.byteLength(big)).toBeGreaterThan(256 * 1024);
    expect((await post(app, '/v1/ingest?fileName=big.csv', keys.analyst.headers, big)).statusCode).toBe(201);
  });

  it('refuses with 507 when the upload disk would have less free than THREATLENS_DISK_RESERVE; nothing stored', async () => {
    const stats = await statfs(uploadDir);
    const free = Number(stats.bavail) * Number(stats.bsize);
    const reserve = free + 1024 ** 3;
    const full = await appWithEnv(store, { THREATLENS_UPLOAD_DIR: uploadDir, THREATLENS_DISK_RESERVE: String(reserve) });
    try {
      const before = await batchCount();
      const res = await post(full, '/v1/ingest', keys.analyst.headers, panelCsv(2019));
      const body = problemOf(res, 507, 'TL_DISK_FULL');
      expect(body.detail).toMatch(new RegExp(`not enough free disk space for the upload: \\d+ bytes \\([\\d.]+ MiB\\) free in ${uploadDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*${reserve} bytes .* must stay free \\(THREATLENS_DISK_RESERVE\\); nothing was stored`));
      const reportedFree = Number(/(\d+) bytes \(/.exec(body.detail)![1]);
      expect(Math.abs(reportedFree - free)).toBeLessThan(1024 ** 3); // the disk is shared: near, not equal
      expect(await batchCount()).toBe(before);
      expect(await uploadsLeft()).toEqual([]);
    } finally {
      await full.close();
    }
  });

  it('refuses with 503 when the heap limit is under THREATLENS_INGEST_MIN_HEAP, or (Retry-After) has less free than THREATLENS_INGEST_HEAP_HEADROOM; nothing stored', async () => {
    const headroom = 1024 ** 4; // more than any heap here
    const low = await appWithEnv(store, { THREATLENS_UPLOAD_DIR: uploadDir, THREATLENS_DISK_RESERVE: '0', THREATLENS_INGEST_HEAP_HEADROOM: String(headroom) });
    const small = await appWithEnv(store, { THREATLENS_UPLOAD_DIR: uploadDir, THREATLENS_DISK_RESERVE: '0', THREATLENS_INGEST_MIN_HEAP: String(headroom) });
    try {
      const before = await batchCount();
      const res = await post(low, '/v1/ingest', keys.analyst.headers, panelCsv(2018));
      expect(problemOf(res, 503, 'TL_INSUFFICIENT_MEMORY').detail).toMatch(/MiB of JavaScript heap free \(limit [\d.]+ MiB, in use [\d.]+ MiB\); an ingestion needs 1048576\.0 MiB free \(THREATLENS_INGEST_HEAP_HEADROOM\); nothing was stored/);
      expect(res.headers['retry-after']).toBe('30');
      const limit = await post(small, '/v1/ingest', keys.analyst.headers, panelCsv(2018));
      expect(problemOf(limit, 503, 'TL_INSUFFICIENT_MEMORY').detail).toMatch(/heap limit is [\d.]+ MiB; ingesting a file through the API needs at least 1048576\.0 MiB \(THREATLENS_INGEST_MIN_HEAP;/);
      expect(limit.headers['retry-after']).toBeUndefined();
      expect(await batchCount()).toBe(before);
      expect(await uploadsLeft()).toEqual([]);
    } finally {
      await low.close();
      await small.close();
    }
    await expect(appWithEnv(store, { THREATLENS_UPLOAD_LIMIT: '64MB' })).rejects.toThrow(/THREATLENS_UPLOAD_LIMIT must be a whole number of bytes >= 1; got "64MB"/);
  });

  it('stops writing with 507 when the free space drops under the reserve during the upload', async () => {
    const stats = await statfs(uploadDir);
    const free = Number(stats.bavail) * Number(stats.bsize);
    // Room for 8 MiB: the check after the first 16 MiB written must stop the upload.
    const limited = await appWithEnv(store, { THREATLENS_UPLOAD_DIR: uploadDir, THREATLENS_DISK_RESERVE: String(free - 8 * 1024 * 1024), THREATLENS_UPLOAD_LIMIT: String(256 * 1024 * 1024) });
    try {
      const before = await batchCount();
      const chunk = Buffer.from('ALB,2024,homicide_rate,..\n'.repeat(40_000)); // ~1 MB
      let sent = 0;
      const body = new Readable({
        read() {
          if (sent >= 48) return this.push(null);
          this.push(sent++ === 0 ? Buffer.concat([Buffer.from('entity,period,indicator,value\n'), chunk]) : chunk);
        },
      });
      const res = await post(limited, '/v1/ingest', keys.analyst.headers, body);
      expect(problemOf(res, 507, 'TL_DISK_FULL').detail).toMatch(/must stay free \(THREATLENS_DISK_RESERVE\)/);
      expect(sent, 'the upload was stopped before its end').toBeLessThan(48);
      expect(await batchCount()).toBe(before);
      expect(await uploadsLeft()).toEqual([]);
    } finally {
      await limited.close();
    }
  });
});


/**
 * A long CSV of about `totalBytes`, generated as it is read: `validRows` observations of the bench
 * indicators, then rows whose value is missing (`..`) with a long `source` text. Every byte is
 * received, hashed and parsed, but only the observations are written to the database, so that
 * the test measures the upload path and the parser, not how fast PGlite inserts millions of rows.
 */
function generatedCsv(validRows: number, totalBytes: number): { stream: Readable; filler: () => number } {
  const indicators = benchIndicators(validRows).map((i) => i.code);
  const entities = OSCE_PARTICIPATING_ISO3;
  const padding = 'x'.repeat(1000);
  let row = 0;
  let bytes = 0;
  let fillerRows = 0;
  let header = true;
  const stream = new Readable({
    read() {
      const lines: string[] = [];
      if (header) {
        lines.push('entity,period,indicator,value,source');
        header = false;
      }
      for (let n = 0; n < 1000; n++, row++) {
        if (row < validRows) {
          const indicator = indicators[Math.floor(row / (entities.length * 35))]!;
          lines.push(`${entities[row % entities.length]},${1990 + (Math.floor(row / entities.length) % 35)},${indicator},${(row % 997) / 10},`);
        } else if (bytes < totalBytes) {
          lines.push(`${entities[row % entities.length]},2000,${indicators[0]},..,filler ${row} ${padding}`);
          fillerRows++;
        } else break;
      }
      if (lines.length === 0) return void this.push(null);
      const chunk = Buffer.from(`${lines.join('\n')}\n`);
      bytes += chunk.length;
      this.push(chunk);
    },
  });
  return { stream, filler: () => fillerRows };
}

/** A 1 MiB tmpfs, where the system lets this process mount one (root in a container); null otherwise. */
async function tinyFilesystem(): Promise<string | null> {
  if (process.platform !== 'linux') return null;
  const dir = await scratchDir('tiny');
  const mounted = await new Promise<boolean>((resolve) => spawn('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' }).on('exit', (code) => resolve(code === 0)).on('error', () => resolve(false)));
  return mounted ? dir : null;
}

describe('a disk that fills up during the upload (ENOSPC)', () => {
  it('answers 507 with the directory and the bytes received, stores nothing and leaves no partial file', async (context) => {
    const dir = await tinyFilesystem();
    if (dir === null) {
      context.skip('cannot mount a 1 MiB tmpfs here (needs root): the ENOSPC path is not tested');
      return;
    }
    const store = await openTestStore('pglite');
    const app = await appWithEnv(store, { THREATLENS_UPLOAD_DIR: dir, THREATLENS_DISK_RESERVE: '0' });
    try {
      const { headers } = await testKey(store, 'analyst', 'agency-a');
      const body = `entity,period,indicator,value\n${'ALB,2024,homicide_rate,..\n'.repeat(120_000)}`; // 3 MB
      // Streamed without Content-Length: the check before reading cannot see the size, the write fails.
      const res = await app.inject({ method: 'POST', url: '/v1/ingest', headers: { ...headers, 'content-type': 'text/csv' }, payload: Readable.from([body.slice(0, 1_000_000), body.slice(1_000_000, 2_000_000), body.slice(2_000_000)]) });
      expect(problemOf(res, 507, 'TL_DISK_FULL').detail).toMatch(new RegExp(`the disk of ${dir} filled up while the upload was written \\(ENOSPC, after \\d+ bytes\\); nothing was stored`));
      expect(Number((await store.db.selectFrom('ingestion_batches').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n)).toBe(0);
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await app.close();
      await store.close();
      await new Promise((resolve) => spawn('umount', [dir], { stdio: 'ignore' }).on('exit', resolve).on('error', resolve));
    }
  });
});

interface Server {
  readonly port: number;
  output(): string;
  /** Peak resident memory of the server so far, in MB (Linux). */
  peakRssMb(): Promise<number | undefined>;
  /** SIGTERM, then the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startServer(dataDir: string, heapMb: number, env: Record<string, string>): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'bin', 'threatlens.mjs'), 'serve', '--port', String(port), '--no-demo'], {
    env: { ...process.env, THREATLENS_DATA_DIR: dataDir, DATABASE_URL: '', NODE_OPTIONS: `--max-old-space-size=${heapMb}`, THREATLENS_JOBS: 'off', THREATLENS_RATE_LIMIT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (!/ThreatLens API on/.test(output)) return;
      clearInterval(timer);
      resolve();
    }, 100);
    void exited.then(() => {
      clearInterval(timer);
      reject(new Error(`the server exited before listening:\n${output.slice(-3000)}`));
    });
  });
  return {
    port,
    output: () => output,
    peakRssMb: async () => {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
      const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
      return kb === undefined ? undefined : Math.round(Number(kb) / 1024);
    },
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/**
 * POSTs a stream, without Content-Length (chunked), as a careful client does: `Expect:
 * 100-continue`, and the body only after the server's `100 Continue`. Resolves with the answer
 * and whether the body was sent.
 */
function postStream(port: number, path: string, headers: Record<string, string>, body: Readable) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string; bodySent: boolean }>((resolve, reject) => {
    let bodySent = false;
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path, headers: { ...headers, 'content-type': 'text/csv', expect: '100-continue' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        if (!bodySent) req.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, bodySent });
      });
    });
    req.on('continue', () => {
      bodySent = true;
      body.pipe(req);
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}

describe('a 300 MB upload to a server with a small heap (a real `threatlens serve`)', () => {
  const VALID_ROWS = 100_000;
  const TOTAL_BYTES = 300 * 1000 * 1000;
  let dataDir = '';
  let key: TestCredential;
  let uploadDir = '';

  beforeAll(async () => {
    dataDir = await scratchDir('data');
    uploadDir = await scratchDir('server-uploads');
    const setup = await openStore({ dataDir });
    try {
      await seedReferenceData(setup.db);
      await registerIndicators(setup.db, benchIndicators(VALID_ROWS));
      key = await testKey(setup, 'analyst', 'agency-a');
    } finally {
      await setup.close();
    }
  }, 60_000);
  const env = () => ({ THREATLENS_UPLOAD_LIMIT: String(512 * 1024 * 1024), THREATLENS_UPLOAD_DIR: uploadDir, THREATLENS_DISK_RESERVE: String(64 * 1024 * 1024) });

  it('at --max-old-space-size=128 the server refuses with 503 and a clear reason instead of running out of heap, and keeps serving', async () => {
    const server = await startServer(dataDir, 128, env());
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    try {
      const answer = await postStream(server.port, '/v1/ingest?fileName=large.csv', key.headers, generatedCsv(VALID_ROWS, TOTAL_BYTES).stream);
      expect(answer.status, `${answer.body.slice(0, 1000)}\nserver output:\n${server.output().slice(-3000)}`).toBe(503);
      const problem = JSON.parse(answer.body);
      expect(problem.code).toBe('TL_INSUFFICIENT_MEMORY');
      expect(problem.detail).toMatch(/this server's JavaScript heap limit is 176\.0 MiB; ingesting a file through the API needs at least 240\.0 MiB \(THREATLENS_INGEST_MIN_HEAP; .*nothing was stored\. .*restart the server with a larger heap/);
      expect(answer.headers['retry-after'], 'waiting does not help').toBeUndefined();
      expect(answer.bodySent, 'refused before 100 Continue: the client sent no body').toBe(false);
      const health = await fetch(`http://127.0.0.1:${server.port}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', batches: 0 });
      expect(await readdir(uploadDir)).toEqual([]);
    } finally {
      exit = await server.stop();
    }
    expect(exit, server.output().slice(-2000)).toEqual({ code: 0, signal: null });
    expect(server.output()).not.toMatch(/heap out of memory|Allocation failed/);
  }, 120_000);

  // 256 MB: 300 MB is more than the whole heap, and the heap check's margin holds whatever garbage is not yet collected.
  it('at --max-old-space-size=256 it streams the 300 MB to disk and through the parser: 201, and the server keeps serving', async () => {
    const server = await startServer(dataDir, 256, env());
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    try {
      const { stream, filler } = generatedCsv(VALID_ROWS, TOTAL_BYTES);
      const started = Date.now();
      const answer = await postStream(server.port, '/v1/ingest?fileName=large.csv&grade=C3', key.headers, stream);
      const seconds = (Date.now() - started) / 1000;
      console.log(`300 MB upload at a 256 MB heap: ${answer.status} in ${seconds.toFixed(1)} s; server peak RSS ${await server.peakRssMb()} MB`);
      expect(answer.status, `${answer.body.slice(0, 1000)}\nserver output:\n${server.output().slice(-3000)}`).toBe(201);
      expect(answer.bodySent).toBe(true);
      const summary = JSON.parse(answer.body);
      expect(summary.bytes).toBeGreaterThan(TOTAL_BYTES);
      expect(summary.bytes).toBeGreaterThan(256 * 1024 * 1024);
      expect(summary).toMatchObject({ accepted: VALID_ROWS, missing: filler(), rejected: 0, skippedAsDuplicate: false, grade: { code: 'C3' } });
      const health = await fetch(`http://127.0.0.1:${server.port}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', batches: 1 });
      expect(await readdir(uploadDir)).toEqual([]);
    } finally {
      exit = await server.stop();
    }
    expect(exit, server.output().slice(-2000)).toEqual({ code: 0, signal: null });
    expect(server.output()).not.toMatch(/heap out of memory|Allocation failed/);
  }, 180_000);
});
