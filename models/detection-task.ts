/**
 * The computation of a detection run in a worker thread (models/run-in-worker.ts): the caller
 * reads the series and the production models' artifacts from the store, this builds the models
 * from their artifacts, runs every detector and the ensemble, and returns the flags to store.
 */
import { computeDetection, type ComputedDetection, type DetectionInput, type DetectorProvenance, type ProductionModels } from '../engine/anomaly/run.ts';
import type { ModelArtifactInput, ModelVersionInfo } from '../engine/store/models.ts';
import { disposeModel, materialiseModel, type LoadedModel } from './registry.ts';

export interface StoredModel {
  readonly info: ModelVersionInfo;
  readonly files: readonly ModelArtifactInput[];
}

export interface DetectionTaskInput {
  readonly input: DetectionInput;
  readonly models: { readonly isolation_forest?: StoredModel; readonly autoencoder?: StoredModel };
  readonly modelVersions: Record<string, DetectorProvenance>;
}

export async function detectInWorker(task: DetectionTaskInput): Promise<ComputedDetection> {
  const loaded: LoadedModel[] = [];
  try {
    const models: { -readonly [K in keyof ProductionModels]: ProductionModels[K] } = {};
    if (task.models.isolation_forest) {
      const model = await materialiseModel(task.models.isolation_forest.info, task.models.isolation_forest.files);
      loaded.push(model);
      if (model.type === 'isolation-forest') models.isolation_forest = model;
    }
    if (task.models.autoencoder) {
      const model = await materialiseModel(task.models.autoencoder.info, task.models.autoencoder.files);
      loaded.push(model);
      if (model.type === 'autoencoder') models.autoencoder = model;
    }
    return await computeDetection(task.input, { models, modelVersions: task.modelVersions });
  } finally {
    for (const model of loaded) disposeModel(model);
  }
}
