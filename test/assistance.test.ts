/**
 * Where assistance is needed (engine/scoring/assistance.ts): the threat-resilience gap overall and
 * per crime area, its split into indicator terms, its Monte Carlo interval and rank interval, and
 * the data-capacity gaps, on a three-state case worked by hand; then on the synthetic demo panel
 * through GET /v1/assistance-priorities, checked against the API's own risk scores, the stored
 * assessment's threat matrix and the quality report.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../api/app.ts';
import { loadDemoData } from '../datasets/demo/load.ts';
import { assistancePriorities, dataCapacityGaps, type AssistanceContext, type GapRow } from '../engine/scoring/assistance.ts';
import { parseFramework } from '../engine/scoring/framework.ts';
import { panelFromRows } from '../engine/scoring/pipeline.ts';
import type { Store } from '../engine/store/database.ts';
import type { CrimeArea, Polarity } from '../engine/types.ts';
import { tempDir } from './support/fixtures.ts';
import { openTestStore, STORE_KINDS } from './support/stores.ts';

// Goalposts 0-10 on a 0-10 scale: a higher_worse value x normalises to x, a higher_better one to
// 10 - x, so every normalised value below can be read off the inputs. Each indicator carries its
// own normalisation so that the Monte Carlo's normalisation alternatives leave it alone.
const GOALPOSTS = { normalisation: { method: 'goalposts', lower: 0, upper: 10, scale: 10 } };
const CODES = ['t_hom', 't_drug', 't_drug2', 'r_law', 'r_gov'];
const framework = parseFramework(
  {
    id: 'assist-test',
    version: '1.0.0',
    title: 'Assistance test',
    defaults: { normalisation: { method: 'minmax', low: 0, high: 10 } },
    indicators: Object.fromEntries(CODES.map((c) => [c, GOALPOSTS])),
    roots: [
      {
        id: 'risk',
        aggregation: 'geometric',
        children: [
          { id: 'threat', children: ['t_hom', { id: 'drugs_node', children: ['t_drug', 't_drug2'] }] },
          { id: 'lack_of_resilience', weights: { r_law: 3, r_gov: 1 }, children: ['r_law', 'r_gov'] },
        ],
      },
    ],
  },
  new Set(CODES),
);

// Raw values of 2020 (resilience indicators are higher_better: lack = 10 - value).
//        t_hom t_drug t_drug2 r_law r_gov
//   A      8     6      2       3     5      lack: r_law 7, r_gov 5
//   B      2     4      4       8     6      lack: r_law 2, r_gov 4
//   C      5     -      9       5     -      lack: r_law 5
const RAW: Record<string, Record<string, number>> = {
  A: { t_hom: 8, t_drug: 6, t_drug2: 2, r_law: 3, r_gov: 5 },
  B: { t_hom: 2, t_drug: 4, t_drug2: 4, r_law: 8, r_gov: 6 },
  C: { t_hom: 5, t_drug2: 9, r_law: 5 },
};
const context: AssistanceContext = {
  framework,
  panel: panelFromRows(Object.entries(RAW).flatMap(([entity, values]) => Object.entries(values).map(([indicator, value]) => ({ entity, indicator, year: 2020, value })))),
  polarities: new Map<string, Polarity>([['t_hom', 'higher_worse'], ['t_drug', 'higher_worse'], ['t_drug2', 'higher_worse'], ['r_law', 'higher_better'], ['r_gov', 'higher_better']]),
  crimeAreas: new Map<string, CrimeArea>([['t_hom', 'homicide'], ['t_drug', 'drugs'], ['t_drug2', 'drugs'], ['r_law', 'resilience'], ['r_gov', 'governance']]),
  indicatorNames: new Map(CODES.map((c) => [c, `name of ${c}`])),
  entityNames: new Map([['A', 'Alpha'], ['B', 'Beta'], ['C', 'Gamma']]),
};

const byEntity = (rows: readonly GapRow[]) => new Map(rows.map((r) => [r.entity, r]));
const termsOf = (row: GapRow) => Object.fromEntries([...row.threatTerms, ...row.resilienceTerms].map((t) => [t.indicator, t.contribution]));

describe('assistance gap: hand-computed three-state case', () => {
  // weightNoise 0 and per-indicator normalisation: the only choice that changes anything is the
  // aggregation (arithmetic as the framework, or geometric everywhere), so the Monte Carlo has two outcomes.
  const result = assistancePriorities(context, { year: 2020, runs: 200, seed: 11, weightNoise: 0 });
  const overall = byEntity(result.overall);

  it('overall: gap = threat - (10 - lack of resilience), ranked largest first', () => {
    // A: drugs node (6 + 2) / 2 = 4; threat = (8 + 4) / 2 = 6; lack = 0.75 x 7 + 0.25 x 5 = 6.5, R = 3.5; gap 2.5
    // B: drugs 4; threat (2 + 4) / 2 = 3; lack 0.75 x 2 + 0.25 x 4 = 2.5, R = 7.5; gap -4.5
    // C: drugs node 9 (t_drug missing); threat (5 + 9) / 2 = 7; lack = r_law alone 5, R = 5; gap 2
    expect(result.overall.map((r) => [r.entity, r.threat, r.resilience, r.gap, r.rank])).toEqual([
      ['A', 6, 3.5, 2.5, 1],
      ['C', 7, 5, 2, 2],
      ['B', 3, 7.5, -4.5, 3],
    ]);
    expect(result.method).toMatchObject({ threatNode: 'threat', resilienceNode: 'lack_of_resilience', runs: 200, seed: 11 });
  });

  it('splits each gap into weight x (normalised - 5) per indicator; the terms sum to the gap', () => {
    // A: t_hom 0.5 x 3 = 1.5; t_drug 0.25 x 1 = 0.25; t_drug2 0.25 x -3 = -0.75; r_law 0.75 x 2 = 1.5; r_gov 0.25 x 0 = 0
    expect(termsOf(overall.get('A')!)).toEqual({ t_hom: 1.5, t_drug: 0.25, t_drug2: -0.75, r_law: 1.5, r_gov: 0 });
    // B: -1.5, -0.25, -0.25, 0.75 x -3 = -2.25, 0.25 x -1 = -0.25
    expect(termsOf(overall.get('B')!)).toEqual({ t_hom: -1.5, t_drug: -0.25, t_drug2: -0.25, r_law: -2.25, r_gov: -0.25 });
    // C: t_drug2 carries the whole drugs node (weight 0.5): 0.5 x 4 = 2; t_hom 0; r_law weight 1 x 0
    expect(termsOf(overall.get('C')!)).toEqual({ t_hom: 0, t_drug2: 2, r_law: 0 });
    for (const row of result.overall) {
      const sum = [...row.threatTerms, ...row.resilienceTerms].reduce((s, t) => s + t.contribution, 0);
      expect(sum).toBeCloseTo(row.gap!, 12);
      expect(row.exact).toBe(true);
    }
    // largest term first
    expect(overall.get('A')!.threatTerms.map((t) => t.indicator)).toEqual(['t_hom', 't_drug', 't_drug2']);
    expect(overall.get('A')!.resilienceContribution).toBe(1.5);
  });

  it('per crime area: the threat matrix scale minus resilience, ranked per area', () => {
    const homicide = byEntity(result.crimeAreas.find((a) => a.crimeArea === 'homicide')!.rows);
    const drugs = byEntity(result.crimeAreas.find((a) => a.crimeArea === 'drugs')!.rows);
    expect(result.crimeAreas.map((a) => a.crimeArea)).toEqual(['homicide', 'drugs']); // resilience and governance are capacity, not threats
    // homicide: A 8 - 3.5 = 4.5, B 2 - 7.5 = -5.5, C 5 - 5 = 0
    expect([...homicide.values()].map((r) => [r.entity, r.gap, r.rank])).toEqual([['A', 4.5, 1], ['C', 0, 2], ['B', -5.5, 3]]);
    // drugs: A (6 + 2) / 2 - 3.5 = 0.5, B 4 - 7.5 = -3.5, C 9 - 5 = 4
    expect([...drugs.values()].map((r) => [r.entity, r.threat, r.gap, r.rank])).toEqual([['C', 9, 4, 1], ['A', 4, 0.5, 2], ['B', 4, -3.5, 3]]);
    // A drugs: (6 - 5) / 2 = 0.5 and (2 - 5) / 2 = -1.5, plus the resilience side 1.5: 0.5
    const a = drugs.get('A')!;
    expect(a.threatTerms.map((t) => [t.indicator, t.contribution])).toEqual([['t_drug', 0.5], ['t_drug2', -1.5]]);
    expect(a.threatTerms.reduce((s, t) => s + t.contribution, 0) + a.resilienceContribution!).toBeCloseTo(a.gap!, 12);
  });

  it('Monte Carlo: with geometric aggregation the only alternative, the interval spans the two outcomes', () => {
    // Geometric everywhere (floor 0.01), by hand with a calculator (python math.exp of the weighted log means):
    //   A: drugs sqrt(6 x 2) = 3.464102; threat sqrt(8 x 3.464102) = 5.264296; lack 7^0.75 x 5^0.25 = 6.435259; gap 1.699555
    //   B: drugs 4; threat sqrt(2 x 4) = 2.828427; lack 2^0.75 x 4^0.25 = 2.378414; gap -4.793159
    //   C: threat sqrt(5 x 9) = 6.708204; lack 5; gap 1.708204 (C passes A: ranks swap)
    // About a third of the 200 runs draw geometric: the 5th percentile is the lower outcome, the
    // 95th the higher, and the median the arithmetic (nominal) one.
    const a = overall.get('A')!;
    expect(a.interval!.low).toBeCloseTo(1.699555, 6);
    expect(a.interval!.high).toBe(2.5);
    expect(a.interval!.median).toBe(2.5);
    expect(a.rankInterval).toEqual({ low: 1, median: 1, high: 2 });
    const b = overall.get('B')!;
    expect(b.interval!.low).toBeCloseTo(-4.793159, 6);
    expect(b.interval!.high).toBe(-4.5);
    expect(b.rankInterval).toEqual({ low: 3, median: 3, high: 3 });
    const c = overall.get('C')!;
    expect(c.interval!.low).toBeCloseTo(1.708204, 6);
    expect(c.interval!.high).toBe(2);
    expect(c.rankInterval).toEqual({ low: 1, median: 2, high: 2 });
    // homicide area: the scale does not depend on aggregation, only the lack node does
    // (A: 8 + 6.435259 - 10 = 4.435259; C: 5 + 5 - 10 = 0 in both)
    const homicide = byEntity(result.crimeAreas.find((x) => x.crimeArea === 'homicide')!.rows);
    expect(homicide.get('A')!.interval!.low).toBeCloseTo(4.435259, 6);
    expect(homicide.get('A')!.interval!.high).toBe(4.5);
    expect(homicide.get('C')!.interval).toEqual({ low: 0, median: 0, high: 0 });
  });

  it('the same seed gives the same result; another seed the same nominal gaps', () => {
    expect(assistancePriorities(context, { year: 2020, runs: 200, seed: 11, weightNoise: 0 })).toEqual(result);
    const other = assistancePriorities(context, { year: 2020, runs: 50, seed: 3 });
    expect(other.overall.map((r) => r.gap)).toEqual(result.overall.map((r) => r.gap));
  });

  it('data-capacity gaps: indicators missing from the window or older than two years', () => {
    // year 2020: stale when 2020 - latest > 2 (2017 and earlier); r_gov is absent from the report: missing everywhere
    const quality = {
      indicators: [
        { indicator: 't_hom', latest: { byState: { A: 2020, B: 2017, C: 2019 } } },
        { indicator: 't_drug', latest: { byState: { A: 2018, B: 2020, C: null } } },
        { indicator: 't_drug2', latest: { byState: { A: 2020, B: 2020, C: 2020 } } },
        { indicator: 'r_law', latest: { byState: { A: 2020, B: 2020, C: 2015 } } },
      ],
    };
    const states = ['A', 'B', 'C'].map((e) => ({ entity: e, name: e, subregion: null }));
    const rows = dataCapacityGaps(quality, CODES, states, 2020);
    // C: missing t_drug, r_gov; stale r_law (2015): 3 of 5. B: missing r_gov; stale t_hom (2017): 2 of 5. A: missing r_gov: 1 of 5 (2018 is 2 years: not stale)
    expect(rows.map((r) => [r.entity, r.missing, r.stale, r.gapShare, r.rank])).toEqual([
      ['C', ['t_drug', 'r_gov'], [{ indicator: 'r_law', latestYear: 2015 }], 0.6, 1],
      ['B', ['r_gov'], [{ indicator: 't_hom', latestYear: 2017 }], 0.4, 2],
      ['A', ['r_gov'], [], 0.2, 3],
    ]);
    const withQuality = assistancePriorities(context, { year: 2020, runs: 20, quality });
    expect(withQuality.dataCapacity!.rows.map((r) => r.entity)).toEqual(['C', 'B', 'A']);
    expect(withQuality.dataCapacity!.window).toEqual({ from: 2011, to: 2020 });
  });

  it('refuses a framework without a threat and a lack-of-resilience node, saying which is missing', () => {
    const noGap = parseFramework({ id: 'no-gap', version: '1', title: 'x', roots: [{ id: 'risk', children: ['t_hom'] }] }, new Set(CODES));
    expect(() => assistancePriorities({ ...context, framework: noGap }, { year: 2020, runs: 10 })).toThrow(/no-gap lacks a "threat" node and a "lack_of_resilience" or "lack_of_coping_capacity" node/);
  });
});

describe.each(STORE_KINDS)('GET /v1/assistance-priorities on %s (synthetic demo panel)', (kind) => {
  let store: Store;
  let app: App;
  const headers = { 'x-purpose': 'assistance test' };
  const URL = '/v1/assistance-priorities?framework=osce-threat-demo&year=2022&runs=200&seed=5';
  type Row = GapRow & { threatTerms: { contribution: number }[]; resilienceTerms: { contribution: number }[] };
  let body: {
    units: number;
    overall: Row[];
    crimeAreas: { crimeArea: string; rows: Row[] }[];
    dataCapacity: { indicators: number; window: { from: number; to: number }; rows: { entity: string; missing: string[]; stale: { indicator: string; latestYear: number }[]; gapShare: number; rank: number }[] };
    method: { staleAfterYears: number };
    synthetic: boolean;
  };

  beforeAll(async () => {
    store = await openTestStore(kind);
    await loadDemoData(store, await tempDir());
    app = await buildApp({ store, access: { demoAccess: { role: 'analyst', agency: 'demo' }, rateLimit: false } });
    const res = await app.inject({ method: 'GET', url: URL, headers });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    body = res.json();
  }, 180_000);
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('ranks the 57 states by gap = threat + lack of resilience - 10, as the API\'s own node scores give it; the terms add up to each gap', async () => {
    expect(body.units).toBe(57);
    expect(body.overall).toHaveLength(57);
    expect(body.synthetic).toBe(true);
    const scores = (await app.inject({ method: 'GET', url: '/v1/risk-scores?framework=osce-threat-demo&year=2022', headers })).json() as { scores: { entity: string; nodes: Record<string, number | null> }[] };
    const nodes = new Map(scores.scores.map((s) => [s.entity, s.nodes]));
    const ranked = body.overall.filter((r) => r.rank !== null);
    expect(ranked.length).toBeGreaterThan(40);
    ranked.forEach((r, i) => {
      expect(r.rank).toBe(i + 1); // no ties in continuous scores
      if (i > 0) expect(r.gap!).toBeLessThanOrEqual(ranked[i - 1]!.gap!);
      const n = nodes.get(r.entity)!;
      // the risk-scores answer is rounded to 3 decimals
      expect(Math.abs(r.gap! - (n.threat! + n.lack_of_resilience! - 10))).toBeLessThanOrEqual(0.0011);
      expect(Math.abs(r.resilience! - (10 - n.lack_of_resilience!))).toBeLessThanOrEqual(0.0006);
      const sum = [...r.threatTerms, ...r.resilienceTerms].reduce((s, t) => s + t.contribution, 0);
      expect(Math.abs(sum - r.gap!)).toBeLessThan(2e-5);
      expect(r.interval!.low).toBeLessThanOrEqual(r.interval!.high);
      expect(r.rankInterval!.low).toBeLessThanOrEqual(r.rankInterval!.high);
    });
    for (const r of body.overall.filter((x) => x.rank === null)) expect(r.gap === null || nodes.get(r.entity)!.lack_of_resilience === null).toBe(true);
  });

  it('the crime-area threats are the threat matrix scales of the assessment, the resilience its capacity', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/assessments', headers, payload: { framework: 'osce-threat-demo', year: 2022, entity: 'ALB', runs: 50, seed: 5, requestedBy: 'test', purpose: 'assistance test' } });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(201);
    const matrix = (res.json() as { result: { entities: { threatMatrix: { capacity: number; cells: { crimeArea: string; scale: number | null }[] } }[] } }).result.entities[0]!.threatMatrix;
    let compared = 0;
    for (const cell of matrix.cells) {
      const row = body.crimeAreas.find((a) => a.crimeArea === cell.crimeArea)!.rows.find((r) => r.entity === 'ALB')!;
      if (cell.scale === null) {
        expect(row.gap).toBeNull();
        continue;
      }
      expect(row.threat!).toBeCloseTo(cell.scale, 6);
      expect(row.resilience!).toBeCloseTo(matrix.capacity, 6);
      expect(row.gap!).toBeCloseTo(cell.scale - matrix.capacity, 5);
      expect(row.threatTerms.reduce((s, t) => s + t.contribution, 0) + row.resilienceContribution!).toBeCloseTo(row.gap!, 5);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(6);
    expect(body.crimeAreas.map((a) => a.crimeArea).sort()).toEqual(matrix.cells.map((c) => c.crimeArea).sort());
  });

  it('the data-capacity gaps are the quality report\'s missing and stale series of the framework\'s indicators', async () => {
    const quality = (await app.inject({ method: 'GET', url: '/v1/quality?from=2013&to=2022', headers })).json() as { indicators: { indicator: string; latest: { byState: Record<string, number | null> } }[] };
    const frameworks = (await app.inject({ method: 'GET', url: '/v1/frameworks', headers })).json() as { frameworks: { id: string; indicators: string[] }[] };
    const leaves = [...new Set(frameworks.frameworks.find((f) => f.id === 'osce-threat-demo')!.indicators)];
    expect(body.dataCapacity.indicators).toBe(leaves.length);
    expect(body.dataCapacity.window).toEqual({ from: 2013, to: 2022 });
    const latest = new Map(quality.indicators.map((i) => [i.indicator, i.latest.byState]));
    let withGaps = 0;
    for (const row of body.dataCapacity.rows) {
      const missing = leaves.filter((c) => (latest.get(c)?.[row.entity] ?? null) === null);
      const stale = leaves.filter((c) => { const y = latest.get(c)?.[row.entity] ?? null; return y !== null && 2022 - y > body.method.staleAfterYears; });
      expect(row.missing.sort()).toEqual(missing.sort());
      expect(row.stale.map((s) => s.indicator).sort()).toEqual(stale.sort());
      expect(row.gapShare).toBeCloseTo((missing.length + stale.length) / leaves.length, 6);
      if (row.gapShare > 0) withGaps++;
    }
    expect(withGaps).toBeGreaterThan(0);
    const shares = body.dataCapacity.rows.map((r) => r.gapShare);
    expect(shares).toEqual([...shares].sort((a, b) => b - a));
  });

  it('refuses a framework without the gap\'s nodes and an unknown crime area, saying what is wrong; 304 when unchanged', async () => {
    const goci = await app.inject({ method: 'GET', url: '/v1/assistance-priorities?framework=goci-2023&year=2022', headers });
    expect(goci.statusCode).toBe(400);
    expect(goci.headers['content-type']).toContain('application/problem+json');
    expect(goci.json().detail).toMatch(/goci-2023 lacks a "threat" node/);
    const area = await app.inject({ method: 'GET', url: `${URL}&crimeArea=unicorns`, headers });
    expect(area.statusCode).toBe(400);
    expect(area.json().detail).toMatch(/crimeArea "unicorns" is not among the threat areas of osce-threat-demo: .*homicide/);
    const one = await app.inject({ method: 'GET', url: `${URL}&crimeArea=drugs`, headers });
    expect((one.json() as typeof body).crimeAreas.map((a) => a.crimeArea)).toEqual(['drugs']);
    const first = await app.inject({ method: 'GET', url: URL, headers });
    const again = await app.inject({ method: 'GET', url: URL, headers: { ...headers, 'if-none-match': first.headers.etag as string } });
    expect(again.statusCode).toBe(304);
  });
});
