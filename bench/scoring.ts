/**
 * Scoring speed, two figures (issue 4):
 * 1. An OSCE-sized assessment: 57 entities x 25 years x 40 indicators, the year prepared once, then
 *    1,000 Monte Carlo runs over normalisation, aggregation, imputation and weight noise, the same
 *    code path as `threatlens assess` (target: under 1 s).
 * 2. Every year of 5,000 entities x 25 years x 40 indicators without Monte Carlo, beside the same
 *    pipeline in pandas and numpy (bench/peers/score_pandas.py, Debian's python3-pandas) on the
 *    same data in the same run, and the two results compared cell by cell.
 * The pipeline both sides run: latest value within 3 years; min-max to 0-10 per year and indicator,
 * inverted for the last 10 (higher is better); arithmetic mean of 4 pillars of 10; geometric mean
 * of the pillars (floor 0.01); rank per year.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pipelineChoices, uncertaintySpace } from '../engine/scoring/assessment.ts';
import { parseFramework, type Framework } from '../engine/scoring/framework.ts';
import { prepareYear, runPipeline, scoreRoots, type Panel } from '../engine/scoring/pipeline.ts';
import { monteCarloUncertainty } from '../engine/scoring/uncertainty.ts';
import { createRandom } from '../engine/stats/random.ts';
import type { Polarity } from '../engine/types.ts';

const run = promisify(execFile);
const PILLARS = 4;
const INDICATORS = 40;
const YEARS = 25;
const FIRST_YEAR = 2000;
/** Indicators from this column on are higher-is-better (resilience-like). */
const BETTER_FROM = 30;
const PYTHON = '/usr/bin/python3';

const codes = Array.from({ length: INDICATORS }, (_, j) => `bench_${String(j).padStart(2, '0')}`);

function benchFramework(): Framework {
  const size = INDICATORS / PILLARS;
  return parseFramework(
    {
      id: 'bench',
      version: '1',
      title: 'benchmark framework',
      defaults: { normalisation: { method: 'minmax', low: 0, high: 10 }, imputation: [{ method: 'latest', lookback: 3 }], aggregation: 'arithmetic' },
      roots: [
        {
          id: 'risk',
          aggregation: 'geometric',
          children: Array.from({ length: PILLARS }, (_, p) => ({ id: `pillar_${p}`, children: codes.slice(p * size, (p + 1) * size) })),
        },
      ],
    },
    new Set(codes),
  );
}

/** A panel with correlated indicators, 10% of cells missing, and a few outliers. */
function benchPanel(entities: number, seed: number): Panel {
  const random = createRandom(seed);
  const names = Array.from({ length: entities }, (_, i) => `E${String(i).padStart(5, '0')}`);
  const years = Array.from({ length: YEARS }, (_, t) => FIRST_YEAR + t);
  const values = new Float64Array(entities * INDICATORS * YEARS);
  const level = Float64Array.from({ length: entities }, () => random.next());
  for (let t = 0; t < YEARS; t++) {
    for (let j = 0; j < INDICATORS; j++) {
      for (let i = 0; i < entities; i++) {
        const x = random.next();
        values[(t * INDICATORS + j) * entities + i] = x < 0.1 ? Number.NaN : 100 * (0.6 * level[i]! + 0.4 * random.next()) * (x > 0.999 ? 20 : 1);
      }
    }
  }
  return { entities: names, indicators: codes, years, values };
}

const polarities = new Map<string, Polarity>(codes.map((c, j) => [c, j >= BETTER_FROM ? 'higher_better' : 'higher_worse']));

