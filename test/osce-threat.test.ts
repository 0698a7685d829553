/**
 * The OSCE threat framework on the real published data in ../shared/datasets/real (World Bank
 * population and WGI, UNODC homicide via OWID, UNODC CTS, UNODC GLOTIP, GI-TOC 2021 and 2023),
 * checked against an independent reference: GI-TOC's own published pillar averages. PGlite only:
 * the store paths are covered on PostgreSQL by the other store tests; this one is about the numbers.
 */
import { sampleRankCorrelation } from 'simple-statistics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFramework } from '../datasets/frameworks/index.ts';
import { ingestFile } from '../datasets/ingest.ts';
import { BUILTIN_INDICATORS } from '../datasets/reference/indicators.ts';
import { ratePlans } from '../engine/ingest/rates.ts';
import { pointsAboveLevel } from '../engine/scoring/assessment.ts';
import { createAssessment, frameworkScoreTable, type AssessmentResult, type FrameworkScoreTable } from '../engine/scoring/assessment-run.ts';
import { explainScore } from '../engine/scoring/explain.ts';
import type { Framework } from '../engine/scoring/framework.ts';
import { listIndicators } from '../engine/store/catalogue.ts';
import type { Store } from '../engine/store/database.ts';
import { currentAnnualValues } from '../engine/store/observations.ts';
import { deriveStoredRates } from '../engine/store/rates.ts';
import { hasRealData, realDataFile } from './support/shared-data.ts';
import { openTestStore } from './support/stores.ts';

const FILES: readonly [string[], string][] = [
  [['worldbank_population', 'pop_by_country.csv'], 'wdi'],
  [['owid_homicide_rate', 'homicide-rate-unodc.csv'], 'owid'],
  [['unodc_cts_corruption_economic_crime', 'data_cts_corruption_and_economic_crime.csv'], 'unodc-cts'],
  [['unodc_glotip', 'data_glotip.xlsx'], 'unodc-glotip'],
  [['gitoc_ocindex_csv', 'oc_2021.csv'], 'goci'],
  [['gitoc_ocindex_csv', 'oc_2023.csv'], 'goci'],
  [['worldbank_wgi', 'wgidataset.csv'], 'wgi'],
];

describe('pointsAboveLevel: an indicator moved to the score level, all else equal (hand-computed)', () => {
  it('geometric root: values 4 and 9 give 6; moving 4 to 6 gives sqrt(54) = 7.348, so 4 stands at -1.348 points', () => {
    const root = { id: 'r', aggregation: 'geometric' as const, children: ['a', 'b'] };
    const explanation = explainScore(root, new Map([['a', 4], ['b', 9]]));
    expect(explanation.score).toBeCloseTo(6, 12);
    const a = explanation.contributions.find((c) => c.indicator === 'a')!;
    expect(pointsAboveLevel(explanation, a.relative)).toBeCloseTo(6 - Math.sqrt(54), 12);
  });
  it('arithmetic root: weights 1 and 3, values 2 and 6 give 5; moving 2 to 5 adds 0.75, so 2 stands at -0.75', () => {
    const root = { id: 'r', aggregation: 'arithmetic' as const, weights: { a: 1, b: 3 }, children: ['a', 'b'] };
    const explanation = explainScore(root, new Map([['a', 2], ['b', 6]]));
    const a = explanation.contributions.find((c) => c.indicator === 'a')!;
    expect(pointsAboveLevel(explanation, a.relative)).toBeCloseTo(-0.75, 12);
  });
});

const available = hasRealData('the OSCE threat framework on real data', ...FILES.map(([parts]) => parts));

describe.skipIf(!available)('the OSCE threat framework on real published data (2023)', () => {
  let store: Store;
  let framework: Framework;
  let table: FrameworkScoreTable;

  beforeAll(async () => {
    store = await openTestStore('pglite');
    for (const [parts, format] of FILES) await ingestFile(store, realDataFile(...parts), { format: format as never });
    await deriveStoredRates(store, ratePlans(BUILTIN_INDICATORS));
    framework = await loadFramework('osce-threat', new Set((await listIndicators(store.db)).map((i) => i.code)));
    table = await frameworkScoreTable(store.db, framework, 2023);
  }, 300_000);
  afterAll(async () => store?.close());

  it('ranks 56 of the 57 participating states; the Holy See lacks two of three pillars and stays unscored', () => {
    const scored = table.rows.filter((r) => r.scores.risk !== null);
    expect(scored).toHaveLength(56);
    expect(table.rows.find((r) => r.entity === 'VAT')!.scores.risk).toBeNull();
    expect(new Set(scored.map((r) => r.rank)).size).toBe(56);
  });

  it('agrees with GI-TOC\'s published 2023 averages, an independent reference, where it should', async () => {
    const published = new Map<string, Map<string, number>>();
    for (const v of await currentAnnualValues(store.db, { fromYear: 2023, toYear: 2023 })) {
      if (!v.indicator.startsWith('ocindex_') || v.indicator.includes('_market_') || v.indicator.includes('_actor_') || v.indicator.includes('_resilience_')) continue;
      if (!published.has(v.indicator)) published.set(v.indicator, new Map());
      published.get(v.indicator)!.set(v.entity, v.value);
    }
    const rows = table.rows.filter((r) => r.scores.risk !== null && published.get('ocindex_criminality')!.has(r.entity));
    expect(rows.length).toBeGreaterThanOrEqual(55);
    const pairs = (node: string, code: string, flip: boolean) => {
      const x = rows.map((r) => r.scores[node]!);
      const y = rows.map((r) => (flip ? 10 - published.get(code)!.get(r.entity)! : published.get(code)!.get(r.entity)!));
      return sampleRankCorrelation(x, y);
    };
    // Crime markets are GI-TOC's markets on goalposts 1-10: the same order as the published average.
    expect(pairs('crime_markets', 'ocindex_criminal_markets', false)).toBeGreaterThan(0.999);
    // Lack of resilience adds three WGI estimates to GI-TOC's twelve: close, not identical.
    expect(pairs('lack_of_resilience', 'ocindex_resilience', true)).toBeGreaterThan(0.95); // 0.992 when written
    // The composite adds measured crime and governance: it should follow GI-TOC's criminality, loosely.
    expect(pairs('risk', 'ocindex_criminality', false)).toBeGreaterThan(0.7); // 0.782 when written
  });

  it('assesses a state with an interval around its rank, confidence and a narrative from its numbers', async () => {
    const stored = await createAssessment(store.db, framework, { year: 2023, entity: 'DEU', runs: 300, requestedBy: 'test' });
    const germany = (stored.result as AssessmentResult).entities[0]!;
    const risk = germany.roots[0]!;
    expect(risk.score).toBeCloseTo(table.rows.find((r) => r.entity === 'DEU')!.scores.risk!, 3);
    expect(risk.interval!.rankLow).toBeLessThanOrEqual(risk.rank!);
    expect(risk.interval!.rankHigh).toBeGreaterThanOrEqual(risk.rank!);
    expect(germany.narrative).toMatch(/^Germany scores \d\.\d of 10 on the OSCE threat framework in 2023/);
    expect(germany.threatMatrix.cells.map((c) => c.crimeArea)).toEqual(expect.arrayContaining(['homicide', 'organised_crime', 'trafficking_in_persons']));
  }, 120_000);
});
