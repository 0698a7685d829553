/**
 * `node bin/run-ts.mjs bench/anomaly-evaluate.ts [--quick] [--variants] [--only demo|annual|monthly]`: the
 * anomaly detectors measured by the harness (engine/anomaly/evaluate.ts) and printed as a table:
 * ROC-AUC, PR-AUC (average precision) and precision at 10, 40 and 100 per detector, on
 *   (a) the demo panel's planted anomalies (generateDemoPanel, default seed; rate series), with
 *       the reporting breaks scored apart (share found within +-1 point), and
 *   (b) anomalies injected (engine/anomaly/inject.ts, 1 % of the cells, seeded) into real series
 *       from ../shared/datasets/real: UNODC CTS offence rates and the UNODC homicide rate (OWID),
 *       annual; London MPS monthly offence counts by borough (skipped where absent);
 * and the forecast backtest (one-step interval coverage and MASE) on the same series without
 * injections. --quick leaves out the autoencoder (TensorFlow.js training dominates the time);
 * --variants adds the ensemble's other calibrations and combination rules; --only runs one part.
 * The monthly part scores about 150,000 cells per detector: give Node 4 GB or more
 * (NODE_OPTIONS=--max-old-space-size=4096) when running it with --variants.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { DEMO_INDICATORS } from '../datasets/demo/catalogue.ts';
import { generateDemoPanel } from '../datasets/demo/generate.ts';
import { ingestFile } from '../datasets/ingest.ts';
import type { EnsembleOptions } from '../engine/anomaly/ensemble.ts';
import { breakRecall, demoEvaluationSets, evaluateDetectors, type BreakRecall, type DetectorEvaluation } from '../engine/anomaly/evaluate.ts';
import { backtestForecast, type BacktestResult } from '../engine/anomaly/forecast.ts';
import { injectAnomalies } from '../engine/anomaly/inject.ts';
import { defaultPanelSeries, PRODUCTION_DETECTORS, productionDetectors, RATE_UNIT, scoredSeries } from '../engine/anomaly/run.ts';
import { cellKey, loadSeries, seriesFromDemoRows } from '../engine/anomaly/series.ts';
import type { Series } from '../engine/anomaly/types.ts';
import { seedReferenceData } from '../engine/store/catalogue.ts';
import { openStore } from '../engine/store/database.ts';
import { realDataFile } from '../test/support/shared-data.ts';

export const INJECTION_SEED = 20261122;
export const INJECTION_SHARE = 0.01;

/** The ensemble variants compared with --variants (the default is evaluated as `ensemble`). */
export const ENSEMBLE_VARIANTS: Readonly<Record<string, EnsembleOptions>> = {
  'ens budget 0.5%': { budget: 0.005 },
  'ens budget 2%': { budget: 0.02 },
  'ens budget top1': { top: 1 },
  'ens budget top3': { top: 3 },
  'ens budget mean': { combine: 'mean' },
  'ens budget max-corr': { combine: 'max_corrected' },
  'ens capped top2': { calibration: 'capped_tail' },
  'ens capped mean': { calibration: 'capped_tail', combine: 'mean' },
  'ens tail top2': { calibration: 'tail' },
  'ens tail max-corr': { calibration: 'tail', combine: 'max_corrected' },
};

export interface EvaluationOptions {
  /** Detectors to evaluate (default all production detectors). */
  readonly detectors?: readonly string[];
  readonly variants?: boolean;
}

export interface TableSection {
  readonly title: string;
  readonly results: readonly DetectorEvaluation[];
  readonly breaks?: readonly BreakRecall[];
  readonly backtest: BacktestResult;
  readonly note?: string;
}

/** (a) The demo panel's planted anomalies, on its rate series. */
export async function evaluateDemoPanel(options: EvaluationOptions = {}): Promise<TableSection> {
  const { rows, truth } = generateDemoPanel();
  const series = seriesFromDemoRows(rows);
  const rates = new Set(DEMO_INDICATORS.filter((i) => RATE_UNIT.test(i.unit)).map((i) => i.code));
  const sets = demoEvaluationSets(truth, series);
  const detectors = productionDetectors({ ...(options.detectors ? { detectors: options.detectors } : {}), panelSeries: defaultPanelSeries(series, rates) });
  const evaluation = await evaluateDetectors({
    series,
    truth: sets.positives,
    excluded: sets.excluded,
    evaluate: (s) => rates.has(s.indicator),
    detectors,
    ...(options.variants ? { ensembleVariants: ENSEMBLE_VARIANTS, keepVariantScores: true } : {}),
  });
  const breaks = [...evaluation.scores].map(([name, cells]) => breakRecall(name, cells, sets.breaks, series));
  // The backtest reads the series as they were before planting (the truth records the values).
  const before = new Map(truth.anomalies.map((a) => [cellKey(a.entity, a.indicator, String(a.period)), a.expectedValue]));
  const clean = series
    .filter((s) => rates.has(s.indicator))
    .map((s) => ({ ...s, points: s.points.map((p) => ({ ...p, value: before.get(cellKey(s.entity, s.indicator, p.period)) ?? p.value })) }));
  return {
    title: `(a) demo panel, seed ${truth.seed}: ${truth.anomalies.length} planted anomalies in the rate series; ${truth.breaks.length} reporting breaks scored apart`,
    results: evaluation.results,
    breaks,
    backtest: backtestForecast(clean),
  };
}

