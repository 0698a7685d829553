/**
 * The part of a training job that runs in a worker thread (models/run-in-worker.ts): train the
 * model on the panel, evaluate it on anomalies injected with known positions into the same series,
 * and return its artifacts as bytes. Nothing here touches the store: the job's handler registers
 * the result in one transaction (models/training-job.ts).
 */
import { evaluateDetectors } from '../engine/anomaly/evaluate.ts';
import { injectAnomalies } from '../engine/anomaly/inject.ts';
import { detectIsolationForest } from '../engine/anomaly/multivariate.ts';
import type { PanelMatrix } from '../engine/anomaly/panel-matrix.ts';
import type { CellScore, Series } from '../engine/anomaly/types.ts';
import type { ModelArtifactInput } from '../engine/store/models.ts';
import { detectWithModel, disposeModel, getModelType, modelArtifacts, panelForModel, trainModel, type TrainedModel } from './registry.ts';

export interface TrainingTaskInput {
  readonly type: string;
  readonly hyperparameters: Record<string, unknown>;
  readonly seed: number;
  /** The training panel (annual rates of the current data). */
  readonly panel: PanelMatrix;
  /** The series the panel was built from: anomalies are injected into these for the evaluation. */
  readonly series: readonly Series[];
  readonly evaluationSeed: number;
}

export interface TrainingTaskResult {
  readonly artifacts: ModelArtifactInput[];
  readonly hyperparameters: Record<string, unknown>;
  readonly metrics: Record<string, unknown>;
  readonly evaluation: Record<string, unknown>;
}

export interface TrainingTaskProgress {
  readonly percent: number;
  readonly message: string;
  readonly metrics: Record<string, unknown>;
}

/** Share of the training work in the task's progress; the evaluation takes the rest. */
const TRAINING_SHARE = 0.85;

/** Cell scores of a trained model on series, in the model's own panel layout. */
export function scoreWithModel(model: TrainedModel, series: readonly Series[]): CellScore[] {
  if (model.type === 'autoencoder') return detectWithModel(model, series);
  return detectIsolationForest(panelForModel(model, series), model.forest);
}

/**
 * ROC-AUC, PR-AUC and precision at k of a model on anomalies injected into the series (1% of the
 * cells: spikes, dips, unit errors; engine/anomaly/inject.ts), over the cells of its indicators.
 */
export async function evaluateModel(model: TrainedModel, series: readonly Series[], seed: number): Promise<Record<string, unknown>> {
  const indicators = new Set(model.layout.indicators);
  const own = series.filter((s) => indicators.has(s.indicator));
  const injected = injectAnomalies(own, { seed, share: 0.01 });
  const detector = getModelType(model.type).detector;
  const { results } = await evaluateDetectors({
    series: injected.series,
    truth: injected.truth,
    detectors: [{ name: detector, run: (s) => scoreWithModel(model, s) }],
    ensemble: false,
  });
  const r = results[0]!;
  return {
    protocol: `anomalies injected into ${own.length} series of the training data (1% of cells, seed ${seed}); cell level, unscored cells count as 0`,
    rocAuc: r.rocAuc,
    prAuc: r.prAuc,
    precisionAt: r.precisionAt,
    cells: r.cells,
    positives: r.positives,
    flagged: r.flagged,
    truePositivesFlagged: r.truePositivesFlagged,
  };
}

export async function trainAndEvaluate(input: TrainingTaskInput, report: (update: TrainingTaskProgress) => void): Promise<TrainingTaskResult> {
  const trained = await trainModel(input.type, input.panel, input.hyperparameters, {
    seed: input.seed,
    onProgress: (p) => report({ percent: p.percent * TRAINING_SHARE, message: p.message, metrics: p.metrics }),
  });
  try {
    report({ percent: 100 * TRAINING_SHARE, message: 'evaluating on injected anomalies', metrics: trained.metrics });
    const evaluation = await evaluateModel(trained, input.series, input.evaluationSeed);
    const artifacts = await modelArtifacts(trained);
    report({ percent: 99, message: 'evaluated', metrics: { ...trained.metrics, evaluation } });
    return { artifacts, hyperparameters: { ...trained.hyperparameters }, metrics: trained.metrics, evaluation };
  } finally {
    disposeModel(trained);
  }
}
