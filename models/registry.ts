/**
 * The catalogue of trainable model types, and saving and loading trained models through the store's
 * registry (engine/store/models.ts).
 *
 * Each type says how to validate its hyperparameters (defaults filled in, unknown or bad fields
 * refused with TL_BAD_OPTION naming the field), how to train it on a panel (engine/anomaly/
 * panel-matrix.ts), which artifacts it is stored as, and what its model card says. Every version
 * also stores `panel.json`: the indicators (column order) and their transforms, so that new data is
 * standardised exactly as the training data was (buildPanelMatrix(series, { transforms })).
 *
 * Types: 'autoencoder' (models/autoencoder.ts; artifacts model.json + weights.bin through
 * models/db-io-handler.ts, the calibration in model.json's user-defined metadata) and
 * 'isolation-forest' (engine/anomaly/isolation-forest.ts; artifact forest.json). A new type adds
 * a member to TrainedModel and an entry to MODEL_TYPES.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Kysely, Transaction } from 'kysely';
import { IsolationForest, type IsolationForestJSON } from '../engine/anomaly/isolation-forest.ts';
import {
  buildPanelMatrix,
  type IndicatorTransform,
  type PanelMatrix,
} from '../engine/anomaly/panel-matrix.ts';
import type { CellScore, Series } from '../engine/anomaly/types.ts';
import { ThreatLensError } from '../engine/errors.ts';
import {
  getModel,
  loadArtifacts,
  productionVersion,
  registerModelVersion,
  type ModelArtifactInput,
  type ModelVersionInfo,
  type RegisterHooks,
} from '../engine/store/models.ts';
import type { Database } from '../engine/store/schema.ts';
import {
  AUTOENCODER_DETECTOR,
  DEFAULT_AUTOENCODER_HYPERPARAMETERS,
  detectAutoencoder,
  ensureBackend,
  trainAutoencoder,
  type AutoencoderCalibration,
  type AutoencoderHyperparameters,
  type BackendName,
  type TrainingMetrics,
} from './autoencoder.ts';
import { deserialiseModel, JSON_CONTENT_TYPE, serialiseModel } from './db-io-handler.ts';
import { buildModelCard, type ModelCard, type TrainingDataSummary } from './model-card.ts';

export const PANEL_JSON = 'panel.json';
export const FOREST_JSON = 'forest.json';

/** The columns a model was trained on and how each was transformed (stored as panel.json). */
export interface PanelLayout {
  readonly indicators: readonly string[];
  readonly transforms: readonly IndicatorTransform[];
}

export interface IsolationForestHyperparameters {
  readonly nTrees: number;
  readonly sampleSize: number;
  /** Depth limit; null for the paper's ceil(log2(sample size)). */
  readonly maxDepth: number | null;
}

export const DEFAULT_ISOLATION_FOREST_HYPERPARAMETERS: IsolationForestHyperparameters = {
  nTrees: 100,
  sampleSize: 256,
  maxDepth: null,
};

export type TrainedModel =
  | {
      readonly type: 'autoencoder';
      readonly layout: PanelLayout;
      readonly hyperparameters: AutoencoderHyperparameters;
      readonly model: tf.LayersModel;
      readonly calibration: AutoencoderCalibration;
      readonly metrics: Record<string, unknown>;
    }
  | {
      readonly type: 'isolation-forest';
      readonly layout: PanelLayout;
      readonly hyperparameters: IsolationForestHyperparameters;
      readonly forest: IsolationForest;
      readonly metrics: Record<string, unknown>;
    };

export type ModelType = TrainedModel['type'];

/** A trained model read back from the registry, with its registry row. */
export type LoadedModel = TrainedModel & { readonly info: ModelVersionInfo };

export interface TrainingProgress {
  /** 0 to 100. */
  readonly percent: number;
  readonly message: string;
  /** Metrics so far (epoch, losses). */
  readonly metrics: Record<string, unknown>;
}

export interface TrainModelOptions {
  readonly seed: number;
  readonly onProgress?: (progress: TrainingProgress) => void | Promise<void>;
  readonly signal?: AbortSignal;
  /** TensorFlow.js backend for neural models (default wasm). */
  readonly backend?: BackendName;
}

