/**
 * Isolation Forest benchmark: ThreatLens' forest beside scikit-learn's IsolationForest
 * (bench/peers/iforest_sklearn.py, Debian's python3-sklearn) on the same 100,000 x 20 matrix in
 * the same run, both with 100 trees and 256 rows per tree. Reports fit + score seconds of both
 * (fastest of `repeats` runs, after one warm-up for V8), their ratio (target: ThreatLens <= scikit-learn)
 * and the ROC-AUC of both on the planted anomalies, mean over the runs (target: within 0.01).
 *
 * The data: inliers are correlated Gaussian (x = A z, z ~ N(0, I), A fixed by the seed); 1% of
 * rows are inliers with three random features shifted by 4 to 6 standard deviations either way,
 * a task neither forest solves perfectly (ROC-AUC about 0.95), so a difference between them would show.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { IsolationForest } from '../engine/anomaly/isolation-forest.ts';
import { createRandom } from '../engine/stats/random.ts';
import { rocAuc } from '../engine/stats/roc-auc.ts';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';

export interface ForestBenchOptions {
  readonly rows?: number;
  readonly cols?: number;
  readonly anomalyShare?: number;
  readonly seed?: number;
  readonly repeats?: number;
  readonly outDir?: string;
}

export interface ForestBenchResult {
  readonly rows: number;
  readonly cols: number;
  readonly anomalies: number;
  readonly repeats: number;
  /** Seconds of the fastest run; ROC-AUC the mean over the runs (seeds seed .. seed + repeats - 1). */
  readonly threatlens: { readonly fitSeconds: number; readonly scoreSeconds: number; readonly seconds: number; readonly rocAuc: number; readonly rocAucRuns: readonly number[] };
  readonly sklearn: {
    readonly fitSeconds: number;
    readonly scoreSeconds: number;
    readonly seconds: number;
    readonly rocAuc: number;
    readonly rocAucRuns: readonly number[];
    /** sklearn.metrics.roc_auc_score on the same scores, as a check of rocAuc. */
    readonly rocAucBySklearn: number;
    readonly version: string;
  } | null;
  /** ThreatLens seconds / scikit-learn seconds (fit + score); <= 1 means at least as fast. */
  readonly ratio: number | null;
  readonly aucDifference: number | null;
  readonly note?: string;
}

/** The benchmark matrix (row-major) and its labels (1 = planted anomaly). */
export function forestBenchData(rows: number, cols: number, anomalyShare: number, seed: number): { data: Float64Array; labels: Uint8Array } {
  const random = createRandom(seed);
  const mixing = new Float64Array(cols * cols);
  for (let k = 0; k < mixing.length; k++) mixing[k] = random.normal(0, 1) / Math.sqrt(cols);
  for (let j = 0; j < cols; j++) mixing[j * cols + j] = mixing[j * cols + j]! + 1;
  const data = new Float64Array(rows * cols);
  const labels = new Uint8Array(rows);
  const z = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) z[j] = random.normal(0, 1);
    for (let j = 0; j < cols; j++) {
      let v = 0;
      for (let k = 0; k < cols; k++) v += mixing[j * cols + k]! * z[k]!;
      data[i * cols + j] = v;
    }
    if (random.next() < anomalyShare) {
      labels[i] = 1;
      for (let s = 0; s < 3; s++) {
        const j = random.int(0, cols);
        data[i * cols + j] = data[i * cols + j]! + (random.next() < 0.5 ? -1 : 1) * (4 + 2 * random.next());
      }
    }
  }
  return { data, labels };
}

