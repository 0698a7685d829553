/**
 * A TensorFlow.js IOHandler that keeps models in the store (`model_artifacts`), so that they live
 * with the data on PGlite and on PostgreSQL: `model.json` holds the topology, the weight manifest
 * and the user-defined metadata (the layout TensorFlow.js writes to files, with one weights file),
 * and `weights.bin` the weights as TensorFlow.js encodes them. Each artifact row carries a SHA-256
 * that `load` checks.
 *
 *   await model.save(new DatabaseIOHandler(db, 'autoencoder', 3));   // the model row must exist
 *   const model = await tf.loadLayersModel(new DatabaseIOHandler(db, 'autoencoder', 3));
 *
 * To register a NEW version (model row and artifacts in one transaction), turn the model into
 * artifacts with `serialiseModel` and pass them to engine/store/models.ts's registerModelVersion.
 */
import * as tf from '@tensorflow/tfjs';
import type { Kysely, Transaction } from 'kysely';
import { ThreatLensError } from '../engine/errors.ts';
import { insertArtifacts, loadArtifacts, type ModelArtifactInput } from '../engine/store/models.ts';
import type { Database } from '../engine/store/schema.ts';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
export const JSON_CONTENT_TYPE = 'application/json';
export const BINARY_CONTENT_TYPE = 'application/octet-stream';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** TensorFlow.js model artifacts as the two rows we store: model.json and weights.bin. */
export function encodeModelArtifacts(artifacts: tf.io.ModelArtifacts): ModelArtifactInput[] {
  if (artifacts.modelTopology === undefined || artifacts.modelTopology instanceof ArrayBuffer) {
    throw new ThreatLensError('TL_BAD_OPTION', 'DatabaseIOHandler stores models with a JSON topology only (not weights alone, not a binary GraphDef)');
  }
  const weightSpecs = artifacts.weightSpecs ?? [];
  const modelJson: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: weightSpecs }],
  };
  if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
  if (artifacts.signature) modelJson.signature = artifacts.signature;
  if (artifacts.userDefinedMetadata) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
  if (artifacts.modelInitializer) modelJson.modelInitializer = artifacts.modelInitializer;
  if (artifacts.initializerSignature) modelJson.initializerSignature = artifacts.initializerSignature;
  const weights = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
  return [
    { kind: MODEL_JSON, contentType: JSON_CONTENT_TYPE, content: encoder.encode(JSON.stringify(modelJson)) },
    { kind: WEIGHTS_BIN, contentType: BINARY_CONTENT_TYPE, content: new Uint8Array(weights) },
  ];
}

/** The inverse of encodeModelArtifacts; extra artifacts (a forest, a card) are ignored. */
export function decodeModelArtifacts(files: readonly ModelArtifactInput[], where = 'model'): tf.io.ModelArtifacts {
  const modelFile = files.find((f) => f.kind === MODEL_JSON);
  if (!modelFile) throw new ThreatLensError('TL_MODEL_INCOMPLETE', `${where} has no ${MODEL_JSON} artifact`);
  let modelJson: tf.io.ModelJSON;
  try {
    modelJson = JSON.parse(decoder.decode(modelFile.content)) as tf.io.ModelJSON;
  } catch (error) {
    throw new ThreatLensError('TL_MODEL_CORRUPT', `${where}: ${MODEL_JSON} is not valid JSON`, { cause: error });
  }
  const manifest = modelJson.weightsManifest ?? [];
  const paths = manifest.flatMap((group) => group.paths);
  if (paths.some((p) => p !== WEIGHTS_BIN)) {
    throw new ThreatLensError('TL_MODEL_CORRUPT', `${where}: ${MODEL_JSON} names weight files ${paths.join(', ')}; only ${WEIGHTS_BIN} is stored`);
  }
  const weightSpecs = tf.io.getWeightSpecs(manifest);
  let weightData: ArrayBuffer | undefined;
  if (paths.length > 0) {
    const weightsFile = files.find((f) => f.kind === WEIGHTS_BIN);
    if (!weightsFile) throw new ThreatLensError('TL_MODEL_INCOMPLETE', `${where} has no ${WEIGHTS_BIN} artifact`);
    // A fresh ArrayBuffer of exactly the content (the row's bytes may be a view into a larger buffer).
    weightData = weightsFile.content.slice().buffer as ArrayBuffer;
  }
  return tf.io.getModelArtifactsForJSONSync(modelJson, weightSpecs, weightData);
}

/** A layers model as the artifacts registerModelVersion stores (model.json, weights.bin). */
export async function serialiseModel(model: tf.LayersModel): Promise<ModelArtifactInput[]> {
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  return encodeModelArtifacts(captured!);
}

/** Loads a layers model from artifacts already read (and checked) from the store. */
export async function deserialiseModel(files: readonly ModelArtifactInput[], where = 'model'): Promise<tf.LayersModel> {
  return tf.loadLayersModel(tf.io.fromMemory(decodeModelArtifacts(files, where)));
}

/**
 * Saves to and loads from the model_artifacts rows of one (model name, version). `save` writes in
 * the transaction given as `db`, or opens one; the model row must exist and must not have a
 * model.json or weights.bin yet. `load` verifies every artifact's SHA-256 (TL_MODEL_CORRUPT).
 */
export class DatabaseIOHandler implements tf.io.IOHandler {
  constructor(
    private readonly db: Kysely<Database> | Transaction<Database>,
    readonly modelName: string,
    readonly modelVersion: number,
  ) {}

  async save(modelArtifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
    const files = encodeModelArtifacts(modelArtifacts);
    const exists = await this.db
      .selectFrom('models')
      .select('version')
      .where('name', '=', this.modelName)
      .where('version', '=', this.modelVersion)
      .executeTakeFirst();
    if (!exists) {
      throw new ThreatLensError('TL_NOT_FOUND', `no model ${this.modelName} version ${this.modelVersion} to save artifacts to; register the version first`);
    }
    await insertArtifacts(this.db, this.modelName, this.modelVersion, files);
    return {
      modelArtifactsInfo: {
        dateSaved: new Date(),
        modelTopologyType: 'JSON',
        modelTopologyBytes: files[0]!.content.byteLength,
        weightSpecsBytes: JSON.stringify(modelArtifacts.weightSpecs ?? []).length,
        weightDataBytes: files[1]!.content.byteLength,
      },
    };
  }

  async load(): Promise<tf.io.ModelArtifacts> {
    const files = await loadArtifacts(this.db, this.modelName, this.modelVersion);
    return decodeModelArtifacts(files, `model ${this.modelName} v${this.modelVersion}`);
  }
}
