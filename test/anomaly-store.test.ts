/**
 * Series from the store (current values, source, batch, count and population behind a rate),
 * stored anomaly runs and flags (one transaction, queries, the up-to-date rule), and a production
 * run of the detectors end to end, on every store kind.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoTruth } from '../datasets/demo/generate.ts';
import { loadDemoData } from '../datasets/demo/load.ts';
import { ingestFile } from '../datasets/ingest.ts';
import { currentAnomalyRun, runDetection, type ProductionModels } from '../engine/anomaly/run.ts';
import type { LoadedModel } from '../models/registry.ts';
import { fitPanelForest } from '../engine/anomaly/multivariate.ts';
import { buildPanelMatrix } from '../engine/anomaly/panel-matrix.ts';
import { currentObservations, loadSeries } from '../engine/anomaly/series.ts';
import { severityOf } from '../engine/anomaly/types.ts';
import { latestAnomalyRun, queryAnomalies, saveAnomalyRun, type StoredFlagInput } from '../engine/store/anomalies.ts';
import type { Store } from '../engine/store/database.ts';
import { dataVersion } from '../engine/store/observations.ts';
import { tempDir, writeFixture } from './support/fixtures.ts';
import { openTestStore, STORE_KINDS } from './support/stores.ts';

const UNIT = '"per 100,000 population"';
// Batch 1: homicide 2010-2015 from the police; bribery counts and rates for AUT (UNODC published both).
const FIRST = [
  'entity,period,indicator,value,unit,source',
  ...[1.1, 1.2, 1.0, 1.3, 1.1, 1.2].map((v, i) => `DEU,${2010 + i},homicide_rate,${v},${UNIT},police`),
  'AUT,2019,unodc_cts_corruption_bribery_count,40,number of offences,CTS',
  'AUT,2019,unodc_cts_corruption_bribery_per_100k,0.45,,CTS',
  'AUT,2020,unodc_cts_corruption_bribery_count,37,number of offences,CTS',
  'AUT,2020,unodc_cts_corruption_bribery_per_100k,0.415,,CTS',
  // A rate without its count: no count, no population.
  'AUT,2021,unodc_cts_corruption_bribery_per_100k,0.5,,CTS',
  'DEU,2020-Q1,homicide_rate,0.3,,police',
  'DEU,2020-Q2,homicide_rate,0.28,,police',
].join('\n');
// Batch 2: a revised 2015 value from a new source (the latest batch wins), agency-a's own.
const SECOND = ['entity,period,indicator,value,unit,source', `DEU,2015,homicide_rate,2.4,${UNIT},ministry`].join('\n');

function flag(entity: string, indicator: string, period: string, detector: string, score: number, extra: Partial<StoredFlagInput> = {}): StoredFlagInput {
  return {
    entity,
    indicator,
    period,
    detector,
    score,
    severity: severityOf(score),
    value: 2.4,
    expected: 1.15,
    interval: [0.9, 1.4],
    attributions: [{ indicator, share: 1, value: 2.4, expected: 1.15 }],
    likelyCause: 'data_problem',
    reason: `${period}: test flag`,
    batchIds: [],
    ...extra,
  };
}

describe.each(STORE_KINDS)('anomaly series and stored runs on %s', (kind) => {
  let store: Store;
  let firstBatch: number;
  let secondBatch: number;
  beforeAll(async () => {
    store = await openTestStore(kind);
    const dir = await tempDir();
    firstBatch = (await ingestFile(store, await writeFixture(dir, 'first.csv', FIRST), { format: 'long', source: 'test one' })).batchId!;
    secondBatch = (await ingestFile(store, await writeFixture(dir, 'second.csv', SECOND), { format: 'long', source: 'test two', owner: 'agency-a', sharing: 'owner' })).batchId!;
  });
  afterAll(async () => {
    await store?.close();
  });

  it('reads current values of every period kind with source and batch, latest batch winning', async () => {
    const current = await currentObservations(store.db, { entity: 'DEU' });
    expect(current.map((o) => `${o.indicator} ${o.period} ${o.value} ${o.source} ${o.batchId === secondBatch ? 2 : 1}`)).toEqual([
      'homicide_rate 2010 1.1 police 1',
      'homicide_rate 2011 1.2 police 1',
      'homicide_rate 2012 1 police 1',
      'homicide_rate 2013 1.3 police 1',
      'homicide_rate 2014 1.1 police 1',
      'homicide_rate 2015 2.4 ministry 2',
      'homicide_rate 2020-Q1 0.3 police 1',
      'homicide_rate 2020-Q2 0.28 police 1',
    ]);
  });

  it('groups series by entity, indicator and period kind, in period order', async () => {
    const series = await loadSeries(store.db, { entity: 'DEU' });
    expect(series.map((s) => `${s.entity} ${s.indicator} ${s.periodKind} ${s.points.length}`)).toEqual([
      'DEU homicide_rate quarter 2',
      'DEU homicide_rate year 6',
    ]);
    const annual = series.find((s) => s.periodKind === 'year')!;
    expect(annual.points.at(-1)).toEqual({ period: '2015', value: 2.4, source: 'ministry', batchId: secondBatch });
    expect(annual.points[0]).toEqual({ period: '2010', value: 1.1, source: 'police', batchId: firstBatch });
    expect(await loadSeries(store.db, { entity: 'DEU', fromYear: 2012, toYear: 2014 })).toMatchObject([{ points: [{ period: '2012' }, { period: '2013' }, { period: '2014' }] }]);
    // A reader who may not see agency-a's revision gets the value the public batch holds.
    const [publicView] = await loadSeries(store.db, { entity: 'DEU', fromYear: 2015, toYear: 2015, scope: { kind: 'public' } });
    expect(publicView!.points).toEqual([{ period: '2015', value: 1.2, source: 'police', batchId: firstBatch }]);
  });

  it('links a rate to its count and the population it implies (count x 100,000 / rate)', async () => {
    const [rate] = await loadSeries(store.db, { indicator: 'unodc_cts_corruption_bribery_per_100k' });
    expect(rate!.points).toHaveLength(3);
    // 40 x 100,000 / 0.45 = 8,888,888.9; 37 x 100,000 / 0.415 = 8,915,662.65 (hand-computed).
    expect(rate!.points[0]).toMatchObject({ period: '2019', value: 0.45, count: 40 });
    expect(rate!.points[0]!.population).toBeCloseTo(8_888_888.889, 2);
    expect(rate!.points[1]!.population).toBeCloseTo(8_915_662.651, 2);
    expect(rate!.points[2]).toEqual({ period: '2021', value: 0.5, source: 'CTS', batchId: firstBatch });
    // The count series itself carries no count of its own.
    const [count] = await loadSeries(store.db, { indicator: 'unodc_cts_corruption_bribery_count' });
    expect(count!.points[0]).not.toHaveProperty('count');
  });

  it('stores a run with its flags in one transaction and reads them back', async () => {
    const version = (await dataVersion(store.db)).version;
    expect(await latestAnomalyRun(store.db, version)).toBeNull();
    const run = await saveAnomalyRun(store.db, {
      dataVersion: version,
      codeVersion: 'test',
      detectors: { robust_z: { version: null, params: { minHistory: 5 } } },
      cellsScored: 17,
      createdBy: 'tester',
      flags: [
        flag('DEU', 'homicide_rate', '2015', 'robust_z', 0.97, { batchIds: [secondBatch, secondBatch, firstBatch] }),
        flag('DEU', 'homicide_rate', '2015', 'ensemble', 0.8, { batchIds: [secondBatch] }),
        flag('DEU', 'homicide_rate', '2020-Q2', 'robust_z', 0.55, { interval: null, expected: null, likelyCause: 'unclear', batchIds: [firstBatch] }),
      ],
    });
    expect(run).toMatchObject({ dataVersion: version, codeVersion: 'test', cellsScored: 17, flags: 3, createdBy: 'tester', detectors: { robust_z: { params: { minHistory: 5 } } } });
    expect(await latestAnomalyRun(store.db, version)).toMatchObject({ id: run.id });
    expect(await latestAnomalyRun(store.db, 'another-version')).toBeNull();

    const all = await queryAnomalies(store.db);
    expect(all.map((f) => `${f.detector} ${f.period} ${f.severity}`)).toEqual(['robust_z 2015 high', 'ensemble 2015 medium', 'robust_z 2020-Q2 low']);
    expect(all[0]).toMatchObject({ runId: run.id, year: 2015, value: 2.4, expected: 1.15, interval: [0.9, 1.4], likelyCause: 'data_problem', batchIds: [firstBatch, secondBatch].sort((a, b) => a - b) });
    expect(all[0]!.attributions).toEqual([{ indicator: 'homicide_rate', share: 1, value: 2.4, expected: 1.15 }]);
    expect(all[2]).toMatchObject({ year: 2020, interval: null, expected: null });
    expect((await queryAnomalies(store.db, { severity: 'medium' })).map((f) => f.detector)).toEqual(['robust_z', 'ensemble']);
    expect((await queryAnomalies(store.db, { detector: 'ensemble' })).map((f) => f.score)).toEqual([0.8]);
    expect(await queryAnomalies(store.db, { from: 2016 })).toHaveLength(1);
    expect(await queryAnomalies(store.db, { to: 2015, entity: 'DEU', indicator: 'homicide_rate' })).toHaveLength(2);
    expect(await queryAnomalies(store.db, { entity: 'AUT' })).toEqual([]);
    // Sharing: only flags whose batches are all visible to the reader; the second batch is agency-a's own.
    expect(await queryAnomalies(store.db, { scope: { kind: 'public' } })).toHaveLength(1);
    expect(await queryAnomalies(store.db, { scope: { kind: 'agency', agency: 'agency-b' } })).toHaveLength(1);
    expect(await queryAnomalies(store.db, { scope: { kind: 'agency', agency: 'agency-a' } })).toHaveLength(3);

    const audit = await store.db.selectFrom('audit_log').select(['action', 'details']).where('action', '=', 'anomaly-run').execute();
    expect(audit).toHaveLength(1);
  });

  it('refuses a flag below low and stores nothing of that run', async () => {
    const before = await latestAnomalyRun(store.db);
    await expect(
      saveAnomalyRun(store.db, { dataVersion: 'x', codeVersion: 'test', detectors: {}, cellsScored: 1, createdBy: 't', flags: [flag('DEU', 'homicide_rate', '2014', 'robust_z', 0.2)] }),
    ).rejects.toThrow(/severity none/);
    await expect(
      saveAnomalyRun(store.db, { dataVersion: 'x', codeVersion: 'test', detectors: {}, cellsScored: 1, createdBy: 't', flags: [flag('DEU', 'homicide_rate', 'FY2014', 'robust_z', 0.7)] }),
    ).rejects.toThrow(/not canonical/);
    expect((await latestAnomalyRun(store.db))?.id).toBe(before?.id);
  });

  it('rolls back the run row when a flag insert fails inside the transaction', async () => {
    const before = await latestAnomalyRun(store.db);
    const bad: StoredFlagInput = { ...flag('DEU', 'homicide_rate', '2014', 'robust_z', 0.7), likelyCause: 'not-a-cause' as never };
    await expect(saveAnomalyRun(store.db, { dataVersion: 'y', codeVersion: 'test', detectors: {}, cellsScored: 1, createdBy: 't', flags: [bad] })).rejects.toThrow();
    expect((await latestAnomalyRun(store.db))?.id).toBe(before?.id);
    expect(await latestAnomalyRun(store.db, 'y')).toBeNull();
  });
});

// The registry's loaded models are what runDetection takes as `models` (checked by the compiler).
export const registryModelsFit: (forest: Extract<LoadedModel, { type: 'isolation-forest' }>, ae: Extract<LoadedModel, { type: 'autoencoder' }>) => ProductionModels = (forest, ae) => ({
  isolation_forest: forest,
  autoencoder: ae,
});

describe.each(STORE_KINDS)('runDetection on the demo panel on %s', (kind) => {
  let store: Store;
  let dir: string;
  let demoBatch: number;
  let truth: DemoTruth;
  beforeAll(async () => {
    store = await openTestStore(kind);
    dir = await tempDir();
    const loaded = await loadDemoData(store, dir);
    demoBatch = loaded.batchId!;
    truth = JSON.parse(await readFile(loaded.truthPath, 'utf8')) as DemoTruth;
  }, 120_000);
  afterAll(async () => {
    await store?.close();
  });

  it('stores the run over the current data version with every flag and its batch', async () => {
    const result = await runDetection(store, { actor: 'tester', detectors: ['robust_z', 'trend_residual', 'structural_break'] });
    const version = (await dataVersion(store.db)).version;
    expect(result.dataVersion).toBe(version);
    expect(result.run).toMatchObject({ id: result.runId, dataVersion: version, createdBy: 'tester', flags: result.flags.length, cellsScored: result.cellsScored });
    expect(Object.keys(result.run.detectors).sort()).toEqual(['ensemble', 'robust_z', 'structural_break', 'trend_residual']);
    // Every scored cell of the demo's series but the population: at most the stored observations.
    const observations = await store.db.selectFrom('observations').select((eb) => eb.fn.countAll<number>().as('n')).where('indicator_code', '!=', 'population').executeTakeFirstOrThrow();
    expect(result.cellsScored).toBeGreaterThan(0.8 * Number(observations.n));
    expect(result.cellsScored).toBeLessThanOrEqual(Number(observations.n));

    const stored = await queryAnomalies(store.db, { runId: result.runId });
    expect(stored).toHaveLength(result.flags.length);
    expect(stored.every((f) => f.severity !== ('none' as never) && f.batchIds.length === 1 && f.batchIds[0] === demoBatch)).toBe(true);
    expect(new Set(stored.map((f) => f.detector))).toEqual(new Set(['ensemble', 'robust_z', 'trend_residual', 'structural_break']));

    // The x1000 unit errors are flagged high by the ensemble as data problems.
    const unitErrors = truth.anomalies.filter((a) => a.kind === 'unit_error' && a.plantedValue > a.expectedValue);
    expect(unitErrors.length).toBeGreaterThan(0);
    for (const u of unitErrors) {
      const [flag] = await queryAnomalies(store.db, { runId: result.runId, entity: u.entity, indicator: u.indicator, from: u.period, to: u.period, detector: 'ensemble' });
      expect(flag, `${u.entity} ${u.indicator} ${u.period}`).toMatchObject({ severity: 'high', likelyCause: 'data_problem', value: u.plantedValue });
    }
  }, 120_000);

  it('reuses a run while the data version stands, and runs again after an ingestion', async () => {
    const options = { actor: 'tester', detectors: ['robust_z', 'hampel'] };
    const first = await currentAnomalyRun(store, options);
    expect(first.fresh).toBe(false); // the run of the test above is up to date
    await ingestFile(store, await writeFixture(dir, 'more.csv', `entity,period,indicator,value\nAUT,2024,homicide_rate,9.5\n`), { format: 'long', source: 'revision' });
    const second = await currentAnomalyRun(store, options);
    expect(second.fresh).toBe(true);
    expect(second.run.dataVersion).toBe((await dataVersion(store.db)).version);
    expect(second.run.id).toBeGreaterThan(first.run.id);
    expect((await currentAnomalyRun(store, options)).fresh).toBe(false);
  }, 120_000);

  it('uses a multivariate model given to it (from the registry) and records its version, or fits one and says so', async () => {
    const series = await loadSeries(store.db);
    const rates = series.filter((s) => /_rate$|_per_100k$/.test(s.indicator) && s.periodKind === 'year');
    const panel = buildPanelMatrix(rates);
    const forest = fitPanelForest(panel, { nTrees: 50, sampleSize: 128, seed: 3 });
    const given = await runDetection(store, {
      actor: 'tester',
      detectors: ['trend_residual', 'isolation_forest'],
      models: { isolation_forest: { forest, layout: { indicators: panel.indicators, transforms: panel.transforms }, info: { version: 7, hyperparameters: { nTrees: 50, sampleSize: 128 } } } },
    });
    expect(given.run.detectors['isolation_forest']).toMatchObject({ version: 7, params: { nTrees: 50, sampleSize: 128, panels: [{ periodKind: 'year', model: 'given', indicators: panel.indicators.length }] } });
    const fitted = await runDetection(store, { actor: 'tester', detectors: ['trend_residual', 'isolation_forest'] });
    expect(fitted.run.detectors['isolation_forest']).toMatchObject({ version: null, params: { nTrees: 100, sampleSize: 256, seed: 1, panels: [{ periodKind: 'year', model: 'fitted in the run' }] } });
    // A multivariate flag names the batches of the values it was attributed to (here all the demo's).
    const forestFlags = await queryAnomalies(store.db, { runId: given.runId, detector: 'isolation_forest' });
    for (const f of forestFlags) expect(f.batchIds.length).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('runs over the batches a scope may read, under the data version of that scope', async () => {
    const restricted = await ingestFile(store, await writeFixture(dir, 'restricted.csv', 'entity,period,indicator,value\nAUT,2023,homicide_rate,5000\n'), {
      format: 'long',
      source: 'agency-x revision',
      owner: 'agency-x',
      sharing: 'owner',
    });
    const options = { actor: 'tester', detectors: ['robust_z', 'trend_residual'] };
    const publicRun = await runDetection(store, { ...options, scope: { kind: 'public' } });
    expect(publicRun.dataVersion).toBe((await dataVersion(store.db, { kind: 'public' })).version);
    expect(publicRun.dataVersion).not.toBe((await dataVersion(store.db)).version);
    expect(publicRun.flags.some((f) => f.entity === 'AUT' && f.indicator === 'homicide_rate' && f.period === '2023' && f.value === 5000)).toBe(false);
    const agencyRun = await runDetection(store, { ...options, scope: { kind: 'agency', agency: 'agency-x' } });
    const [seen] = await queryAnomalies(store.db, { runId: agencyRun.runId, entity: 'AUT', indicator: 'homicide_rate', from: 2023, to: 2023, detector: 'ensemble' });
    expect(seen).toMatchObject({ value: 5000, severity: 'high', batchIds: [restricted.batchId] });
    // The public reader of that run does not see the flag built on the restricted batch.
    expect(await queryAnomalies(store.db, { runId: agencyRun.runId, entity: 'AUT', from: 2023, to: 2023, scope: { kind: 'public' } })).toEqual([]);
  }, 120_000);

  it('refuses an unknown detector, naming the known ones', async () => {
    await expect(runDetection(store, { actor: 't', detectors: ['robust_z', 'crystal_ball'] })).rejects.toThrow(/unknown detector crystal_ball; the production detectors are robust_z, hampel/);
  });
});
