/**
 * The API against a real store (PGlite, and PostgreSQL when DATABASE_URL is set), through
 * app.inject: every route answers with its schema, pages follow cursors, errors are problem+json.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../api/app.ts';
import { ingestFile } from '../datasets/ingest.ts';
import { OSCE_PARTICIPATING_ISO3 } from '../datasets/reference/osce.ts';
import { refreshRiskScores } from '../engine/scoring/refresh.ts';
import { registerIndicators } from '../engine/store/catalogue.ts';
import type { Store } from '../engine/store/database.ts';
import { TEST_INDICATORS, tempDir, writeFixture } from './support/fixtures.ts';
import { testKey } from './support/principals.ts';
import { openTestStore, STORE_KINDS } from './support/stores.ts';

/** A small panel: every participating state, 2019-2020, two indicators with a known ordering. */
function panelCsv(): string {
  const lines = ['entity,period,indicator,value'];
  OSCE_PARTICIPATING_ISO3.forEach((iso3, i) => {
    for (const year of [2019, 2020]) {
      lines.push(`${iso3},${year},t_homicide,${(i + 1) / 10}`);
      lines.push(`${iso3},${year},t_rule_of_law,${(2 - i / 20).toFixed(3)}`);
    }
  });
  return `${lines.join('\n')}\n`;
}

describe.each(STORE_KINDS)('API on %s', (kind) => {
  let store: Store;
  let app: App;
  /** Every /v1 route needs a credential (issue 6): these tests call as an analyst. */
  let headers: Record<string, string>;

  beforeAll(async () => {
    store = await openTestStore(kind);
    await registerIndicators(store.db, TEST_INDICATORS);
    const dir = await tempDir();
    await ingestFile(store, await writeFixture(dir, 'panel.csv', panelCsv()), { source: 'test panel' });
    await refreshRiskScores(store.db);
    app = await buildApp({ store });
    headers = (await testKey(store, 'analyst')).headers;
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('GET /health reports the store and data version', async () => {
    const res = await app.inject('/health');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', store: kind, batches: 1 });
    expect(res.json().dataVersion).toMatch(/^[0-9a-f]{16}$/);
  });

  it('GET /v1/entities lists the 57 participating states with sub-regions', async () => {
    const res = await app.inject({ url: '/v1/entities?osceStatus=participating', headers });
    expect(res.statusCode).toBe(200);
    const { entities } = res.json();
    expect(entities).toHaveLength(57);
    expect(entities.find((e: { code: string }) => e.code === 'MNG')).toMatchObject({ name: 'Mongolia', subregion: 'Central Asia' });
  });

  it('GET /v1/indicators lists the catalogue with polarity', async () => {
    const res = await app.inject({ url: '/v1/indicators', headers });
    const rule = res.json().indicators.find((i: { code: string }) => i.code === 't_rule_of_law');
    expect(rule).toMatchObject({ polarity: 'higher_better', crimeArea: 'governance' });
  });

  it('GET /v1/risk-scores returns one row per participating state, ranked', async () => {
    const res = await app.inject({ url: '/v1/risk-scores?year=2020', headers });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ method: 'simple-composite', year: 2020, node: 'overall', synthetic: false, availableYears: [2019, 2020] });
    expect(body.scores).toHaveLength(57);
    // The last state in the list has the highest homicide and the lowest rule of law: rank 1, score 10.
    const last = OSCE_PARTICIPATING_ISO3[56];
    expect(body.scores[0]).toMatchObject({ entity: last, rank: 1, score: 10, indicatorsUsed: 2 });
    expect(body.scores[56]).toMatchObject({ entity: OSCE_PARTICIPATING_ISO3[0], rank: 57, score: 0 });
  });

  it('pages observations with a cursor until every row has been seen once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/v1/observations?indicator=t_homicide&from=2020&to=2020&limit=10${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await app.inject({ url, headers });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      for (const o of body.observations) seen.push(`${o.entity}:${o.period}`);
      cursor = body.nextCursor;
      pages++;
    } while (cursor && pages < 20);
    expect(pages).toBe(6);
    expect(seen).toHaveLength(57);
    expect(new Set(seen).size).toBe(57);
  });

  it('answers bad requests with problem+json that says what is wrong', async () => {
    const cases: [string, number, RegExp][] = [
      ['/v1/risk-scores?year=abc', 400, /year/],
      ['/v1/risk-scores?year=1990', 404, /No risk scores for 1990; scored years are 2019-2020/],
      ['/v1/risk-scores?year=2020&node=nonsense', 400, /node "nonsense" is not scored/],
      ['/v1/observations?limit=10001', 400, /limit/],
      ['/v1/observations?entity=germany', 400, /entity/],
      ['/v1/observations?from=2021&to=2020', 400, /from \(2021\) is after to \(2020\)/],
      ['/v1/observations?cursor=garbage', 400, /cursor is not one this API issued/],
      ['/v1/nothing-here', 404, /No route GET \/v1\/nothing-here/],
    ];
    for (const [url, status, detail] of cases) {
      const res = await app.inject({ url, headers });
      expect(res.statusCode, url).toBe(status);
      expect(res.headers['content-type'], url).toMatch(/^application\/problem\+json/);
      const body = res.json();
      expect(body.status, url).toBe(status);
      expect(body.detail, url).toMatch(detail);
      expect(body.type, url).toMatch(/^https:\/\/threatlens\.dev\/problems\/TL_/);
    }
  });

  it('GET /v1/frameworks lists the built-in frameworks with their nodes', async () => {
    const res = await app.inject({ url: '/v1/frameworks', headers });
    expect(res.statusCode).toBe(200);
    const goci2023 = res.json().frameworks.find((f: { id: string }) => f.id === 'goci-2023');
    expect(goci2023).toMatchObject({ version: '1.0.0', normalisation: 'none', nodes: ['criminality', 'criminal_markets', 'criminal_actors', 'resilience'] });
    expect(goci2023.indicators).toHaveLength(32);
  });

  it('serves the OpenAPI document and the docs UI', async () => {
    const res = await app.inject('/docs/json');
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of ['/health', '/v1/entities', '/v1/indicators', '/v1/observations', '/v1/risk-scores', '/v1/frameworks']) {
      expect(doc.paths[path], path).toBeDefined();
    }
    const ui = await app.inject('/docs/');
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toMatch(/swagger/i);
  });
});
