import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { Store } from '../engine/store/database.ts';
import {
  claimNextJob,
  createJob,
  failInterruptedJobs,
  failJob,
  finishJob,
  getJob,
  reportJobProgress,
  requestJobCancel,
} from '../engine/store/jobs.ts';
import { openTestStore, STORE_KINDS } from './support/stores.ts';

describe.each(STORE_KINDS)('job queue on %s', (kind) => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore(kind);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('claims jobs oldest first, once each, and records progress and the result', async () => {
    const a = await createJob(store.db, { kind: 'train', modelName: 'm', params: { epochs: 3 }, requestedBy: 'test' });
    const b = await createJob(store.db, { kind: 'train', modelName: 'm', requestedBy: 'test' });
    const first = await claimNextJob(store.db, 'worker-1');
    const second = await claimNextJob(store.db, 'worker-2');
    expect([first?.id, second?.id]).toEqual([a.id, b.id]);
    expect(first?.state).toBe('running');
    expect(await claimNextJob(store.db, 'worker-3')).toBeUndefined();

    const progress = await reportJobProgress(store.db, a.id, { percent: 40, message: 'epoch 2', progress: { loss: [0.9, 0.5] } });
    expect(progress.cancelRequested).toBe(false);
    const midway = await getJob(store.db, a.id);
    expect(midway.percent).toBe(40);
    expect(midway.progress).toEqual({ loss: [0.9, 0.5] });

    await finishJob(store.db, a.id, { version: 7 });
    const done = await getJob(store.db, a.id);
    expect(done.state).toBe('succeeded');
    expect(done.result).toEqual({ version: 7 });
    await failJob(store.db, b.id, 'planted failure');
    expect((await getJob(store.db, b.id)).state).toBe('failed');
  });

  it('cancels a queued job at once and asks a running one to stop', async () => {
    const queued = await createJob(store.db, { kind: 'train', requestedBy: 'test' });
    expect((await requestJobCancel(store.db, queued.id)).state).toBe('cancelled');
    const running = await createJob(store.db, { kind: 'train', requestedBy: 'test' });
    await claimNextJob(store.db, 'worker-1');
    await requestJobCancel(store.db, running.id);
    expect((await reportJobProgress(store.db, running.id, { percent: 10 })).cancelRequested).toBe(true);
    await failJob(store.db, running.id, 'cancelled by request', 'cancelled');
    expect((await getJob(store.db, running.id)).state).toBe('cancelled');
  });

  it('marks jobs whose worker died as failed, and only those', async () => {
    const stale = await createJob(store.db, { kind: 'train', requestedBy: 'test' });
    await claimNextJob(store.db, 'worker-dead');
    const live = await createJob(store.db, { kind: 'train', requestedBy: 'test' });
    await claimNextJob(store.db, 'worker-live');
    await store.db.updateTable('jobs').set({ heartbeat_at: sql`now() - interval '10 minutes'` }).where('id', '=', stale.id).execute();

    expect(await failInterruptedJobs(store.db, { staleAfterMs: 60_000 })).toEqual([stale.id]);
    const failed = await getJob(store.db, stale.id);
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/interrupted/);
    expect((await getJob(store.db, live.id)).state).toBe('running');
    expect(await failInterruptedJobs(store.db, { all: true })).toEqual([live.id]);
  });
});

describe.skipIf(!STORE_KINDS.includes('postgres'))('job queue on PostgreSQL with concurrent claimers', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore('postgres');
  });
  afterAll(async () => {
    await store?.close();
  });

  it('gives each of 20 jobs to exactly one of 5 concurrent workers', async () => {
    for (let i = 0; i < 20; i++) await createJob(store.db, { kind: 'train', requestedBy: 'test' });
    const claimed: number[] = [];
    await Promise.all(
      Array.from({ length: 5 }, async (_, w) => {
        for (;;) {
          const job = await claimNextJob(store.db, `worker-${w}`);
          if (!job) return;
          claimed.push(job.id);
        }
      }),
    );
    expect(claimed).toHaveLength(20);
    expect(new Set(claimed).size).toBe(20);
  });
});