/** The real series, from the shared data, loaded through the connectors into a scratch store. */
export async function loadRealSeries(): Promise<{ annual: Series[]; monthly: Series[]; sources: string[] } | null> {
  const files = [
    realDataFile('unodc_cts_corruption_economic_crime', 'data_cts_corruption_and_economic_crime.csv'),
    realDataFile('owid_homicide_rate', 'homicide-rate-unodc.csv'),
    realDataFile('london_mps_borough_monthly', 'mps_borough_level_crime_historical.csv'),
  ].filter((f) => existsSync(f));
  if (files.length === 0) return null;
  const store = await openStore({ inMemory: true });
  try {
    await seedReferenceData(store.db);
    for (const file of files) await ingestFile(store, file, { actor: 'anomaly-evaluate' });
    const catalogue = await store.db.selectFrom('indicators').select(['code', 'unit']).execute();
    const rates = new Set(catalogue.filter((i) => RATE_UNIT.test(i.unit)).map((i) => i.code));
    const series = scoredSeries(await loadSeries(store.db), catalogue.filter((i) => i.unit === 'persons').map((i) => i.code));
    return {
      annual: series.filter((s) => s.periodKind === 'year' && rates.has(s.indicator)),
      monthly: series.filter((s) => s.periodKind === 'month'),
      sources: files.map((f) => f.split('/').slice(-2).join('/')),
    };
  } finally {
    await store.close();
  }
}

/** (b) Anomalies injected into real series of one period kind. */
export async function evaluateInjected(title: string, series: readonly Series[], options: EvaluationOptions = {}): Promise<TableSection> {
  const { series: injected, truth } = injectAnomalies(series, { seed: INJECTION_SEED, share: INJECTION_SHARE });
  const detectors = productionDetectors({ ...(options.detectors ? { detectors: options.detectors } : {}), panelSeries: () => true });
  const evaluation = await evaluateDetectors({ series: injected, truth, detectors, ...(options.variants ? { ensembleVariants: ENSEMBLE_VARIANTS } : {}) });
  const kinds = truth.reduce<Record<string, number>>((m, t) => ({ ...m, [t.kind]: (m[t.kind] ?? 0) + 1 }), {});
  return {
    title: `${title}: ${truth.length} injected (${Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(', ')}) into ${series.length} series, seed ${INJECTION_SEED}`,
    results: evaluation.results,
    backtest: backtestForecast(series),
  };
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : ' n/a ');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');

/** The table of one section as Markdown (the README draft takes it as it is). */
export function formatSection(section: TableSection): string {
  const lines = [`### ${section.title}`, ''];
  lines.push('| detector | ROC-AUC | PR-AUC | P@10 | P@40 | P@100 | cells | positives | scored | flagged (>= low) | planted flagged | breaks found (+-1) | seconds |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  const breaks = new Map((section.breaks ?? []).map((b) => [b.detector, b]));
  for (const r of section.results) {
    const b = breaks.get(r.detector);
    const applicable = r.scored > 0;
    if (!applicable) {
      lines.push(`| ${r.detector} | not applicable: scored no cell of these series | | | | | ${r.cells} | ${r.positives} | 0 | | | | |`);
      continue;
    }
    lines.push(
      `| ${r.detector} | ${f3(r.rocAuc)} | ${f3(r.prAuc)} | ${f2(r.precisionAt[10]!)} | ${f2(r.precisionAt[40]!)} | ${f2(r.precisionAt[100]!)} | ${r.cells} | ${r.positives} | ${r.scored} | ${r.flagged} | ${r.truePositivesFlagged} | ${b ? `${b.found}/${b.breaks} (${b.labelledDataProblem} as data problem)` : ''} | ${r.seconds.toFixed(1)} |`,
    );
  }
  const bt = section.backtest;
  lines.push('', `Forecast backtest (one step ahead, the same series before anything was planted or injected; reporting breaks stay): ${bt.n} forecasts, ${Math.round(bt.level * 100)}% interval coverage ${f3(bt.coverage)}, MASE ${f3(bt.meanAbsoluteScaledError)}.`);
  if (section.note) lines.push('', section.note);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flags = new Set(args);
  const onlyAt = args.indexOf('--only');
  const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined;
  if (only !== undefined && !['demo', 'annual', 'monthly'].includes(only)) throw new Error(`--only takes demo, annual or monthly, not ${only}`);
  const options: EvaluationOptions = {
    ...(flags.has('--quick') ? { detectors: PRODUCTION_DETECTORS.filter((d) => d !== 'autoencoder') } : {}),
    variants: flags.has('--variants'),
  };
  console.log(`ThreatLens anomaly evaluation, ${new Date().toISOString().slice(0, 10)}${flags.has('--quick') ? ' (--quick: no autoencoder)' : ''}\n`);
  if (only === undefined || only === 'demo') console.log(formatSection(await evaluateDemoPanel(options)));
  if (only === 'demo') return;
  const real = await loadRealSeries();
  if (!real) {
    console.log(`\n(b) real series: SKIPPED, no file of ${realDataFile()} found (the shared data lives beside the checkout).`);
    return;
  }
  console.log(`\nReal files: ${real.sources.join(', ')}\n`);
  if (only === undefined || only === 'annual') {
    console.log(formatSection(await evaluateInjected('(b1) real annual rate series (UNODC CTS offences, UNODC homicide via OWID)', real.annual.filter((s) => s.points.length >= 8), options)));
  }
  if ((only === undefined || only === 'monthly') && real.monthly.length > 0) {
    console.log('');
    console.log(formatSection(await evaluateInjected('(b2) real monthly counts (London MPS, borough x offence)', real.monthly.filter((s) => s.points.length >= 24), options)));
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
