/**
 * Restricted data reaches no one outside its sharing list, through any route: raw observations,
 * the quality report, the simple composite and framework scores (ranks, bands), assessments
 * (drivers, narrative, confidence, threat matrix), the dashboards' routes, and stored assessments.
 *
 * Method: on the synthetic demo panel (public), every probe is sent by every principal and the
 * answers kept; then a restricted batch (agency-a, shared with agency-b) and an owner-only batch
 * (agency-c) are ingested with conspicuous values. Every principal outside a batch's sharing list
 * must get byte-for-byte the answer it got before (the data version included); the agencies
 * inside it, stating a purpose, must get a different answer that carries the values (so the test
 * can fail). Insiders ask first, so that anything cached for them is there when outsiders ask.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../api/app.ts';
import { loadDemoData } from '../datasets/demo/load.ts';
import { ingestFile } from '../datasets/ingest.ts';
import type { Role } from '../engine/access/roles.ts';
import { refreshRiskScores } from '../engine/scoring/refresh.ts';
import type { Store } from '../engine/store/database.ts';
import { tempDir, writeFixture } from './support/fixtures.ts';
import { testKey } from './support/principals.ts';
import { openTestStore, STORE_KINDS } from './support/stores.ts';

const CANARY_STATES = ['ALB', 'SRB', 'MKD', 'BIH', 'MNE', 'MDA'];
/** agency-a's restricted batch, shared with agency-b: homicide far above any real rate. */
function restrictedCsv(): string {
  const lines = ['entity,period,indicator,value'];
  CANARY_STATES.forEach((iso3, i) => {
    for (const year of [2020, 2021, 2022]) lines.push(`${iso3},${year},homicide_rate,${97.5 + i}`);
  });
  lines.push('ALB,2022,robbery_rate,3333.25');
  return `${lines.join('\n')}\n`;
}
/** agency-c's owner-only batch. */
const OWNER_CSV = 'entity,period,indicator,value\nALB,2021,drug_offences_rate,4444.5\nALB,2022,drug_offences_rate,4444.5\nDEU,2022,drug_offences_rate,4444.5\n';

interface Probe {
  readonly name: string;
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly payload?: Record<string, unknown>;
}

const FW = 'framework=osce-threat-demo&year=2022';
const PROBES: readonly Probe[] = [
  { name: 'observations of an indicator', method: 'GET', url: '/v1/observations?indicator=homicide_rate&from=2019&to=2022&limit=10000' },
  { name: 'observations of a state', method: 'GET', url: '/v1/observations?entity=ALB&from=2020&to=2022&limit=10000' },
  { name: 'quality of an indicator', method: 'GET', url: '/v1/quality?indicator=homicide_rate&from=2013&to=2022' },
  { name: 'quality of the restricted batch', method: 'GET', url: '/v1/quality?batch=2' },
  { name: 'quality of the owner batch', method: 'GET', url: '/v1/quality?batch=3&indicator=drug_offences_rate' },
  { name: 'composite', method: 'GET', url: '/v1/risk-scores?year=2022' },
  { name: 'composite, homicide area', method: 'GET', url: '/v1/risk-scores?year=2022&node=homicide' },
  { name: 'composite, drugs area', method: 'GET', url: '/v1/risk-scores?year=2022&node=drugs' },
  { name: 'framework scores', method: 'GET', url: `/v1/risk-scores?${FW}` },
  { name: 'framework node', method: 'GET', url: `/v1/risk-scores?${FW}&node=crime_indicators` },
  { name: 'map of a node', method: 'GET', url: `/v1/dashboard/map?${FW}&layer=node:risk` },
  { name: 'map of an indicator', method: 'GET', url: `/v1/dashboard/map?${FW}&layer=indicator:homicide_rate` },
  { name: 'map of an area', method: 'GET', url: `/v1/dashboard/map?${FW}&layer=area:drugs` },
  { name: 'ranking with intervals', method: 'GET', url: `/v1/dashboard/summary?${FW}` },
  { name: 'country with drivers', method: 'GET', url: `/v1/dashboard/country?${FW}&entity=ALB` },
  { name: 'comparison of two states', method: 'GET', url: `/v1/dashboard/compare?${FW}&a=ALB&b=DEU` },
  { name: 'assessment with explanation', method: 'POST', url: '/v1/assessments', payload: { framework: 'osce-threat-demo', year: 2022, entity: 'ALB', runs: 50, seed: 11 } },
  { name: 'assistance priorities', method: 'GET', url: '/v1/assistance-priorities?framework=osce-threat-demo&year=2022&runs=50&seed=1' },
  { name: 'anomalies of a state', method: 'GET', url: '/v1/anomalies?entity=ALB&detector=all&limit=5000' },
  { name: 'nowcast', method: 'GET', url: '/v1/nowcasts?entity=ALB&indicator=homicide_rate' },
  { name: 'health', method: 'GET', url: '/health' },
];

