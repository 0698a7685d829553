/**
 * A dense autoencoder for the multivariate panel (rows = entity x period, columns = standardised
 * indicators; engine/anomaly/panel-matrix.ts builds it), trained with TensorFlow.js on the wasm
 * backend. A row the network cannot reconstruct from the structure it learnt on all rows is
 * unusual; the indicators with the largest reconstruction error say why (the attribution).
 *
 * Reproducibility: every kernel initialiser takes a seed derived from the run's seed, and the
 * train/validation split and the batch order of each epoch come from the seeded generator of
 * engine/stats/random.ts, so a run with the same data, hyperparameters, seed and backend gives the
 * same weights. (TensorFlow.js's own `fit` shuffles with Math.random, so training uses its own loop.)
 *
 * Missing cells: the panel imputes them so that every row is complete as an INPUT, but the loss is
 * masked: a cell's squared error is multiplied by 0 when it is missing and 1 when observed, and the
 * sum is divided by the number of observed cells of the batch. An imputed cell therefore never acts
 * as a target, so the model does not learn to reproduce imputations, and at scoring time a missing
 * cell has no error and no share of the attribution; a row's error is the mean over its observed cells.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { median, medianAbsoluteDeviation } from 'simple-statistics';
import { ThreatLensError } from '../engine/errors.ts';
import { createRandom, type Random } from '../engine/stats/random.ts';
import {
  MAD_TO_SD,
  scoreFromRobustZ,
  severityOf,
  type Attribution,
  type CellScore,
  type LikelyCause,
} from '../engine/anomaly/types.ts';
import { cellValue, unstandardiseValue, type IndicatorTransform, type PanelMatrix } from '../engine/anomaly/panel-matrix.ts';

export const AUTOENCODER_DETECTOR = 'autoencoder';

export type BackendName = 'wasm' | 'cpu';

/**
 * Makes `name` the TensorFlow.js backend (wasm by default) and waits until it is ready. Returns the
 * backend in use. Tensors and models made on one backend stay usable after a switch (TensorFlow.js
 * moves their data), but train and score on the same backend for reproducible results.
 */
export async function ensureBackend(name: BackendName = 'wasm'): Promise<string> {
  if (tf.getBackend() !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`TensorFlow.js backend "${name}" could not be initialised`);
  }
  await tf.ready();
  return tf.getBackend();
}

export type AutoencoderActivation = 'tanh' | 'relu' | 'elu' | 'selu' | 'sigmoid' | 'linear';

export interface AutoencoderHyperparameters {
  /** Encoder layer widths, input side first; the last is the bottleneck. The decoder mirrors them. */
  readonly hiddenUnits: readonly number[];
  /** Activation of the hidden layers; the output layer is linear (standardised data are unbounded). */
  readonly activation: AutoencoderActivation;
  readonly epochs: number;
  readonly batchSize: number;
  /** Adam's learning rate. */
  readonly learningRate: number;
  /** Share of rows held out (seeded) to measure validation loss and stop early; 0 trains on all rows. */
  readonly validationShare: number;
  /** Stop after this many epochs without a validation improvement and keep the best weights; 0 runs every epoch. */
  readonly patience: number;
}

export const DEFAULT_AUTOENCODER_HYPERPARAMETERS: AutoencoderHyperparameters = {
  hiddenUnits: [32, 8],
  activation: 'tanh',
  epochs: 150,
  batchSize: 64,
  learningRate: 0.005,
  validationShare: 0.2,
  patience: 20,
};

export interface EpochMetrics {
  /** Masked mean squared error over the training rows, averaged over the epoch's batches. */
  readonly trainLoss: number;
  /** Masked mean squared error over the validation rows after the epoch; null without validation. */
  readonly validationLoss: number | null;
}

export interface TrainOptions {
  readonly seed: number;
  /** 1 where a cell is missing (imputed in `data`), 0 where observed; row-major like `data`. */
  readonly missing?: Uint8Array;
  /** Called after every epoch (1-based); awaited, so it may write progress to the store. */
  readonly onEpoch?: (epoch: number, metrics: EpochMetrics) => void | Promise<void>;
  /** Aborts training between batches; the partly trained model is disposed and the reason thrown. */
  readonly signal?: AbortSignal;
}

