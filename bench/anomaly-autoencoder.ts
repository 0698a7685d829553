/**
 * Autoencoder training throughput (rows per second) on TensorFlow.js's wasm backend beside its
 * plain JavaScript 'cpu' backend: the same network, data, seed and hyperparameters, in the same run.
 * Each backend first trains one short warm-up run (kernel set-up, JIT); then the two backends
 * alternate for `repeats` timed runs each (so that a burst of load on a shared machine hits both
 * alike) and the median is reported. A run's time covers the training epochs only (from the start
 * of training to the last epoch's callback).
 *
 *   node bin/run-ts.mjs bench/anomaly-autoencoder.ts   (BENCH_AE_ROWS, BENCH_AE_EPOCHS, BENCH_AE_REPEATS)
 */
import * as tf from '@tensorflow/tfjs';
import { createRandom } from '../engine/stats/random.ts';
import {
  DEFAULT_AUTOENCODER_HYPERPARAMETERS,
  ensureBackend,
  trainAutoencoder,
  type AutoencoderHyperparameters,
  type BackendName,
} from '../models/autoencoder.ts';

export interface BackendThroughput {
  readonly backend: BackendName;
  /** Median over the repeats. */
  readonly seconds: number;
  readonly rowsPerSecond: number;
  /** rows/s of every repeat, in order. */
  readonly runs: readonly number[];
  /** Training loss of the last epoch: the two backends should agree to float32 rounding. */
  readonly finalLoss: number;
}

export interface AutoencoderBenchResult {
  readonly rows: number;
  readonly cols: number;
  readonly epochs: number;
  readonly hyperparameters: AutoencoderHyperparameters;
  readonly wasm: BackendThroughput;
  readonly cpu: BackendThroughput;
  /** wasm rows/s divided by cpu rows/s. */
  readonly speedup: number;
  /** What the wasm backend runs with in this process. */
  readonly wasmFeatures: { readonly simd: boolean; readonly threads: boolean };
}

export interface AutoencoderBenchOptions {
  readonly rows?: number;
  readonly cols?: number;
  readonly epochs?: number;
  readonly seed?: number;
  readonly repeats?: number;
}

/** A seeded panel-like matrix: 4 latent factors behind `cols` standardised indicators, plus noise. */
export function benchMatrix(rows: number, cols: number, seed: number): Float64Array {
  const random = createRandom(seed);
  const k = 4;
  const loadings = Array.from({ length: k }, () => Array.from({ length: cols }, () => random.normal()));
  const data = new Float64Array(rows * cols);
  const f = new Float64Array(k);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < k; j++) f[j] = random.normal();
    for (let c = 0; c < cols; c++) {
      let v = 0;
      for (let j = 0; j < k; j++) v += f[j]! * loadings[j]![c]!;
      data[r * cols + c] = v / 2 + 0.3 * random.normal();
    }
  }
  return data;
}

async function warmUp(backend: BackendName, data: Float64Array, rows: number, cols: number, hp: AutoencoderHyperparameters, seed: number): Promise<void> {
  await ensureBackend(backend);
  const n = Math.min(rows, 1000);
  const warm = await trainAutoencoder(data.subarray(0, n * cols), n, cols, { ...hp, epochs: 1 }, { seed });
  warm.model.dispose();
}

async function timedRun(
  backend: BackendName,
  data: Float64Array,
  rows: number,
  cols: number,
  hp: AutoencoderHyperparameters,
  seed: number,
): Promise<{ seconds: number; finalLoss: number }> {
  await ensureBackend(backend);
  let last = 0;
  let finalLoss = Number.NaN;
  const start = performance.now();
  const trained = await trainAutoencoder(data, rows, cols, hp, {
    seed,
    onEpoch: (_, metrics) => {
      last = performance.now();
      finalLoss = metrics.trainLoss;
    },
  });
  trained.model.dispose();
  return { seconds: (last - start) / 1000, finalLoss };
}