/**
 * Routes that read under the sharing rules but are not probed here, each with where its sharing
 * is shown. A route in neither list fails the completeness test: probe it or list it.
 */
const PROBED_ELSEWHERE: Record<string, string> = {
  'GET /v1/assessments/:id': 'the last test of this file (stored results and the intersection rule)',
  'POST /v1/reports': 'issue 10 (stored reports): its owner\'s tests',
  'GET /v1/reports': 'issue 10',
  'GET /v1/reports/:ref': 'issue 10',
  'GET /v1/reports/:ref/inputs': 'issue 10',
  'GET /v1/reports/:ref/document.html': 'issue 10',
  'GET /v1/reports/:ref/document.pdf': 'issue 10',
  'GET /v1/reports/:ref/render': 'issue 10',
  'GET /v1/reports/:ref/compare': 'issue 10',
};

interface Caller {
  readonly name: string;
  readonly role: Role;
  readonly agency: string;
  readonly purpose: string | null;
}

const INSIDERS: readonly Caller[] = [
  { name: 'analyst of agency-a (owner of R), with purpose', role: 'analyst', agency: 'agency-a', purpose: 'case 17: homicide series review' },
  { name: 'data scientist of agency-b (R shared with it), with purpose', role: 'data_scientist', agency: 'agency-b', purpose: 'model evaluation for case 17' },
  { name: 'analyst of agency-b, with purpose', role: 'analyst', agency: 'agency-b', purpose: 'joint investigation 2022/4' },
  { name: 'analyst of agency-c (owner of O), with purpose', role: 'analyst', agency: 'agency-c', purpose: 'drug market review' },
];
const OUTSIDERS: readonly Caller[] = [
  { name: 'analyst of agency-d, with purpose', role: 'analyst', agency: 'agency-d', purpose: 'curiosity' },
  { name: 'data scientist of agency-d, with purpose', role: 'data_scientist', agency: 'agency-d', purpose: 'training data' },
  { name: 'analyst of agency-a without a purpose', role: 'analyst', agency: 'agency-a', purpose: null },
  { name: 'viewer of agency-a, with purpose', role: 'viewer', agency: 'agency-a', purpose: 'dashboard' },
  { name: 'oversight of agency-a, with purpose', role: 'oversight', agency: 'agency-a', purpose: 'oversight review' },
  { name: 'admin of agency-a, with purpose', role: 'admin', agency: 'agency-a', purpose: 'administration' },
];

/** What must not change: status, the data-bearing headers, and the body without per-request fields. */
function normalise(res: { statusCode: number; headers: Record<string, unknown>; body: string }): string {
  let body: unknown = res.body;
  try {
    body = JSON.parse(res.body);
  } catch {
    // not JSON: compare the text
  }
  if (body && typeof body === 'object' && 'createdAt' in body) {
    const { id: _id, createdAt: _at, ...rest } = body as Record<string, unknown>;
    body = rest;
  }
  // An anomaly run's id, time and whether this request ran it are per request, not data.
  if (body && typeof body === 'object' && 'run' in body && typeof (body as { run: unknown }).run === 'object') {
    const { id: _id, createdAt: _at, fresh: _fresh, ...run } = (body as { run: Record<string, unknown> }).run;
    body = { ...(body as Record<string, unknown>), run };
  }
  return JSON.stringify({ status: res.statusCode, etag: res.headers.etag ?? null, scope: res.headers['x-data-scope'] ?? null, body });
}