export interface TrainingMetrics {
  /** Training loss of the epoch whose weights were kept. */
  readonly trainLoss: number;
  /** Validation loss of the kept weights; null when validationShare is 0. */
  readonly validationLoss: number | null;
  /** Epochs run. */
  readonly epochs: number;
  /** The epoch whose weights were kept (the best validation loss, or the last epoch). */
  readonly bestEpoch: number;
  readonly stoppedEarly: boolean;
  readonly trainRows: number;
  readonly validationRows: number;
  readonly history: { readonly trainLoss: readonly number[]; readonly validationLoss: readonly (number | null)[] };
}

/**
 * What a row's reconstruction error is measured against: the distribution of log row errors over
 * the training rows (train and validation shares together), summarised robustly.
 */
export interface AutoencoderCalibration {
  /** Median of log(row error + ERROR_FLOOR) over the training rows. */
  readonly logErrorMedian: number;
  /** 1.4826 x MAD of the same (a robust standard deviation); floored so that it is never 0. */
  readonly logErrorScale: number;
  readonly rows: number;
  /** The column order the model was trained on, where the caller knew it (panel indicators). */
  readonly indicators?: readonly string[];
}

export interface TrainedAutoencoder {
  readonly model: tf.LayersModel;
  readonly metrics: TrainingMetrics;
  readonly calibration: AutoencoderCalibration;
}

/** Added to row errors before the log, so that a perfectly reconstructed row has a finite log error. */
export const ERROR_FLOOR = 1e-12;
/** Smallest calibration scale (in log units): a row must be at least this far out to count. */
const MIN_LOG_SCALE = 1e-3;

/** Builds the network; every kernel initialiser is seeded from `seed`. */
export function buildAutoencoder(nCols: number, hp: AutoencoderHyperparameters, seed: number): tf.LayersModel {
  const widths = [...hp.hiddenUnits, ...hp.hiddenUnits.slice(0, -1).reverse()];
  const model = tf.sequential();
  widths.forEach((units, i) => {
    model.add(
      tf.layers.dense({
        units,
        activation: hp.activation,
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + i + 1 }),
        biasInitializer: 'zeros',
        ...(i === 0 ? { inputShape: [nCols] } : {}),
        name: `${i < hp.hiddenUnits.length ? 'encoder' : 'decoder'}_${i}`,
      }),
    );
  });
  model.add(
    tf.layers.dense({
      units: nCols,
      activation: 'linear',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + widths.length + 1 }),
      biasInitializer: 'zeros',
      ...(widths.length === 0 ? { inputShape: [nCols] } : {}),
      name: 'reconstruction',
    }),
  );
  return model;
}

/**
 * Masked mean squared error: sum(w (pred - target)^2) / sum(w), w = 1 for observed and 0 for
 * missing cells; 0 when a batch has no observed cell. `observedCells` (= sum(w)) may be given
 * when the caller already counted it, saving a reduction per batch.
 */
export function maskedSquaredError(target: tf.Tensor2D, prediction: tf.Tensor2D, weights: tf.Tensor2D, observedCells?: number): tf.Scalar {
  return tf.tidy(() => {
    const squared = tf.sum(tf.mul(tf.squaredDifference(prediction, target), weights));
    if (observedCells !== undefined) return tf.div(squared, Math.max(observedCells, 1)) as tf.Scalar;
    return tf.div(squared, tf.maximum(tf.sum(weights), 1)) as tf.Scalar;
  });
}

function checkMatrix(data: ArrayLike<number>, nRows: number, nCols: number, missing: Uint8Array | undefined, where: string): void {
  if (!Number.isInteger(nRows) || nRows < 1 || !Number.isInteger(nCols) || nCols < 1) {
    throw new ThreatLensError('TL_BAD_OPTION', `${where}: nRows and nCols must be positive integers; got ${nRows} x ${nCols}`);
  }
  if (data.length !== nRows * nCols) {
    throw new ThreatLensError('TL_BAD_OPTION', `${where}: data has ${data.length} values, expected nRows x nCols = ${nRows * nCols}`);
  }
  if (missing && missing.length !== data.length) {
    throw new ThreatLensError('TL_BAD_OPTION', `${where}: the missing mask has ${missing.length} cells, expected ${data.length}`);
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) {
      throw new ThreatLensError(
        'TL_BAD_OPTION',
        `${where}: value at row ${Math.floor(i / nCols)}, column ${i % nCols} is ${v}; impute missing cells and mark them in the mask`,
      );
    }
  }
}

