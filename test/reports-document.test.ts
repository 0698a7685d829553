/**
 * A published report, HTML and PDF, for a participating state of the synthetic demo panel:
 * - every number in the document (and every text that carries one) is read back from the HTML
 *   with Chromium's DOM and compared with the live API answer it names (data-src, data-path),
 *   printed by this test's own formatter; no digit is left in the visible text outside them;
 * - the map colours every participating state by the band the API gives it, and no state lies
 *   under the North America inset;
 * - the PDF (Chromium print-to-PDF) turns into non-blank page images with pdftoppm, kept in
 *   test/artifacts/, its first page carries the headline, its map page the band colours;
 * - a report built on a restricted batch is marked on every PDF page with its handling level
 *   and the agencies it may go to, and is invisible to anyone outside them.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { geoCentroid } from 'd3-geo';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../api/app.ts';
import { loadDemoData } from '../datasets/demo/load.ts';
import { ingestFile } from '../datasets/ingest.ts';
import { saveAnomalyRun } from '../engine/store/anomalies.ts';
import type { Store } from '../engine/store/database.ts';
import { dataVersion } from '../engine/store/observations.ts';
import { atlasFeatures, BAND_COLOURS, INSET, mainProjection, SMALL_STATES } from '../reports/map-svg.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../reports/pdf.ts';
import { tempDir, writeFixture } from './support/fixtures.ts';
import { inkStatistics, readPng } from './support/png.ts';
import { openTestStore, STORE_KINDS } from './support/stores.ts';

const run = promisify(execFile);
const ARTIFACTS = join(import.meta.dirname, 'artifacts');
const TOOLS = existsSync(CHROMIUM_PATH) && existsSync('/usr/bin/pdftoppm') && existsSync('/usr/bin/pdftotext') && existsSync('/usr/bin/pdfinfo');
if (!TOOLS) console.warn(`report document tests skipped: they need Chromium at ${CHROMIUM_PATH} and poppler-utils (pdftoppm, pdftotext, pdfinfo); .ci/run installs them`);

const BANDS = ['very low', 'low', 'medium', 'high', 'very high'];
const PURPOSE = { 'x-purpose': 'report document test' };
/** Names with digits in the static text of a report: not numbers of the report. */
const STATIC_NAMES = ['SHA-256'];

// --- This test's own reading of paths and formats (independent of reports/values.ts).

function resolve(root: unknown, path: string): unknown {
  let here: unknown = root;
  for (const token of path.match(/[^.[\]]+|\[[^\]]+\]/g) ?? []) {
    if (token.startsWith('[')) {
      const inner = token.slice(1, -1);
      const list = here as Record<string, unknown>[];
      if (/^\d+$/.test(inner)) here = list[Number(inner)];
      else {
        const [key, value] = [inner.slice(0, inner.indexOf('=')), inner.slice(inner.indexOf('=') + 1)];
        here = list.find((x) => String(x[key!]) === value);
      }
    } else if (token === 'length' && Array.isArray(here)) here = here.length;
    else here = (here as Record<string, unknown>)[token];
    if (here === undefined) throw new Error(`${path}: nothing at "${token}"`);
  }
  return here;
}

function format(value: unknown, fmt: string): string {
  if (value === null || (typeof value === 'number' && Number.isNaN(value))) return '–';
  const decimals = (x: number, d: number) => {
    const t = x.toFixed(d);
    return Number(t) === 0 ? (0).toFixed(d) : t;
  };
  const x = value as number;
  switch (fmt) {
    case 'text': return String(value);
    case 'json': return JSON.stringify(value);
    case 'list': return (value as string[]).length === 0 ? '–' : (value as string[]).join(', ');
    case 'date': return String(value).slice(0, 10);
    case 'int': return String(Math.round(x));
    case 'intc': return Math.round(x).toLocaleString('en-US');
    case 'f1': case 'f2': case 'f3': return decimals(x, Number(fmt[1]));
    case 'sf1': case 'sf2': { const t = decimals(x, Number(fmt[2])); return Number(t) > 0 ? `+${t}` : t; }
    case 'pct0': case 'pct1': return decimals(x * 100, Number(fmt[3]));
    case 'p3': return x < 0.001 ? '<0.001' : x.toFixed(3);
    default: throw new Error(`unknown format ${fmt}`);
  }
}

interface DocumentReading {
  readonly items: { src: string; path: string; fmt: string; text: string }[];
  readonly rest: string;
  readonly mapStates: { entity: string; band: string; tag: string }[];
  readonly sources: Record<string, string>;
}

