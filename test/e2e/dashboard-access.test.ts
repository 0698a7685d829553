/**
 * The crime map under access control (api/auth): a server without demo access, the demo panel
 * (public) and a batch owned by agency-a (sharing `owner`) that revises the 2024 homicide rate of
 * every state to a value no public source has. A viewer sees the public values only, on the map,
 * in the table, in the panel and in the CSV; without a key nothing but "not visible"; agency-a's
 * analyst, stating a purpose, sees its own data (which shows the restricted batch is really there).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFile } from '../../datasets/ingest.ts';
import { OSCE_PARTICIPATING_ISO3 } from '../../datasets/reference/osce.ts';
import { ensureAgency } from '../../engine/store/catalogue.ts';
import { createApiKey } from '../../engine/store/keys.ts';
import { browserUnavailable, launchChromium, pageNumber, startTestServer, type TestServer } from '../support/browser.ts';

const skip = browserUnavailable();
if (skip) console.warn(skip);

const FRAMEWORK = 'osce-threat-demo';
const YEAR = 2024;
const INDICATOR = 'homicide_rate';
/** agency-a's revision: 900.123, 901.123, ... one per state, far above any real homicide rate. */
const restrictedValue = (i: number) => 900.123 + i;

interface MapJson { states: { entity: string; value: number | null; status: string }[] }

/** Each test may wait for the Monte Carlo of a year (seconds on a busy machine with two test files at once). */
const HEAVY = 120_000;

