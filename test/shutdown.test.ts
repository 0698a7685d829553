/**
 * Graceful shutdown of the app (issue 9): close() lets the requests in flight finish before the
 * worker threads stop and the store closes, whatever they are waiting on (an ingestion in the
 * database, an assessment in a worker thread). test/faults.test.ts does the same with SIGTERM to
 * a real server process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.ts';
import { prepareStore } from '../api/server.ts';
import { OSCE_PARTICIPATING_ISO3 } from '../datasets/reference/osce.ts';
import type { Store } from '../engine/store/database.ts';
import { testKey } from './support/principals.ts';

describe('closing the app with requests in flight', () => {
  let store: Store;

  beforeAll(async () => {
    store = await prepareStore({ inMemory: true }, true, () => undefined);
  }, 300_000);
  afterAll(async () => store?.close());

  it('answers the ingestion and the assessment in flight, then closes', async () => {
    const app = await buildApp({ store, access: { rateLimit: false } });
    await app.ready();
    const key = await testKey(store, 'analyst', 'shutdown-test');
    const rows = ['entity,period,indicator,value'];
    for (let year = 1990; year < 2000; year++) for (const iso3 of OSCE_PARTICIPATING_ISO3) rows.push(`${iso3},${year},unodc_homicide_rate,${(year % 7) + 0.5}`);
    const batchesBefore = (await store.db.selectFrom('ingestion_batches').select('id').execute()).length;

    const ingestion = app.inject({ method: 'POST', url: '/v1/ingest?sharing=owner', headers: { ...key.headers, 'content-type': 'text/csv' }, payload: `${rows.join('\n')}\n` });
    const assessment = app.inject({
      method: 'POST',
      url: '/v1/assessments',
      headers: { ...key.headers, 'content-type': 'application/json' },
      payload: JSON.stringify({ framework: 'osce-threat-demo', year: 2022, entity: 'ALB', runs: 200, seed: 99, purpose: 'shutdown test' }),
    });
    // Let both start, then close while they run.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const closed = app.close();
    const [ingested, assessed] = await Promise.all([ingestion, assessment]);
    await closed;

    expect(ingested.statusCode, ingested.body.slice(0, 300)).toBe(201);
    expect(ingested.json().accepted).toBe(rows.length - 1);
    expect(assessed.statusCode, assessed.body.slice(0, 300)).toBe(201);
    expect(assessed.json().entity).toBe('ALB');
    expect((await store.db.selectFrom('ingestion_batches').select('id').execute()).length).toBe(batchesBefore + 1);
  }, 120_000);

  it('a request whose client went away still finishes its work before the app closes', async () => {
    const app = await buildApp({ store, access: { rateLimit: false } });
    // The client leaves only once the handler runs: leaving earlier, while the body is read, ends the request before it does anything.
    let handlerStarted!: () => void;
    const started = new Promise<void>((resolve) => (handlerStarted = resolve));
    app.addHook('preHandler', (_request, _reply, done) => {
      handlerStarted();
      done();
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const key = await testKey(store, 'analyst', 'shutdown-abandoned');
    const seed = 4242;
    const client = new AbortController();
    const request = fetch(`http://127.0.0.1:${port}/v1/assessments`, {
      method: 'POST',
      headers: { ...key.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ framework: 'osce-threat-demo', year: 2022, entity: 'ALB', runs: 300, seed, purpose: 'shutdown test, client gone' }),
      signal: client.signal,
    }).catch((error: unknown) => error);
    // Let the handler start (a cold assessment: its inputs are read and it is computed in a worker thread), then leave.
    await started;
    await new Promise((resolve) => setTimeout(resolve, 20));
    client.abort();
    expect(await request).toBeInstanceOf(Error);
    await app.close();
    // Had the app closed when the client left, the worker threads would have stopped under the
    // handler and nothing would be stored.
    const stored = await store.db.selectFrom('assessments').select('id').where('seed', '=', seed).execute();
    expect(stored).toHaveLength(1);
  }, 120_000);
});

