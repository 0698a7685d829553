/**
 * The dashboard's read-only routes (api/routes/dashboard-data.ts) against independent routes on
 * the demo panel: GET /v1/risk-scores (the framework's table, the stored simple composite) and
 * POST /v1/assessments (the stored assessment with the same Monte Carlo); INFORM's bands by hand.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../api/app.ts';
import { loadDemoData } from '../datasets/demo/load.ts';
import { refreshRiskScores } from '../engine/scoring/refresh.ts';
import type { Store } from '../engine/store/database.ts';
import { tempDir } from './support/fixtures.ts';
import { openTestStore } from './support/stores.ts';

const FRAMEWORK = 'osce-threat-demo';
const YEAR = 2022;

interface Interval { rankLow: number; rankHigh: number; rankMedian: number; scoreLow: number; scoreHigh: number }
interface SummaryState { entity: string; score: number | null; band: string | null; rank: number | null; of: number; interval: Interval | null; confidence: string }
interface StoredEntity { entity: string; roots: { score: number | null; band: string | null; rank: number | null; of: number; interval: Interval | null; drivers: { up: { indicator: string; pointsAboveLevel: number }[] } }[]; confidence: { level: string }; narrative: string }

/** INFORM's classes on 0-10 (engine/scoring/bands.ts), written out by hand. */
const informBand = (x: number) => (x < 2 ? 0 : x < 3.5 ? 1 : x < 5 ? 2 : x < 6.5 ? 3 : 4);

/** Each test may wait for the Monte Carlo of a year (seconds on a busy machine with two test files at once). */
const HEAVY = 120_000;