async function readDocument(browser: Browser, html: string): Promise<DocumentReading> {
  const page = await browser.newPage();
  try {
    await page.setContent(html, { waitUntil: 'load' });
    return await page.evaluate(() => {
      // Runs in the page: the test's TypeScript has no DOM types, so the document is typed here by what is used.
      interface El { getAttribute(name: string): string | null; textContent: string | null; tagName: string }
      const document = (globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<El>; getElementById(id: string): El | null; body: { innerText: string } } }).document;
      const elements = [...document.querySelectorAll('[data-src]')];
      const items = elements.map((e) => ({ src: e.getAttribute('data-src')!, path: e.getAttribute('data-path')!, fmt: e.getAttribute('data-fmt')!, text: e.textContent ?? '' }));
      for (const e of elements) e.textContent = '';
      const mapStates = [...document.querySelectorAll('svg.map [data-entity]')].map((e) => ({ entity: e.getAttribute('data-entity')!, band: e.getAttribute('data-band')!, tag: e.tagName }));
      return { items, rest: document.body.innerText, mapStates, sources: JSON.parse(document.getElementById('report-sources')!.textContent!) as Record<string, string> };
    });
  } finally {
    await page.close();
  }
}

/** Checks every number of a report against the API answers it names; returns how many were checked. */
async function checkAgainstApi(app: App, reading: DocumentReading, headers: Record<string, string>): Promise<number> {
  const answers = new Map<string, unknown>();
  for (const [src, url] of Object.entries(reading.sources)) {
    const res = await app.inject({ method: 'GET', url, headers });
    expect(res.statusCode, `${src}: GET ${url}: ${res.body.slice(0, 300)}`).toBe(200);
    answers.set(src, res.json());
  }
  for (const item of reading.items) {
    expect(answers.has(item.src), `source ${item.src} is not in the report's source list`).toBe(true);
    expect(item.text, `${item.src} ${item.path} (${item.fmt})`).toBe(format(resolve(answers.get(item.src), item.path), item.fmt));
  }
  let rest = reading.rest;
  for (const name of STATIC_NAMES) rest = rest.split(name).join('');
  const digits = rest.match(/.{0,40}\d.{0,40}/g);
  expect(digits, 'digits outside the elements that name their source').toBeNull();
  return reading.items.length;
}

async function pdfPages(file: string): Promise<number> {
  const { stdout } = await run('pdfinfo', [file]);
  return Number(/Pages:\s+(\d+)/.exec(stdout)![1]);
}

async function pageText(file: string, page: number): Promise<string> {
  return (await run('pdftotext', ['-f', String(page), '-l', String(page), '-layout', file, '-'])).stdout;
}

/** Page images of the first `pages` pages (pdftoppm, 60 dpi), kept in test/artifacts/. */
async function pageImages(file: string, prefix: string, pages: number): Promise<string[]> {
  await run('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', String(pages), file, join(ARTIFACTS, prefix)]);
  return (await readdir(ARTIFACTS)).filter((f) => f.startsWith(`${prefix}-`) && f.endsWith('.png')).sort().map((f) => join(ARTIFACTS, f));
}