function shuffleInPlace(items: Int32Array, random: Random): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.int(0, i + 1);
    const t = items[i]!;
    items[i] = items[j]!;
    items[j] = t;
  }
}

function gatherRows(
  data: ArrayLike<number>,
  missing: Uint8Array | undefined,
  nCols: number,
  rows: Int32Array,
  from: number,
  to: number,
): { x: tf.Tensor2D; w: tf.Tensor2D; observed: number } {
  const n = to - from;
  const x = new Float32Array(n * nCols);
  const w = new Float32Array(n * nCols);
  let observed = 0;
  for (let r = 0; r < n; r++) {
    const base = rows[from + r]! * nCols;
    for (let c = 0; c < nCols; c++) {
      x[r * nCols + c] = data[base + c]!;
      const seen = missing && missing[base + c] ? 0 : 1;
      w[r * nCols + c] = seen;
      observed += seen;
    }
  }
  return { x: tf.tensor2d(x, [n, nCols]), w: tf.tensor2d(w, [n, nCols]), observed };
}

/** Masked loss of the model over some rows, predicted in chunks; a plain number. */
function evaluateRows(
  model: tf.LayersModel,
  data: ArrayLike<number>,
  missing: Uint8Array | undefined,
  nCols: number,
  rows: Int32Array,
  chunk: number,
): number {
  let weighted = 0;
  let observed = 0;
  for (let from = 0; from < rows.length; from += chunk) {
    const to = Math.min(rows.length, from + chunk);
    const [sumError, count] = tf.tidy(() => {
      const { x, w } = gatherRows(data, missing, nCols, rows, from, to);
      const prediction = model.predict(x) as tf.Tensor2D;
      return [tf.sum(tf.mul(tf.squaredDifference(prediction, x), w)).dataSync()[0]!, tf.sum(w).dataSync()[0]!];
    });
    weighted += sumError;
    observed += count;
  }
  return observed > 0 ? weighted / observed : 0;
}

const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Trains an autoencoder on a row-major matrix of standardised values (missing cells imputed and
 * flagged in `options.missing`). Hyperparameters are taken as given: models/registry.ts validates
 * them. Uses the current backend: call `ensureBackend()` first.
 */
export async function trainAutoencoder(
  data: ArrayLike<number>,
  nRows: number,
  nCols: number,
  hyperparameters: AutoencoderHyperparameters,
  options: TrainOptions,
): Promise<TrainedAutoencoder> {
  const hp = hyperparameters;
  const { seed, missing, onEpoch, signal } = options;
  checkMatrix(data, nRows, nCols, missing, 'trainAutoencoder');
  if (nRows < 2) throw new ThreatLensError('TL_BAD_OPTION', `trainAutoencoder: needs at least 2 rows; got ${nRows}`);
  signal?.throwIfAborted();

  const random = createRandom(seed);
  const order = Int32Array.from({ length: nRows }, (_, i) => i);
  shuffleInPlace(order, random);
  const validationRows = hp.validationShare > 0 ? Math.min(nRows - 1, Math.max(1, Math.round(nRows * hp.validationShare))) : 0;
  const validation = order.slice(0, validationRows);
  const train = order.slice(validationRows);

  const model = buildAutoencoder(nCols, hp, seed);
  const optimizer = tf.train.adam(hp.learningRate);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const history = { trainLoss: [] as number[], validationLoss: [] as (number | null)[] };
  let best: { epoch: number; loss: number; weights: tf.Tensor[] } | undefined;
  let sinceBest = 0;
  let stoppedEarly = false;
  const evalChunk = 4096;

  try {
    for (let epoch = 1; epoch <= hp.epochs; epoch++) {
      shuffleInPlace(train, random);
      let lossSum = 0;
      let lossWeight = 0;
      for (let from = 0; from < train.length; from += hp.batchSize) {
        signal?.throwIfAborted();
        const to = Math.min(train.length, from + hp.batchSize);
        const { x, w, observed } = gatherRows(data, missing, nCols, train, from, to);
        const loss = optimizer.minimize(
          () => maskedSquaredError(x, model.apply(x, { training: true }) as tf.Tensor2D, w, observed),
          true,
          variables,
        );
        lossSum += loss!.dataSync()[0]! * observed;
        lossWeight += observed;
        tf.dispose([x, w, loss!]);
      }
      const trainLoss = lossWeight > 0 ? lossSum / lossWeight : 0;
      const validationLoss = validation.length > 0 ? evaluateRows(model, data, missing, nCols, validation, evalChunk) : null;
      history.trainLoss.push(trainLoss);
      history.validationLoss.push(validationLoss);

      let stop = false;
      if (hp.patience > 0 && validationLoss !== null) {
        if (!best || validationLoss < best.loss) {
          if (best) tf.dispose(best.weights);
          best = { epoch, loss: validationLoss, weights: model.getWeights().map((t) => t.clone()) };
          sinceBest = 0;
        } else if (++sinceBest >= hp.patience) {
          stop = true;
          stoppedEarly = epoch < hp.epochs;
        }
      }
      await onEpoch?.(epoch, { trainLoss, validationLoss });
      if (stop) break;
      await nextTick(); // let other work (progress writes, HTTP) run between epochs
    }
    signal?.throwIfAborted();
    if (best) model.setWeights(best.weights);
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    optimizer.dispose();
    if (best) tf.dispose(best.weights);
  }

  const epochs = history.trainLoss.length;
  const bestEpoch = best?.epoch ?? epochs;
  const { rowError } = reconstructionErrors(model, data, nRows, nCols, missing);
  return {
    model,
    metrics: {
      trainLoss: history.trainLoss[bestEpoch - 1]!,
      validationLoss: history.validationLoss[bestEpoch - 1] ?? null,
      epochs,
      bestEpoch,
      stoppedEarly,
      trainRows: train.length,
      validationRows,
      history,
    },
    calibration: calibrateAutoencoder(rowError),
  };
}

