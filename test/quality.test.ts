/**
 * The data-quality report: hand-built observations with known answers (pure functions), the same
 * data through a real store, GET /v1/quality and the CLI, and the real OWID homicide and UNODC CTS
 * files (../shared/datasets/real; skipped where absent) against facts from their SOURCE.md.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../api/app.ts';
import { ingestFile } from '../datasets/ingest.ts';
import { OSCE_PARTICIPATING_ISO3 } from '../datasets/reference/osce.ts';
import {
  buildQualityReport,
  detectLevelShifts,
  formatQualityText,
  medianGrade,
  seriesConfidenceInputs,
  worstGrade,
  type QualityBatchInfo,
  type QualityIndicatorInfo,
  type QualityObservation,
  type QualityReport,
} from '../engine/quality/index.ts';
import { registerIndicators, seedReferenceData } from '../engine/store/catalogue.ts';
import { openStore, type Store } from '../engine/store/database.ts';
import { entityIndicatorQuality, loadQualityInput } from '../engine/store/quality.ts';
import type { IndicatorDefinition } from '../engine/types.ts';
import { tempDir, writeFixture } from './support/fixtures.ts';
import { hasRealData, realDataFile } from './support/shared-data.ts';
import { testKey } from './support/principals.ts';
import { openTestStore, STORE_KINDS } from './support/stores.ts';

// --- The hand-built case. Indicator q_rate has the plausible range [0, 150]; q_other has none.
//  AUT 2016-2020: 10, 10.5, 10.2, 30, 31; source CTS, CTS, CTS, MoI, MoI -> a jump at a source change.
//  BEL 2016, 2018, 2020: 3, 3.1, 170 -> 2 of 5 years missing; 170 is out of range.
//  DEU 2016-2020: 5, 5.2, 5.1, 5.3, 2.0, all CTS -> a jump without a source change.
//  CHE: nothing. q_other: AUT 2020 "<5" (censored).
//  Batch 2 re-states BEL 2016 as 3.5 (a conflicting duplicate) and DEU 2020 as 2.0 (same value: not one).
const BATCH1_CSV = `entity,period,indicator,value,source
AUT,2016,q_rate,10,CTS
AUT,2017,q_rate,10.5,CTS
AUT,2018,q_rate,10.2,CTS
AUT,2019,q_rate,30,MoI
AUT,2020,q_rate,31,MoI
BEL,2016,q_rate,3,CTS
BEL,2018,q_rate,3.1,CTS
BEL,2020,q_rate,170,CTS
DEU,2016,q_rate,5,CTS
DEU,2017,q_rate,5.2,CTS
DEU,2018,q_rate,5.1,CTS
DEU,2019,q_rate,5.3,CTS
DEU,2020,q_rate,2.0,CTS
AUT,2020,q_other,<5,CTS
`;
const BATCH2_CSV = `entity,period,indicator,value,source
BEL,2016,q_rate,3.5,CTS
DEU,2020,q_rate,2.0,CTS
`;

const INDICATORS: readonly IndicatorDefinition[] = [
  { code: 'q_rate', name: 'Quality test rate', unit: 'per 100,000 population', crimeArea: 'homicide', polarity: 'higher_worse', plausibleMin: 0, plausibleMax: 150 },
  { code: 'q_other', name: 'Quality test count', unit: 'offences', crimeArea: 'property', polarity: 'higher_worse' },
];

function rowsFromCsv(csv: string, batchId: number): QualityObservation[] {
  return csv
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [entity, period, indicator, value, source] = line.split(',') as [string, string, string, string, string];
      const censored = value.startsWith('<');
      return {
        entity,
        indicator,
        period,
        periodKind: 'year' as const,
        year: Number(period),
        value: Number(censored ? value.slice(1) : value),
        qualifier: censored ? ('<' as const) : null,
        source,
        batchId,
      };
    });
}

const HAND_ROWS = [...rowsFromCsv(BATCH1_CSV, 1), ...rowsFromCsv(BATCH2_CSV, 2)];
const HAND_INFOS: QualityIndicatorInfo[] = INDICATORS.map((i) => ({ code: i.code, name: i.name, unit: i.unit, plausibleMin: i.plausibleMin ?? null, plausibleMax: i.plausibleMax ?? null }));
const batchInfo = (id: number, grade: string): QualityBatchInfo => ({
  id, source: `batch ${id}`, fileName: `b${id}.csv`, format: 'long', sourceReliability: grade[0]!, informationCredibility: grade[1]!, synthetic: false, createdAt: '2026-01-01T00:00:00.000Z',
});
const HAND_BATCHES = [batchInfo(1, 'B2'), batchInfo(2, 'C3')];

describe('level shifts (robust z of year-on-year log changes)', () => {
  const series = (values: number[], sources?: string[]) => values.map((value, i) => ({ year: 2016 + i, value, source: sources?.[i] ?? 'CTS' }));

  it('flags a jump that coincides with a source change, and says so', () => {
    const { changesTested, shifts } = detectLevelShifts('AUT', series([10, 10.5, 10.2, 30, 31], ['CTS', 'CTS', 'CTS', 'MoI', 'MoI']));
    expect(changesTested).toBe(4);
    expect(shifts).toHaveLength(1);
    // By hand: log changes 0.04879, -0.02899, 1.07881, 0.03279; median 0.04079; MAD 0.03889;
    // 1.4826 x 0.03889 = 0.05766 is below the 0.075 floor; z = (1.07881 - 0.04079) / 0.075 = 13.84.
    expect(shifts[0]).toMatchObject({ fromYear: 2018, toYear: 2019, fromValue: 10.2, toValue: 30, kind: 'shift', sourceChange: 'CTS->MoI' });
    expect(shifts[0]!.robustZ).toBeCloseTo(13.840, 2);
  });

  it('flags a jump without a source change', () => {
    const { shifts } = detectLevelShifts('DEU', series([5, 5.2, 5.1, 5.3, 2.0]));
    // By hand: 1.4826 x MAD (0.02932) = 0.0435 < 0.075, so the scale is 0.075; z = |-0.97456 - 0.00952| / 0.075 = 13.12.
    expect(shifts).toHaveLength(1);
    expect(shifts[0]).toMatchObject({ fromYear: 2019, toYear: 2020, sourceChange: null, kind: 'shift' });
    expect(shifts[0]!.robustZ).toBeCloseTo(13.121, 2);
  });

  it('reports an outlier year once, as a spike, and leaves smooth or short series alone', () => {
    const spike = detectLevelShifts('FRA', series([10, 10.2, 10.1, 40, 10.3, 10.2]));
    expect(spike.shifts).toHaveLength(1);
    expect(spike.shifts[0]).toMatchObject({ fromYear: 2018, toYear: 2019, kind: 'spike' });
    // A 25 % move in a very smooth series stays under the floor (0.223 < 4 x 0.075).
    expect(detectLevelShifts('NLD', series([10, 10.01, 10.02, 12.53, 12.54])).shifts).toEqual([]);
    // A steady 3 % growth: every change equals the median.
    expect(detectLevelShifts('ITA', series([100, 103, 106.09, 109.27, 112.55, 115.93])).shifts).toEqual([]);
    // 3 changes: too short to judge (minChanges 4).
    expect(detectLevelShifts('ESP', series([1, 1, 1, 50]))).toEqual({ changesTested: 0, shifts: [] });
    // Zero values have no log, and a gap breaks the chain: 0->1, 1.03->0 and 2019->2021 are not tested.
    expect(detectLevelShifts('PRT', series([0, 1, 1.02, 1.01, 1.03, 0])).changesTested).toBe(0);
    const gappy = [...series([1, 1.02, 1.01, 1.03, 1.02]), { year: 2022, value: 9, source: 'CTS' }];
    expect(detectLevelShifts('PRT', gappy)).toMatchObject({ changesTested: 4, shifts: [] });
  });
});

describe('grades', () => {
  it('takes the worst criterion for an indicator and the worse middle grade overall', () => {
    expect(worstGrade(['A', 'C', 'B'])).toBe('C');
    expect(medianGrade(['A', 'E', 'B'])).toBe('B');
    expect(medianGrade(['D', 'E'])).toBe('E');
    expect(medianGrade([])).toBeNull();
  });
});

/** The hand-computed answer for q_rate over AUT, BEL, CHE, DEU (see the comment at the top). */
function expectHandReport(report: QualityReport, states: number) {
  expect(report.scope).toMatchObject({ batch: null, years: { from: 2016, to: 2020 }, referenceYear: 2020, states });
  const rate = report.indicators.find((i) => i.indicator === 'q_rate')!;
  expect(rate.observations).toBe(13);
  expect(rate.coverage).toMatchObject({ states: 3, ofStates: states, cellsPresent: 13, cellsExpected: states * 5 });
  expect(rate.coverage.byYear).toEqual([
    { year: 2016, states: 3 }, { year: 2017, states: 2 }, { year: 2018, states: 3 }, { year: 2019, states: 2 }, { year: 2020, states: 3 },
  ]);
  expect(rate.missing.pattern.find((p) => p.entity === 'BEL')).toEqual({ entity: 'BEL', marks: '#.#.#', missing: 2 });
  expect(rate.missing.pattern.find((p) => p.entity === 'CHE')).toEqual({ entity: 'CHE', marks: '.....', missing: 5 });
  expect(rate.missing.absentStates).toContain('CHE');
  expect(rate.missing.pattern.some((p) => p.entity === 'AUT')).toBe(false);
  expect(rate.latest.byState).toMatchObject({ AUT: 2020, BEL: 2020, DEU: 2020, CHE: null });
  expect(rate.latest).toMatchObject({ latestYear: 2020, medianLatestYear: 2020 });
  expect(rate.outOfRange).toMatchObject({ plausibleMin: 0, plausibleMax: 150, count: 1, values: [{ entity: 'BEL', period: '2020', value: 170, batchId: 1 }] });
  expect(rate.outOfRange.share).toBeCloseTo(1 / 13, 10);
  expect(rate.duplicates).toEqual({
    count: 1,
    values: [{ entity: 'BEL', period: '2016', values: [{ batchId: 1, value: 3, qualifier: null }, { batchId: 2, value: 3.5, qualifier: null }] }],
  });
  // AUT and DEU have 4 changes each; BEL's 2 changes are too few to judge.
  expect(rate.levelShifts).toMatchObject({ changesTested: 8, count: 2, withSourceChange: 1 });
  expect(rate.levelShifts.shifts.map((s) => [s.entity, s.toYear, s.sourceChange])).toEqual([['AUT', 2019, 'CTS->MoI'], ['DEU', 2020, null]]);
  // Out of range 1/13 (> 5 %) and breaks 2/8 (> 10 %) are both E; recency 0 years is A.
  expect(rate.grade).toBe('E');
  expect(rate.criteria.find((c) => c.criterion === 'recency')).toEqual({ criterion: 'recency', value: 0, grade: 'A' });

  const other = report.indicators.find((i) => i.indicator === 'q_other')!;
  expect(other).toMatchObject({ observations: 1, censored: 1, coverage: { states: 1, cellsPresent: 1 } });
  expect(other.missing.pattern.some((p) => p.entity === 'AUT')).toBe(false);
  expect(report.overall).toMatchObject({ indicators: 2, observations: 14, censored: 1, outOfRange: 1, duplicates: 1, levelShifts: 2, levelShiftsWithSourceChange: 1 });
  expect(report.batches.map((b) => [b.id, b.admiralty, b.observations, b.censored, b.outOfRange, b.conflicts])).toEqual([
    [1, 'B2', 14, 1, 1, 1],
    [2, 'C3', 2, 0, 0, 1],
  ]);
}