// --- hyperparameter validation ----------------------------------------------------------------

type FieldRule =
  | { readonly kind: 'int'; readonly min: number; readonly max: number; readonly nullable?: boolean }
  | { readonly kind: 'number'; readonly min: number; readonly max: number; readonly minExclusive?: boolean }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'intList'; readonly min: number; readonly max: number; readonly minLength: number; readonly maxLength: number };

function describeRule(rule: FieldRule): string {
  switch (rule.kind) {
    case 'int':
      return `an integer from ${rule.min} to ${rule.max}${rule.nullable ? ', or null' : ''}`;
    case 'number':
      return `a number ${rule.minExclusive ? `above ${rule.min}` : `from ${rule.min}`} to ${rule.max}`;
    case 'enum':
      return `one of ${rule.values.map((v) => `"${v}"`).join(', ')}`;
    case 'intList':
      return `a list of ${rule.minLength} to ${rule.maxLength} integers from ${rule.min} to ${rule.max}`;
  }
}

function fieldValid(rule: FieldRule, value: unknown): boolean {
  const isInt = (v: unknown, min: number, max: number) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
  switch (rule.kind) {
    case 'int':
      return (rule.nullable === true && value === null) || isInt(value, rule.min, rule.max);
    case 'number':
      return (
        typeof value === 'number' &&
        Number.isFinite(value) &&
        (rule.minExclusive ? value > rule.min : value >= rule.min) &&
        value <= rule.max
      );
    case 'enum':
      return typeof value === 'string' && rule.values.includes(value);
    case 'intList':
      return (
        Array.isArray(value) &&
        value.length >= rule.minLength &&
        value.length <= rule.maxLength &&
        value.every((v) => isInt(v, rule.min, rule.max))
      );
  }
}

/** Fills defaults and checks every field; throws TL_BAD_OPTION naming the first bad field. */
function validateFields<H extends object>(type: string, rules: Record<keyof H & string, FieldRule>, defaults: H, params: unknown): H {
  if (params === undefined || params === null) return structuredClone(defaults);
  if (typeof params !== 'object' || Array.isArray(params)) {
    throw new ThreatLensError('TL_BAD_OPTION', `${type} hyperparameters must be a JSON object; got ${JSON.stringify(params)}`);
  }
  const known = Object.keys(rules);
  for (const key of Object.keys(params)) {
    if (!known.includes(key)) {
      throw new ThreatLensError('TL_BAD_OPTION', `unknown ${type} hyperparameter "${key}" (known: ${known.join(', ')})`);
    }
  }
  const merged = { ...structuredClone(defaults), ...(params as Record<string, unknown>) } as Record<string, unknown>;
  for (const key of known) {
    const rule = rules[key as keyof H & string];
    if (!fieldValid(rule, merged[key])) {
      throw new ThreatLensError(
        'TL_BAD_OPTION',
        `${type} hyperparameter "${key}" must be ${describeRule(rule)}; got ${JSON.stringify(merged[key])}`,
      );
    }
  }
  return merged as H;
}

const AUTOENCODER_RULES: Record<keyof AutoencoderHyperparameters, FieldRule> = {
  hiddenUnits: { kind: 'intList', min: 1, max: 1024, minLength: 1, maxLength: 5 },
  activation: { kind: 'enum', values: ['tanh', 'relu', 'elu', 'selu', 'sigmoid', 'linear'] },
  epochs: { kind: 'int', min: 1, max: 10_000 },
  batchSize: { kind: 'int', min: 1, max: 65_536 },
  learningRate: { kind: 'number', min: 0, max: 1, minExclusive: true },
  validationShare: { kind: 'number', min: 0, max: 0.5 },
  patience: { kind: 'int', min: 0, max: 10_000 },
};

const FOREST_RULES: Record<keyof IsolationForestHyperparameters, FieldRule> = {
  nTrees: { kind: 'int', min: 1, max: 10_000 },
  sampleSize: { kind: 'int', min: 2, max: 1_000_000 },
  maxDepth: { kind: 'int', min: 1, max: 64, nullable: true },
};

