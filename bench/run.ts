/**
 * `npm run bench`: every benchmark prints its figure beside a baseline measured in the same run.
 * Uses DATABASE_URL when set, else starts a throwaway PostgreSQL from Debian's packages.
 * BENCH_ROWS changes the ingestion size (default 1,000,000); BENCH_ONLY=ingest|scoring runs one part.
 */
import { cpus, totalmem } from 'node:os';
import { existsSync } from 'node:fs';
import { benchIngest, benchRealFile } from './ingest.ts';
import { realDataFile } from '../test/support/shared-data.ts';
import { benchScoring } from './scoring.ts';
import { startTemporaryPostgres } from '../test/support/postgres-cluster.ts';

const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
const fmt = (n: number) => Math.round(n).toLocaleString('en');

console.log(`ThreatLens benchmarks, ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ` +
  `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`);

const only = process.env.BENCH_ONLY;

if (only === undefined || only === 'scoring') {
  console.log('\n[scoring] framework pipeline, beside pandas/numpy on the same data');
  const s = await benchScoring('bench/out');
  console.log(`  57 entities x 25 years x 40 indicators, 1,000 Monte Carlo runs  ${s.monteCarlo.seconds.toFixed(3)} s  (target < 1 s)`);
  const l = s.large;
  console.log(`  ${fmt(l.entities)} entities x 25 years x 40 indicators, every year:`);
  console.log(`    threatlens       ${l.threatlensSeconds.toFixed(3)} s`);
  if (l.pandasSeconds !== null) {
    console.log(`    pandas + numpy   ${l.pandasSeconds.toFixed(3)} s`);
    console.log(`    ratio threatlens / pandas ${(l.threatlensSeconds / l.pandasSeconds).toFixed(2)}  (target <= 1)`);
    console.log(`    same scores: max |difference| ${l.maxAbsDifference!.toExponential(1)}, missing mismatches ${l.missingMismatches}`);
  } else {
    console.log(`    pandas: not run (${l.pandasNote})`);
  }
}

const cluster = only === 'scoring' || process.env.DATABASE_URL ? undefined : await startTemporaryPostgres();
const adminUrl = process.env.DATABASE_URL ?? cluster?.url ?? '';
if (only === undefined || only === 'ingest') try {
  console.log('\n[ingest] long CSV into PostgreSQL, beside COPY of the same file');
  const r = await benchIngest(adminUrl, rows, 'bench/out');
  console.log(`  threatlens ingest        ${fmt(r.ingest.rowsPerSecond).padStart(10)} rows/s  (${r.ingest.seconds.toFixed(2)} s, peak RSS ${fmt(r.ingest.maxRssMb)} MB; target < 500 MB)`);
  console.log(`  COPY, observations shape  ${fmt(r.copyIndexed.rowsPerSecond).padStart(10)} rows/s  (${r.copyIndexed.seconds.toFixed(2)} s)`);
  console.log(`  COPY, bare table         ${fmt(r.copyBare.rowsPerSecond).padStart(10)} rows/s  (${r.copyBare.seconds.toFixed(2)} s)`);
  console.log(`  ratio to COPY, same table ${(r.ingest.rowsPerSecond / r.copyIndexed.rowsPerSecond).toFixed(2)}  (target >= 0.5)`);
  console.log(`  ratio to COPY, bare      ${(r.ingest.rowsPerSecond / r.copyBare.rowsPerSecond).toFixed(2)}`);
  const unodc = realDataFile('unodc_cts_corruption_economic_crime', 'data_cts_corruption_and_economic_crime.csv');
  if (existsSync(unodc)) {
    const u = await benchRealFile(adminUrl, unodc);
    console.log(`  UNODC CTS file (real)    ${fmt(u.rowsPerSecond).padStart(10)} rows/s  (${fmt(u.rows)} observations in ${u.seconds.toFixed(2)} s, peak RSS ${fmt(u.maxRssMb)} MB)`);
  } else {
    console.log(`  UNODC CTS file: not run (${unodc} absent; it lives in ../shared/datasets/real)`);
  }
} finally {
  await cluster?.stop();
}
