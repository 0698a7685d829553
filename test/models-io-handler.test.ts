import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../engine/store/database.ts';
import { ThreatLensError } from '../engine/errors.ts';
import { buildAutoencoder, DEFAULT_AUTOENCODER_HYPERPARAMETERS, ensureBackend } from '../models/autoencoder.ts';
import {
  DatabaseIOHandler,
  decodeModelArtifacts,
  deserialiseModel,
  MODEL_JSON,
  serialiseModel,
  WEIGHTS_BIN,
} from '../models/db-io-handler.ts';
import { openTestStore, STORE_KINDS } from './support/stores.ts';

async function insertModelRow(store: Store, name: string, version: number): Promise<void> {
  await store.db
    .insertInto('models')
    .values({
      name,
      version,
      type: 'autoencoder',
      hyperparameters: JSON.stringify({}),
      seed: 1,
      data_version: 'test',
      code_version: 'test',
      metrics: JSON.stringify({}),
      model_card: JSON.stringify({}),
      trained_by: 'tester',
      status: 'candidate',
    })
    .execute();
}

let input: tf.Tensor2D;

beforeAll(async () => {
  await ensureBackend('wasm'); // the wasm backend must be ready before the first tensor
  input = tf.tensor2d(
    Array.from({ length: 5 * 6 }, (_, i) => Math.sin(i * 0.7)),
    [5, 6],
  );
});
afterAll(() => input.dispose());

describe.each(STORE_KINDS)('DatabaseIOHandler on %s', (kind) => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore(kind);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('saves topology and weights as model_artifacts rows and loads a model that predicts identically', async () => {
    await insertModelRow(store, 'ae', 1);
    const model = buildAutoencoder(6, { ...DEFAULT_AUTOENCODER_HYPERPARAMETERS, hiddenUnits: [4, 2] }, 9);
    model.setUserDefinedMetadata({ threatlens: { note: 'kept' } });
    const result = await model.save(new DatabaseIOHandler(store.db, 'ae', 1));
    expect(result.modelArtifactsInfo.modelTopologyType).toBe('JSON');

    const rows = await store.db
      .selectFrom('model_artifacts')
      .select(['kind', 'content_type', 'content', 'sha256'])
      .where('model_name', '=', 'ae')
      .where('model_version', '=', 1)
      .orderBy('kind')
      .execute();
    expect(rows.map((r) => [r.kind, r.content_type])).toEqual([
      [MODEL_JSON, 'application/json'],
      [WEIGHTS_BIN, 'application/octet-stream'],
    ]);
    for (const row of rows) expect(row.sha256).toBe(createHash('sha256').update(row.content).digest('hex'));
    // float32 weights: 4 bytes per parameter.
    expect(rows[1]!.content.byteLength).toBe(4 * model.countParams());
    const manifest = JSON.parse(Buffer.from(rows[0]!.content).toString('utf8'));
    expect(manifest.weightsManifest[0].paths).toEqual([WEIGHTS_BIN]);
    expect(manifest.weightsManifest[0].weights.map((w: { name: string }) => w.name)).toEqual(model.weights.map((w) => w.originalName));

    const loaded = await tf.loadLayersModel(new DatabaseIOHandler(store.db, 'ae', 1));
    const expected = tf.tidy(() => Array.from((model.predict(input) as tf.Tensor).dataSync()));
    const actual = tf.tidy(() => Array.from((loaded.predict(input) as tf.Tensor).dataSync()));
    expect(actual).toEqual(expected);
    expect(loaded.getUserDefinedMetadata()).toEqual({ threatlens: { note: 'kept' } });
    model.dispose();
    loaded.dispose();
  });

  it('saves inside a transaction passed in: a rollback leaves no artifacts', async () => {
    await insertModelRow(store, 'ae', 2);
    const model = buildAutoencoder(6, { ...DEFAULT_AUTOENCODER_HYPERPARAMETERS, hiddenUnits: [3] }, 1);
    await expect(
      store.db.transaction().execute(async (trx) => {
        await model.save(new DatabaseIOHandler(trx, 'ae', 2));
        const inside = await trx.selectFrom('model_artifacts').select('kind').where('model_name', '=', 'ae').where('model_version', '=', 2).execute();
        expect(inside).toHaveLength(2);
        throw new Error('abandon');
      }),
    ).rejects.toThrow('abandon');
    const after = await store.db.selectFrom('model_artifacts').select('kind').where('model_name', '=', 'ae').where('model_version', '=', 2).execute();
    expect(after).toHaveLength(0);
    model.dispose();
  });

  it('refuses to overwrite artifacts, to save to an unregistered version, and to load a tampered one', async () => {
    const model = buildAutoencoder(6, { ...DEFAULT_AUTOENCODER_HYPERPARAMETERS, hiddenUnits: [3] }, 1);
    await expect(model.save(new DatabaseIOHandler(store.db, 'ae', 1))).rejects.toThrow(/already has artifact\(s\) model.json, weights.bin/);
    await expect(model.save(new DatabaseIOHandler(store.db, 'ae', 99))).rejects.toMatchObject({ code: 'TL_NOT_FOUND' });
    await expect(tf.loadLayersModel(new DatabaseIOHandler(store.db, 'ae', 99))).rejects.toMatchObject({ code: 'TL_NOT_FOUND' });

    // Flip one byte of the weights: the checksum no longer matches.
    await sql`update model_artifacts set content = set_byte(content, 0, 255 - get_byte(content, 0))
              where model_name = 'ae' and model_version = 1 and kind = 'weights.bin'`.execute(store.db);
    const error = await tf.loadLayersModel(new DatabaseIOHandler(store.db, 'ae', 1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThreatLensError);
    expect((error as ThreatLensError).code).toBe('TL_MODEL_CORRUPT');
    expect((error as Error).message).toMatch(/artifact "weights.bin" has SHA-256 [0-9a-f]{64}, but [0-9a-f]{64} was recorded/);
    model.dispose();
  });
});

describe('serialiseModel / deserialiseModel', () => {
  it('round-trips through bytes without a store', async () => {
    const model = buildAutoencoder(6, { ...DEFAULT_AUTOENCODER_HYPERPARAMETERS, hiddenUnits: [5, 2] }, 4);
    const files = await serialiseModel(model);
    expect(files.map((f) => f.kind)).toEqual([MODEL_JSON, WEIGHTS_BIN]);
    const back = await deserialiseModel(files);
    const a = tf.tidy(() => Array.from((model.predict(input) as tf.Tensor).dataSync()));
    const b = tf.tidy(() => Array.from((back.predict(input) as tf.Tensor).dataSync()));
    expect(b).toEqual(a);
    expect(() => decodeModelArtifacts(files.filter((f) => f.kind !== WEIGHTS_BIN))).toThrow(/no weights.bin artifact/);
    expect(() => decodeModelArtifacts([{ ...files[0]!, content: new TextEncoder().encode('{not json') }])).toThrow(/not valid JSON/);
    model.dispose();
    back.dispose();
  });
});