// --- the catalogue ----------------------------------------------------------------------------

export interface ModelTypeSpec {
  readonly type: ModelType;
  /** The detector name its cell scores carry. */
  readonly detector: string;
  readonly description: string;
  readonly intendedUse: string;
  readonly notIntendedFor: readonly string[];
  readonly limitations: readonly string[];
  readonly defaults: object;
  /** Artifact kinds a complete version of this type has. */
  readonly artifactKinds: readonly string[];
  validate(params: unknown): Record<string, unknown>;
}

const COMMON_NOT_INTENDED = [
  'judging individual persons or cases: the panel holds national or regional aggregates only',
  'proving that a figure is wrong or that crime rose: a flag asks an analyst to look, with the attribution saying where',
];

export const MODEL_TYPES: Readonly<Record<ModelType, ModelTypeSpec>> = {
  autoencoder: {
    type: 'autoencoder',
    detector: AUTOENCODER_DETECTOR,
    description:
      'Dense autoencoder (TensorFlow.js, wasm backend) over the multivariate panel: rows are entity x period, columns standardised indicators. ' +
      'A row scores by how much worse it is reconstructed than the training rows (robust z of the log error); the indicators with the largest share of the error are its attribution.',
    intendedUse:
      'Flag entity-years whose indicators, taken together, do not fit the joint pattern of the panel (several indicators moving together, or one indicator far off its usual relation to the others), for an analyst to review.',
    notIntendedFor: COMMON_NOT_INTENDED,
    limitations: [
      'A row score is a mean over the row\'s observed cells, so one bad value among many indicators is diluted: univariate detectors find single spikes and dips better.',
      'Trained on all rows, planted or real anomalies included; the robust calibration and the bottleneck limit how much the model learns them, but a pattern repeated across many rows becomes normal.',
      'Rows with few observed indicators are scored on those alone; imputed cells are never scored or attributed.',
      'Scores are relative to the training panel: retrain when indicators or coverage change.',
      'Results are reproducible for the same data, seed, hyperparameters and backend; another backend may differ in the last digits.',
    ],
    defaults: DEFAULT_AUTOENCODER_HYPERPARAMETERS,
    artifactKinds: ['model.json', 'weights.bin', PANEL_JSON],
    validate: (params) => validateFields('autoencoder', AUTOENCODER_RULES, DEFAULT_AUTOENCODER_HYPERPARAMETERS, params) as unknown as Record<string, unknown>,
  },
  'isolation-forest': {
    type: 'isolation-forest',
    detector: 'isolation_forest',
    description:
      'Isolation Forest (Liu, Ting and Zhou 2008) with subsampling over the multivariate panel (engine/anomaly/isolation-forest.ts); rows that random splits isolate quickly are unusual.',
    intendedUse: 'Flag entity-years that are isolated from the rest of the panel across indicators, for an analyst to review.',
    notIntendedFor: COMMON_NOT_INTENDED,
    limitations: [
      'Axis-parallel splits: a row that breaks a correlation between indicators without extreme values is hard to isolate.',
      'Imputed cells (the median) are inputs like any other, so a row with many missing cells looks ordinary.',
      'Scores are relative to the training panel: retrain when indicators or coverage change.',
    ],
    defaults: DEFAULT_ISOLATION_FOREST_HYPERPARAMETERS,
    artifactKinds: [FOREST_JSON, PANEL_JSON],
    validate: (params) =>
      validateFields('isolation-forest', FOREST_RULES, DEFAULT_ISOLATION_FOREST_HYPERPARAMETERS, params) as unknown as Record<string, unknown>,
  },
};

/** The spec of a type, or TL_BAD_OPTION listing the known types. */
export function getModelType(type: string): ModelTypeSpec {
  const spec = (MODEL_TYPES as Record<string, ModelTypeSpec | undefined>)[type];
  if (!spec) {
    throw new ThreatLensError('TL_BAD_OPTION', `unknown model type "${type}" (known: ${Object.keys(MODEL_TYPES).join(', ')})`);
  }
  return spec;
}