export interface ReconstructionErrors {
  /** Mean squared error over the row's observed cells; NaN for a row with none. */
  readonly rowError: Float64Array;
  /** Squared error of each cell (row-major); 0 for missing cells. */
  readonly cellError: Float64Array;
  /** The model's reconstruction of each cell, in the units of `data` (row-major). */
  readonly reconstruction: Float32Array;
}

/** Reconstructs every row (in chunks, inside tf.tidy) and measures the errors on observed cells. */
export function reconstructionErrors(
  model: tf.LayersModel,
  data: ArrayLike<number>,
  nRows: number,
  nCols: number,
  mask?: Uint8Array,
): ReconstructionErrors {
  checkMatrix(data, nRows, nCols, mask, 'reconstructionErrors');
  const inputWidth = model.inputs[0]?.shape[1];
  if (inputWidth !== nCols) {
    throw new ThreatLensError('TL_BAD_OPTION', `reconstructionErrors: the model takes ${inputWidth} columns; the data has ${nCols}`);
  }
  const reconstruction = new Float32Array(nRows * nCols);
  const chunkRows = Math.max(1, Math.floor(262_144 / nCols));
  for (let from = 0; from < nRows; from += chunkRows) {
    const to = Math.min(nRows, from + chunkRows);
    const values = tf.tidy(() => {
      const x = tf.tensor2d(Float32Array.from({ length: (to - from) * nCols }, (_, i) => data[from * nCols + i]!), [to - from, nCols]);
      return (model.predict(x) as tf.Tensor2D).dataSync();
    });
    reconstruction.set(values, from * nCols);
  }
  const cellError = new Float64Array(nRows * nCols);
  const rowError = new Float64Array(nRows);
  for (let r = 0; r < nRows; r++) {
    let sum = 0;
    let observed = 0;
    for (let c = 0; c < nCols; c++) {
      const i = r * nCols + c;
      if (mask && mask[i]) continue;
      const d = data[i]! - reconstruction[i]!;
      cellError[i] = d * d;
      sum += d * d;
      observed++;
    }
    rowError[r] = observed > 0 ? sum / observed : Number.NaN;
  }
  return { rowError, cellError, reconstruction };
}