describe('buildQualityReport on hand-built observations', () => {
  const states = ['AUT', 'BEL', 'CHE', 'DEU'];
  const report = buildQualityReport({ rows: HAND_ROWS, indicators: HAND_INFOS, batches: HAND_BATCHES, states, scope: {} });

  it('gives the hand-computed coverage, missingness, ranges, duplicates, shifts and grades', () => {
    expectHandReport(report, 4);
    const other = report.indicators.find((i) => i.indicator === 'q_other')!;
    // q_other: 1 of 4 cells (25 %) is D; no range and no series: those criteria are left out.
    expect(other.criteria.map((c) => c.criterion)).toEqual(['coverage', 'recency']);
    expect(other.grade).toBe('D');
    // Grades E and D: the worse middle one.
    expect(report.overall.grade).toBe('E');
  });

  it('counts coverage over the years an indicator is published: a biennial index is not missing in between', () => {
    // Every state has a value in 2019 and 2021 and none in 2020: 8 of 8 published cells, coverage A.
    const rows = ['AUT', 'BEL', 'CHE', 'DEU'].flatMap((entity) =>
      [2019, 2021].map((year) => ({ entity, indicator: 'q_other', period: String(year), periodKind: 'year' as const, year, value: 5, qualifier: null, source: 'GI-TOC', batchId: 1 })),
    );
    const biennial = buildQualityReport({ rows, indicators: HAND_INFOS, batches: HAND_BATCHES, states, scope: { from: 2019, to: 2021 } });
    const q = biennial.indicators.find((i) => i.indicator === 'q_other')!;
    expect(q.criteria.find((c) => c.criterion === 'coverage')).toEqual({ criterion: 'coverage', value: 1, grade: 'A' });
  });

  it('scopes to a batch: its rows, duplicates still compared with the other batches', () => {
    const only2 = buildQualityReport({ rows: HAND_ROWS, indicators: HAND_INFOS, batches: HAND_BATCHES, states, scope: { batch: 2 } });
    expect(only2.batches.map((b) => b.id)).toEqual([2]);
    expect(only2.overall).toMatchObject({ indicators: 1, observations: 2, duplicates: 1 });
  });

  it('prints a readable text table', () => {
    const text = formatQualityText(report);
    expect(text).toMatch(/^q_rate\s+E\s+3\/4\s+65%\s+2020\s+2020\s+1\s+1\s+2 \(1\)\s+0$/m);
    expect(text).toMatch(/^ {4}BEL {3}#\.#\.#  2 missing$/m);
    expect(text).toMatch(/AUT {4}2018->2019 {2}10\.2 -> 30 {2}x2\.941 {2}shift {2}coincides with source change CTS->MoI/);
    expect(text).toMatch(/DEU {4}2019->2020 {2}5\.3 -> 2 {2}x0\.3774 {2}shift$/m);
    expect(text).toMatch(/absent: CHE/);
  });

  it('gives the scoring engine coverage, recency and batch grades per entity and indicator', () => {
    const bel = seriesConfidenceInputs(HAND_ROWS.filter((r) => r.entity === 'BEL'), ['q_rate', 'q_other'], { from: 2016, to: 2020 }, 2022, HAND_BATCHES);
    expect(bel).toEqual([
      { indicator: 'q_rate', coverageShare: 0.6, latestYear: 2020, yearsSinceLatest: 2, batches: [
        { id: 1, admiralty: 'B2', sourceReliability: 'B', informationCredibility: '2' },
        { id: 2, admiralty: 'C3', sourceReliability: 'C', informationCredibility: '3' },
      ] },
      { indicator: 'q_other', coverageShare: 0, latestYear: null, yearsSinceLatest: null, batches: [] },
    ]);
  });
});

async function seedHandStore(store: Store): Promise<void> {
  await registerIndicators(store.db, INDICATORS);
  const dir = await tempDir();
  await ingestFile(store, await writeFixture(dir, 'q1.csv', BATCH1_CSV), { source: 'quality batch 1', grade: 'B2' });
  await ingestFile(store, await writeFixture(dir, 'q2.csv', BATCH2_CSV), { source: 'quality batch 2', grade: 'C3' });
}

describe.each(STORE_KINDS)('the quality report on a %s store', (kind) => {
  let store: Store;
  let app: App;
  let headers: Record<string, string>;
  beforeAll(async () => {
    store = await openTestStore(kind);
    await seedHandStore(store);
    app = await buildApp({ store });
    // The quality report is for analysts and data scientists (issue 6).
    headers = (await testKey(store, 'analyst')).headers;
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('reads the same answer from the store as from the hand-built rows, over the 57 states', async () => {
    const input = await loadQualityInput(store.db, {});
    expect(input.states).toEqual([...OSCE_PARTICIPATING_ISO3].sort());
    expectHandReport(buildQualityReport(input), 57);
  });

  it('GET /v1/quality answers the report, documented in OpenAPI', async () => {
    const res = await app.inject({ url: '/v1/quality', headers });
    expect(res.statusCode).toBe(200);
    expectHandReport(res.json(), 57);
    const scoped = (await app.inject({ url: '/v1/quality?indicator=q_rate&batch=1&from=2018&to=2020', headers })).json();
    expect(scoped.scope).toMatchObject({ batch: 1, indicator: 'q_rate', years: { from: 2018, to: 2020 }, referenceYear: 2020 });
    expect(scoped.indicators.map((i: { indicator: string }) => i.indicator)).toEqual(['q_rate']);
    expect(scoped.indicators[0].missing.pattern.find((p: { entity: string }) => p.entity === 'BEL')).toEqual({ entity: 'BEL', marks: '#.#', missing: 1 });
    const doc = (await app.inject('/docs/json')).json();
    expect(doc.paths['/v1/quality'].get.tags).toEqual(['quality']);
  });

  it('answers bad quality requests with problem+json', async () => {
    const cases: [string, number, string, RegExp][] = [
      ['/v1/quality?batch=99', 404, 'TL_NOT_FOUND', /batch 99 does not exist/],
      ['/v1/quality?indicator=nope', 404, 'TL_NOT_FOUND', /indicator "nope" is not in the catalogue/],
      ['/v1/quality?from=2021&to=2020', 400, 'TL_BAD_OPTION', /from \(2021\) is after to \(2020\)/],
      ['/v1/quality?batch=abc', 400, 'TL_VALIDATION', /batch/],
    ];
    for (const [url, status, code, detail] of cases) {
      const res = await app.inject({ url, headers });
      expect(res.statusCode, url).toBe(status);
      expect(res.headers['content-type'], url).toMatch(/^application\/problem\+json/);
      expect(res.json(), url).toMatchObject({ status, code });
      expect(res.json().detail, url).toMatch(detail);
    }
  });

  it('entityIndicatorQuality reads coverage, recency and batch grades for scoring', async () => {
    const [aut] = await entityIndicatorQuality(store.db, 'AUT', ['q_rate'], { from: 2011, to: 2020 });
    expect(aut).toEqual({ indicator: 'q_rate', coverageShare: 0.5, latestYear: 2020, yearsSinceLatest: 0, batches: [{ id: 1, admiralty: 'B2', sourceReliability: 'B', informationCredibility: '2' }] });
    expect(await entityIndicatorQuality(store.db, 'AUT', [], { from: 2016, to: 2020 })).toEqual([]);
  });
});

describe('threatlens quality (command line)', () => {
  it('prints the text report of a store', async () => {
    const dataDir = `${await tempDir()}/store`;
    const store = await openStore({ dataDir });
    await seedReferenceData(store.db);
    await seedHandStore(store);
    await store.close();
    const { stdout } = await promisify(execFile)(process.execPath, ['bin/threatlens.mjs', 'quality', '--indicator', 'q_rate'], {
      env: { ...process.env, THREATLENS_DATA_DIR: dataDir, DATABASE_URL: '' },
    });
    expect(stdout).toMatch(/^ThreatLens data-quality report$/m);
    expect(stdout).toMatch(/^q_rate\s+E\s+3\/57\s+/m);
    expect(stdout).toMatch(/coincides with source change CTS->MoI/);
  }, 60_000);
});

const OWID = ['owid_homicide_rate', 'homicide-rate-unodc.csv'];
const CTS = ['unodc_cts_corruption_economic_crime', 'data_cts_corruption_and_economic_crime.csv'];

describe.skipIf(!hasRealData('quality report on real files', OWID, CTS))('the quality report on the real OWID homicide and UNODC CTS files', () => {
  let store: Store;
  let report: QualityReport;
  beforeAll(async () => {
    store = await openTestStore('pglite');
    await ingestFile(store, realDataFile(...OWID), { grade: 'A2' });
    await ingestFile(store, realDataFile(...CTS), { grade: 'A2' });
    report = buildQualityReport(await loadQualityInput(store.db, {}));
  }, 120_000);
  afterAll(async () => {
    await store?.close();
  });

  it('OWID homicide: 56 of 57 states, Kyrgyzstan absent, the short series end where SOURCE.md says', () => {
    const homicide = report.indicators.find((i) => i.indicator === 'unodc_homicide_rate')!;
    // SOURCE.md: "56/57 participating states. Kyrgyzstan is absent from this file."
    expect(homicide.coverage.states).toBe(56);
    expect(homicide.missing.absentStates).toEqual(['KGZ']);
    // SOURCE.md: Monaco (2001-2008), San Marino (1995-2011), Turkmenistan (-2015), Belarus and Georgia (-2019), Andorra (2004-2020).
    expect(homicide.latest.byState).toMatchObject({ MCO: 2008, SMR: 2011, TKM: 2015, BLR: 2019, GEO: 2019, AND: 2020 });
    const monaco = homicide.missing.pattern.find((p) => p.entity === 'MCO')!.marks;
    expect([monaco.indexOf('#') + 1990, monaco.lastIndexOf('#') + 1990]).toEqual([2001, 2008]);
    // SOURCE.md: years 1990-2024.
    expect(report.indicators.find((i) => i.indicator === 'unodc_homicide_rate')!.coverage.byYear[0]!.year).toBe(1990);
  });

  it('UNODC CTS: 55 of 57 states have a series; the United Kingdom and San Marino are absent', () => {
    const cts = report.indicators.filter((i) => i.indicator.startsWith('unodc_cts_'));
    expect(cts.length).toBeGreaterThan(10);
    const withData = new Set(cts.flatMap((i) => Object.entries(i.latest.byState).filter(([, y]) => y !== null).map(([s]) => s)));
    // SOURCE.md: "55/57 states have at least one series. The United Kingdom and San Marino are absent."
    expect(withData.size).toBe(55);
    expect(OSCE_PARTICIPATING_ISO3.filter((s) => !withData.has(s)).sort()).toEqual(['GBR', 'SMR']);
    for (const i of cts) expect(i.missing.absentStates).toEqual(expect.arrayContaining(['GBR', 'SMR']));
  });

  it('says per participating state what it has and which files have nothing on it', () => {
    const [owid, cts] = report.batches.map((b) => b.id) as [number, number];
    const byState = new Map(report.states.map((s) => [s.state, s]));
    expect(report.states).toHaveLength(57);
    // SOURCE.md: Kyrgyzstan is absent from the OWID file; San Marino and the United Kingdom as a whole from the
    // UNODC CTS file, which reports the UK's three jurisdictions instead (GB-EAW, GB-SCT, GB-NIR): they count for GBR.
    expect(byState.get('KGZ')!.batchesWithout).toEqual([owid]);
    expect(byState.get('GBR')!.batchesWithout).toEqual([]);
    expect(byState.get('GBR')!.fromSubnational).toBeGreaterThan(0);
    expect(byState.get('SMR')!.batchesWithout).toEqual([cts]);
    expect(byState.get('DEU')!.batchesWithData).toEqual([owid, cts]);
    expect(byState.get('MCO')!.years!.from).toBe(2001);
  });

  it('marks no shift at a source change: no series of the participating states changes its Source column', () => {
    // Counted here from the file itself: rows by (country, category, unit), in year order.
    const csv = Papa.parse<string[]>(readFileSync(realDataFile(...CTS), 'utf8').trim()).data.slice(1);
    const states = new Set(OSCE_PARTICIPATING_ISO3);
    const series = new Map<string, [number, string][]>();
    for (const r of csv) {
      if (!states.has(r[0]!)) continue;
      const key = `${r[0]}|${r[6]}|${r[10]}`;
      const list = series.get(key) ?? [];
      list.push([Number(r[9]), r[12]!]);
      series.set(key, list);
    }
    let changes = 0;
    for (const list of series.values()) {
      list.sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < list.length; i++) if (list[i]![1] !== list[i - 1]![1]) changes++;
    }
    expect(changes).toBe(0);
    const cts = report.indicators.filter((i) => i.indicator.startsWith('unodc_cts_'));
    expect(cts.reduce((n, i) => n + i.levelShifts.withSourceChange, 0)).toBe(0);
    // But the breaks test runs on them: real series do have jumps.
    expect(cts.reduce((n, i) => n + i.levelShifts.count, 0)).toBeGreaterThan(0);
  });
});
