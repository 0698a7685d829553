import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemoPanel } from '../datasets/demo/generate.ts';
import { buildPanelMatrix } from '../engine/anomaly/panel-matrix.ts';
import { seriesFromDemoRows } from '../engine/anomaly/series.ts';
import type { Store } from '../engine/store/database.ts';
import {
  getModel,
  listModels,
  loadArtifacts,
  productionHistory,
  productionVersion,
  promoteModel,
  registerModelVersion,
  rollbackModel,
  sha256Hex,
  type NewModelVersion,
} from '../engine/store/models.ts';
import { detectAutoencoder, ensureBackend } from '../models/autoencoder.ts';
import { isModelCard, modelCardMarkdown } from '../models/model-card.ts';
import {
  detectWithModel,
  disposeModel,
  getModelType,
  loadModel,
  MODEL_TYPES,
  saveTrainedModel,
  trainModel,
  validateHyperparameters,
  type TrainingProgress,
} from '../models/registry.ts';
import { openTestStore, STORE_KINDS } from './support/stores.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

function version(name: string, extra: Partial<NewModelVersion> = {}): NewModelVersion {
  return {
    name,
    type: 'autoencoder',
    hyperparameters: { epochs: 3 },
    seed: 7,
    dataVersion: 'dv-1',
    codeVersion: 'cv-1',
    metrics: { trainLoss: 0.5 },
    modelCard: { schema: 'test' },
    trainedBy: 'ana',
    artifacts: [
      { kind: 'model.json', contentType: 'application/json', content: bytes('{"a":1}') },
      { kind: 'weights.bin', contentType: 'application/octet-stream', content: Uint8Array.from([1, 2, 3, 4]) },
    ],
    ...extra,
  };
}

const { rows: demoRows } = generateDemoPanel();
const demoPanel = buildPanelMatrix(seriesFromDemoRows(demoRows));

beforeAll(async () => {
  await ensureBackend('wasm');
});