/** Median and robust scale of log(row error + ERROR_FLOOR) over rows with an error (NaN rows skipped). */
export function calibrateAutoencoder(rowError: ArrayLike<number>, indicators?: readonly string[]): AutoencoderCalibration {
  const logs: number[] = [];
  for (let i = 0; i < rowError.length; i++) {
    const e = rowError[i]!;
    if (Number.isFinite(e)) logs.push(Math.log(e + ERROR_FLOOR));
  }
  if (logs.length === 0) throw new ThreatLensError('TL_BAD_OPTION', 'calibrateAutoencoder: no row has an observed cell');
  const logErrorMedian = median(logs);
  const logErrorScale = Math.max(MIN_LOG_SCALE, MAD_TO_SD * medianAbsoluteDeviation(logs));
  return { logErrorMedian, logErrorScale, rows: logs.length, ...(indicators ? { indicators: [...indicators] } : {}) };
}

/**
 * The robust z of a row error against the calibration, one-sided: a row reconstructed better than
 * usual is not anomalous (z = 0).
 */
export function rowRobustZ(rowError: number, calibration: AutoencoderCalibration): number {
  if (!Number.isFinite(rowError)) return Number.NaN;
  const z = (Math.log(rowError + ERROR_FLOOR) - calibration.logErrorMedian) / calibration.logErrorScale;
  return Math.max(0, z);
}

/** One row of the panel: the entity and period it stands for. */
export interface PanelRowKey {
  readonly entity: string;
  readonly period: string;
}

/**
 * The panel as the autoencoder reads it: what engine/anomaly/panel-matrix.ts's buildPanelMatrix
 * returns (extra fields are ignored). `data` holds standardised values with missing cells imputed;
 * `raw` the values as observed (NaN or anything where missing); `missing` is 1 where a cell is missing.
 */
export interface AutoencoderPanel {
  readonly rows: readonly PanelRowKey[];
  readonly indicators: readonly string[];
  readonly data: Float64Array;
  readonly raw?: Float64Array;
  readonly missing?: Uint8Array;
  /** Per-column transforms (panel-matrix.ts); they turn reconstructions back into the indicators' units. */
  readonly transforms?: readonly IndicatorTransform[];
}

/** Maps a standardised value of one column back to the indicator's units. */
export type BackTransform = (column: number, standardised: number) => number;

export interface DetectOptions {
  /** Back to the indicator's units; by default the panel's `transforms` (unstandardiseValue). */
  readonly toRaw?: BackTransform;
}

/**
 * A ratio between seen and reconstructed value at or beyond which one dominant indicator looks
 * like a unit error. Unit slips are factors of 100 or 1,000; the reconstruction is pulled part of
 * the way towards the bad value, so the ratio seen is smaller. Real one-year changes of a factor
 * of 20 in one indicator alone are rare.
 */
const UNIT_ERROR_RATIO = 20;
/** An indicator dominates a row's error when it carries at least this share and 4 times the next one. */
const DOMINANT_SHARE = 0.5;
const DOMINANT_OVER_NEXT = 4;

const fmt = (v: number | null | undefined) =>
  v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : Math.abs(v) >= 1000 || Math.abs(v) < 0.01 ? v.toPrecision(3) : v.toFixed(2);

/**
 * Scores every observed cell of the panel ('autoencoder' detector).
 *
 * - Row score: z = (log(row error) - median) / (1.4826 MAD) of the training rows' log errors
 *   (one-sided), score = scoreFromRobustZ(z), so a row 3.5 robust SD above the usual error scores 0.5.
 * - Attribution: each observed indicator's share of the row's squared error (shares sum to 1).
 * - Cell score: row score x (cell share / largest share of the row): the indicator that explains
 *   most of the error gets the row's score, the others in proportion, so a multivariate event that
 *   moves several indicators together flags all of them and a single bad value flags only itself.
 * - Expected: the reconstruction, back in the indicator's units through the panel's transforms
 *   (or `options.toRaw`); null when the panel has raw values but no way back.
 * - Likely cause: one indicator dominating the error (>= 50% of it and >= 4 times the next one)
 *   and off by a factor >= 20 from its reconstruction looks like a unit error (data_problem);
 *   otherwise two or more indicators with >= 20% each moving together look like a real change;
 *   anything else is unclear.
 */
