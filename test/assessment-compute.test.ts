/**
 * Assessments in the API (issue 9): computed in worker threads with the same result as in this
 * thread, their inputs and results reused per data version, and the event loop left free.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AssessmentComputer } from '../api/compute/assessments.ts';
import { builtinFramework } from '../api/frameworks.ts';
import { ReadCache } from '../api/read-cache.ts';
import { prepareStore } from '../api/server.ts';
import { PUBLIC_DATA } from '../engine/access/roles.ts';
import { createAssessment, IN_THREAD_COMPUTE, loadAssessmentContext } from '../engine/scoring/assessment-run.ts';
import { assess } from '../engine/scoring/assessment.ts';
import type { Store } from '../engine/store/database.ts';
import { dataVersion } from '../engine/store/observations.ts';

describe('assessments computed off the event loop', () => {
  let store: Store;
  let computer: AssessmentComputer;

  beforeAll(async () => {
    store = await prepareStore({ inMemory: true }, true, () => undefined);
    computer = new AssessmentComputer(new ReadCache(() => store.db), { threads: 1 });
  }, 300_000);

  afterAll(async () => {
    await computer?.close();
    await store?.close();
  });

  it('gives the same result in a worker thread as in this thread', async () => {
    const framework = await builtinFramework(store, 'osce-threat-demo');
    const { context } = await loadAssessmentContext(store.db, framework, 2022, undefined, PUBLIC_DATA);
    const options = { year: 2022, entity: 'ALB', runs: 200, seed: 7, sensitivityN: 64 };
    const version = (await dataVersion(store.db, PUBLIC_DATA)).version;
    const inWorker = await computer.assess(context, options, version);
    const here = assess(context, options);
    expect(JSON.parse(JSON.stringify(inWorker))).toEqual(JSON.parse(JSON.stringify(here)));
    // A different seed is a different Monte Carlo sample: the interval moves, so the comparison above could fail.
    const otherSeed = await computer.assess(context, { ...options, seed: 8 }, version);
    expect(JSON.stringify(otherSeed)).not.toEqual(JSON.stringify(inWorker));
  }, 120_000);

  it('stores the same assessment as the in-thread path, and reuses the computation for the same inputs', async () => {
    const framework = await builtinFramework(store, 'osce-threat-demo');
    const request = { year: 2021, entity: 'SRB', runs: 100, seed: 3, sensitivityN: 32, requestedBy: 'test' };
    const viaWorker = await createAssessment(store.db, framework, request, PUBLIC_DATA, computer);
    const inThread = await createAssessment(store.db, framework, request, PUBLIC_DATA, IN_THREAD_COMPUTE);
    expect(viaWorker.id).not.toBe(inThread.id);
    expect(viaWorker.dataVersion).toBe(inThread.dataVersion);
    expect(JSON.stringify(viaWorker.result)).toBe(JSON.stringify(inThread.result));

    const version = viaWorker.dataVersion;
    const loaded = await computer.loadContext(store.db, framework, 2021, undefined, PUBLIC_DATA, version);
    expect(await computer.loadContext(store.db, framework, 2021, undefined, PUBLIC_DATA, version)).toBe(loaded);
    const first = await computer.assess(loaded.context, request, version);
    expect(await computer.assess(loaded.context, request, version)).toBe(first);
    // Another data version is other inputs: never the remembered ones.
    expect(await computer.loadContext(store.db, framework, 2021, undefined, PUBLIC_DATA, `${version}-other`)).not.toBe(loaded);
  }, 120_000);

  it('leaves the event loop free while it computes', async () => {
    const framework = await builtinFramework(store, 'osce-threat-demo');
    const { context } = await loadAssessmentContext(store.db, framework, 2022, undefined, PUBLIC_DATA);
    const options = { year: 2022, runs: 1000, seed: 11, sensitivityN: 256 };
    const delay = monitorEventLoopDelay({ resolution: 5 });

    // The same computation in this thread blocks the loop for all of its duration...
    const started = performance.now();
    assess(context, options);
    const inThreadMs = performance.now() - started;

    // ...in a worker thread the loop keeps turning.
    delay.enable();
    const workerStarted = performance.now();
    await computer.assess(context, { ...options, seed: 12 }, 'loop-test');
    const workerMs = performance.now() - workerStarted;
    delay.disable();
    const maxDelayMs = delay.max / 1e6;
    expect(inThreadMs).toBeGreaterThan(100);
    expect(workerMs).toBeGreaterThan(100);
    // Well under the computation's own time: the loop was never held for it.
    expect(maxDelayMs).toBeLessThan(Math.min(100, inThreadMs / 2));
  }, 120_000);
});
