/**
 * STL-plus-MAD speed (issue 5): 10,000 monthly series x 120 months, seeded, decomposed by
 * ThreatLens' STL (engine/anomaly/seasonal.ts, robust, statsmodels' default parameters) and
 * scored by the MAD z of the remainder, beside statsmodels' STL(period=12, robust=True) plus the
 * same MAD z in /usr/bin/python3 (bench/peers/stl_statsmodels.py) on the same series in the same
 * run. Both sides time only the loop over series (data already in memory), single-threaded; the
 * remainders of both are compared value by value, so that the two did the same work. Seconds are
 * wall clock (the target) and CPU time (steadier on a shared machine).
 * Target: ThreatLens at least 10 times faster.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { robustScale } from '../engine/anomaly/robust.ts';
import { detectSeasonal, StlDecomposer, type StlResult } from '../engine/anomaly/seasonal.ts';
import type { Series } from '../engine/anomaly/types.ts';
import { createRandom } from '../engine/stats/random.ts';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';

export interface StlBenchOptions {
  readonly series?: number;
  readonly months?: number;
  readonly seed?: number;
  readonly outDir?: string;
  /** Run statsmodels too (default true); without it only the ThreatLens figures are given. */
  readonly peer?: boolean;
}

export interface StlBenchResult {
  readonly series: number;
  readonly months: number;
  /** STL + MAD z over all series (best of 3 runs after a warm-up), wall clock and CPU. */
  readonly threatlensSeconds: number;
  readonly threatlensCpuSeconds: number;
  /**
   * detectSeasonal, the full detector (its own defaults: log scale off here, periodic seasonal;
   * CellScores with reasons), over all series, one run.
   */
  readonly detectorSeconds: number;
  readonly threatlensFlags: number;
  readonly statsmodelsSeconds: number | null;
  readonly statsmodelsCpuSeconds: number | null;
  readonly statsmodelsFlags: number | null;
  /** statsmodels seconds / ThreatLens seconds, wall clock (target >= 10), and the same in CPU time. */
  readonly ratio: number | null;
  readonly cpuRatio: number | null;
  /** Largest |remainder difference| between the two over every value. */
  readonly maxAbsRemainderDifference: number | null;
  readonly note?: string;
}

/**
 * Monthly series of crime-count-like shape: a level of 50 to 5,000, a trend of -2% to +2% a year,
 * a seasonal pattern of up to +-25% of the level (two harmonics), noise of 3 to 10%, and in one
 * series in five a planted spike of +-40 to 80% at a random month.
 */
export function stlBenchData(series: number, months: number, seed: number): Float64Array {
  const random = createRandom(seed);
  const data = new Float64Array(series * months);
  for (let s = 0; s < series; s++) {
    const level = 50 * Math.pow(100, random.next());
    const trend = (random.next() * 0.04 - 0.02) / 12;
    const a1 = 0.25 * random.next();
    const a2 = 0.1 * random.next();
    const phase = 2 * Math.PI * random.next();
    const noise = 0.03 + 0.07 * random.next();
    for (let t = 0; t < months; t++) {
      const season = a1 * Math.sin((2 * Math.PI * t) / 12 + phase) + a2 * Math.cos((4 * Math.PI * t) / 12);
      data[s * months + t] = level * (1 + trend * t) * (1 + season) * (1 + random.normal(0, noise));
    }
    if (random.next() < 0.2) {
      const t = random.int(0, months);
      data[s * months + t] = data[s * months + t]! * (1 + (random.next() < 0.5 ? -1 : 1) * (0.4 + 0.4 * random.next()));
    }
  }
  return data;
}

