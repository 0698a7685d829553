/**
 * The detections a reader sees: the production detectors' run over the data the reader may see,
 * with the registry's production models. A stored run is reused while it is up to date: same data
 * version (of the reader's scope: public data, or an agency's) and same production model versions;
 * otherwise the detectors run, in a worker thread, and the new run is stored.
 */
import type { DataScope } from '../engine/access/roles.ts';
import { PUBLIC_DATA } from '../engine/access/roles.ts';
import { loadDetectionInput, saveDetection, type ComputedDetection, type DetectorProvenance } from '../engine/anomaly/run.ts';
import { latestAnomalyRun, type AnomalyRun } from '../engine/store/anomalies.ts';
import type { Store } from '../engine/store/database.ts';
import { getModel, loadArtifacts, productionVersion } from '../engine/store/models.ts';
import { dataVersion } from '../engine/store/observations.ts';
import type { DetectionTaskInput, StoredModel } from './detection-task.ts';
import { runInWorker } from './run-in-worker.ts';

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

/** Runs in flight, by scope data version and model versions: concurrent readers share one. */
const inFlight = new Map<string, Promise<{ run: AnomalyRun; fresh: boolean }>>();

/**
 * The up-to-date run for the scope, running the detectors first when there is none: in a worker
 * thread, so that the API keeps answering while they run. `fresh` says whether this call ran them.
 */
export async function currentDetections(store: Store, request: DetectionRequest): Promise<{ run: AnomalyRun; fresh: boolean }> {
  const scope = request.scope ?? PUBLIC_DATA;
  const version = (await dataVersion(store.db, scope)).version;
  const versions = await productionVersions(store);
  const existing = await latestAnomalyRun(store.db, version);
  if (existing && usedVersions(existing, versions)) return { run: existing, fresh: false };
  const key = `${store.location}|${version}|${JSON.stringify(versions)}`;
  let running = inFlight.get(key);
  if (!running) {
    running = detectAndStore(store, scope, versions, request.actor).finally(() => inFlight.delete(key));
    inFlight.set(key, running);
  }
  return running;
}

const DETECTION_TASK = new URL('./detection-task.ts', import.meta.url);

async function detectAndStore(store: Store, scope: DataScope, versions: Record<ModelDetector, number | null>, actor: string) {
  const input = await loadDetectionInput(store, scope);
  const models: { isolation_forest?: StoredModel; autoencoder?: StoredModel } = {};
  const modelVersions: Record<string, DetectorProvenance> = {};
  for (const detector of Object.keys(versions) as ModelDetector[]) {
    const v = versions[detector];
    if (v === null) continue;
    const name = PRODUCTION_MODEL_NAMES[detector];
    const info = await getModel(store.db, name, v);
    if (!info) continue;
    models[detector] = { info, files: await loadArtifacts(store.db, name, v) };
    modelVersions[detector] = { version: v, params: { model: name, ...info.hyperparameters } };
  }
  const computed = await runInWorker<DetectionTaskInput, ComputedDetection>(DETECTION_TASK, 'detectInWorker', { input, models, modelVersions });
  const result = await saveDetection(store, input, computed, actor);
  return { run: result.run, fresh: true };
}