describe('dashboard routes', () => {
  let store: Store;
  let app: App;
  let closed: App | undefined;

  const get = async <T>(url: string, target: App = app): Promise<{ status: number; body: T }> => {
    const res = await target.inject({ method: 'GET', url });
    return { status: res.statusCode, body: res.json() as T };
  };

  beforeAll(async () => {
    store = await openTestStore('pglite');
    await loadDemoData(store, await tempDir());
    await refreshRiskScores(store.db);
    app = await buildApp({ store, access: { demoAccess: { role: 'analyst', agency: 'demo' }, rateLimit: false } });
  }, 120_000);

  afterAll(async () => {
    await closed?.close();
    await app?.close();
    await store?.close();
  }, HEAVY);

  it('gives every state\'s 90% interval and confidence exactly as the stored assessment of all 57 does', async () => {
    const summary = await get<{ states: SummaryState[]; method: { seed: number; runs: number } }>(`/v1/dashboard/summary?framework=${FRAMEWORK}&year=${YEAR}`);
    expect(summary.status).toBe(200);
    expect(summary.body.states).toHaveLength(57);
    const res = await app.inject({ method: 'POST', url: '/v1/assessments', payload: { framework: FRAMEWORK, year: YEAR, purpose: 'test of the dashboard routes' } });
    expect(res.statusCode).toBe(201);
    const stored = (res.json() as { result: { entities: StoredEntity[]; method: { seed: number; runs: number } } }).result;
    expect(summary.body.method.seed).toBe(stored.method.seed);
    expect(summary.body.method.runs).toBe(stored.method.runs);
    for (const s of summary.body.states) {
      const e = stored.entities.find((x) => x.entity === s.entity)!;
      expect({ score: s.score, band: s.band, rank: s.rank, of: s.of, interval: s.interval, confidence: s.confidence }, s.entity).toEqual({
        score: e.roots[0]!.score,
        band: e.roots[0]!.band,
        rank: e.roots[0]!.rank,
        of: e.roots[0]!.of,
        interval: e.roots[0]!.interval,
        confidence: e.confidence.level,
      });
    }
  }, HEAVY);

  it('gives a country\'s score history as GET /v1/risk-scores gives each year, and the assessment\'s drivers', async () => {
    const country = await get<{ history: { year: number; score: number | null }[]; drivers: { indicator: string; pointsAboveLevel: number }[]; narrative: string; change: { from: number; to: number; change: number; residual: number; contributions: { points: number }[] } }>(
      `/v1/dashboard/country?framework=${FRAMEWORK}&year=${YEAR}&entity=ALB`,
    );
    expect(country.status).toBe(200);
    expect(country.body.history.map((h) => h.year)).toEqual(Array.from({ length: 10 }, (_, i) => YEAR - 9 + i));
    for (const h of country.body.history) {
      const table = await get<{ scores: { entity: string; score: number | null }[] }>(`/v1/risk-scores?framework=${FRAMEWORK}&year=${h.year}`);
      const expected = table.body.scores.find((x) => x.entity === 'ALB')!.score;
      expect(h.score === null ? null : Math.round(h.score * 1000) / 1000, String(h.year)).toBe(expected);
    }
    const res = await app.inject({ method: 'POST', url: '/v1/assessments', payload: { framework: FRAMEWORK, year: YEAR, entity: 'ALB', purpose: 'test of the dashboard routes' } });
    const stored = (res.json() as { result: { entities: StoredEntity[] } }).result.entities[0]!;
    // The assessment's three main drivers are the top of the panel's full list, with the same points.
    const top = country.body.drivers.slice(0, 3).map((d) => [d.indicator, d.pointsAboveLevel]);
    expect(top).toEqual(stored.roots[0]!.drivers.up.map((d) => [d.indicator, d.pointsAboveLevel]));
    expect(country.body.narrative).toBe(stored.narrative);
    const c = country.body.change;
    const sum = c.contributions.reduce((acc, x) => acc + x.points, 0);
    expect(Math.abs(sum + c.residual - c.change)).toBeLessThan(1e-5);
    expect(Math.abs(c.to - c.from - c.change)).toBeLessThan(1e-5);
  }, HEAVY);

  it('colours a framework node by its score with the framework\'s bands, as GET /v1/risk-scores scores it', async () => {
    const map = await get<{ layer: string; states: { entity: string; value: number | null; band: number | null; status: string }[] }>(`/v1/dashboard/map?framework=${FRAMEWORK}&year=${YEAR}&layer=node:overall`);
    expect(map.status).toBe(200);
    expect(map.body.layer).toBe('node:risk');
    const threat = await get<{ states: { entity: string; value: number | null; band: number | null }[] }>(`/v1/dashboard/map?framework=${FRAMEWORK}&year=${YEAR}&layer=node:threat`);
    const table = await get<{ scores: { entity: string; score: number | null; nodes: Record<string, number | null> }[] }>(`/v1/risk-scores?framework=${FRAMEWORK}&year=${YEAR}`);
    for (const row of table.body.scores) {
      const risk = map.body.states.find((s) => s.entity === row.entity)!;
      expect(risk.value).toBe(row.score);
      expect(risk.band).toBe(row.score === null ? null : informBand(row.score));
      const t = threat.body.states.find((s) => s.entity === row.entity)!;
      expect(t.value).toBe(row.nodes.threat);
      expect(t.band).toBe(row.nodes.threat === null ? null : informBand(row.nodes.threat!));
    }
  }, HEAVY);

  it('colours a crime area by the published simple composite, as GET /v1/risk-scores?node= gives it', async () => {
    const map = await get<{ states: { entity: string; value: number | null; band: number | null; status: string }[] }>(`/v1/dashboard/map?framework=${FRAMEWORK}&year=${YEAR}&layer=area:violence`);
    expect(map.status).toBe(200);
    const stored = await get<{ scores: { entity: string; score: number | null }[] }>(`/v1/risk-scores?node=violence&year=${YEAR}`);
    expect(map.body.states).toHaveLength(57);
    for (const s of map.body.states) {
      const expected = stored.body.scores.find((x) => x.entity === s.entity)?.score ?? null;
      expect(s.value, s.entity).toBe(expected);
      expect(s.status).toBe(expected === null ? 'no_data' : 'ok');
      expect(s.band).toBe(expected === null ? null : informBand(expected));
    }
  }, HEAVY);

  it('splits the difference between two states, and between two years, into contributions that add up to it', async () => {
    const summary = async (year: number) => (await get<{ states: SummaryState[] }>(`/v1/dashboard/summary?framework=${FRAMEWORK}&year=${year}`)).body.states;
    const [now, before] = await Promise.all([summary(YEAR), summary(YEAR - 4)]);
    const score = (states: SummaryState[], e: string) => states.find((s) => s.entity === e)!.score!;
    const states = await get<{ difference: { from: number; to: number; change: number; residual: number; contributions: { points: number }[] } }>(`/v1/dashboard/compare?framework=${FRAMEWORK}&a=DEU&b=POL&year=${YEAR}`);
    expect(states.status).toBe(200);
    expect(states.body.difference.from).toBeCloseTo(score(now, 'DEU'), 6);
    expect(states.body.difference.to).toBeCloseTo(score(now, 'POL'), 6);
    const years = await get<{ a: { year: number }; b: { year: number }; difference: { from: number; to: number; change: number; residual: number; contributions: { points: number }[] } }>(`/v1/dashboard/compare?framework=${FRAMEWORK}&a=DEU&year=${YEAR - 4}&yearB=${YEAR}`);
    expect(years.body.difference.from).toBeCloseTo(score(before, 'DEU'), 6);
    expect(years.body.difference.to).toBeCloseTo(score(now, 'DEU'), 6);
    for (const d of [states.body.difference, years.body.difference]) {
      const sum = d.contributions.reduce((acc, c) => acc + c.points, 0);
      expect(Math.abs(sum - d.change)).toBeLessThan(1e-5);
      expect(Math.abs(d.residual)).toBeLessThan(1e-9);
    }
  }, HEAVY);

  it('refuses what it cannot answer with a problem that says what is wrong', async () => {
    const cases: [string, number, RegExp][] = [
      [`/v1/dashboard/map?framework=${FRAMEWORK}&year=${YEAR}&layer=colour:red`, 400, /layer/],
      [`/v1/dashboard/map?framework=${FRAMEWORK}&year=${YEAR}&layer=node:nonsense`, 400, /node "nonsense" is not in framework osce-threat-demo; choose one of overall, risk/],
      [`/v1/dashboard/map?framework=${FRAMEWORK}&year=${YEAR}&layer=area:nonsense`, 400, /crime area "nonsense"/],
      [`/v1/dashboard/map?framework=${FRAMEWORK}&year=${YEAR}&layer=indicator:nonsense`, 404, /indicator "nonsense" is not in the catalogue/],
      [`/v1/dashboard/map?framework=nonsense&year=${YEAR}&layer=node:overall`, 404, /framework "nonsense" is not built in/],
      [`/v1/dashboard/country?framework=${FRAMEWORK}&year=${YEAR}&entity=AFG`, 400, /not one of the 57 OSCE participating states/],
      [`/v1/dashboard/summary?framework=${FRAMEWORK}&year=1950`, 404, /no data for framework osce-threat-demo up to 1950/],
      [`/v1/dashboard/compare?framework=${FRAMEWORK}&a=DEU&b=XKX&year=${YEAR}`, 400, /entity "XKX"/],
      [`/v1/dashboard/summary?framework=${FRAMEWORK}&year=${YEAR}&extra=1`, 400, /extra|additional/],
    ];
    for (const [url, status, detail] of cases) {
      const res = await get<{ detail: string; code: string }>(url);
      expect(res.status, url).toBe(status);
      expect(res.body.detail, url).toMatch(detail);
    }
  }, HEAVY);

  it('needs a key without demo access, while the page and its files stay public', async () => {
    closed = await buildApp({ store, access: { rateLimit: false } });
    expect((await get(`/v1/dashboard/map?framework=${FRAMEWORK}&year=${YEAR}&layer=node:overall`, closed)).status).toBe(401);
    expect((await get(`/v1/dashboard/summary?framework=${FRAMEWORK}&year=${YEAR}`, closed)).status).toBe(401);
    for (const path of ['/', '/app.js', '/style.css', '/map.json']) {
      const res = await closed.inject({ method: 'GET', url: path });
      expect(res.statusCode, path).toBe(200);
    }
    const page = await closed.inject({ method: 'GET', url: '/' });
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
  }, HEAVY);
});
