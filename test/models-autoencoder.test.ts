import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateDemoPanel } from '../datasets/demo/generate.ts';
import { buildPanelMatrix, panelFromMatrix, signedLog1p, type PanelMatrix } from '../engine/anomaly/panel-matrix.ts';
import { cellKey, seriesFromDemoRows } from '../engine/anomaly/series.ts';
import { MAD_TO_SD, scoreFromRobustZ } from '../engine/anomaly/types.ts';
import { ThreatLensError } from '../engine/errors.ts';
import { rocAuc } from '../engine/stats/roc-auc.ts';
import { createRandom } from '../engine/stats/random.ts';
import {
  buildAutoencoder,
  calibrateAutoencoder,
  DEFAULT_AUTOENCODER_HYPERPARAMETERS,
  detectAutoencoder,
  ensureBackend,
  ERROR_FLOOR,
  maskedSquaredError,
  reconstructionErrors,
  rowRobustZ,
  trainAutoencoder,
  type AutoencoderHyperparameters,
} from '../models/autoencoder.ts';

beforeAll(async () => {
  expect(await ensureBackend('wasm')).toBe('wasm');
});

const quick: AutoencoderHyperparameters = { ...DEFAULT_AUTOENCODER_HYPERPARAMETERS, hiddenUnits: [8, 3], epochs: 5, batchSize: 32 };

/** A seeded panel: 3 latent factors behind 12 standardised indicators, with planted multivariate outliers. */
function syntheticPanel(seed: number, nRows = 600, nCols = 12) {
  const random = createRandom(seed);
  const loadings = Array.from({ length: 3 }, () => Array.from({ length: nCols }, () => random.normal()));
  const data = new Float64Array(nRows * nCols);
  for (let r = 0; r < nRows; r++) {
    const f = [random.normal(), random.normal(), random.normal()];
    for (let c = 0; c < nCols; c++) {
      data[r * nCols + c] = (f[0]! * loadings[0]![c]! + f[1]! * loadings[1]![c]! + f[2]! * loadings[2]![c]!) / Math.sqrt(3) + 0.3 * random.normal();
    }
  }
  // Outliers: three indicators of a row pushed 2.5 SD in opposite directions, breaking the
  // correlations without any value being extreme on its own.
  const planted = new Set<number>();
  while (planted.size < 20) planted.add(random.int(0, nRows));
  for (const r of planted) {
    for (const [c, sign] of [[1, 1], [4, -1], [7, 1]] as const) data[r * nCols + c] = data[r * nCols + c]! + sign * 2.5;
  }
  return { data, nRows, nCols, planted };
}

describe('maskedSquaredError', () => {
  it('averages the squared error over observed cells only (hand-computed)', () => {
    const target = tf.tensor2d([[1, 2], [3, 4]]);
    const prediction = tf.tensor2d([[1.5, 0], [3, 10]]);
    const weights = tf.tensor2d([[1, 1], [1, 0]]);
    // (0.25 + 4 + 0) / 3; the masked cell (error 36) does not count.
    expect(maskedSquaredError(target, prediction, weights).dataSync()[0]).toBeCloseTo(4.25 / 3, 6);
    const none = tf.zeros([2, 2]) as tf.Tensor2D;
    expect(maskedSquaredError(target, prediction, none).dataSync()[0]).toBe(0);
    tf.dispose([target, prediction, weights, none]);
  });
});

