import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemoData } from '../datasets/demo/load.ts';
import type { Store } from '../engine/store/database.ts';
import { getJob, requestJobCancel } from '../engine/store/jobs.ts';
import { listModels, productionVersion, promoteModel } from '../engine/store/models.ts';
import { JobRunner } from '../models/job-runner.ts';
import { queueTraining, TRAIN_JOB_KIND, trainingJobHandler } from '../models/training-job.ts';
import { tempDir } from './support/fixtures.ts';
import { openTestStore, STORE_KINDS } from './support/stores.ts';

describe.each(STORE_KINDS)('training jobs on %s', (kind) => {
  let store: Store;
  let runner: JobRunner;
  beforeAll(async () => {
    store = await openTestStore(kind);
    await loadDemoData(store, await tempDir());
    runner = new JobRunner({ store, handlers: { [TRAIN_JOB_KIND]: trainingJobHandler }, progressEveryMs: 0 });
  });
  afterAll(async () => {
    await store?.close();
  });

  it('refuses a bad request before queueing anything', async () => {
    await expect(queueTraining(store, { name: 'isolation-forest', hyperparameters: { nTrees: 0 }, requestedBy: 't' })).rejects.toThrow(/nTrees/);
    await expect(queueTraining(store, { name: 'nope', requestedBy: 't' })).rejects.toThrow(/unknown model type "nope"/);
    await expect(queueTraining(store, { name: 'Bad Name', type: 'autoencoder', requestedBy: 't' })).rejects.toThrow(/model name/);
    expect(await store.db.selectFrom('jobs').select('id').execute()).toHaveLength(0);
  });

  it('trains an isolation forest in a worker, evaluates it and registers a candidate with its card', async () => {
    const job = await queueTraining(store, { name: 'isolation-forest', hyperparameters: { nTrees: 50 }, seed: 7, requestedBy: 'data-scientist' });
    await runner.drain();
    const done = await getJob(store.db, job.id);
    expect(done.error).toBeNull();
    expect(done.state).toBe('succeeded');
    const result = done.result as { version: number; evaluation: { rocAuc: number; positives: number } };
    expect(result.version).toBe(1);
    // Injected spikes, dips and unit errors: a forest over the panel must rank them well above chance.
    expect(result.evaluation.positives).toBeGreaterThan(5);
    expect(result.evaluation.rocAuc).toBeGreaterThan(0.7);
    const [model] = await listModels(store.db, 'isolation-forest');
    expect(model).toMatchObject({ name: 'isolation-forest', version: 1, status: 'candidate', seed: 7, trainedBy: 'data-scientist', jobId: job.id });
    expect(model!.hyperparameters).toMatchObject({ nTrees: 50, sampleSize: 256 });
  });

  it('trains an autoencoder with per-epoch progress; the same seed gives the same evaluation', async () => {
    const first = await queueTraining(store, { name: 'autoencoder', hyperparameters: { epochs: 4 }, seed: 3, requestedBy: 't' });
    const second = await queueTraining(store, { name: 'autoencoder', hyperparameters: { epochs: 4 }, seed: 3, requestedBy: 't' });
    await runner.drain();
    const a = await getJob(store.db, first.id);
    const b = await getJob(store.db, second.id);
    expect([a.state, b.state]).toEqual(['succeeded', 'succeeded']);
    expect((a.progress as { epoch?: number }).epoch ?? (a.progress as { epochs?: number }).epochs).toBeDefined();
    expect((a.result as { version: number }).version).toBe(1);
    expect((b.result as { version: number }).version).toBe(2);
    expect((b.result as { evaluation: unknown }).evaluation).toEqual((a.result as { evaluation: unknown }).evaluation);
  });

  it('a cancelled job registers nothing and leaves the production version alone', async () => {
    await promoteModel(store.db, 'autoencoder', 1, 'test');
    const before = await listModels(store.db, 'autoencoder');
    const job = await queueTraining(store, { name: 'autoencoder', hyperparameters: { epochs: 2000, patience: 2000 }, requestedBy: 't' });
    const run = runner.runOne();
    setTimeout(() => void requestJobCancel(store.db, job.id), 1_500);
    await run;
    expect((await getJob(store.db, job.id)).state).toBe('cancelled');
    expect(await listModels(store.db, 'autoencoder')).toEqual(before);
    expect(await productionVersion(store.db, 'autoencoder')).toBe(1);
  });
});