describe.skipIf(skip !== null)('the crime map under roles and sharing rules', () => {
  let server: TestServer;
  let browser: Browser;
  let demoValues: Map<string, number>;
  let viewerKey: string;
  let analystKey: string;

  const api = async <T>(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${server.url}${path}`, { headers });
    return { status: response.status, body: (await response.json()) as T };
  };
  const layerPath = `/v1/dashboard/map?framework=${FRAMEWORK}&year=${YEAR}&layer=indicator:${INDICATOR}`;

  /** A fresh page with a key (and a purpose) entered through the page's own form. */
  async function pageAs(key: string | null, purpose?: string): Promise<Page> {
    const page = await (await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 1000 } })).newPage();
    await page.goto(`${server.url}/?layer=indicator:${INDICATOR}&year=${YEAR}`);
    if (key) {
      await page.click('details.key summary');
      await page.fill('#api-key', key);
      if (purpose) await page.fill('#api-purpose', purpose);
      await Promise.all([page.waitForEvent('load'), page.click('#key-form button[type="submit"]')]);
    }
    await page.waitForSelector('#map[data-ready]');
    return page;
  }

  beforeAll(async () => {
    server = await startTestServer({
      access: {},
      prepare: async (store, dir) => {
        const demo = parse(await readFile(join(dir, 'demo-panel.csv'), 'utf8'), { columns: true }) as { entity: string; period: string; indicator: string; value: string }[];
        demoValues = new Map(demo.filter((r) => r.indicator === INDICATOR && r.period === String(YEAR) && r.value !== '').map((r) => [r.entity, Number(r.value)]));
        const lines = ['entity,period,indicator,value', ...OSCE_PARTICIPATING_ISO3.map((e, i) => `${e},${YEAR},${INDICATOR},${restrictedValue(i)}`)];
        const path = join(dir, 'agency-a-homicide.csv');
        await writeFile(path, `${lines.join('\n')}\n`);
        await ensureAgency(store.db, 'agency-a');
        await ensureAgency(store.db, 'agency-b');
        const summary = await ingestFile(store, path, { format: 'long', owner: 'agency-a', sharing: 'owner', source: 'agency-a restricted revision', grade: 'B2', actor: 'test' });
        expect(summary.accepted).toBe(57);
        viewerKey = (await createApiKey(store.db, { name: 'e2e viewer', agency: 'agency-b', role: 'viewer' }, { actor: 'test' })).key;
        analystKey = (await createApiKey(store.db, { name: 'e2e analyst', agency: 'agency-a', role: 'analyst' }, { actor: 'test' })).key;
      },
    });
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  }, HEAVY);

  it('serves the page to anyone, and without a key shows every state as "not visible", never a number', async () => {
    expect((await fetch(`${server.url}/`)).status).toBe(200);
    expect((await fetch(`${server.url}${layerPath}`)).status).toBe(401);
    const page = await pageAs(null);
    expect(await page.locator('#map').getAttribute('data-ready')).toBe('unavailable');
    await page.waitForSelector('#ranking-table[data-ready="unavailable"]');
    const statuses = await page.$$eval('#map path.state', (nodes) => nodes.map((n) => [n.getAttribute('data-status'), n.getAttribute('fill')]));
    expect(statuses).toHaveLength(57);
    for (const [status, fill] of statuses) {
      expect(status).toBe('withheld');
      expect(fill).toBe('url(#pattern-withheld)');
    }
    const scores = await page.locator('#ranking-table td[data-field="score"]').allTextContents();
    expect(scores).toHaveLength(57);
    for (const text of scores) expect(text).toBe('not visible');
    await expect.poll(() => page.locator('#access').isVisible()).toBe(true);
    expect(await page.locator('#access').textContent()).toContain('HTTP 401');
    expect(await page.locator('#legend').textContent()).toContain('not visible');
    await page.context().close();
  }, HEAVY);

  it('the restricted batch is real: agency-a\'s analyst, stating a purpose, gets its values from the API and on the page', async () => {
    const own = await api<MapJson>(layerPath, { authorization: `Bearer ${analystKey}`, 'x-purpose': 'e2e check of agency data' });
    expect(own.status).toBe(200);
    OSCE_PARTICIPATING_ISO3.forEach((e, i) => expect(own.body.states.find((s) => s.entity === e)!.value, e).toBe(restrictedValue(i)));
    const page = await pageAs(analystKey, 'e2e check of agency data');
    await page.waitForSelector(`#map[data-ready="${FRAMEWORK}|indicator:${INDICATOR}|${YEAR}"]`);
    const alb = OSCE_PARTICIPATING_ISO3.indexOf('ALB');
    expect(await page.locator('#ranking-table tr[data-entity="ALB"] td[data-status]').textContent()).toContain(pageNumber(restrictedValue(alb), 3));
    await page.context().close();
  }, HEAVY);

  it('a viewer sees no restricted value: the map, the table, the CSV and the panel hold the public values only', async () => {
    const viewer = await api<MapJson>(layerPath, { authorization: `Bearer ${viewerKey}` });
    expect(viewer.status).toBe(200);
    for (const s of viewer.body.states) {
      expect(s.value, s.entity).toBe(demoValues.get(s.entity) ?? null);
      expect(s.status).toBe(demoValues.has(s.entity) ? 'ok' : 'no_data');
    }
    // Scores too: the viewer's ranking is the public one (the analyst's without a purpose), not agency-a's.
    const summaryPath = `/v1/dashboard/summary?framework=${FRAMEWORK}&year=${YEAR}`;
    const [asViewer, asAnalystPublic, asAnalystAgency] = await Promise.all([
      api<{ states: { entity: string; score: number | null }[] }>(summaryPath, { authorization: `Bearer ${viewerKey}` }),
      api<{ states: { entity: string; score: number | null }[] }>(summaryPath, { authorization: `Bearer ${analystKey}` }),
      api<{ states: { entity: string; score: number | null }[] }>(summaryPath, { authorization: `Bearer ${analystKey}`, 'x-purpose': 'e2e check of agency data' }),
    ]);
    expect(asViewer.body.states).toEqual(asAnalystPublic.body.states);
    expect(asAnalystAgency.body.states).not.toEqual(asViewer.body.states);

    const page = await pageAs(viewerKey);
    await page.waitForSelector(`#map[data-ready="${FRAMEWORK}|indicator:${INDICATOR}|${YEAR}"]`);
    await page.waitForSelector('#ranking-table[data-ready]', { timeout: 60_000 });
    const restrictedTexts = OSCE_PARTICIPATING_ISO3.map((_, i) => pageNumber(restrictedValue(i), 3));
    const alb = demoValues.get('ALB')!;
    expect(await page.locator('#ranking-table tr[data-entity="ALB"] td[data-status]').textContent()).toContain(pageNumber(alb, 3));

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    const csv = await readFile(await download.path(), 'utf8');
    const rows = parse(csv, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(57);
    for (const row of rows) expect(row.map_value, row.entity).toBe(demoValues.has(row.entity!) ? String(demoValues.get(row.entity!)) : '');

    await page.click('#ranking-table button.state-link[data-entity="ALB"]');
    await page.waitForSelector('#panel[data-entity="ALB"][aria-busy="false"] #panel-score');
    // The panel's homicide driver is the viewer's own answer, computed from public data (raw after the framework's treatment).
    const country = await api<{ drivers: { indicator: string; raw: number | null }[] }>(`/v1/dashboard/country?framework=${FRAMEWORK}&year=${YEAR}&entity=ALB`, { authorization: `Bearer ${viewerKey}` });
    const raw = country.body.drivers.find((d) => d.indicator === INDICATOR)!.raw!;
    expect(raw).toBeLessThan(100);
    const drivers = await page.locator('#chart-drivers table').textContent();
    expect(drivers).toContain(pageNumber(raw, 3));
    expect(await page.locator('#panel-provenance [data-field="scope"]').textContent()).toMatch(/^Computed from public data only/);
    // The viewer's panel names no batch it may not see.
    const batches = await page.locator('#panel-provenance tbody tr').allTextContents();
    for (const b of batches) expect(b).not.toContain('agency-a');
    // Everything on the page but the anomaly flags (GET /v1/anomalies, checked below), and the CSV.
    const text = `${await page.locator('body').evaluate((body) => {
      const copy = body.cloneNode(true) as typeof body;
      copy.querySelector('#panel-anomalies')?.remove();
      return copy.textContent ?? '';
    })}\n${csv}`;
    for (const r of restrictedTexts) expect(text).not.toContain(r);
    await page.context().close();
  }, HEAVY);

  it('a viewer\'s panel shows anomaly flags from public data only', async () => {
    const page = await pageAs(viewerKey);
    await page.click('#ranking-table button.state-link[data-entity="ALB"]');
    await page.waitForSelector('#panel[data-entity="ALB"][aria-busy="false"] #panel-score');
    // Anomaly flags as the viewer may see them: the viewer's own answer, or "not available" / "not visible".
    const anomalies = await fetch(`${server.url}/v1/anomalies?entity=ALB`, { headers: { authorization: `Bearer ${viewerKey}` } });
    const section = page.locator('#panel-anomalies [data-status]');
    await expect.poll(() => section.getAttribute('data-status'), { timeout: 100_000 }).not.toBe('loading');
    const status = await section.getAttribute('data-status');
    if (anomalies.status === 404) expect(status).toBe('unavailable');
    else if (anomalies.status === 401 || anomalies.status === 403) expect(status).toBe('withheld');
    else {
      const flags = ((await anomalies.json()) as { flags: { value: number | null }[] }).flags;
      expect(status).toBe(flags.length === 0 ? 'none' : 'flags');
      // The viewer's detections ran on public data: no flag carries a restricted value.
      const restricted = new Set(OSCE_PARTICIPATING_ISO3.map((_, i) => restrictedValue(i)));
      for (const f of flags) expect(restricted.has(f.value ?? Number.NaN), `flag ${JSON.stringify(f).slice(0, 200)}`).toBe(false);
    }
    const shown = (await page.locator('#panel-anomalies').textContent()) ?? '';
    for (const i of OSCE_PARTICIPATING_ISO3.keys()) expect(shown).not.toContain(pageNumber(restrictedValue(i), 3));
    await page.context().close();
  }, HEAVY);
});