/** Defaults filled in; TL_BAD_OPTION naming the field when a value is unknown or out of range. */
export function validateHyperparameters(type: string, params?: unknown): Record<string, unknown> {
  return getModelType(type).validate(params);
}

// --- training ---------------------------------------------------------------------------------

function layoutOf(panel: PanelMatrix): PanelLayout {
  return { indicators: [...panel.indicators], transforms: panel.transforms.map((t) => ({ ...t })) };
}

/**
 * Trains a model of `type` on a panel. Hyperparameters are validated here (defaults filled in).
 * Progress goes to `onProgress` (per epoch for the autoencoder); `signal` aborts.
 */
export async function trainModel(type: string, panel: PanelMatrix, params: unknown, options: TrainModelOptions): Promise<TrainedModel> {
  const spec = getModelType(type);
  const hyperparameters = spec.validate(params);
  const nRows = panel.rows.length;
  const nCols = panel.indicators.length;
  if (nRows < 2 || nCols < 1) {
    throw new ThreatLensError('TL_BAD_OPTION', `cannot train ${type}: the panel has ${nRows} rows x ${nCols} indicators (need at least 2 x 1)`);
  }
  options.signal?.throwIfAborted();
  if (spec.type === 'autoencoder') {
    const hp = hyperparameters as unknown as AutoencoderHyperparameters;
    await ensureBackend(options.backend ?? 'wasm');
    const trained = await trainAutoencoder(panel.data, nRows, nCols, hp, {
      seed: options.seed,
      missing: panel.missing,
      signal: options.signal,
      onEpoch: (epoch, metrics) =>
        options.onProgress?.({
          percent: (100 * epoch) / hp.epochs,
          message: `epoch ${epoch} of at most ${hp.epochs}`,
          metrics: { epoch, ...metrics },
        }),
    });
    await options.onProgress?.({ percent: 100, message: `trained in ${trained.metrics.epochs} epochs`, metrics: trainingSummary(trained.metrics) });
    return {
      type: 'autoencoder',
      layout: layoutOf(panel),
      hyperparameters: hp,
      model: trained.model,
      calibration: { ...trained.calibration, indicators: [...panel.indicators] },
      metrics: trainingSummary(trained.metrics),
    };
  }
  const hp = hyperparameters as unknown as IsolationForestHyperparameters;
  const forest = new IsolationForest({
    nTrees: hp.nTrees,
    sampleSize: hp.sampleSize,
    seed: options.seed,
    ...(hp.maxDepth !== null ? { maxDepth: hp.maxDepth } : {}),
  });
  await options.onProgress?.({ percent: 0, message: `growing ${hp.nTrees} trees`, metrics: {} });
  forest.fit(panel.data, nRows, nCols);
  const calibration = forest.calibrate(panel.data, nRows);
  const metrics = { trainRows: nRows, nodes: forest.nodeCount, scoreMedian: calibration.median, scoreScale: calibration.scale };
  await options.onProgress?.({ percent: 100, message: `grew ${hp.nTrees} trees`, metrics });
  return { type: 'isolation-forest', layout: layoutOf(panel), hyperparameters: hp, forest, metrics };
}

function trainingSummary(m: TrainingMetrics): Record<string, unknown> {
  return {
    trainLoss: m.trainLoss,
    validationLoss: m.validationLoss,
    epochs: m.epochs,
    bestEpoch: m.bestEpoch,
    stoppedEarly: m.stoppedEarly,
    trainRows: m.trainRows,
    validationRows: m.validationRows,
    history: m.history,
  };
}

/** Frees a model's tensors (autoencoder); a no-op for types without any. */
export function disposeModel(model: TrainedModel): void {
  if (model.type === 'autoencoder') model.model.dispose();
}

// --- saving and loading -----------------------------------------------------------------------

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The artifacts of a trained model, as registerModelVersion stores them. */
export async function modelArtifacts(trained: TrainedModel): Promise<ModelArtifactInput[]> {
  const panelJson: ModelArtifactInput = {
    kind: PANEL_JSON,
    contentType: JSON_CONTENT_TYPE,
    content: encoder.encode(JSON.stringify(trained.layout)),
  };
  if (trained.type === 'autoencoder') {
    trained.model.setUserDefinedMetadata({ threatlens: { calibration: trained.calibration } });
    return [...(await serialiseModel(trained.model)), panelJson];
  }
  return [{ kind: FOREST_JSON, contentType: JSON_CONTENT_TYPE, content: encoder.encode(JSON.stringify(trained.forest.toJSON())) }, panelJson];
}