describe.skipIf(!TOOLS).each(STORE_KINDS)('report documents on %s (synthetic demo panel)', (kind) => {
  let store: Store;
  let app: App;
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    store = await openTestStore(kind);
    dir = await tempDir();
    await loadDemoData(store, dir);
    app = await buildApp({ store, access: { demoAccess: { role: 'analyst', agency: 'agency-a' }, rateLimit: false } });
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] });
    await mkdir(ARTIFACTS, { recursive: true });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await store?.close();
  });

  const publish = async (body: Record<string, unknown>) => {
    const res = await app.inject({ method: 'POST', url: '/v1/reports', payload: { framework: 'osce-threat-demo', year: 2022, runs: 200, purpose: 'report document test', ...body } });
    expect(res.statusCode, res.body.slice(0, 500)).toBe(201);
    return res.json() as { id: number; reference: string; title: string; handling: { level: string; allowedAgencies: string[] }; documents: { pdf: { sha256: string } | null } };
  };
  const documentOf = async (reference: string, format: 'html' | 'pdf', headers: Record<string, string> = PURPOSE) =>
    app.inject({ method: 'GET', url: `/v1/reports/${reference}/document.${format}`, headers });

  it('every number of the HTML report equals the API answer it names; the map colours match the API bands', async () => {
    const report = await publish({ entity: 'ALB' });
    expect(report.handling).toEqual({ level: 'public', allowedAgencies: [] });
    const html = (await documentOf(report.reference, 'html')).body;
    await writeFile(join(ARTIFACTS, `report-${kind}-ALB-2022.html`), html);
    // Self-contained: no script to run, nothing fetched.
    expect(html).not.toMatch(/<link\b|<img\b|<iframe\b|(?<![-\w])src=|@import|url\(\s*['"]?https?:/i);
    expect([...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0])).toEqual(['<script type="application/json" id="report-sources">']);

    const reading = await readDocument(browser, html);
    expect(Object.keys(reading.sources).sort()).toEqual(
      ['assessment', 'assistance', 'inputs', 'quality', 'report', ...Array.from({ length: 10 }, (_, i) => `scores-${2013 + i}`)].sort(),
    );
    expect(reading.sources.report).toBe(`/v1/reports/${report.reference}`);
    expect(reading.sources['scores-2022']).toBe('/v1/risk-scores?framework=osce-threat-demo&year=2022');
    const checked = await checkAgainstApi(app, reading, PURPOSE);
    expect(checked).toBeGreaterThan(400);
    // Every source is used, and the headline numbers are among those checked.
    expect(new Set(reading.items.map((i) => i.src)).size).toBe(Object.keys(reading.sources).length);
    const paths = reading.items.map((i) => `${i.src} ${i.path}`);
    for (const p of ['assessment result.entities[entity=ALB].roots[0].score', 'assessment result.entities[entity=ALB].roots[0].interval.rankLow', 'assistance overall[entity=ALB].gap', 'assessment result.entities[entity=ALB].narrative']) {
      expect(paths).toContain(p);
    }

    // The map: each of the 57 states (as a shape or a point) in the band the API gives it.
    const scores = (await app.inject({ method: 'GET', url: '/v1/risk-scores?framework=osce-threat-demo&year=2022', headers: PURPOSE })).json() as { scores: { entity: string; band: string | null }[] };
    const bandOf = new Map(scores.scores.map((s) => [s.entity, s.band ?? '']));
    expect(new Set(reading.mapStates.map((s) => s.entity)).size).toBe(57);
    for (const s of reading.mapStates) expect(s.band, s.entity).toBe(bandOf.get(s.entity));
  }, 180_000);

  it('the map leaves no participating state under the North America inset', async () => {
    const projection = mainProjection();
    const hidden = (await atlasFeatures())
      .filter((f) => f.id !== 'USA' && f.id !== 'CAN')
      .filter((f) => {
        const [x, y] = projection(geoCentroid(f.geometry as never))!;
        return x >= INSET.x0 && x <= INSET.x1 && y >= INSET.y0 && y <= INSET.y1;
      })
      .map((f) => f.id);
    expect(hidden).toEqual([]);
  });

  it('the PDF, printed by Chromium, turns into non-blank pages: the headline on the first, the map colours on the map page', async () => {
    const list = (await app.inject({ method: 'GET', url: '/v1/reports?entity=ALB', headers: PURPOSE })).json() as { reports: { reference: string; title: string }[] };
    const report = list.reports[0]!;
    const res = await documentOf(report.reference, 'pdf');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    const file = join(ARTIFACTS, `report-${kind}-ALB-2022.pdf`);
    await writeFile(file, res.rawPayload);
    expect(res.rawPayload.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const { stdout: info } = await run('pdfinfo', [file]);
    expect(info).toMatch(/Producer:\s+Skia\/PDF/);
    expect(info).toMatch(new RegExp(`Title:\\s+${report.title}\\n`));
    expect(await pdfPages(file)).toBeGreaterThanOrEqual(6);

    const images = await pageImages(file, `report-${kind}-ALB-2022-page`, 3);
    expect(images).toHaveLength(3);
    for (const image of images) {
      const stats = inkStatistics(readPng(await readFile(image)));
      expect(stats.inkShare, image).toBeGreaterThan(0.02);
      expect(stats.colours, image).toBeGreaterThan(20);
    }
    // The map page: each band held by a state larger than a point shows its colour, no other band colour appears.
    const scores = (await app.inject({ method: 'GET', url: '/v1/risk-scores?framework=osce-threat-demo&year=2022', headers: PURPOSE })).json() as { scores: { entity: string; band: string | null }[] };
    const small = new Set<string>(SMALL_STATES);
    const pages = await Promise.all(images.map(async (image) => inkStatistics(readPng(await readFile(image)))));
    const mapPage = pages.reduce((best, p) => (BAND_COLOURS.reduce((s, c) => s + p.count(c), 0) > BAND_COLOURS.reduce((s, c) => s + best.count(c), 0) ? p : best));
    BANDS.forEach((band, i) => {
      const states = scores.scores.filter((s) => s.band === band);
      if (states.some((s) => !small.has(s.entity))) expect(mapPage.count(BAND_COLOURS[i]!), band).toBeGreaterThan(20);
      if (states.length === 0) expect(mapPage.count(BAND_COLOURS[i]!), band).toBe(0);
    });

    const first = await pageText(file, 1);
    expect(first.replace(/\s+/g, ' ')).toContain('Threat assessment: Albania, 2022');
    const assessment = (await app.inject({ method: 'GET', url: `/v1/reports/${report.reference}`, headers: PURPOSE })).json() as { assessmentId: number };
    const stored = (await app.inject({ method: 'GET', url: `/v1/assessments/${assessment.assessmentId}`, headers: PURPOSE })).json() as { result: { entities: { roots: { score: number }[] }[] } };
    expect(first.replace(/\s+/g, ' ')).toContain(`Albania scores ${stored.result.entities[0]!.roots[0]!.score.toFixed(1)} out of ten`);
    expect(first).toContain('PUBLIC · SYNTHETIC DEMO DATA');
  }, 120_000);

  it('a region report, with the flags of a stored anomaly run: every number equals the API\'s, the flags are the run\'s on the region\'s states', async () => {
    const flag = (entity: string, indicator: string, period: string, detector: string, score: number, severity: 'medium' | 'high') => ({
      entity, indicator, period, detector, score, severity, value: 5.25, expected: 2.5, interval: [2, 3] as const, attributions: [], likelyCause: 'real_change' as const,
      reason: `${indicator} of ${entity} in ${period}: 5.25 against 2.5 expected`, batchIds: [1],
    });
    await saveAnomalyRun(store.db, {
      dataVersion: (await dataVersion(store.db)).version,
      codeVersion: 'test',
      detectors: { ensemble: { version: 2, params: { k: 3 } }, robust_z: { version: 1 } },
      cellsScored: 1000,
      createdBy: 'test',
      flags: [
        flag('ALB', 'tip_victims_rate', '2020', 'ensemble', 0.8, 'medium'),
        flag('SRB', 'homicide_rate', '2021', 'ensemble', 0.93, 'high'),
        flag('SRB', 'homicide_rate', '2021', 'robust_z', 0.99, 'high'), // a single detector's: the report shows the ensemble's verdict
        flag('DEU', 'homicide_rate', '2021', 'ensemble', 0.97, 'high'), // not in the region
        flag('SRB', 'homicide_rate', '2015', 'ensemble', 0.95, 'high'), // before the window
      ],
    });
    const report = await publish({ region: 'South-Eastern Europe', pdf: false });
    const html = (await documentOf(report.reference, 'html')).body;
    await writeFile(join(ARTIFACTS, `report-${kind}-south-eastern-europe-2022.html`), html);
    const reading = await readDocument(browser, html);
    expect(await checkAgainstApi(app, reading, PURPOSE)).toBeGreaterThan(300);
    const inputs = (await app.inject({ method: 'GET', url: `/v1/reports/${report.reference}/inputs`, headers: PURPOSE })).json() as { anomalies: { total: number; window: { from: number }; flags: { entity: string; indicator: string; label: string; period: string; detector: string; score: number }[] } };
    expect(inputs.anomalies.window.from).toBe(2018);
    expect(inputs.anomalies.total).toBe(2);
    expect(inputs.anomalies.flags.map((f) => [f.entity, f.indicator, f.period, f.detector, f.score])).toEqual([['SRB', 'homicide_rate', '2021', 'ensemble', 0.93], ['ALB', 'tip_victims_rate', '2020', 'ensemble', 0.8]]);
    expect(inputs.anomalies.flags[0]!.label).toBe('Intentional homicide rate');
    const shown = reading.items.filter((i) => i.src === 'inputs' && i.path.startsWith('anomalies.flags[0].')).map((i) => `${i.path}=${i.text}`);
    expect(shown).toEqual(expect.arrayContaining(['anomalies.flags[0].label=Intentional homicide rate', 'anomalies.flags[0].period=2021', 'anomalies.flags[0].score=0.93']));
    expect(reading.items.some((i) => i.src === 'inputs' && i.path === 'anomalies.run.detectors.robust_z')).toBe(true);
  }, 180_000);

  it('a report on restricted data is marked on every page, restricted to the agencies that may read every input, and its numbers still equal the API\'s', async () => {
    const fixture = await writeFixture(dir, `restricted-${kind}.csv`, 'entity,period,indicator,value\nALB,2022,homicide_rate,9.75\nALB,2021,homicide_rate,9.5\n');
    const batch = await ingestFile(store, fixture, { format: 'long', source: 'restricted test source', owner: 'agency-a', sharing: 'restricted', sharedWith: ['agency-b'], grade: 'B2', actor: 'test' });
    const report = await publish({ entity: 'ALB' });
    expect(report.handling).toEqual({ level: 'restricted', allowedAgencies: ['agency-a', 'agency-b'] });
    const meta = (await app.inject({ method: 'GET', url: `/v1/reports/${report.reference}`, headers: PURPOSE })).json() as { inputBatchIds: number[]; inputBatches: { id: number; sharingLevel: string }[] };
    expect(meta.inputBatchIds).toContain(batch.batchId);
    expect(meta.inputBatches.find((b) => b.id === batch.batchId)!.sharingLevel).toBe('restricted');

    const html = (await documentOf(report.reference, 'html')).body;
    await writeFile(join(ARTIFACTS, `report-${kind}-ALB-2022-restricted.html`), html);
    expect(html).toContain('<meta name="threatlens-handling" content="restricted">');
    const reading = await readDocument(browser, html);
    expect(await checkAgainstApi(app, reading, PURPOSE)).toBeGreaterThan(400);

    const file = join(ARTIFACTS, `report-${kind}-ALB-2022-restricted.pdf`);
    await writeFile(file, (await documentOf(report.reference, 'pdf')).rawPayload);
    const pages = await pdfPages(file);
    expect(pages).toBeGreaterThanOrEqual(6);
    for (let p = 1; p <= pages; p++) {
      // The first and the last line of every page (the print CSS's top and bottom margin boxes).
      const lines = (await pageText(file, p)).split('\n').filter((l) => l.trim() !== '');
      expect(lines[0], `page ${p}, top`).toContain('RESTRICTED · releasable to: agency-a, agency-b');
      expect(lines.at(-1), `page ${p}, bottom`).toContain('RESTRICTED · releasable to: agency-a, agency-b');
      expect(lines.at(-1), `page ${p}, bottom`).toMatch(new RegExp(`${report.reference} .* page ${p} of ${pages}$`));
    }
    for (const image of await pageImages(file, `report-${kind}-ALB-2022-restricted-page`, 2)) {
      expect(inkStatistics(readPng(await readFile(image))).inkShare).toBeGreaterThan(0.02);
    }

    // Invisible outside agency-a and agency-b, and without a stated purpose.
    const as = async (role: string, agency: string) => buildApp({ store, access: { demoAccess: { role: role as 'analyst', agency }, rateLimit: false } });
    const viewer = await as('viewer', 'agency-b');
    const outsider = await as('analyst', 'agency-c');
    const partner = await as('analyst', 'agency-b');
    try {
      expect((await viewer.inject({ method: 'GET', url: `/v1/reports/${report.reference}` })).statusCode).toBe(404);
      expect((await outsider.inject({ method: 'GET', url: `/v1/reports/${report.reference}/document.pdf`, headers: PURPOSE })).statusCode).toBe(404);
      const listed = (await outsider.inject({ method: 'GET', url: '/v1/reports?entity=ALB', headers: PURPOSE })).json() as { reports: { reference: string }[] };
      expect(listed.reports.map((r) => r.reference)).not.toContain(report.reference);
      expect(listed.reports.length).toBeGreaterThan(0); // the public report is there
      expect((await partner.inject({ method: 'GET', url: `/v1/reports/${report.reference}` })).statusCode).toBe(404); // no purpose: public data only
      const shared = await partner.inject({ method: 'GET', url: `/v1/reports/${report.reference}/document.html`, headers: PURPOSE });
      expect(shared.statusCode).toBe(200);
      expect(shared.body).toBe(html);
    } finally {
      await Promise.all([viewer.close(), outsider.close(), partner.close()]);
    }
  }, 180_000);
});
