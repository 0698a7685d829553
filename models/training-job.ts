/**
 * Training as a job: `queueTraining` validates the request and queues it (the API answers at
 * once with the job); `trainingJobHandler` runs it in the job runner: read the current data into
 * the training panel, train and evaluate in a worker thread (the event loop stays free), then
 * register the new version as a candidate in ONE transaction. A failed, cancelled or killed job
 * therefore leaves the registry as it was, and never touches the production version.
 */
import { buildPanelMatrix, type PanelMatrix } from '../engine/anomaly/panel-matrix.ts';
import { defaultPanelSeries, POPULATION_UNIT, RATE_UNIT, scoredSeries } from '../engine/anomaly/run.ts';
import { loadSeries } from '../engine/anomaly/series.ts';
import type { Series } from '../engine/anomaly/types.ts';
import { PUBLIC_DATA } from '../engine/access/roles.ts';
import { ThreatLensError } from '../engine/errors.ts';
import type { Store } from '../engine/store/database.ts';
import { createJob, type Job } from '../engine/store/jobs.ts';
import { dataVersion } from '../engine/store/observations.ts';
import { codeVersion } from '../engine/version.ts';
import type { JobHandler } from './job-runner.ts';
import { getModelType, saveTrainedModel, validateHyperparameters, type ModelType, type TrainedModelSummary } from './registry.ts';
import { runInWorker } from './run-in-worker.ts';
import type { TrainingTaskInput, TrainingTaskProgress, TrainingTaskResult } from './training-task.ts';

export const TRAIN_JOB_KIND = 'train';

/** Default seed of a training run when the request gives none (recorded with the version). */
export const DEFAULT_TRAINING_SEED = 20261122;

const NAME_PATTERN = /^[a-z][a-z0-9-]{1,62}$/;

export interface TrainingRequest {
  /** Registry name of the model (a model name is bound to one type). */
  readonly name: string;
  /** Model type; defaults to the type of the name's earlier versions, or to the name itself. */
  readonly type?: string;
  readonly hyperparameters?: unknown;
  readonly seed?: number;
  readonly requestedBy: string;
}

export interface TrainingJobParams {
  readonly type: ModelType;
  readonly hyperparameters: Record<string, unknown>;
  readonly seed: number;
}

/** Checks the request (name, type, hyperparameters, seed) and queues the job. */
export async function queueTraining(store: Store, request: TrainingRequest): Promise<Job> {
  if (!NAME_PATTERN.test(request.name)) {
    throw new ThreatLensError('TL_BAD_OPTION', `model name "${request.name}" must be 2-63 lower-case letters, digits or hyphens, starting with a letter`);
  }
  const earlier = await store.db.selectFrom('models').select('type').where('name', '=', request.name).limit(1).executeTakeFirst();
  const type = request.type ?? earlier?.type ?? request.name;
  const spec = getModelType(type);
  if (earlier && earlier.type !== spec.type) {
    throw new ThreatLensError('TL_BAD_OPTION', `model ${request.name} is a ${earlier.type}; it cannot take a ${spec.type} version (choose another name)`);
  }
  const seed = request.seed ?? DEFAULT_TRAINING_SEED;
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 31 - 1) throw new ThreatLensError('TL_BAD_OPTION', `seed must be an integer from 0 to 2147483647; got ${request.seed}`);
  const params: TrainingJobParams = { type: spec.type, hyperparameters: validateHyperparameters(spec.type, request.hyperparameters), seed };
  return createJob(store.db, { kind: TRAIN_JOB_KIND, modelName: request.name, params: { ...params }, requestedBy: request.requestedBy });
}

export interface TrainingData {
  readonly panel: PanelMatrix;
  readonly series: Series[];
  readonly dataVersion: string;
  readonly description: string;
}

/**
 * The training data: the annual panel of the production run's default panel series (rates where
 * there are enough, engine/anomaly/run.ts), from the current values of PUBLIC batches only. A
 * production model scores every reader's data, so it must not carry restricted values in its
 * weights, its transforms (per-entity centres) or its calibration.
 */
export async function loadTrainingData(store: Store): Promise<TrainingData> {
  const catalogue = await store.db.selectFrom('indicators').select(['code', 'unit']).execute();
  const all = scoredSeries(await loadSeries(store.db, { scope: PUBLIC_DATA }), catalogue.filter((i) => i.unit === POPULATION_UNIT).map((i) => i.code));
  const rates = new Set(catalogue.filter((i) => RATE_UNIT.test(i.unit)).map((i) => i.code));
  const inPanel = defaultPanelSeries(all, rates);
  const series = all.filter((s) => s.periodKind === 'year' && inPanel(s));
  const panel = buildPanelMatrix(series);
  const version = (await dataVersion(store.db, PUBLIC_DATA)).version;
  if (panel.rows.length < 30 || panel.indicators.length < 3) {
    throw new ThreatLensError('TL_BAD_OPTION', `not enough annual data to train on: ${panel.rows.length} entity-years x ${panel.indicators.length} indicators (need 30 x 3)`);
  }
  const entities = new Set(panel.rows.map((r) => r.entity)).size;
  return {
    panel,
    series,
    dataVersion: version,
    description: `current annual values of public batches, data version ${version}: ${panel.rows.length} entity-years of ${entities} entities x ${panel.indicators.length} indicators`,
  };
}

const TRAINING_TASK = new URL('./training-task.ts', import.meta.url);

/** Share of the job's progress bar before training starts (reading the data). */
const LOADING_PERCENT = 5;

export const trainingJobHandler: JobHandler = async (job, { store, signal, progress }) => {
  const name = job.model_name;
  if (!name) throw new Error(`job ${job.id} names no model`);
  const params = job.params as unknown as TrainingJobParams;
  await progress({ percent: 1, message: 'reading the training data' });
  const data = await loadTrainingData(store);
  await progress({ percent: LOADING_PERCENT, message: `training on ${data.description}` });
  const input: TrainingTaskInput = {
    type: params.type,
    hyperparameters: params.hyperparameters,
    seed: params.seed,
    panel: data.panel,
    series: data.series,
    evaluationSeed: params.seed + 1,
  };
  const result = await runInWorker<TrainingTaskInput, TrainingTaskResult, TrainingTaskProgress>(TRAINING_TASK, 'trainAndEvaluate', input, {
    signal,
    onProgress: async (update) => {
      await progress({
        percent: LOADING_PERCENT + ((100 - LOADING_PERCENT - 1) * update.percent) / 100,
        message: update.message,
        progress: update.metrics,
      });
    },
  });
  signal.throwIfAborted();
  const { version, card } = await saveTrainedModel(store.db, {
    name,
    trained: { type: params.type, hyperparameters: result.hyperparameters, metrics: result.metrics } satisfies TrainedModelSummary,
    artifacts: result.artifacts,
    seed: params.seed,
    dataVersion: data.dataVersion,
    codeVersion: codeVersion(),
    trainedBy: job.requested_by,
    jobId: job.id,
    dataDescription: data.description,
    panel: data.panel,
    evaluation: result.evaluation,
  });
  return { model: name, version, status: 'candidate', evaluation: result.evaluation, modelCard: card };
};