function summarise(backend: BackendName, runs: { seconds: number; finalLoss: number }[], rows: number, epochs: number): BackendThroughput {
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds);
  const seconds = sorted[Math.floor((sorted.length - 1) / 2)]!.seconds;
  return {
    backend,
    seconds,
    rowsPerSecond: (rows * epochs) / seconds,
    runs: runs.map((r) => (rows * epochs) / r.seconds),
    finalLoss: runs[0]!.finalLoss,
  };
}

export async function benchAutoencoder(options: AutoencoderBenchOptions = {}): Promise<AutoencoderBenchResult> {
  const rows = options.rows ?? Number(process.env.BENCH_AE_ROWS ?? 20_000);
  const cols = options.cols ?? 20;
  const epochs = options.epochs ?? Number(process.env.BENCH_AE_EPOCHS ?? 3);
  const repeats = options.repeats ?? Number(process.env.BENCH_AE_REPEATS ?? 3);
  const seed = options.seed ?? 20261122;
  const hyperparameters: AutoencoderHyperparameters = { ...DEFAULT_AUTOENCODER_HYPERPARAMETERS, epochs, validationShare: 0, patience: 0 };
  const data = benchMatrix(rows, cols, seed);
  const previous = tf.getBackend();
  try {
    await warmUp('wasm', data, rows, cols, hyperparameters, seed);
    const wasmFeatures = {
      simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')),
      threads: Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')),
    };
    await warmUp('cpu', data, rows, cols, hyperparameters, seed);
    const wasmRuns: { seconds: number; finalLoss: number }[] = [];
    const cpuRuns: { seconds: number; finalLoss: number }[] = [];
    for (let i = 0; i < repeats; i++) {
      wasmRuns.push(await timedRun('wasm', data, rows, cols, hyperparameters, seed));
      cpuRuns.push(await timedRun('cpu', data, rows, cols, hyperparameters, seed));
    }
    const wasm = summarise('wasm', wasmRuns, rows, epochs);
    const cpu = summarise('cpu', cpuRuns, rows, epochs);
    return { rows, cols, epochs, hyperparameters, wasm, cpu, speedup: wasm.rowsPerSecond / cpu.rowsPerSecond, wasmFeatures };
  } finally {
    await ensureBackend(previous === 'cpu' ? 'cpu' : 'wasm');
  }
}

/** Lines for bench/run.ts (or a terminal): the figure beside its baseline. */
export function formatAutoencoderBench(r: AutoencoderBenchResult): string[] {
  const fmt = (n: number) => Math.round(n).toLocaleString('en');
  const units = r.hyperparameters.hiddenUnits.join('-');
  return [
    `  ${fmt(r.rows)} rows x ${r.cols} indicators, ${r.epochs} epochs, dense ${r.cols}-${units}-...-${r.cols}, batch ${r.hyperparameters.batchSize}`,
    `    wasm backend  ${fmt(r.wasm.rowsPerSecond).padStart(9)} rows/s  (${r.wasm.seconds.toFixed(2)} s, final loss ${r.wasm.finalLoss.toFixed(5)}; SIMD ${r.wasmFeatures.simd ? 'on' : 'off'}, threads ${r.wasmFeatures.threads ? 'on' : 'off'})`,
    `    cpu backend   ${fmt(r.cpu.rowsPerSecond).padStart(9)} rows/s  (${r.cpu.seconds.toFixed(2)} s, final loss ${r.cpu.finalLoss.toFixed(5)})`,
    `    wasm / cpu    ${r.speedup.toFixed(2)}x  (median of ${r.wasm.runs.length} alternating runs each; wasm ${r.wasm.runs.map(fmt).join(', ')}; cpu ${r.cpu.runs.map(fmt).join(', ')})`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log('[autoencoder] training throughput, wasm beside cpu backend');
  for (const line of formatAutoencoderBench(await benchAutoencoder())) console.log(line);
}
