/**
 * The model lifecycle and the detections through the API (PGlite, and PostgreSQL when
 * DATABASE_URL is set): training as a job with progress, the registry, promotion and rollback,
 * anomalies with attributions that follow the production model, nowcasts, and refusals.
 */
import { readFile } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../api/app.ts';
import { loadDemoData } from '../datasets/demo/load.ts';
import type { DemoTruth } from '../datasets/demo/generate.ts';
import type { Store } from '../engine/store/database.ts';
import { tempDir } from './support/fixtures.ts';
import { testKey, type TestCredential } from './support/principals.ts';
import { openTestStore, STORE_KINDS } from './support/stores.ts';

async function waitForJob(app: App, id: number, headers: Record<string, string>, seen: number[] = []) {
  for (let i = 0; i < 600; i++) {
    const res = await app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers });
    const job = res.json();
    seen.push(job.percent);
    if (['succeeded', 'failed', 'cancelled'].includes(job.state)) return job;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${id} did not finish`);
}

describe.each(STORE_KINDS)('model lifecycle and anomalies through the API on %s', (kind) => {
  let store: Store;
  let app: App;
  let scientist: TestCredential;
  let viewer: TestCredential;
  let analyst: TestCredential;
  let truth: DemoTruth;

  beforeAll(async () => {
    store = await openTestStore(kind);
    const demo = await loadDemoData(store, await tempDir());
    truth = JSON.parse(await readFile(demo.truthPath, 'utf8')) as DemoTruth;
    app = await buildApp({ store, jobs: true, access: { rateLimit: false } });
    await app.ready();
    scientist = await testKey(store, 'data_scientist');
    viewer = await testKey(store, 'viewer');
    analyst = await testKey(store, 'analyst');
  }, 240_000);
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('only data scientists train; bad hyperparameters are refused naming the field', async () => {
    const asViewer = await app.inject({ method: 'POST', url: '/v1/models/isolation-forest/train', headers: viewer.headers, payload: {} });
    expect(asViewer.statusCode).toBe(403);
    const bad = await app.inject({ method: 'POST', url: '/v1/models/isolation-forest/train', headers: scientist.headers, payload: { hyperparameters: { nTrees: -3 } } });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toMatch(/problem\+json/);
    expect(bad.json().detail).toMatch(/nTrees/);
  });

  it('trains as a job with visible progress, promotes, rolls back, and anomalies follow the production model', async () => {
    const queued = await app.inject({ method: 'POST', url: '/v1/models/isolation-forest/train', headers: scientist.headers, payload: { hyperparameters: { nTrees: 60 }, seed: 11 } });
    expect(queued.statusCode).toBe(202);
    expect(queued.headers.location).toBe(`/v1/jobs/${queued.json().id}`);
    const first = await waitForJob(app, queued.json().id, scientist.headers);
    expect(first.state).toBe('succeeded');
    expect(first.result.version).toBe(1);
    expect(first.result.evaluation.rocAuc).toBeGreaterThan(0.7);

    const second = await waitForJob(
      app,
      (await app.inject({ method: 'POST', url: '/v1/models/isolation-forest/train', headers: scientist.headers, payload: { hyperparameters: { nTrees: 80 }, seed: 12 } })).json().id,
      scientist.headers,
    );
    expect(second.result.version).toBe(2);

    const listed = (await app.inject({ method: 'GET', url: '/v1/models?name=isolation-forest', headers: scientist.headers })).json().models;
    expect(listed.map((m: { version: number; status: string }) => [m.version, m.status]).sort()).toEqual([[1, 'candidate'], [2, 'candidate']]);
    const card = await app.inject({ method: 'GET', url: '/v1/models/isolation-forest/versions/2', headers: { ...scientist.headers, accept: 'text/markdown' } });
    expect(card.statusCode).toBe(200);
    expect(card.body).toMatch(/Intended use/i);

    for (const version of [1, 2]) {
      const promoted = await app.inject({ method: 'POST', url: '/v1/models/isolation-forest/promote', headers: scientist.headers, payload: { version } });
      expect(promoted.statusCode).toBe(200);
    }
    // The detectors run in a worker thread: the event loop stays free but for the store's reads and
    // writes (run in-thread they blocked it for the whole run, 10-20 s on this data).
    const delay = monitorEventLoopDelay({ resolution: 20 });
    delay.enable();
    const anomalies = await app.inject({ method: 'GET', url: '/v1/anomalies?severity=low', headers: viewer.headers });
    delay.disable();
    expect(anomalies.statusCode).toBe(200);
    expect(delay.max / 1e6).toBeLessThan(3_000);
    const body = anomalies.json();
    expect(body.run.detectors.isolation_forest.version).toBe(2);
    expect(body.flags.length).toBeGreaterThan(10);
    for (const flag of body.flags) {
      expect(flag.detector).toBe('ensemble');
      expect(flag.attributions.reduce((s: number, a: { share: number }) => s + a.share, 0)).toBeCloseTo(1, 6);
    }
    // The planted unit errors (x1000) are the clearest anomalies there are: each is flagged, as a data problem.
    const flagged = new Map(body.flags.map((f: { entity: string; indicator: string; period: string; likelyCause: string }) => [`${f.entity}|${f.indicator}|${f.period}`, f]));
    const unitErrors = truth.anomalies.filter((a) => a.kind === 'unit_error' && a.plantedValue > a.expectedValue);
    expect(unitErrors.length).toBeGreaterThan(0);
    for (const a of unitErrors) {
      const flag = flagged.get(`${a.entity}|${a.indicator}|${a.period}`) as { likelyCause: string } | undefined;
      expect(flag, `${a.entity} ${a.indicator} ${a.period}`).toBeDefined();
      expect(flag!.likelyCause).toBe('data_problem');
    }
    // An assessment of a flagged state and year carries the flags that concern it, from the same run.
    const flag = body.flags.find((f: { entity: string; period: string }) => /^\d{4}$/.test(f.period) && Number(f.period) >= 2005);
    const assessed = await app.inject({
      method: 'POST',
      url: '/v1/assessments',
      headers: analyst.headers,
      payload: { framework: 'osce-threat-demo', year: Number(flag.period), entity: flag.entity, purpose: 'test: flags in assessments', runs: 50 },
    });
    expect(assessed.statusCode).toBe(201);
    const carried = assessed.json().result.anomalies;
    expect(carried.runId).toBe(body.run.id);
    expect(carried.flags.some((f: { indicator: string; period: string }) => f.indicator === flag.indicator && f.period === flag.period)).toBe(true);
    expect(carried.flags.every((f: { entity: string }) => f.entity === flag.entity)).toBe(true);

    // The same request again reuses the stored run.
    const again = (await app.inject({ method: 'GET', url: '/v1/anomalies?severity=high', headers: viewer.headers })).json();
    expect(again.run.id).toBe(body.run.id);
    expect(again.run.fresh).toBe(false);
    expect(again.flags.every((f: { severity: string }) => f.severity === 'high')).toBe(true);

    const rolled = await app.inject({ method: 'POST', url: '/v1/models/isolation-forest/rollback', headers: scientist.headers, payload: {} });
    expect(rolled.json()).toMatchObject({ version: 1, previous: 2 });
    const afterRollback = (await app.inject({ method: 'GET', url: '/v1/anomalies?entity=ALB', headers: analyst.headers })).json();
    expect(afterRollback.run.detectors.isolation_forest.version).toBe(1);
    expect(afterRollback.run.id).not.toBe(body.run.id);
    expect(afterRollback.flags.every((f: { entity: string }) => f.entity === 'ALB')).toBe(true);
  }, 300_000);

  it('refuses promoting a version that does not exist, and a cancelled job registers nothing', async () => {
    const missing = await app.inject({ method: 'POST', url: '/v1/models/isolation-forest/promote', headers: scientist.headers, payload: { version: 99 } });
    expect(missing.statusCode).toBe(404);
    const queued = (await app.inject({ method: 'POST', url: '/v1/models/autoencoder/train', headers: scientist.headers, payload: { hyperparameters: { epochs: 3000, patience: 3000 } } })).json();
    await new Promise((r) => setTimeout(r, 1500));
    const cancel = await app.inject({ method: 'POST', url: `/v1/jobs/${queued.id}/cancel`, headers: scientist.headers });
    expect(cancel.statusCode).toBe(200);
    const job = await waitForJob(app, queued.id, scientist.headers);
    expect(job.state).toBe('cancelled');
    const models = (await app.inject({ method: 'GET', url: '/v1/models?name=autoencoder', headers: scientist.headers })).json().models;
    expect(models).toEqual([]);
  }, 120_000);

  it('serves a nowcast with an interval around the expected value', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/nowcasts?entity=DEU&indicator=homicide_rate&horizon=2', headers: viewer.headers });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.nowcast).toHaveLength(2);
    expect(Number(body.nowcast[0].period)).toBe(Number(body.lastObserved.period) + 1);
    for (const p of body.nowcast) expect(p.lower).toBeLessThan(p.expected), expect(p.expected).toBeLessThan(p.upper);
    const none = await app.inject({ method: 'GET', url: '/v1/nowcasts?entity=DEU&indicator=no_such_thing', headers: viewer.headers });
    expect(none.statusCode).toBe(404);
  });
});
