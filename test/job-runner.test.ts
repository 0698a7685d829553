import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../engine/store/database.ts';
import { createJob, getJob, requestJobCancel } from '../engine/store/jobs.ts';
import { JobRunner, type JobHandler } from '../models/job-runner.ts';
import { runInWorker } from '../models/run-in-worker.ts';
import { openTestStore, STORE_KINDS } from './support/stores.ts';

const TASKS = new URL('./support/worker-tasks.ts', import.meta.url);

const handlers: Record<string, JobHandler> = {
  count: async (job, { progress }) => {
    const n = Number((job.params as { n?: number }).n ?? 3);
    for (let i = 1; i <= n; i++) await progress({ percent: (100 * i) / n, progress: { step: i } });
    return { counted: n };
  },
  broken: async () => {
    throw new Error('planted failure in the handler');
  },
  spin: async (_job, { signal }) => runInWorker(TASKS, 'busy', { ms: 20_000 }, { signal }),
};

describe.each(STORE_KINDS)('job runner on %s', (kind) => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore(kind);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('runs queued jobs to success or failure with their progress and result', async () => {
    const ok = await createJob(store.db, { kind: 'count', params: { n: 4 }, requestedBy: 'test' });
    const bad = await createJob(store.db, { kind: 'broken', requestedBy: 'test' });
    const runner = new JobRunner({ store, handlers, progressEveryMs: 0 });
    await runner.drain();
    const done = await getJob(store.db, ok.id);
    expect(done.state).toBe('succeeded');
    expect(done.result).toEqual({ counted: 4 });
    expect(done.percent).toBe(100);
    const failed = await getJob(store.db, bad.id);
    expect(failed.state).toBe('failed');
    expect(failed.error).toBe('planted failure in the handler');
  });

  it('cancels a running worker-thread job on request', async () => {
    const job = await createJob(store.db, { kind: 'spin', requestedBy: 'test' });
    const runner = new JobRunner({ store, handlers, pollMs: 100 });
    const started = Date.now();
    const run = runner.runOne();
    setTimeout(() => void requestJobCancel(store.db, job.id), 300);
    await run;
    const cancelled = await getJob(store.db, job.id);
    expect(cancelled.state).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
