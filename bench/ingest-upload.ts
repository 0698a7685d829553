/**
 * Upload throughput of POST /v1/ingest (a real HTTP server on 127.0.0.1) beside baselines measured
 * in the same run on the same file: a plain disk copy of the file (the floor of receiving it), and
 * `ingestFile` on the file as the CLI runs it (the floor of ingesting it). Phases:
 * - upload only: the body streamed to the upload directory, then refused by an option check
 *   (`grade=Z9`) before any parsing, so the time is receiving and writing;
 * - route: upload and ingestion (rates and scores not refreshed, as in the baseline).
 *
 *   node bin/run-ts.mjs bench/ingest-upload.ts            # 50 MB, PGlite
 *   BENCH_UPLOAD_MB=200 DATABASE_URL=postgres://... node bin/run-ts.mjs bench/ingest-upload.ts
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { freshDatabase } from './ingest.ts';
import { buildApp } from '../api/app.ts';
import { ingestFile } from '../datasets/ingest.ts';
import { createApiKey } from '../engine/store/keys.ts';
import { ensureAgency, registerIndicators, seedReferenceData } from '../engine/store/catalogue.ts';
import { openStore, type Store } from '../engine/store/database.ts';
import { benchIndicators, writeLongCsv } from './data.ts';

const megabytes = Number(process.env.BENCH_UPLOAD_MB ?? 50);
/** A row of writeLongCsv is about 34 bytes. */
const rows = Math.round((megabytes * 1e6) / 34);

async function freshStore(dir: string, label: string): Promise<Store> {
  const adminUrl = process.env.DATABASE_URL;
  let store: Store;
  if (adminUrl) {
    const name = `tl_bench_upload_${label}`;
    const opened = await openStore({ databaseUrl: await freshDatabase(adminUrl, name) });
    store = {
      ...opened,
      close: async () => {
        await opened.close();
        const cleanup = new pg.Client({ connectionString: adminUrl });
        await cleanup.connect();
        await cleanup.query(`drop database if exists ${name} with (force)`);
        await cleanup.end();
      },
    };
  } else {
    store = await openStore({ dataDir: join(dir, label) });
  }
  await seedReferenceData(store.db);
  await registerIndicators(store.db, benchIndicators(rows));
  return store;
}

function post(port: number, path: string, key: string, file: string, bytes: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path, headers: { authorization: `Bearer ${key}`, 'content-type': 'text/csv', 'content-length': String(bytes) } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    createReadStream(file).pipe(req);
  });
}

const timed = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
  const started = performance.now();
  const result = await work();
  return [result, (performance.now() - started) / 1000];
};

const dir = await mkdtemp(join(tmpdir(), 'threatlens-bench-upload-'));
try {
  const file = join(dir, 'upload.csv');
  await writeLongCsv(file, rows);
  const bytes = (await stat(file)).size;
  const mb = bytes / 1e6;
  console.log(`ingest upload bench, ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, store ${process.env.DATABASE_URL ? 'postgres' : 'pglite'}`);
  console.log(`  file: ${rows.toLocaleString('en')} rows, ${mb.toFixed(1)} MB`);

  const [, copySeconds] = await timed(() => pipeline(createReadStream(file), createWriteStream(join(dir, 'copy.csv'))));
  await rm(join(dir, 'copy.csv'));
  console.log(`  disk copy of the file (baseline)      ${copySeconds.toFixed(2)} s  ${(mb / copySeconds).toFixed(0)} MB/s`);

  const routeStore = await freshStore(dir, 'route');
  await ensureAgency(routeStore.db, 'bench');
  const { key } = await createApiKey(routeStore.db, { name: 'bench', agency: 'bench', role: 'analyst' }, { actor: 'bench' });
  process.env.THREATLENS_UPLOAD_DIR = dir;
  process.env.THREATLENS_UPLOAD_LIMIT = String(4 * bytes);
  const app = await buildApp({ store: routeStore, access: { rateLimit: false } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  try {
    const [refused, uploadSeconds] = await timed(() => post(port, '/v1/ingest?grade=Z9', key, file, bytes));
    if (refused.status !== 400) throw new Error(`expected the upload-only request to be refused with 400, got ${refused.status}: ${refused.body.slice(0, 300)}`);
    console.log(`  POST /v1/ingest, upload only          ${uploadSeconds.toFixed(2)} s  ${(mb / uploadSeconds).toFixed(0)} MB/s`);
    const [done, routeSeconds] = await timed(() => post(port, '/v1/ingest?rescore=false&deriveRates=false', key, file, bytes));
    if (done.status !== 201) throw new Error(`expected 201, got ${done.status}: ${done.body.slice(0, 300)}`);
    const accepted = JSON.parse(done.body).accepted as number;
    console.log(`  POST /v1/ingest, upload + ingest      ${routeSeconds.toFixed(2)} s  ${(mb / routeSeconds).toFixed(1)} MB/s  ${Math.round(accepted / routeSeconds).toLocaleString('en')} rows/s`);
  } finally {
    await app.close();
    await routeStore.close();
  }

  const directStore = await freshStore(dir, 'direct');
  try {
    const [summary, directSeconds] = await timed(() => ingestFile(directStore, file, {}));
    console.log(`  ingestFile on the file (baseline)     ${directSeconds.toFixed(2)} s  ${(mb / directSeconds).toFixed(1)} MB/s  ${Math.round(summary.accepted / directSeconds).toLocaleString('en')} rows/s`);
  } finally {
    await directStore.close();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