/** What registration needs of a model trained elsewhere (in a worker thread) whose artifacts are given. */
export interface TrainedModelSummary {
  readonly type: ModelType;
  readonly hyperparameters: object;
  readonly metrics: Record<string, unknown>;
}

export interface SaveTrainedModelInput {
  /** Registry name; defaults to the type. */
  readonly name?: string;
  /** The model, or its summary when `artifacts` are given (serialised where it was trained). */
  readonly trained: TrainedModel | TrainedModelSummary;
  readonly artifacts?: readonly ModelArtifactInput[];
  readonly seed: number;
  readonly dataVersion: string;
  readonly codeVersion: string;
  readonly trainedBy: string;
  readonly jobId?: number | null;
  /** What the training data is, for the model card (e.g. "Demo panel, seed 20240601"). */
  readonly dataDescription: string;
  /** The training panel (for the card's data summary). */
  readonly panel: PanelMatrix;
  /** Evaluation figures (ROC-AUC on planted anomalies, ...), stored under metrics.evaluation. */
  readonly evaluation?: Record<string, unknown>;
}

export function trainingDataSummary(panel: PanelMatrix, dataVersion: string, description: string): TrainingDataSummary {
  const periods = panel.rows.map((r) => r.period).sort();
  let missing = 0;
  for (let i = 0; i < panel.missing.length; i++) missing += panel.missing[i]!;
  return {
    dataVersion,
    description,
    rows: panel.rows.length,
    columns: panel.indicators.length,
    indicators: [...panel.indicators],
    entities: new Set(panel.rows.map((r) => r.entity)).size,
    periods: periods.length ? { from: periods[0]!, to: periods[periods.length - 1]! } : null,
    missingShare: panel.missing.length ? missing / panel.missing.length : 0,
  };
}

/**
 * Registers a trained model as a new candidate version: model row, model card and artifacts in one
 * transaction (the caller's when `db` is one). Returns the version and its card.
 */
export async function saveTrainedModel(
  db: Kysely<Database> | Transaction<Database>,
  input: SaveTrainedModelInput,
  hooks?: RegisterHooks,
): Promise<{ version: number; card: ModelCard }> {
  const { trained } = input;
  const spec = getModelType(trained.type);
  const name = input.name ?? trained.type;
  const metrics = { ...trained.metrics, ...(input.evaluation ? { evaluation: input.evaluation } : {}) };
  const hyperparameters = { ...trained.hyperparameters } as Record<string, unknown>;
  const card = buildModelCard({
    name,
    type: spec.type,
    detector: spec.detector,
    description: spec.description,
    intendedUse: spec.intendedUse,
    notIntendedFor: spec.notIntendedFor,
    limitations: spec.limitations,
    trainingData: trainingDataSummary(input.panel, input.dataVersion, input.dataDescription),
    metrics,
    hyperparameters,
    seed: input.seed,
    codeVersion: input.codeVersion,
    trainedBy: input.trainedBy,
  });
  const artifacts = input.artifacts ? [...input.artifacts] : await modelArtifacts(trained as TrainedModel);
  const version = await registerModelVersion(
    db,
    {
      name,
      type: spec.type,
      hyperparameters,
      seed: input.seed,
      dataVersion: input.dataVersion,
      codeVersion: input.codeVersion,
      metrics,
      modelCard: card as unknown as Record<string, unknown>,
      trainedBy: input.trainedBy,
      jobId: input.jobId ?? null,
      artifacts,
    },
    hooks,
  );
  return { version, card };
}