describe.each(STORE_KINDS)('restricted data through every route on %s', (kind) => {
  let store: Store;
  let app: App;
  const headers = new Map<string, Record<string, string>>();
  const before = new Map<string, string>();
  const after = new Map<string, string>();
  const afterText = new Map<string, string>();
  let restrictedBatch: number;
  let ownerBatch: number;

  const ask = async (caller: Caller, probe: Probe) => {
    const h = { ...headers.get(caller.name)!, ...(caller.purpose ? { 'x-purpose': caller.purpose } : {}) };
    return app.inject({ method: probe.method, url: probe.url, headers: h, ...(probe.payload ? { payload: probe.payload } : {}) });
  };

  beforeAll(async () => {
    store = await openTestStore(kind);
    await loadDemoData(store, await tempDir());
    await refreshRiskScores(store.db);
    app = await buildApp({ store, access: { rateLimit: false } });
    for (const caller of [...INSIDERS, ...OUTSIDERS]) headers.set(caller.name, (await testKey(store, caller.role, caller.agency)).headers);
    for (const caller of [...INSIDERS, ...OUTSIDERS]) for (const probe of PROBES) before.set(`${caller.name} | ${probe.name}`, normalise(await ask(caller, probe)));

    const dir = await tempDir();
    restrictedBatch = (await ingestFile(store, await writeFixture(dir, 'r.csv', restrictedCsv()), { grade: 'B2', owner: 'agency-a', sharing: 'restricted', sharedWith: ['agency-b'] })).batchId!;
    ownerBatch = (await ingestFile(store, await writeFixture(dir, 'o.csv', OWNER_CSV), { grade: 'B2', owner: 'agency-c', sharing: 'owner' })).batchId!;
    await refreshRiskScores(store.db);
    for (const caller of [...INSIDERS, ...OUTSIDERS]) {
      for (const probe of PROBES) {
        const res = await ask(caller, probe);
        after.set(`${caller.name} | ${probe.name}`, normalise(res));
        afterText.set(`${caller.name} | ${probe.name}`, res.body);
      }
    }
  }, 600_000);
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('probes every route that reads data under the sharing rules', () => {
    expect([restrictedBatch, ownerBatch]).toEqual([2, 3]);
    const probed = new Set(PROBES.map((p) => `${p.method} ${p.url.split('?')[0]}`));
    const unprobed = app.accessRules
      .filter((r) => r.method !== 'HEAD' && r.rule !== null && 'roles' in r.rule && r.rule.sharing === true)
      .map((r) => `${r.method} ${r.url}`)
      .filter((route) => !probed.has(route) && !(route in PROBED_ELSEWHERE));
    expect(unprobed, 'add a probe for each of these routes to PROBES (or say in PROBED_ELSEWHERE where its sharing is tested)').toEqual([]);
  });

  it('outsiders get exactly the answers they got before the restricted batches existed', () => {
    const changed: string[] = [];
    for (const caller of OUTSIDERS) {
      for (const probe of PROBES) {
        const key = `${caller.name} | ${probe.name}`;
        if (after.get(key) !== before.get(key)) changed.push(`${key}: ${before.get(key)!.slice(0, 120)} -> ${after.get(key)!.slice(0, 120)}`);
        for (const canary of ['97.5', '98.5', '3333.25', '4444.5']) expect(afterText.get(key), key).not.toContain(canary);
      }
    }
    expect(changed).toEqual([]);
    // And they were not just errors: most probes answered with data.
    const answered = OUTSIDERS.flatMap((c) => PROBES.map((p) => JSON.parse(after.get(`${c.name} | ${p.name}`)!).status)).filter((s) => s === 200 || s === 201);
    expect(answered.length).toBeGreaterThan(40);
  });

  it('insiders with a purpose see the data shared with them, and only that', () => {
    const [a, dsB, b, c] = INSIDERS;
    const text = (caller: Caller, probe: string) => afterText.get(`${caller!.name} | ${probe}`)!;
    const differs = (caller: Caller, probe: string) => after.get(`${caller!.name} | ${probe}`) !== before.get(`${caller!.name} | ${probe}`);
    for (const insider of [a, dsB, b]) {
      expect(text(insider!, 'observations of an indicator')).toContain('97.5');
      expect(text(insider!, 'observations of a state')).not.toContain('4444.5');
      expect(differs(insider!, 'quality of the restricted batch')).toBe(true);
      expect(JSON.parse(after.get(`${insider!.name} | quality of the restricted batch`)!).status).toBe(200);
      expect(JSON.parse(after.get(`${insider!.name} | quality of the owner batch`)!).status).toBe(404);
      for (const probe of ['composite', 'composite, homicide area', 'framework scores', 'map of a node', 'map of an indicator', 'ranking with intervals', 'country with drivers']) {
        expect(differs(insider!, probe), `${insider!.name}: ${probe}`).toBe(true);
      }
    }
    for (const probe of ['assessment with explanation', 'comparison of two states']) expect(differs(a!, probe), probe).toBe(true);
    expect(text(c!, 'observations of a state')).toContain('4444.5');
    expect(text(c!, 'observations of an indicator')).not.toContain('97.5');
    for (const probe of ['composite, drugs area', 'map of an area', 'assessment with explanation']) expect(differs(c!, probe), `C: ${probe}`).toBe(true);
    expect(differs(a!, 'assistance priorities')).toBe(true);
    expect(differs(a!, 'anomalies of a state')).toBe(true);
    expect(JSON.parse(after.get(`${c!.name} | quality of the restricted batch`)!).status).toBe(404);
    // Restricted reads are audited with who, purpose and the batches touched.
    return store.db
      .selectFrom('audit_log')
      .select(['actor', 'agency', 'purpose', 'details'])
      .where('action', '=', 'read.restricted')
      .execute()
      .then((rows) => {
        expect(rows.some((r) => r.agency === 'agency-a' && r.purpose === a!.purpose && (r.details as { batches: number[] }).batches.includes(restrictedBatch))).toBe(true);
        expect(rows.some((r) => r.agency === 'agency-c' && (r.details as { batches: number[] }).batches.includes(ownerBatch))).toBe(true);
        expect(rows.filter((r) => r.agency === 'agency-d')).toEqual([]);
        for (const r of rows) expect(r.purpose, 'a restricted read without a purpose').not.toBeNull();
      });
  });

  it('an assessment computed from restricted data is read only by agencies allowed all its batches', async () => {
    const create = async (caller: Caller) => {
      const res = await ask(caller, { name: 'create', method: 'POST', url: '/v1/assessments', payload: { framework: 'osce-threat-demo', year: 2022, entity: 'SRB', runs: 20, seed: 3 } });
      expect(res.statusCode, res.body).toBe(201);
      return res.json().id as number;
    };
    const [a, dsB, b, c] = INSIDERS;
    const fromR = await create(a!);
    const fromO = await create(c!);
    const fromPublic = await create(OUTSIDERS[0]!);
    const read = async (caller: Caller, id: number) => (await ask(caller, { name: 'read', method: 'GET', url: `/v1/assessments/${id}` })).statusCode;
    const oversight = OUTSIDERS.find((o) => o.role === 'oversight')!;
    const noPurpose = OUTSIDERS.find((o) => o.purpose === null)!;
    // R: agency-a and agency-b; O: agency-c only; public: every analyst and oversight.
    expect(await read(a!, fromR)).toBe(200);
    expect(await read(b!, fromR)).toBe(200);
    expect(await read(c!, fromR)).toBe(404);
    expect(await read(OUTSIDERS[0]!, fromR)).toBe(404);
    expect(await read(noPurpose, fromR)).toBe(404);
    expect(await read(oversight, fromR)).toBe(404);
    expect(await read(c!, fromO)).toBe(200);
    expect(await read(a!, fromO)).toBe(404);
    expect(await read(b!, fromO)).toBe(404);
    expect(await read(dsB!, fromPublic)).toBe(403);
    for (const caller of [a!, b!, c!, noPurpose, oversight]) expect(await read(caller, fromPublic), caller.name).toBe(200);
    const stored = await store.db.selectFrom('assessments').select(['id', 'input_batches', 'requested_agency', 'purpose']).where('id', 'in', [fromR, fromO, fromPublic]).orderBy('id').execute();
    expect(stored.map((s) => [s.input_batches.includes(restrictedBatch), s.input_batches.includes(ownerBatch), s.requested_agency])).toEqual([
      [true, false, 'agency-a'],
      [false, true, 'agency-c'],
      [false, false, 'agency-d'],
    ]);
  });
});