describe('reconstructionErrors', () => {
  it('measures squared errors on observed cells and averages them per row', () => {
    const model = buildAutoencoder(3, { ...quick, hiddenUnits: [2] }, 5);
    const data = Float64Array.from([0.5, -1, 2, 1.5, 0.25, -0.75]);
    const mask = Uint8Array.from([0, 1, 0, 0, 0, 0]);
    const { rowError, cellError, reconstruction } = reconstructionErrors(model, data, 2, 3, mask);
    // Independent path: predict the two rows at once and compute the errors here.
    const predicted = tf.tidy(() => (model.predict(tf.tensor2d([[0.5, -1, 2], [1.5, 0.25, -0.75]])) as tf.Tensor).dataSync());
    const sq = (i: number) => (data[i]! - predicted[i]!) ** 2;
    expect(Array.from(reconstruction)).toEqual(Array.from(predicted));
    expect(cellError[1]).toBe(0);
    expect(cellError[0]).toBeCloseTo(sq(0), 10);
    expect(rowError[0]).toBeCloseTo((sq(0) + sq(2)) / 2, 10);
    expect(rowError[1]).toBeCloseTo((sq(3) + sq(4) + sq(5)) / 3, 10);
    const allMissing = reconstructionErrors(model, data, 2, 3, Uint8Array.from([1, 1, 1, 0, 0, 0]));
    expect(allMissing.rowError[0]).toBeNaN();
    model.dispose();
  });

  it('refuses data of the wrong shape or with non-finite values, saying where', () => {
    const model = buildAutoencoder(3, { ...quick, hiddenUnits: [2] }, 5);
    expect(() => reconstructionErrors(model, new Float64Array(5), 2, 3)).toThrow(/5 values, expected nRows x nCols = 6/);
    expect(() => reconstructionErrors(model, Float64Array.from([0, 0, 0, 0, Number.NaN, 0]), 2, 3)).toThrow(/row 1, column 1 is NaN/);
    expect(() => reconstructionErrors(model, new Float64Array(8), 2, 4)).toThrow(/takes 3 columns; the data has 4/);
    model.dispose();
  });
});

describe('calibration', () => {
  it('takes the median and 1.4826 MAD of the log row errors (hand-computed)', () => {
    // log errors 0, 1, 2, 3, 10: median 2, absolute deviations 2, 1, 0, 1, 8, MAD 1.
    const errors = [0, 1, 2, 3, 10].map((l) => Math.exp(l) - ERROR_FLOOR);
    const c = calibrateAutoencoder([...errors, Number.NaN], ['a', 'b']);
    expect(c.logErrorMedian).toBeCloseTo(2, 12);
    expect(c.logErrorScale).toBeCloseTo(MAD_TO_SD, 12);
    expect(c.rows).toBe(5);
    expect(c.indicators).toEqual(['a', 'b']);
    // A row at log error 2 + 3.5 x 1.4826 is 3.5 robust SD out: score 0.5. Below the median: 0.
    expect(rowRobustZ(Math.exp(2 + 3.5 * MAD_TO_SD) - ERROR_FLOOR, c)).toBeCloseTo(3.5, 9);
    expect(scoreFromRobustZ(rowRobustZ(Math.exp(2 + 3.5 * MAD_TO_SD) - ERROR_FLOOR, c))).toBeCloseTo(0.5, 9);
    expect(rowRobustZ(Math.exp(0.5), c)).toBe(0);
  });
});