export function detectAutoencoder(
  panel: AutoencoderPanel,
  model: tf.LayersModel,
  calibration: AutoencoderCalibration,
  options: DetectOptions = {},
): CellScore[] {
  const nCols = panel.indicators.length;
  const nRows = panel.rows.length;
  if (calibration.indicators && calibration.indicators.join('\u0000') !== panel.indicators.join('\u0000')) {
    throw new ThreatLensError(
      'TL_BAD_OPTION',
      `detectAutoencoder: the panel's indicators (${panel.indicators.join(', ')}) are not those the model was trained on (${calibration.indicators.join(', ')})`,
    );
  }
  const { rowError, cellError, reconstruction } = reconstructionErrors(model, panel.data, nRows, nCols, panel.missing);
  const transforms = panel.transforms;
  // A panel centred per entity (the default) needs the row's own centre: cellValue knows it.
  const hasCentres = 'centres' in panel && panel.centres !== undefined;
  const toRaw: BackTransform | undefined =
    options.toRaw ?? (transforms && !hasCentres ? (column, z) => unstandardiseValue(transforms[column]!, z) : undefined);
  const valueOf = (i: number) => (panel.raw ? panel.raw[i]! : panel.data[i]!);
  const expectedOf = (i: number, c: number): number | null => {
    if (!panel.raw) return reconstruction[i]!;
    if (!toRaw && hasCentres) {
      const v = cellValue(panel as PanelMatrix, Math.floor(i / nCols), c, reconstruction[i]!);
      return Number.isFinite(v) ? v : null;
    }
    if (!toRaw) return null;
    const v = toRaw(c, reconstruction[i]!);
    return Number.isFinite(v) ? v : null;
  };

  const cells: CellScore[] = [];
  for (let r = 0; r < nRows; r++) {
    const rowErr = rowError[r]!;
    if (!Number.isFinite(rowErr)) continue;
    const z = rowRobustZ(rowErr, calibration);
    const rowScore = scoreFromRobustZ(z);
    const observed: number[] = [];
    let total = 0;
    for (let c = 0; c < nCols; c++) {
      const i = r * nCols + c;
      if (panel.missing && panel.missing[i]) continue;
      observed.push(c);
      total += cellError[i]!;
    }
    const shareOf = (c: number) => (total > 0 ? cellError[r * nCols + c]! / total : 1 / observed.length);
    const attributions: Attribution[] = observed
      .map((c) => {
        const i = r * nCols + c;
        const expected = expectedOf(i, c);
        return { indicator: panel.indicators[c]!, share: shareOf(c), value: valueOf(i), ...(expected !== null ? { expected } : {}) };
      })
      .sort((a, b) => b.share - a.share);
    Object.freeze(attributions);
    const top = attributions[0]!;
    const movers = attributions.filter((a) => a.share >= 0.2).length;
    let likelyCause: LikelyCause = 'unclear';
    const next = attributions[1]?.share ?? 0;
    const dominant = top.share >= DOMINANT_SHARE && top.share >= DOMINANT_OVER_NEXT * next;
    if (dominant && top.expected !== undefined && top.value !== undefined && top.expected !== 0) {
      const ratio = Math.abs(top.value / top.expected);
      if (ratio >= UNIT_ERROR_RATIO || ratio <= 1 / UNIT_ERROR_RATIO) likelyCause = 'data_problem';
    } else if (movers >= 2) {
      likelyCause = 'real_change';
    }
    const { entity, period } = panel.rows[r]!;
    const drivers = attributions
      .slice(0, 3)
      .filter((a) => a.share >= 0.1)
      .map((a) => `${a.indicator} ${(a.share * 100).toFixed(0)}% (seen ${fmt(a.value)}, reconstructed ${fmt(a.expected)})`)
      .join('; ');
    const rowReason =
      `Across ${observed.length} indicators, ${entity} ${period} is reconstructed ${z.toFixed(1)} robust SD worse than the training rows' typical error` +
      (drivers ? `; the error comes from ${drivers}.` : '.');
    for (const c of observed) {
      const i = r * nCols + c;
      const share = shareOf(c);
      const score = top.share > 0 ? rowScore * (share / top.share) : rowScore;
      const expected = expectedOf(i, c);
      cells.push({
        entity,
        indicator: panel.indicators[c]!,
        period,
        detector: AUTOENCODER_DETECTOR,
        score,
        severity: severityOf(score),
        value: valueOf(i),
        expected,
        interval: null,
        attributions,
        likelyCause,
        reason: rowReason,
      });
    }
  }
  return cells;
}