/** STL + MAD z over every series; the remainders into `remainders`; returns the number of flags (|z| >= 3.5). */
function stlPlusMad(data: Float64Array, series: number, months: number, remainders: Float64Array): number {
  const decomposer = new StlDecomposer(months, 12);
  const out: StlResult = { seasonal: new Float64Array(months), trend: new Float64Array(months), remainder: new Float64Array(months), weights: new Float64Array(months) };
  const scratch = new Float64Array(months);
  let flags = 0;
  for (let s = 0; s < series; s++) {
    decomposer.decompose(data.subarray(s * months, (s + 1) * months), out);
    const { centre, scale } = robustScale(out.remainder, scratch);
    for (let t = 0; t < months; t++) {
      const r = out.remainder[t]!;
      if (Math.abs(r - centre) >= 3.5 * scale) flags++;
      remainders[s * months + t] = r;
    }
  }
  return flags;
}

export async function benchStl(options: StlBenchOptions = {}): Promise<StlBenchResult> {
  const series = options.series ?? 10_000;
  const months = options.months ?? 120;
  const outDir = options.outDir ?? 'bench/out';
  await mkdir(outDir, { recursive: true });
  const data = stlBenchData(series, months, options.seed ?? 5);
  const remainders = new Float64Array(series * months);

  // Warm-up on a slice (JIT), then best of 3 over all series.
  stlPlusMad(data.subarray(0, Math.min(series, 200) * months), Math.min(series, 200), months, remainders);
  let best = Number.POSITIVE_INFINITY;
  let bestCpu = Number.POSITIVE_INFINITY;
  let flags = 0;
  for (let rep = 0; rep < 3; rep++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    flags = stlPlusMad(data, series, months, remainders);
    best = Math.min(best, (performance.now() - t0) / 1000);
    const cpu = process.cpuUsage(c0);
    bestCpu = Math.min(bestCpu, (cpu.user + cpu.system) / 1e6);
  }

  const t0 = performance.now();
  for (let s = 0; s < series; s++) {
    const points = Array.from({ length: months }, (_, t) => ({ period: `${2010 + Math.floor(t / 12)}-${String((t % 12) + 1).padStart(2, '0')}`, value: data[s * months + t]! }));
    const one: Series = { entity: `S${s}`, indicator: 'bench', periodKind: 'month', points };
    detectSeasonal(one, { log: false });
  }
  const detectorSeconds = (performance.now() - t0) / 1000;

  const base = { series, months, threatlensSeconds: best, threatlensCpuSeconds: bestCpu, detectorSeconds, threatlensFlags: flags };
  const none = { statsmodelsSeconds: null, statsmodelsCpuSeconds: null, statsmodelsFlags: null, ratio: null, cpuRatio: null, maxAbsRemainderDifference: null };
  if (options.peer === false) return { ...base, ...none, note: 'statsmodels not run (peer: false)' };
  if (!existsSync(PYTHON)) return { ...base, ...none, note: `${PYTHON} not found` };
  const dataPath = join(outDir, 'stl-series.f64');
  const peerOut = join(outDir, 'stl-statsmodels-remainder.f64');
  await writeFile(dataPath, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  let peer: { seconds: number; cpuSeconds: number; flags: number };
  try {
    const { stdout } = await run(PYTHON, ['bench/peers/stl_statsmodels.py', dataPath, peerOut, String(series), String(months)], { maxBuffer: 1 << 20, timeout: 30 * 60 * 1000 });
    peer = JSON.parse(stdout.trim().split('\n').pop()!);
  } catch (error) {
    return { ...base, ...none, note: `statsmodels failed: ${(error as Error).message.split('\n')[0]}` };
  }
  const theirs = new Float64Array((await readFile(peerOut)).buffer.slice(0));
  let maxDiff = 0;
  for (let i = 0; i < remainders.length; i++) maxDiff = Math.max(maxDiff, Math.abs(remainders[i]! - theirs[i]!));
  return {
    ...base,
    statsmodelsSeconds: peer.seconds,
    statsmodelsCpuSeconds: peer.cpuSeconds,
    statsmodelsFlags: peer.flags,
    ratio: peer.seconds / best,
    cpuRatio: peer.cpuSeconds / bestCpu,
    maxAbsRemainderDifference: maxDiff,
  };
}