describe('hyperparameters', () => {
  it('fills defaults and refuses unknown, mistyped or out-of-range fields by name', () => {
    expect(validateHyperparameters('autoencoder')).toEqual(MODEL_TYPES.autoencoder.defaults);
    expect(validateHyperparameters('autoencoder', { epochs: 10 })).toMatchObject({ epochs: 10, batchSize: 64 });
    expect(() => validateHyperparameters('autoencoder', { epoch: 10 })).toThrow(/unknown autoencoder hyperparameter "epoch" \(known: hiddenUnits, activation/);
    expect(() => validateHyperparameters('autoencoder', { learningRate: 'fast' })).toThrow(
      'autoencoder hyperparameter "learningRate" must be a number above 0 to 1; got "fast"',
    );
    expect(() => validateHyperparameters('autoencoder', { learningRate: 0 })).toThrow(/"learningRate"/);
    expect(() => validateHyperparameters('autoencoder', { hiddenUnits: [8, 0] })).toThrow(/"hiddenUnits" must be a list of 1 to 5 integers from 1 to 1024; got \[8,0\]/);
    expect(() => validateHyperparameters('autoencoder', { activation: 'gelu' })).toThrow(/"activation" must be one of "tanh"/);
    expect(() => validateHyperparameters('autoencoder', { epochs: 2.5 })).toThrow(/"epochs" must be an integer from 1 to 10000; got 2.5/);
    expect(() => validateHyperparameters('autoencoder', [1])).toThrow(/must be a JSON object/);
    expect(validateHyperparameters('isolation-forest', { nTrees: 50 })).toEqual({ nTrees: 50, sampleSize: 256, maxDepth: null });
    expect(() => validateHyperparameters('isolation-forest', { sampleSize: 1 })).toThrow(/"sampleSize" must be an integer from 2/);
    expect(() => validateHyperparameters('forest')).toThrow(/unknown model type "forest" \(known: autoencoder, isolation-forest\)/);
    try {
      getModelType('nope');
    } catch (error) {
      expect((error as { code: string }).code).toBe('TL_BAD_OPTION');
    }
  });
});

describe.each(STORE_KINDS)('model registry on %s', (kind) => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore(kind);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('numbers versions per name and writes each with its artifacts and checksums', async () => {
    expect(await registerModelVersion(store.db, version('alpha'))).toBe(1);
    expect(await registerModelVersion(store.db, version('alpha', { seed: 8 }))).toBe(2);
    expect(await registerModelVersion(store.db, version('beta'))).toBe(1);
    const all = await listModels(store.db);
    expect(all.map((m) => `${m.name}:${m.version}:${m.status}`)).toEqual(['alpha:1:candidate', 'alpha:2:candidate', 'beta:1:candidate']);
    expect((await listModels(store.db, 'alpha')).map((m) => m.version)).toEqual([1, 2]);
    const v2 = await getModel(store.db, 'alpha', 2);
    expect(v2).toMatchObject({ type: 'autoencoder', seed: 8, dataVersion: 'dv-1', codeVersion: 'cv-1', trainedBy: 'ana', metrics: { trainLoss: 0.5 }, promotedAt: null, jobId: null });
    expect(v2!.artifacts).toEqual([
      { kind: 'model.json', contentType: 'application/json', bytes: 7, sha256: sha256Hex(bytes('{"a":1}')) },
      { kind: 'weights.bin', contentType: 'application/octet-stream', bytes: 4, sha256: sha256Hex(Uint8Array.from([1, 2, 3, 4])) },
    ]);
    // The SHA-256 of "{"a":1}", computed independently (printf '{"a":1}' | sha256sum).
    expect(v2!.artifacts[0]!.sha256).toBe('015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862');
    expect(await getModel(store.db, 'alpha', 9)).toBeUndefined();
    const loaded = await loadArtifacts(store.db, 'alpha', 2);
    expect(Array.from(loaded.find((a) => a.kind === 'weights.bin')!.content)).toEqual([1, 2, 3, 4]);
  });

  it('refuses a version without artifacts, with duplicate kinds, or with a bad name', async () => {
    await expect(registerModelVersion(store.db, version('gamma', { artifacts: [] }))).rejects.toThrow(/at least one artifact/);
    await expect(registerModelVersion(store.db, version('bad name'))).rejects.toThrow(/model name "bad name" is not valid/);
    await expect(registerModelVersion(store.db, version('gamma', { seed: 1.5 }))).rejects.toThrow(/seed must be an integer/);
    // Duplicate kinds: refused after the model row was written; nothing of gamma remains.
    const dup = version('gamma');
    await expect(registerModelVersion(store.db, { ...dup, artifacts: [dup.artifacts[0]!, dup.artifacts[0]!] })).rejects.toThrow(/given twice/);
    expect(await listModels(store.db, 'gamma')).toEqual([]);
  });

  it('a crash between the model row and its artifacts leaves no partial version', async () => {
    let sawRow = false;
    await expect(
      registerModelVersion(store.db, version('crashy'), {
        afterModelRow: async (trx, v) => {
          const row = await trx.selectFrom('models').select('status').where('name', '=', 'crashy').where('version', '=', v).executeTakeFirst();
          sawRow = row?.status === 'candidate';
          throw new Error('simulated crash');
        },
      }),
    ).rejects.toThrow('simulated crash');
    expect(sawRow).toBe(true);
    expect(await listModels(store.db, 'crashy')).toEqual([]);
    const orphans = await store.db.selectFrom('model_artifacts').select('kind').where('model_name', '=', 'crashy').execute();
    expect(orphans).toEqual([]);
    // The version number was not used up.
    expect(await registerModelVersion(store.db, version('crashy'))).toBe(1);
    // In a caller's transaction that rolls back, the version disappears with it.
    await expect(
      store.db.transaction().execute(async (trx) => {
        expect(await registerModelVersion(trx, version('crashy'))).toBe(2);
        throw new Error('job failed after registering');
      }),
    ).rejects.toThrow('job failed');
    expect((await listModels(store.db, 'crashy')).map((m) => m.version)).toEqual([1]);
  });

  it('promotes one version at a time, retiring the previous one, with audit entries', async () => {
    expect(await productionVersion(store.db, 'alpha')).toBeNull();
    expect(await promoteModel(store.db, 'alpha', 1, 'lead')).toEqual({ name: 'alpha', version: 1, previous: null, changed: true });
    expect(await productionVersion(store.db, 'alpha')).toBe(1);
    expect((await getModel(store.db, 'alpha', 1))!.promotedAt).not.toBeNull();
    expect(await promoteModel(store.db, 'alpha', 2, 'lead', { purpose: 'better validation loss' })).toEqual({ name: 'alpha', version: 2, previous: 1, changed: true });
    const statuses = (await listModels(store.db, 'alpha')).map((m) => m.status);
    expect(statuses).toEqual(['retired', 'production']);
    expect(await promoteModel(store.db, 'alpha', 2, 'lead')).toEqual({ name: 'alpha', version: 2, previous: 2, changed: false });
    // beta is untouched by alpha's promotions.
    expect(await productionVersion(store.db, 'beta')).toBeNull();

    const audit = await store.db.selectFrom('audit_log').select(['actor', 'action', 'details', 'purpose', 'outcome']).where('action', 'like', 'model.%').orderBy('id').execute();
    expect(audit.map((a) => [a.action, a.outcome, (a.details as { version: number }).version])).toEqual([
      ['model.promote', 'ok', 1],
      ['model.promote', 'ok', 2],
    ]);
    expect(audit[1]).toMatchObject({ actor: 'lead', purpose: 'better validation loss', details: { name: 'alpha', version: 2, previous: 1 } });
  });

  it('refuses unknown versions and versions without artifacts, audits the refusal, and changes nothing', async () => {
    const e1 = await promoteModel(store.db, 'alpha', 7, 'lead').catch((e: unknown) => e);
    expect(e1).toMatchObject({ code: 'TL_NOT_FOUND', status: 404 });
    expect((e1 as Error).message).toBe('model alpha has no version 7 (versions: 1, 2)');
    await expect(promoteModel(store.db, 'nobody', 1, 'lead')).rejects.toThrow('no model named nobody');
    await expect(promoteModel(store.db, 'alpha', 0, 'lead')).rejects.toMatchObject({ code: 'TL_BAD_OPTION' });

    // A version row without artifacts (written by hand: registerModelVersion never does that).
    await store.db
      .insertInto('models')
      .values({
        name: 'alpha', version: 3, type: 'autoencoder', hyperparameters: '{}', seed: 1, data_version: 'dv', code_version: 'cv',
        metrics: '{}', model_card: '{}', trained_by: 'x', status: 'candidate',
      })
      .execute();
    const e2 = await promoteModel(store.db, 'alpha', 3, 'lead').catch((e: unknown) => e);
    expect(e2).toMatchObject({ code: 'TL_MODEL_INCOMPLETE', status: 409 });
    await expect(loadArtifacts(store.db, 'alpha', 3)).rejects.toMatchObject({ code: 'TL_MODEL_INCOMPLETE' });
    await store.db.deleteFrom('models').where('name', '=', 'alpha').where('version', '=', 3).execute();

    expect(await productionVersion(store.db, 'alpha')).toBe(2);
    const refused = await store.db.selectFrom('audit_log').select(['action', 'details']).where('outcome', '=', 'refused').orderBy('id').execute();
    expect(refused.map((r) => (r.details as { error: string }).error)).toEqual(['TL_NOT_FOUND', 'TL_NOT_FOUND', 'TL_MODEL_INCOMPLETE']);
  });

  it('rolls back through the promotion history and refuses when there is nothing earlier', async () => {
    expect(await registerModelVersion(store.db, version('alpha'))).toBe(3);
    await promoteModel(store.db, 'alpha', 3, 'lead'); // history 1, 2, 3
    expect(await productionHistory(store.db, 'alpha')).toEqual([1, 2, 3]);
    expect(await rollbackModel(store.db, 'alpha', 'lead')).toEqual({ name: 'alpha', version: 2, previous: 3, changed: true });
    expect(await rollbackModel(store.db, 'alpha', 'lead')).toEqual({ name: 'alpha', version: 1, previous: 2, changed: true });
    expect((await listModels(store.db, 'alpha')).map((m) => m.status)).toEqual(['production', 'retired', 'retired']);
    const e = await rollbackModel(store.db, 'alpha', 'lead').catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'TL_MODEL_NO_ROLLBACK', status: 409 });
    expect((e as Error).message).toMatch(/v1 is the first production version/);
    expect(await productionVersion(store.db, 'alpha')).toBe(1);
    await expect(rollbackModel(store.db, 'beta', 'lead')).rejects.toThrow(/beta has no production version to roll back/);

    // Re-promoting an older version is a promotion like any other: rollback returns to the one before.
    await promoteModel(store.db, 'alpha', 3, 'lead');
    await promoteModel(store.db, 'alpha', 2, 'lead');
    expect(await productionHistory(store.db, 'alpha')).toEqual([1, 3, 2]);
    expect((await rollbackModel(store.db, 'alpha', 'lead')).version).toBe(3);
  });

  it('saves a trained autoencoder with its card and loads the production version that predicts identically', async () => {
    const progress: TrainingProgress[] = [];
    const trained = await trainModel('autoencoder', demoPanel, { epochs: 4, hiddenUnits: [8, 3] }, { seed: 5, onProgress: (p) => void progress.push(p) });
    expect(progress.map((p) => Math.round(p.percent))).toEqual([25, 50, 75, 100, 100]);
    expect(progress[0]!.metrics).toMatchObject({ epoch: 1 });
    const { version: v, card } = await saveTrainedModel(store.db, {
      trained,
      seed: 5,
      dataVersion: 'demo-20240601',
      codeVersion: 'test',
      trainedBy: 'ana',
      dataDescription: 'Synthetic demo panel (datasets/demo), seed 20240601.',
      panel: demoPanel,
      evaluation: { rocAuc: 0.9 },
    });
    expect(v).toBe(1);
    const info = (await getModel(store.db, 'autoencoder', 1))!;
    expect(info.artifacts.map((a) => a.kind)).toEqual(['model.json', 'panel.json', 'weights.bin']);
    expect(info.hyperparameters).toMatchObject({ epochs: 4, hiddenUnits: [8, 3], batchSize: 64 });
    expect(info.metrics).toMatchObject({ epochs: 4, evaluation: { rocAuc: 0.9 } });
    expect(isModelCard(info.modelCard)).toBe(true);
    expect(info.modelCard).toEqual(JSON.parse(JSON.stringify(card)));
    expect(card.trainingData).toMatchObject({ rows: demoPanel.rows.length, columns: demoPanel.indicators.length, entities: new Set(demoPanel.rows.map((r) => r.entity)).size, dataVersion: 'demo-20240601' });
    const markdown = modelCardMarkdown(card, { version: 1, status: info.status });
    for (const heading of ['# Model card: autoencoder v1', '## Intended use', '## Training data', '## Metrics', '## Hyperparameters', '## Limitations']) {
      expect(markdown).toContain(heading);
    }
    expect(markdown).toContain('seed 5');
    const years = demoPanel.rows.map((r) => Number(r.period));
    expect(card.trainingData.periods).toEqual({ from: String(Math.min(...years)), to: String(Math.max(...years)) });
    expect(markdown).toContain('demo-20240601');

    await expect(loadModel(store.db, 'autoencoder')).rejects.toThrow(/no production version; promote one first/);
    await promoteModel(store.db, 'autoencoder', 1, 'lead');
    const loaded = await loadModel(store.db, 'autoencoder');
    if (loaded.type !== 'autoencoder' || trained.type !== 'autoencoder') throw new Error('expected autoencoders');
    expect(loaded.info.version).toBe(1);
    expect(loaded.calibration).toEqual(trained.calibration);
    expect(loaded.layout).toEqual(trained.layout);
    const x = tf.tensor2d(Float32Array.from(demoPanel.data.subarray(0, 10 * demoPanel.indicators.length)), [10, demoPanel.indicators.length]);
    const a = tf.tidy(() => Array.from((trained.model.predict(x) as tf.Tensor).dataSync()));
    const b = tf.tidy(() => Array.from((loaded.model.predict(x) as tf.Tensor).dataSync()));
    x.dispose();
    expect(b).toEqual(a);
    // Scoring the demo series through the stored layout gives what the trained model gave on its panel.
    const direct = detectAutoencoder(demoPanel, trained.model, trained.calibration);
    const viaRegistry = detectWithModel(loaded, seriesFromDemoRows(demoRows));
    expect(viaRegistry.map((c) => c.score)).toEqual(direct.map((c) => c.score));
    disposeModel(trained);
    disposeModel(loaded);
  }, 60_000);

  it('saves and loads an isolation forest as forest.json', async () => {
    const trained = await trainModel('isolation-forest', demoPanel, { nTrees: 20, sampleSize: 64 }, { seed: 3 });
    const { version: v } = await saveTrainedModel(store.db, {
      name: 'forest',
      trained,
      seed: 3,
      dataVersion: 'demo',
      codeVersion: 'test',
      trainedBy: 'ana',
      dataDescription: 'demo',
      panel: demoPanel,
    });
    const loaded = await loadModel(store.db, 'forest', v);
    if (loaded.type !== 'isolation-forest' || trained.type !== 'isolation-forest') throw new Error('expected forests');
    expect(loaded.info.artifacts.map((a) => a.kind)).toEqual(['forest.json', 'panel.json']);
    const n = demoPanel.rows.length;
    expect(Array.from(loaded.forest.scoreSamples(demoPanel.data, n))).toEqual(Array.from(trained.forest.scoreSamples(demoPanel.data, n)));
    expect(loaded.forest.calibration).toEqual(trained.forest.calibration);
    expect(() => detectWithModel(loaded, [])).toThrow(/scores autoencoders/);
  });
});
