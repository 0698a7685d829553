/**
 * The detections a reader sees: the production detectors' run over the data the reader may see,
 * with the registry's production models. A stored run is reused while it is up to date: same data
 * version (of the reader's scope: public data, or an agency's) and same production model versions;
 * otherwise the detectors run and the new run is stored.
 */
import type { DataScope } from '../engine/access/roles.ts';
import { PUBLIC_DATA } from '../engine/access/roles.ts';
import { runDetection, type DetectorProvenance, type ProductionModels } from '../engine/anomaly/run.ts';
import { latestAnomalyRun, type AnomalyRun } from '../engine/store/anomalies.ts';
import type { Store } from '../engine/store/database.ts';
import { productionVersion } from '../engine/store/models.ts';
import { dataVersion } from '../engine/store/observations.ts';
import { disposeModel, loadModel, type LoadedModel } from './registry.ts';

/** Registry names whose production versions the detection run uses, by detector. */
export const PRODUCTION_MODEL_NAMES = { isolation_forest: 'isolation-forest', autoencoder: 'autoencoder' } as const;

type ModelDetector = keyof typeof PRODUCTION_MODEL_NAMES;

/** The production version of each model name (null where none is promoted). */
export async function productionVersions(store: Store): Promise<Record<ModelDetector, number | null>> {
  const entries = await Promise.all(
    (Object.entries(PRODUCTION_MODEL_NAMES) as [ModelDetector, string][]).map(async ([detector, name]) => [detector, await productionVersion(store.db, name)] as const),
  );
  return Object.fromEntries(entries) as Record<ModelDetector, number | null>;
}

/** Whether a stored run used exactly these production versions (null: fitted in the run). */
function usedVersions(run: AnomalyRun, versions: Record<ModelDetector, number | null>): boolean {
  return (Object.keys(versions) as ModelDetector[]).every((detector) => {
    const recorded = run.detectors[detector] as DetectorProvenance | undefined;
    return (recorded?.version ?? null) === versions[detector];
  });
}

export interface DetectionRequest {
  readonly scope?: DataScope;
  readonly actor: string;
}

/**
 * The up-to-date run for the scope, running the detectors when there is none. `fresh` says
 * whether this call ran them.
 */
export async function currentDetections(store: Store, request: DetectionRequest): Promise<{ run: AnomalyRun; fresh: boolean }> {
  const scope = request.scope ?? PUBLIC_DATA;
  const version = (await dataVersion(store.db, scope)).version;
  const versions = await productionVersions(store);
  const existing = await latestAnomalyRun(store.db, version);
  if (existing && usedVersions(existing, versions)) return { run: existing, fresh: false };

  const loaded: LoadedModel[] = [];
  try {
    const models: { -readonly [K in keyof ProductionModels]: ProductionModels[K] } = {};
    const modelVersions: Record<string, DetectorProvenance> = {};
    for (const detector of Object.keys(versions) as ModelDetector[]) {
      const v = versions[detector];
      if (v === null) continue;
      const model = await loadModel(store.db, PRODUCTION_MODEL_NAMES[detector], v);
      loaded.push(model);
      if (model.type === 'isolation-forest' && detector === 'isolation_forest') models.isolation_forest = model;
      if (model.type === 'autoencoder' && detector === 'autoencoder') models.autoencoder = model;
      modelVersions[detector] = { version: v, params: { model: PRODUCTION_MODEL_NAMES[detector], ...model.info.hyperparameters } };
    }
    const result = await runDetection(store, { actor: request.actor, scope, models, modelVersions });
    return { run: result.run, fresh: true };
  } finally {
    for (const model of loaded) disposeModel(model);
  }
}