export async function benchForest(opts: ForestBenchOptions = {}): Promise<ForestBenchResult> {
  const rows = opts.rows ?? 100_000;
  const cols = opts.cols ?? 20;
  const seed = opts.seed ?? 42;
  const repeats = opts.repeats ?? 3;
  const outDir = opts.outDir ?? 'bench/out';
  const { data, labels } = forestBenchData(rows, cols, opts.anomalyShare ?? 0.01, seed);
  let anomalies = 0;
  for (const l of labels) anomalies += l;

  // One warm-up run so V8 has compiled the hot loops; then `repeats` runs with seeds seed, seed + 1, ...
  // (as the peer's random_state): the fastest run's seconds, and the mean ROC-AUC over the runs,
  // because one forest's AUC varies by about 0.005 from seed to seed on this data.
  const warmRows = Math.min(rows, 5000);
  new IsolationForest({ nTrees: 100, sampleSize: 256, seed }).fit(data, rows, cols).scoreSamples(data.subarray(0, warmRows * cols), warmRows);
  let best = { fitSeconds: Number.POSITIVE_INFINITY, scoreSeconds: Number.POSITIVE_INFINITY };
  const aucs: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    const forest = new IsolationForest({ nTrees: 100, sampleSize: 256, seed: seed + r }).fit(data, rows, cols);
    const t1 = performance.now();
    const scores = forest.scoreSamples(data, rows);
    const t2 = performance.now();
    if ((t2 - t0) / 1000 < best.fitSeconds + best.scoreSeconds) best = { fitSeconds: (t1 - t0) / 1000, scoreSeconds: (t2 - t1) / 1000 };
    aucs.push(rocAuc(scores, labels));
  }
  const threatlens = { ...best, seconds: best.fitSeconds + best.scoreSeconds, rocAuc: mean(aucs), rocAucRuns: aucs };

  if (!existsSync(PYTHON)) {
    return { rows, cols, anomalies, repeats, threatlens, sklearn: null, ratio: null, aucDifference: null, note: `${PYTHON} not found: install Debian's python3-sklearn to compare` };
  }
  await mkdir(outDir, { recursive: true });
  const dataPath = join(outDir, 'iforest-data.f64');
  const labelsPath = join(outDir, 'iforest-labels.u8');
  const scoresPath = join(outDir, 'iforest-sklearn-scores.f64');
  await writeFile(dataPath, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  await writeFile(labelsPath, labels);
  try {
    const { stdout } = await run(PYTHON, ['bench/peers/iforest_sklearn.py', dataPath, labelsPath, scoresPath, String(rows), String(cols), String(seed), String(repeats)], { maxBuffer: 1 << 20 });
    const peer = JSON.parse(stdout.trim().split('\n').pop()!) as { fit_seconds: number; score_seconds: number; roc_auc: number[]; sklearn: string };
    const buffer = await readFile(scoresPath);
    const all = new Float64Array(buffer.buffer, buffer.byteOffset, buffer.byteLength / 8);
    if (all.length !== repeats * rows) throw new Error(`peer wrote ${all.length} scores, expected ${repeats} x ${rows}`);
    // AUC recomputed here from the peer's scores (the same function as for ours); sklearn's own figure is kept as a check.
    const sklearnAucs = Array.from({ length: repeats }, (_, r) => rocAuc(all.subarray(r * rows, (r + 1) * rows), labels));
    const sklearn = {
      fitSeconds: peer.fit_seconds,
      scoreSeconds: peer.score_seconds,
      seconds: peer.fit_seconds + peer.score_seconds,
      rocAuc: mean(sklearnAucs),
      rocAucRuns: sklearnAucs,
      rocAucBySklearn: mean(peer.roc_auc),
      version: peer.sklearn,
    };
    return { rows, cols, anomalies, repeats, threatlens, sklearn, ratio: threatlens.seconds / sklearn.seconds, aucDifference: threatlens.rocAuc - sklearn.rocAuc };
  } catch (error) {
    return { rows, cols, anomalies, repeats, threatlens, sklearn: null, ratio: null, aucDifference: null, note: `scikit-learn peer failed: ${(error as Error).message.split('\n')[0]} (install Debian's python3-sklearn)` };
  }
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** The benchmark's report lines, in bench/run.ts's style, for the coordinator to print. */
export function forestBenchLines(r: ForestBenchResult): string[] {
  const fmt = (n: number) => Math.round(n).toLocaleString('en');
  const lines = [
    `  ${fmt(r.rows)} rows x ${r.cols} features, ${fmt(r.anomalies)} planted anomalies; 100 trees, 256 rows per tree (fastest of ${r.repeats} runs, ROC-AUC their mean)`,
    `    threatlens    fit ${r.threatlens.fitSeconds.toFixed(3)} s + score ${r.threatlens.scoreSeconds.toFixed(3)} s = ${r.threatlens.seconds.toFixed(3)} s   ROC-AUC ${r.threatlens.rocAuc.toFixed(4)}`,
  ];
  if (r.sklearn) {
    lines.push(
      `    scikit-learn  fit ${r.sklearn.fitSeconds.toFixed(3)} s + score ${r.sklearn.scoreSeconds.toFixed(3)} s = ${r.sklearn.seconds.toFixed(3)} s   ROC-AUC ${r.sklearn.rocAuc.toFixed(4)}  (${r.sklearn.version})`,
      `    ratio threatlens / scikit-learn ${r.ratio!.toFixed(2)}  (target <= 1); ROC-AUC difference ${r.aucDifference! >= 0 ? '+' : ''}${r.aucDifference!.toFixed(4)}  (target within 0.01)`,
    );
  } else {
    lines.push(`    scikit-learn: not run (${r.note})`);
  }
  return lines;
}
