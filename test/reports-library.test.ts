/**
 * The library of published reports, through the API and the command line: publishing, listing and
 * searching (by state, region, priority crime area, year and PostgreSQL full-text search),
 * immutability, re-rendering a published report to the same bytes (also after new data arrives),
 * and the comparison with what the current data gives, checked against a fresh assessment.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../api/app.ts';
import { loadDemoData } from '../datasets/demo/load.ts';
import { ingestFile } from '../datasets/ingest.ts';
import type { Store } from '../engine/store/database.ts';
import { CHROMIUM_PATH } from '../reports/pdf.ts';
import { tempDir, writeFixture } from './support/fixtures.ts';
import { openTestStore, STORE_KINDS } from './support/stores.ts';

const run = promisify(execFile);
const CHROMIUM = existsSync(CHROMIUM_PATH);
if (!CHROMIUM) console.warn(`report library tests skipped: they print PDFs with Chromium at ${CHROMIUM_PATH} (.ci/run installs it)`);
const headers = { 'x-purpose': 'report library test' };
const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

interface Summary {
  id: number;
  reference: string;
  title: string;
  entities: string[];
  year: number;
  crimeAreas: string[];
  dataVersion: string;
  headline?: string;
  documents: { html: { sha256: string } };
}

describe.skipIf(!CHROMIUM).each(STORE_KINDS)('report library on %s (synthetic demo panel)', (kind) => {
  let store: Store;
  let app: App;
  let dir: string;
  const published: Record<string, Summary> = {};

  beforeAll(async () => {
    store = await openTestStore(kind);
    dir = await tempDir();
    await loadDemoData(store, dir);
    app = await buildApp({ store, access: { demoAccess: { role: 'analyst', agency: 'demo' }, rateLimit: false } });
    const publish = async (key: string, body: Record<string, unknown>) => {
      const res = await app.inject({ method: 'POST', url: '/v1/reports', payload: { framework: 'osce-threat-demo', runs: 100, seed: 9, purpose: 'report library test', ...body } });
      expect(res.statusCode, res.body.slice(0, 400)).toBe(201);
      expect(res.headers.location).toBe(`/v1/reports/${res.json().reference}`);
      published[key] = res.json();
    };
    // One at a time: the list is newest first.
    await publish('ALB', { entity: 'ALB', year: 2022, pdf: true, requestedBy: 'desk officer' });
    await publish('SEE', { region: 'South-Eastern Europe', year: 2022, pdf: false });
    await publish('SRB', { entity: 'SRB', year: 2021, pdf: false });
    await publish('DEU', { entity: 'DEU', year: 2022, pdf: false });
  }, 300_000);
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  const list = async (query: string) => {
    const res = await app.inject({ method: 'GET', url: `/v1/reports${query}`, headers });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    return res.json() as { total: number; reports: Summary[] };
  };
  const refs = (result: { reports: Summary[] }) => result.reports.map((r) => r.reference);
  const ref = (key: string) => published[key]!.reference;

  it('lists reports newest first and filters them by state covered, region, year and priority crime area', async () => {
    expect(refs(await list(''))).toEqual([ref('DEU'), ref('SRB'), ref('SEE'), ref('ALB')]);
    expect((await list('')).total).toBe(4);
    // Serbia: its own report and the region's, which covers it.
    expect(refs(await list('?entity=SRB'))).toEqual([ref('SRB'), ref('SEE')]);
    expect(published.SEE!.entities).toEqual(expect.arrayContaining(['ALB', 'SRB', 'BIH', 'MKD']));
    expect(refs(await list('?region=South-Eastern%20Europe'))).toEqual([ref('SRB'), ref('SEE'), ref('ALB')]);
    expect(refs(await list('?year=2021'))).toEqual([ref('SRB')]);
    expect(refs(await list('?from=2022&to=2022&limit=2'))).toEqual([ref('DEU'), ref('SEE')]);

    // A report's crime areas are those its assessment ranks as a priority (class 1-3) for a state it covers.
    for (const key of ['ALB', 'SRB', 'DEU', 'SEE']) {
      const meta = (await app.inject({ method: 'GET', url: `/v1/reports/${ref(key)}`, headers })).json() as { assessmentId: number; entities: string[]; crimeAreas: string[] };
      const assessment = (await app.inject({ method: 'GET', url: `/v1/assessments/${meta.assessmentId}`, headers })).json() as { result: { entities: { entity: string; threatMatrix: { cells: { crimeArea: string; priorityClass: string | null }[] } }[] } };
      const expected = new Set(assessment.result.entities.filter((e) => meta.entities.includes(e.entity)).flatMap((e) => e.threatMatrix.cells.filter((c) => c.priorityClass !== null && c.priorityClass !== 'monitor').map((c) => c.crimeArea)));
      expect(meta.crimeAreas).toEqual([...expected].sort());
    }
    const areas = new Set(Object.values(published).flatMap((r) => r.crimeAreas));
    let discriminating = 0;
    for (const area of areas) {
      const holders = Object.values(published).filter((r) => r.crimeAreas.includes(area)).map((r) => r.reference).sort();
      expect(refs(await list(`?crimeArea=${area}`)).sort()).toEqual(holders);
      if (holders.length < 4) discriminating++;
    }
    expect(discriminating).toBeGreaterThan(0);
  });

  it('searches the text with PostgreSQL full-text search: stemming, phrases, exclusions, relevance', async () => {
    const albania = await list('?q=Albania');
    expect(refs(albania).sort()).toEqual([ref('ALB'), ref('SEE')].sort());
    expect(albania.reports[0]!.reference).toBe(ref('ALB')); // the title weighs most
    expect(albania.reports[0]!.headline).toContain('<<Albania>>');
    expect(refs(await list('?q=Albania%20-Serbia'))).toEqual([ref('ALB')]);
    expect(refs(await list('?q=%22South-Eastern%20Europe%22')).sort()).toEqual([ref('ALB'), ref('SEE'), ref('SRB')].sort());
    // "trafficked" and "trafficking" share the English stem
    expect((await list('?q=trafficked')).total).toBe(4);
    expect((await list('?q=Germany&year=2021')).total).toBe(0);
    expect((await list('?q=unicornium')).total).toBe(0);
    const both = await app.inject({ method: 'POST', url: '/v1/reports', payload: { framework: 'osce-threat-demo', year: 2022, entity: 'ALB', region: 'Central Asia', pdf: false, purpose: 'report library test' } });
    expect(both.statusCode).toBe(400);
    expect(both.json().detail).toMatch(/one participating state .* or one region .*: give exactly one/);
    const region = await app.inject({ method: 'POST', url: '/v1/reports', payload: { framework: 'osce-threat-demo', year: 2022, region: 'Atlantis', pdf: false, purpose: 'report library test' } });
    expect(region.json().detail).toMatch(/^region "Atlantis" is not one of North America, /);
    const bad = await app.inject({ method: 'GET', url: '/v1/reports?from=2023&to=2020', headers });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().detail).toBe('from (2023) is after to (2020)');
  });

  it('each publication is in the audit log with the publisher, purpose, batches and document hash', async () => {
    const entries = await store.db.selectFrom('audit_log').select(['actor', 'agency', 'role', 'purpose', 'details']).where('action', '=', 'report.publish').orderBy('id').execute();
    const details = entries.map((e) => (typeof e.details === 'string' ? JSON.parse(e.details) : e.details) as Record<string, unknown>);
    expect(details.slice(0, 4).map((d) => d.reference)).toEqual([ref('ALB'), ref('SEE'), ref('SRB'), ref('DEU')]);
    expect(entries[0]).toMatchObject({ actor: 'demo', agency: 'demo', role: 'analyst', purpose: 'report library test' });
    expect(details[0]).toMatchObject({ reportId: published.ALB!.id, statedRequester: 'desk officer', htmlSha256: published.ALB!.documents.html.sha256, handling: 'public', batches: [1] });
  });

  it('published reports are immutable: the store refuses to change or delete them', async () => {
    await expect(store.db.updateTable('reports').set({ title: 'changed' }).where('id', '=', published.ALB!.id).execute()).rejects.toThrow(/published reports are immutable: UPDATE is refused/);
    await expect(store.db.deleteFrom('reports').where('id', '=', published.ALB!.id).execute()).rejects.toThrow(/published reports are immutable: DELETE is refused/);
    const after = (await app.inject({ method: 'GET', url: `/v1/reports/${ref('ALB')}`, headers })).json() as Summary;
    expect(after.title).toBe('Threat assessment: Albania, 2022');
  });

  it('re-renders a published report to the published bytes, also after new data; the comparison shows the change', async () => {
    const html = await app.inject({ method: 'GET', url: `/v1/reports/${ref('ALB')}/document.html`, headers });
    const pdf = await app.inject({ method: 'GET', url: `/v1/reports/${ref('ALB')}/document.pdf`, headers });
    expect(sha256(html.body)).toBe(published.ALB!.documents.html.sha256);
    const rendered = async (format: 'html' | 'pdf') => {
      const res = await app.inject({ method: 'GET', url: `/v1/reports/${ref('ALB')}/render?format=${format}`, headers });
      expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
      return res;
    };
    for (const format of ['html', 'pdf'] as const) {
      const again = await rendered(format);
      expect(again.headers['x-report-identical'], format).toBe('true');
      expect(Buffer.compare(again.rawPayload, (format === 'html' ? html : pdf).rawPayload), format).toBe(0);
    }
    const nothing = (await app.inject({ method: 'GET', url: `/v1/reports/${ref('ALB')}/compare`, headers })).json() as { changed: { data: boolean }; summary: string[] };
    expect(nothing.changed.data).toBe(false);
    expect(nothing.summary[0]).toMatch(/^Nothing has changed since publication/);

    // New data: a revised homicide rate for Albania.
    const fixture = await writeFixture(dir, `revision-${kind}.csv`, 'entity,period,indicator,value\nALB,2022,homicide_rate,14.2\nALB,2021,homicide_rate,13.9\n');
    const batch = await ingestFile(store, fixture, { format: 'long', source: 'revision test', grade: 'A1', actor: 'test' });
    const stillHtml = await rendered('html');
    expect(stillHtml.headers['x-report-identical']).toBe('true');
    expect(stillHtml.body).toBe(html.body);
    expect((await app.inject({ method: 'GET', url: `/v1/reports/${ref('ALB')}/document.html`, headers })).body).toBe(html.body);

    const comparison = (await app.inject({ method: 'GET', url: `/v1/reports/${ref('ALB')}/compare`, headers })).json() as {
      changed: { data: boolean; framework: boolean };
      batches: { added: { id: number }[]; removed: number[] };
      current: { dataVersion: string };
      states: { entity: string; scores: { published: { score: number }; current: { score: number; rank: number }; scoreChange: number }[]; threatMatrix: { crimeArea: string; published: { scale: number }; current: { scale: number }; scaleChange: number }[]; assistance: { gapChange: number | null } }[];
      summary: string[];
    };
    expect(comparison.changed).toMatchObject({ data: true, framework: false });
    expect(comparison.batches.added.map((b) => b.id)).toEqual([batch.batchId]);
    expect(comparison.current.dataVersion).not.toBe(published.ALB!.dataVersion);
    // The published side is the report's assessment; the current side equals a fresh assessment with the same seed and runs.
    const meta = (await app.inject({ method: 'GET', url: `/v1/reports/${ref('ALB')}`, headers })).json() as { assessmentId: number };
    const before = (await app.inject({ method: 'GET', url: `/v1/assessments/${meta.assessmentId}`, headers })).json() as { result: AssessmentView };
    const fresh = await app.inject({ method: 'POST', url: '/v1/assessments', headers, payload: { framework: 'osce-threat-demo', year: 2022, entity: 'ALB', runs: 100, seed: 9, requestedBy: 'test', purpose: 'report library test' } });
    const now = (fresh.json() as { result: AssessmentView }).result;
    const state = comparison.states[0]!;
    expect(state.entity).toBe('ALB');
    expect(state.scores[0]!.published.score).toBe(before.result.entities[0]!.roots[0]!.score);
    expect(state.scores[0]!.current.score).toBe(now.entities[0]!.roots[0]!.score);
    expect(state.scores[0]!.current.rank).toBe(now.entities[0]!.roots[0]!.rank);
    expect(state.scores[0]!.scoreChange).toBeCloseTo(now.entities[0]!.roots[0]!.score - before.result.entities[0]!.roots[0]!.score, 6);
    expect(state.scores[0]!.scoreChange).not.toBe(0);
    const homicide = state.threatMatrix.find((t) => t.crimeArea === 'homicide')!;
    expect(homicide.current.scale).toBe(now.entities[0]!.threatMatrix.cells.find((c) => c.crimeArea === 'homicide')!.scale);
    expect(homicide.scaleChange).toBeGreaterThan(0);
    expect(comparison.summary[0]).toContain(`1 input batch added (${batch.batchId} revision test)`);
    expect(comparison.summary.some((s) => s.startsWith('Albania: risk '))).toBe(true);

    // A report published now is another document.
    const newer = await app.inject({ method: 'POST', url: '/v1/reports', payload: { framework: 'osce-threat-demo', entity: 'ALB', year: 2022, runs: 100, seed: 9, pdf: false, purpose: 'report library test' } });
    expect((newer.json() as Summary).documents.html.sha256).not.toBe(published.ALB!.documents.html.sha256);
    expect((newer.json() as Summary).dataVersion).toBe(comparison.current.dataVersion);
  }, 120_000);
});

interface AssessmentView {
  entities: { roots: { score: number; rank: number }[]; threatMatrix: { cells: { crimeArea: string; scale: number }[] } }[];
}

async function threatlens(dataDir: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/threatlens.mjs', ...args], { env: { ...process.env, THREATLENS_DATA_DIR: dataDir, DATABASE_URL: '' }, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe.skipIf(!CHROMIUM)('threatlens report and reports (command line, PGlite)', () => {
  let dir: string;
  let dataDir: string;
  let reference: string;

  beforeAll(async () => {
    dir = await tempDir();
    dataDir = join(dir, 'store');
    const migrated = await threatlens(dataDir, 'migrate');
    expect(migrated.code, migrated.stderr).toBe(0);
  }, 180_000);

  it('publishes a PDF report, lists, searches, shows, re-renders it identically and compares it with the current data', async () => {
    const out = join(dir, 'alb.pdf');
    const made = await threatlens(dataDir, 'report', '--entity', 'ALB', '--framework', 'osce-threat-demo', '--year', '2022', '--runs', '50', '--format', 'pdf', '--out', out, '--purpose', 'cli test');
    expect(made.code, made.stderr).toBe(0);
    const summary = JSON.parse(made.stdout) as { id: number; reference: string; published: boolean; file: string; sha256: string; handling: { level: string } };
    expect(summary).toMatchObject({ id: 1, published: true, file: out, handling: { level: 'public' } });
    reference = summary.reference;
    const pdf = await readFile(out);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(sha256(pdf)).toBe(summary.sha256);

    const found = JSON.parse((await threatlens(dataDir, 'reports', 'search', 'Albania homicide')).stdout) as { total: number; reports: Summary[] };
    expect(found.total).toBe(1);
    expect(found.reports[0]!.reference).toBe(reference);
    expect(found.reports[0]!.headline).toMatch(/<<Albania>>/);
    const shown = JSON.parse((await threatlens(dataDir, 'reports', 'show', reference)).stdout) as { reference: string; documents: { pdf: { sha256: string } } };
    expect(shown.documents.pdf.sha256).toBe(summary.sha256);

    const again = join(dir, 'again.pdf');
    const rendered = await threatlens(dataDir, 'reports', 'render', reference, '--format', 'pdf', '--out', again);
    expect(rendered.code, rendered.stderr).toBe(0);
    expect(JSON.parse(rendered.stdout)).toMatchObject({ identical: true, sha256: summary.sha256, publishedSha256: summary.sha256 });
    expect(Buffer.compare(await readFile(again), pdf)).toBe(0);

    const compared = await threatlens(dataDir, 'reports', 'compare', reference, '--format', 'text');
    expect(compared.code, compared.stderr).toBe(0);
    expect(compared.stdout).toMatch(/^Nothing has changed since publication on \d{4}-\d{2}-\d{2}/);

    // A draft is rendered but not published.
    const draft = await threatlens(dataDir, 'report', '--region', 'Central Asia', '--framework', 'osce-threat-demo', '--year', '2022', '--runs', '50', '--draft', '--out', join(dir, 'draft.html'));
    expect(draft.code, draft.stderr).toBe(0);
    expect(JSON.parse(draft.stdout)).toMatchObject({ id: null, published: false, title: 'Threat assessment: Central Asia, 2022' });
    expect(await readFile(join(dir, 'draft.html'), 'utf8')).toContain('<h1>Threat assessment: Central Asia, ');
    const listed = JSON.parse((await threatlens(dataDir, 'reports', 'list', '--entity', 'ALB')).stdout) as { total: number; reports: Summary[] };
    expect(listed.reports.map((r) => r.reference)).toEqual([reference]);

    const missing = await threatlens(dataDir, 'reports', 'show', 'TLR-20000101-00000000');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('error TL_NOT_FOUND: no published report TLR-20000101-00000000');
  }, 240_000);
});
