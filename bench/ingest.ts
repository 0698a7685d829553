/**
 * Ingestion throughput: a 1,000,000-row long CSV through `threatlens ingest` (parse, validate,
 * one transaction, COPY) into PostgreSQL, beside PostgreSQL's own COPY of the same file in the
 * same run: into a bare table of the file's four columns (the floor: no validation, no index)
 * and into a table shaped like `observations`, same columns and primary key (the same storage
 * work ThreatLens must do).
 */
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { writeLongCsv } from './data.ts';

const run = promisify(execFile);

export interface IngestBenchResult {
  rows: number;
  ingest: { seconds: number; rowsPerSecond: number; maxRssMb: number };
  copyBare: { seconds: number; rowsPerSecond: number };
  copyIndexed: { seconds: number; rowsPerSecond: number };
}

async function timedCopy(url: string, file: string, tableDdl: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('drop table if exists bench_copy');
    await client.query(tableDdl);
    const started = performance.now();
    await pipeline(createReadStream(file), client.query(copyFrom('copy bench_copy (entity_code, period, indicator_code, value) from stdin with (format csv, header true)')));
    const seconds = (performance.now() - started) / 1000;
    await client.query('drop table bench_copy');
    return seconds;
  } finally {
    await client.end();
  }
}

/** Drops and creates database `name` on the server of `adminUrl`; returns its URL. */
export async function freshDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function benchIngest(adminUrl: string, rows: number, outDir: string): Promise<IngestBenchResult> {
  await mkdir(outDir, { recursive: true });
  const file = join(outDir, `long-${rows}.csv`);
  await writeLongCsv(file, rows);
  const megabytes = (await stat(file)).size / 1e6;
  console.log(`  input: ${rows.toLocaleString('en')} rows, ${megabytes.toFixed(1)} MB`);

  const copyUrl = await freshDatabase(adminUrl, 'threatlens_bench_copy');
  const bare = await timedCopy(copyUrl, file, 'create table bench_copy (entity_code text, period text, indicator_code text, value float8)');
  // The same columns, defaults and primary key as `observations`: the storage work ThreatLens does.
  const indexed = await timedCopy(
    copyUrl,
    file,
    `create table bench_copy (batch_id integer not null default 1, entity_code text not null, indicator_code text not null,
       period text not null, period_kind text not null default 'year', year smallint not null default 0, value float8,
       value_qualifier text, flags text[] not null default '{}', row_source text,
       primary key (indicator_code, entity_code, period, batch_id))`,
  );

  const ingestUrl = await freshDatabase(adminUrl, 'threatlens_bench_ingest');
  const { stdout } = await run(process.execPath, ['bin/run-ts.mjs', 'bench/ingest-worker.ts', ingestUrl, file, String(rows)], {
    maxBuffer: 1 << 20,
  });
  const worker = JSON.parse(stdout.trim().split('\n').pop()!) as { rows: number; seconds: number; maxRssMb: number };
  if (worker.rows !== rows) throw new Error(`ingestion stored ${worker.rows} rows, expected ${rows}`);
  return {
    rows,
    ingest: { seconds: worker.seconds, rowsPerSecond: rows / worker.seconds, maxRssMb: worker.maxRssMb },
    copyBare: { seconds: bare, rowsPerSecond: rows / bare },
    copyIndexed: { seconds: indexed, rowsPerSecond: rows / indexed },
  };
}

/** A real publisher's file (the UNODC CTS export, about 23,000 rows) through `threatlens ingest`. */
export async function benchRealFile(adminUrl: string, file: string): Promise<{ rows: number; seconds: number; rowsPerSecond: number; maxRssMb: number }> {
  const url = await freshDatabase(adminUrl, 'threatlens_bench_real');
  const { stdout } = await run(process.execPath, ['bin/run-ts.mjs', 'bench/ingest-worker.ts', url, file, '0'], { maxBuffer: 1 << 20 });
  const worker = JSON.parse(stdout.trim().split('\n').pop()!) as { rows: number; seconds: number; maxRssMb: number };
  return { ...worker, rowsPerSecond: worker.rows / worker.seconds };
}