function parseJsonArtifact<T>(files: readonly ModelArtifactInput[], kind: string, where: string): T {
  const file = files.find((f) => f.kind === kind);
  if (!file) throw new ThreatLensError('TL_MODEL_INCOMPLETE', `${where} has no ${kind} artifact`);
  try {
    return JSON.parse(decoder.decode(file.content)) as T;
  } catch (error) {
    throw new ThreatLensError('TL_MODEL_CORRUPT', `${where}: ${kind} is not valid JSON`, { cause: error });
  }
}

/**
 * Loads a version (the production version by default) with its artifacts checked against their
 * SHA-256. TL_NOT_FOUND when the version does not exist or the name has no production version.
 * Dispose the result with disposeModel when done (autoencoder tensors).
 */
export async function loadModel(db: Kysely<Database> | Transaction<Database>, name: string, version?: number): Promise<LoadedModel> {
  const chosen = version ?? (await productionVersion(db, name));
  if (chosen === null) throw new ThreatLensError('TL_NOT_FOUND', `model ${name} has no production version; promote one first`);
  const info = await getModel(db, name, chosen);
  if (!info) throw new ThreatLensError('TL_NOT_FOUND', `no model ${name} version ${chosen}`);
  return materialiseModel(info, await loadArtifacts(db, name, chosen));
}

/**
 * A model from its registry row and artifacts, without the store: how a worker thread, which has
 * no connection of its own, gets the production models its caller read for it.
 */
export async function materialiseModel(info: ModelVersionInfo, files: readonly ModelArtifactInput[]): Promise<LoadedModel> {
  const { name, version: chosen } = info;
  const spec = getModelType(info.type);
  const where = `model ${name} v${chosen}`;
  const layout = parseJsonArtifact<PanelLayout>(files, PANEL_JSON, where);
  // As stored (not re-validated: the rules may have changed since; the artifacts define the model).
  const hyperparameters = info.hyperparameters;
  if (spec.type === 'autoencoder') {
    await ensureBackend('wasm');
    const model = await deserialiseModel(files, where);
    const meta = model.getUserDefinedMetadata() as { threatlens?: { calibration?: AutoencoderCalibration } } | undefined;
    const calibration = meta?.threatlens?.calibration;
    if (!calibration || !Number.isFinite(calibration.logErrorMedian) || !(calibration.logErrorScale > 0)) {
      model.dispose();
      throw new ThreatLensError('TL_MODEL_CORRUPT', `${where}: model.json carries no valid calibration`);
    }
    return {
      type: 'autoencoder',
      info,
      layout,
      hyperparameters: hyperparameters as unknown as AutoencoderHyperparameters,
      model,
      calibration,
      metrics: info.metrics,
    };
  }
  let forest: IsolationForest;
  try {
    forest = IsolationForest.fromJSON(parseJsonArtifact<IsolationForestJSON>(files, FOREST_JSON, where));
  } catch (error) {
    if (error instanceof ThreatLensError) throw error;
    throw new ThreatLensError('TL_MODEL_CORRUPT', `${where}: ${(error as Error).message}`, { cause: error });
  }
  return {
    type: 'isolation-forest',
    info,
    layout,
    hyperparameters: hyperparameters as unknown as IsolationForestHyperparameters,
    forest,
    metrics: info.metrics,
  };
}

/** The panel of new series in a model's layout: its indicators, in its order, with its transforms. */
export function panelForModel(model: TrainedModel, series: readonly Series[], minPresentShare?: number): PanelMatrix {
  return buildPanelMatrix(series, {
    transforms: model.layout.transforms,
    ...(minPresentShare !== undefined ? { minPresentShare } : {}),
  });
}

/**
 * Scores series with a trained or loaded autoencoder (detector 'autoencoder'). The isolation
 * forest's cell scores come from its own detector in engine/anomaly (it scores rows; the forest's
 * `importance` is its attribution), so this refuses other types.
 */
export function detectWithModel(model: TrainedModel, series: readonly Series[]): CellScore[] {
  if (model.type !== 'autoencoder') {
    throw new ThreatLensError('TL_BAD_OPTION', `detectWithModel scores autoencoders; use the ${model.type} detector in engine/anomaly for this model`);
  }
  const panel = panelForModel(model, series);
  return detectAutoencoder(panel, model.model, model.calibration);
}