export interface ScoringBenchResult {
  readonly monteCarlo: { readonly seconds: number; readonly runs: number; readonly prepareSeconds: number };
  readonly large: {
    readonly entities: number;
    readonly threatlensSeconds: number;
    readonly pandasSeconds: number | null;
    readonly maxAbsDifference: number | null;
    readonly missingMismatches: number | null;
    readonly pandasNote?: string;
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function benchScoring(outDir: string, largeEntities = 5000): Promise<ScoringBenchResult> {
  await mkdir(outDir, { recursive: true });
  const framework = benchFramework();

  // 1. OSCE-sized: prepare the assessed year, then 1,000 Monte Carlo runs (best of 3 after a warm-up).
  const osce = benchPanel(57, 1);
  const year = FIRST_YEAR + YEARS - 1;
  const mcTimes: number[] = [];
  const prepTimes: number[] = [];
  for (let rep = 0; rep < 4; rep++) {
    const t0 = performance.now();
    const prepared = prepareYear(framework, osce, { year, polarities });
    const t1 = performance.now();
    const edges = prepared.tree.edges.length;
    monteCarloUncertainty((choices) => scoreRoots(prepared, pipelineChoices(choices, edges))[0]!, uncertaintySpace(edges, 0.25), { runs: 1000, seed: 1 });
    const t2 = performance.now();
    if (rep > 0) {
      prepTimes.push((t1 - t0) / 1000);
      mcTimes.push((t2 - t0) / 1000);
    }
  }

  // 2. 5,000 entities, every year, beside pandas.
  const large = benchPanel(largeEntities, 2);
  const tsScores = new Float64Array(YEARS * largeEntities);
  const tsTimes: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    for (let t = 0; t < YEARS; t++) {
      const result = runPipeline(framework, large, { year: FIRST_YEAR + t, polarities });
      tsScores.set(result.scores.risk!, t * largeEntities);
    }
    tsTimes.push((performance.now() - t0) / 1000);
  }

  let pandasSeconds: number | null = null;
  let maxAbsDifference: number | null = null;
  let missingMismatches: number | null = null;
  let pandasNote: string | undefined;
  if (!existsSync(PYTHON)) {
    pandasNote = `${PYTHON} not found: install Debian's python3-pandas to compare`;
  } else {
    // The cube in [year][entity][indicator] order, as numpy reshapes it.
    const cube = new Float64Array(YEARS * largeEntities * INDICATORS);
    for (let t = 0; t < YEARS; t++) for (let j = 0; j < INDICATORS; j++) for (let i = 0; i < largeEntities; i++) {
      cube[(t * largeEntities + i) * INDICATORS + j] = large.values[(t * INDICATORS + j) * largeEntities + i]!;
    }
    const cubePath = join(outDir, 'scoring-cube.f64');
    const outPath = join(outDir, 'scoring-pandas.f64');
    await writeFile(cubePath, new Uint8Array(cube.buffer));
    try {
      const times: number[] = [];
      for (let rep = 0; rep < 3; rep++) {
        const { stdout } = await run(PYTHON, ['bench/peers/score_pandas.py', cubePath, outPath, String(YEARS), String(largeEntities), String(INDICATORS), String(PILLARS), String(BETTER_FROM)], { maxBuffer: 1 << 20 });
        times.push((JSON.parse(stdout.trim().split('\n').pop()!) as { seconds: number }).seconds);
      }
      pandasSeconds = median(times);
      const buffer = await readFile(outPath);
      const pandas = new Float64Array(buffer.buffer, buffer.byteOffset, buffer.byteLength / 8);
      maxAbsDifference = 0;
      missingMismatches = 0;
      for (let k = 0; k < pandas.length; k++) {
        const a = tsScores[k]!;
        const b = pandas[k]!;
        if (Number.isNaN(a) !== Number.isNaN(b)) missingMismatches++;
        else if (!Number.isNaN(a)) maxAbsDifference = Math.max(maxAbsDifference, Math.abs(a - b));
      }
    } catch (error) {
      pandasNote = `pandas peer failed: ${(error as Error).message.split('\n')[0]} (install Debian's python3-pandas)`;
    }
  }
  return {
    monteCarlo: { seconds: median(mcTimes), runs: 1000, prepareSeconds: median(prepTimes) },
    large: { entities: largeEntities, threatlensSeconds: median(tsTimes), pandasSeconds, maxAbsDifference, missingMismatches, ...(pandasNote ? { pandasNote } : {}) },
  };
}