describe('trainAutoencoder', () => {
  it('a linear autoencoder converges to the PCA error floor of its bottleneck (test/reference/ref_autoencoder.py)', async () => {
    const n = 240;
    const p = 6;
    const data = new Float64Array(n * p);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < p; j++) {
        data[i * p + j] =
          Math.sin(0.37 * i) * Math.cos(1.3 + 0.7 * j) + Math.cos(0.11 * i + 1) * Math.cos(2.6 + 0.7 * j) + 0.1 * Math.sin(0.913 * i * (j + 1) + j);
      }
    }
    expect(data[1]).toBeCloseTo(-0.44939049819911, 12); // same matrix as the script
    const PCA_MSE = { 1: 0.17804396014912574, 2: 0.003340924100101386, 3: 0.002489716770101358 };
    const hp: AutoencoderHyperparameters = {
      hiddenUnits: [2],
      activation: 'linear',
      epochs: 300,
      batchSize: 40,
      learningRate: 0.01,
      validationShare: 0,
      patience: 0,
    };
    const { model } = await trainAutoencoder(data, n, p, hp, { seed: 3 });
    const { rowError } = reconstructionErrors(model, data, n, p);
    const mse = rowError.reduce((s, v) => s + v, 0) / n;
    model.dispose();
    // Never below the optimum (float32 slack), and close to it: well below one component's error.
    expect(mse).toBeGreaterThan(PCA_MSE[2] * 0.999);
    expect(mse).toBeLessThan(PCA_MSE[2] * 1.1);
    expect(mse).toBeLessThan(PCA_MSE[1] / 10);
  }, 60_000);

  it('is reproducible: same seed, same weights; another seed, other weights', async () => {
    const { data, nRows, nCols } = syntheticPanel(11, 200, 8);
    const weightsOf = async (seed: number) => {
      const trained = await trainAutoencoder(data, nRows, nCols, quick, { seed });
      const values = trained.model.getWeights().map((w) => Array.from(w.dataSync()));
      trained.model.dispose();
      return { values, metrics: trained.metrics };
    };
    const a = await weightsOf(42);
    const b = await weightsOf(42);
    const c = await weightsOf(43);
    expect(b.values).toEqual(a.values);
    expect(b.metrics.history).toEqual(a.metrics.history);
    expect(c.values).not.toEqual(a.values);
  }, 60_000);

  it('reports every epoch, holds out the validation share, and keeps the best epoch when stopping early', async () => {
    const { data, nRows, nCols } = syntheticPanel(12, 300, 8);
    const seen: { epoch: number; trainLoss: number; validationLoss: number | null }[] = [];
    const hp: AutoencoderHyperparameters = { ...quick, epochs: 400, learningRate: 0.05, patience: 3, validationShare: 0.25 };
    const trained = await trainAutoencoder(data, nRows, nCols, hp, { seed: 1, onEpoch: (epoch, m) => void seen.push({ epoch, ...m }) });
    const m = trained.metrics;
    trained.model.dispose();
    expect(m.validationRows).toBe(75);
    expect(m.trainRows).toBe(225);
    expect(seen.map((s) => s.epoch)).toEqual(Array.from({ length: m.epochs }, (_, i) => i + 1));
    expect(m.stoppedEarly).toBe(true);
    expect(m.epochs).toBe(m.bestEpoch + hp.patience);
    const validation = m.history.validationLoss as number[];
    expect(m.validationLoss).toBe(Math.min(...validation));
    expect(m.validationLoss).toBe(seen[m.bestEpoch - 1]!.validationLoss);
    expect(m.trainLoss).toBe(seen[m.bestEpoch - 1]!.trainLoss);
  }, 60_000);

  it('never trains on imputed cells: wild values in masked cells do not enter the loss', async () => {
    const { data, nRows, nCols } = syntheticPanel(14, 300, 8);
    const missing = new Uint8Array(nRows * nCols);
    const random = createRandom(99);
    const wild = Float64Array.from(data);
    for (let i = 0; i < wild.length; i++) {
      if (random.next() < 0.1) {
        missing[i] = 1;
        wild[i] = 50; // a nonsense imputation: as a target it would dominate any unmasked loss
      }
    }
    const hp = { ...quick, epochs: 60, validationShare: 0, patience: 0 };
    const masked = await trainAutoencoder(wild, nRows, nCols, hp, { seed: 2, missing });
    const { rowError, cellError } = reconstructionErrors(masked.model, wild, nRows, nCols, missing);
    masked.model.dispose();
    // Unmasked, 10% of cells at 50 would put the loss in the hundreds (0.1 x 50^2 = 250).
    expect(masked.metrics.trainLoss).toBeLessThan(1.5);
    expect(cellError.every((e, i) => !missing[i] || e === 0)).toBe(true);
    expect(rowError.reduce((s, v) => s + v, 0) / nRows).toBeLessThan(1.5);
  }, 60_000);

  it('aborts between batches, disposing what it built', async () => {
    const { data, nRows, nCols } = syntheticPanel(13, 200, 8);
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    const run = trainAutoencoder(data, nRows, nCols, { ...quick, epochs: 50 }, {
      seed: 1,
      signal: controller.signal,
      onEpoch: (epoch) => {
        if (epoch === 2) controller.abort(new Error('cancelled by test'));
      },
    });
    await expect(run).rejects.toThrow('cancelled by test');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses too few rows and bad shapes with a coded error', async () => {
    await expect(trainAutoencoder(new Float64Array(3), 1, 3, quick, { seed: 1 })).rejects.toThrow(/at least 2 rows/);
    await expect(trainAutoencoder(new Float64Array(6), 2, 3, quick, { seed: 1, missing: new Uint8Array(5) })).rejects.toBeInstanceOf(ThreatLensError);
  });
});

