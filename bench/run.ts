/**
 * `npm run bench`: every benchmark prints its figure beside a baseline measured in the same run.
 * Uses DATABASE_URL when set, else starts a throwaway PostgreSQL from Debian's packages.
 * BENCH_ROWS changes the ingestion size (default 1,000,000); BENCH_ONLY=ingest|scoring|anomaly runs one part.
 */
import { cpus, totalmem } from 'node:os';
import { existsSync } from 'node:fs';
import { benchIngest, benchRealFile } from './ingest.ts';
import { realDataFile } from '../test/support/shared-data.ts';
import { benchScoring } from './scoring.ts';
import { benchForest, forestBenchLines } from './anomaly-forest.ts';
import { benchAutoencoder, formatAutoencoderBench } from './anomaly-autoencoder.ts';
import { benchStl } from './anomaly-stl.ts';
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

if (only === undefined || only === 'anomaly') {
  console.log('\n[anomaly] detectors beside their reference implementations, same data, same run');
  for (const line of forestBenchLines(await benchForest())) console.log(line);
  for (const line of formatAutoencoderBench(await benchAutoencoder())) console.log(line);
  const stl = await benchStl({ series: Number(process.env.BENCH_STL_SERIES ?? 10_000) });
  console.log(`  STL + MAD z, ${fmt(stl.series)} monthly series x ${stl.months} months (robust STL, statsmodels' defaults on both sides):`);
  console.log(`    threatlens    ${stl.threatlensSeconds.toFixed(2)} s wall, ${stl.threatlensCpuSeconds.toFixed(2)} s CPU  (${fmt(stl.threatlensFlags)} cells |z| >= 3.5)`);
  if (stl.statsmodelsSeconds !== null) {
    console.log(`    statsmodels   ${stl.statsmodelsSeconds.toFixed(2)} s wall, ${stl.statsmodelsCpuSeconds!.toFixed(2)} s CPU  (${fmt(stl.statsmodelsFlags!)} cells)`);
    console.log(`    speed-up statsmodels / threatlens ${(stl.statsmodelsSeconds / stl.threatlensSeconds).toFixed(1)}x wall, ${(stl.statsmodelsCpuSeconds! / stl.threatlensCpuSeconds).toFixed(1)}x CPU  (target >= 10x)`);
  } else {
    console.log('    statsmodels: not run (/usr/bin/python3 with statsmodels absent)');
  }
}

const cluster = only === 'scoring' || only === 'anomaly' || process.env.DATABASE_URL ? undefined : await startTemporaryPostgres();
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