describe('detectAutoencoder', () => {
  it('gives planted multivariate outliers of a seeded panel high scores', async () => {
    const { data, nRows, nCols, planted } = syntheticPanel(7);
    const trained = await trainAutoencoder(data, nRows, nCols, { ...DEFAULT_AUTOENCODER_HYPERPARAMETERS, hiddenUnits: [16, 3] }, { seed: 1 });
    const indicators = Array.from({ length: nCols }, (_, c) => `i${c}`);
    const panel = { rows: Array.from({ length: nRows }, (_, r) => ({ entity: `E${r}`, period: '2020' })), indicators, data };
    const cells = detectAutoencoder(panel, trained.model, trained.calibration);
    trained.model.dispose();
    const rowScore = new Float64Array(nRows);
    for (const cell of cells) {
      const r = Number(cell.entity.slice(1));
      rowScore[r] = Math.max(rowScore[r]!, cell.score);
    }
    const labels = Array.from(rowScore, (_, r) => (planted.has(r) ? 1 : 0));
    expect(rocAuc(rowScore, labels)).toBeGreaterThan(0.99);
    const plantedScores = [...planted].map((r) => rowScore[r]!);
    expect(Math.min(...plantedScores)).toBeGreaterThanOrEqual(0.5);
    expect(Array.from(rowScore).filter((s, r) => s >= 0.5 && !planted.has(r)).length).toBeLessThan(10);
    // The attribution of a planted row puts the three moved indicators first.
    const r0 = [...planted][0]!;
    const top3 = cells.find((c) => c.entity === `E${r0}`)!.attributions.slice(0, 3).map((a) => a.indicator).sort();
    expect(top3).toEqual(['i1', 'i4', 'i7']);
  }, 60_000);

  it('on the demo panel: ranks planted multivariate events and unit errors high, with attributions, expected values and causes', async () => {
    const { rows, truth } = generateDemoPanel();
    const panel: PanelMatrix = buildPanelMatrix(seriesFromDemoRows(rows));
    const nRows = panel.rows.length;
    const nCols = panel.indicators.length;
    const trained = await trainAutoencoder(panel.data, nRows, nCols, DEFAULT_AUTOENCODER_HYPERPARAMETERS, { seed: 1, missing: panel.missing });
    const cells = detectAutoencoder(panel, trained.model, { ...trained.calibration, indicators: panel.indicators });
    const { reconstruction } = reconstructionErrors(trained.model, panel.data, nRows, nCols, panel.missing);
    trained.model.dispose();

    // Only observed cells are scored.
    let observed = 0;
    for (const m of panel.missing) observed += m ? 0 : 1;
    expect(cells).toHaveLength(observed);

    const kind = new Map(truth.anomalies.map((a) => [cellKey(a.entity, a.indicator, String(a.period)), a.kind]));
    const aucFor = (k: string) => {
      const subset = cells.filter((c) => {
        const planted = kind.get(cellKey(c.entity, c.indicator, c.period));
        return planted === undefined || planted === k;
      });
      return rocAuc(subset.map((c) => c.score), subset.map((c) => (kind.has(cellKey(c.entity, c.indicator, c.period)) ? 1 : 0)));
    };
    expect(aucFor('multivariate')).toBeGreaterThan(0.9);
    expect(aucFor('unit_error')).toBeGreaterThan(0.99);

    // A unit error: flagged, blamed on its own indicator, a data problem, and its expected value
    // nearer the pre-planting value than the planted one on the log scale (the model was trained
    // with the bad value among its rows, so the reconstruction is pulled part of the way to it).
    const unit = truth.anomalies.find((a) => a.kind === 'unit_error' && a.plantedValue > a.expectedValue && cells.some((c) => cellKey(c.entity, c.indicator, c.period) === cellKey(a.entity, a.indicator, String(a.period))))!;
    const cell = cells.find((c) => c.entity === unit.entity && c.indicator === unit.indicator && c.period === String(unit.period))!;
    expect(cell.value).toBe(unit.plantedValue);
    expect(cell.score).toBeGreaterThan(0.75);
    expect(cell.attributions[0]!.indicator).toBe(unit.indicator);
    expect(cell.likelyCause).toBe('data_problem');
    expect(Math.abs(Math.log(cell.expected! / unit.expectedValue))).toBeLessThan(Math.abs(Math.log(unit.plantedValue / cell.expected!)));
    expect(cell.reason).toContain(unit.indicator);

    // Expected is the reconstruction taken back through the panel's transform.
    const r = panel.rows.findIndex((row) => row.entity === cell.entity && row.period === cell.period);
    const c = panel.indicators.indexOf(cell.indicator);
    // The panel is centred per entity, so standardising uses the row's own centre.
    const transform = panel.transforms[c]!;
    const onScale = transform.log ? signedLog1p(cell.expected!) : cell.expected!;
    expect((onScale - panel.centres[r * nCols + c]!) / transform.scale).toBeCloseTo(reconstruction[r * nCols + c]!, 9);

    // Shares sum to 1 per row; the top indicator carries the row score; no cell scores above it.
    for (const row of cells.filter((x) => x.entity === cell.entity && x.period === cell.period)) {
      expect(row.attributions.reduce((s, a) => s + a.share, 0)).toBeCloseTo(1, 12);
      expect(row.score).toBeLessThanOrEqual(cell.score + 1e-15);
      expect(row.detector).toBe('autoencoder');
    }
  }, 120_000);

  it('refuses a panel whose indicators are not the model\'s', async () => {
    const panel = panelFromMatrix([[1, 2], [2, 3], [3, 5]], ['a', 'b']);
    const model = buildAutoencoder(2, { ...quick, hiddenUnits: [1] }, 1);
    const calibration = { logErrorMedian: 0, logErrorScale: 1, rows: 3, indicators: ['a', 'c'] };
    expect(() => detectAutoencoder(panel, model, calibration)).toThrow(/not those the model was trained on/);
    model.dispose();
  });

  it('leaves no tensors behind across calls', async () => {
    const { data, nRows, nCols } = syntheticPanel(21, 300, 8);
    const before = tf.memory().numTensors;
    const trained = await trainAutoencoder(data, nRows, nCols, quick, { seed: 1 });
    const withModel = tf.memory().numTensors;
    // The model's own variables and nothing else: a kernel and a bias per layer.
    expect(withModel - before).toBe(trained.model.layers.length * 2);
    const panel = { rows: Array.from({ length: nRows }, (_, r) => ({ entity: `E${r}`, period: '2020' })), indicators: Array.from({ length: nCols }, (_, c) => `i${c}`), data };
    for (let k = 0; k < 3; k++) {
      reconstructionErrors(trained.model, data, nRows, nCols);
      detectAutoencoder(panel, trained.model, trained.calibration);
      expect(tf.memory().numTensors).toBe(withModel);
    }
    trained.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);
});
