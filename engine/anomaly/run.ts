/**
 * A production run of the detectors over the current store: load the current series, run every
 * production detector, combine them in the ensemble, and store the run with its flags through
 * engine/store/anomalies.ts, in one transaction: the ensemble's cells scored `low` or above, and
 * the members' flags on those cells (the evidence; `memberFlags: 'all'` keeps every member
 * flag). A stored run is up to date while its data_version equals dataVersion()
 * (engine/store/observations.ts); `currentAnomalyRun` reuses such a run and runs the detectors
 * only when there is none.
 *
 * Detectors: the univariate ones run on every scored series (seasonal_stl on monthly and
 * quarterly ones only); the multivariate ones on one panel per period kind (entity x period rows,
 * indicators as columns). A multivariate model is used as given (`models`: from the registry,
 * models/registry.ts loadModel, once it serves production models) or, when none is given, fitted
 * on the current panel with its defaults and the run's seed; the run records which (version, or
 * null for a model fitted in the run) and with what parameters.
 */
import { ALL_DATA, type DataScope } from '../access/roles.ts';
import type { Store } from '../store/database.ts';
import { saveAnomalyRun, type AnomalyRun, latestAnomalyRun, type StoredFlagInput } from '../store/anomalies.ts';
import { dataVersion } from '../store/observations.ts';
import { codeVersion } from '../version.ts';
import { BUILTIN_INDICATORS } from '../../datasets/reference/indicators.ts';
import { ratePlans } from '../ingest/rates.ts';
import { detectBreaks } from './breaks.ts';
import { detectForecastResidual } from './forecast.ts';
import { combineDetections, DEFAULT_ENSEMBLE_OPTIONS, ENSEMBLE_DETECTOR, type EnsembleOptions } from './ensemble.ts';
import type { DetectorRun } from './evaluate.ts';
import { detectHampel, detectRobustLevel } from './robust.ts';
import { detectSeasonal } from './seasonal.ts';
import { cellKey, loadSeries } from './series.ts';
import { detectTrendResidual } from './trend-residual.ts';
import type { CellScore, PeriodKind, Series } from './types.ts';
import type { LayersModel } from '@tensorflow/tfjs';
import type { AutoencoderCalibration } from '../../models/autoencoder.ts';
import type { IsolationForest } from './isolation-forest.ts';
import type { McdFit } from './mahalanobis.ts';
import { detectIsolationForest, detectMahalanobis, fitPanelForest, fitPanelMahalanobis } from './multivariate.ts';
import { buildPanelMatrix, type IndicatorTransform, type PanelMatrix } from './panel-matrix.ts';

/** The production detectors, in the order they run. */
export const UNIVARIATE_DETECTORS = ['robust_z', 'hampel', 'trend_residual', 'seasonal_stl', 'structural_break', 'forecast'] as const;
export const MULTIVARIATE_DETECTORS = ['isolation_forest', 'robust_mahalanobis', 'autoencoder'] as const;
export const PRODUCTION_DETECTORS: readonly string[] = [...UNIVARIATE_DETECTORS, ...MULTIVARIATE_DETECTORS];

/** What a run records per detector: the model version (null when fitted in the run or model-free) and parameters. */
export interface DetectorProvenance {
  readonly version: number | null;
  readonly params: Record<string, unknown>;
}

/** The columns a panel model was trained on and their transforms (models/registry.ts PanelLayout). */
export interface PanelModelLayout {
  readonly indicators: readonly string[];
  readonly transforms: readonly IndicatorTransform[];
}

/** A model's registry entry, where it came from the registry (models/registry.ts LoadedModel.info). */
interface RegistryInfo {
  readonly info?: { readonly version: number; readonly hyperparameters?: Record<string, unknown> };
}

/**
 * Multivariate models to use instead of fitting them in the run, e.g. the registry's production
 * versions (models/registry.ts loadModel(db, name) returns objects of these shapes). A given
 * model scores the panel of its own indicators (layout), standardised with its own transforms,
 * and nothing is fitted for that detector in the run.
 */
export interface ProductionModels {
  readonly isolation_forest?: RegistryInfo & { readonly forest: IsolationForest; readonly layout: PanelModelLayout };
  readonly robust_mahalanobis?: RegistryInfo & { readonly fit: McdFit; readonly layout: PanelModelLayout };
  readonly autoencoder?: RegistryInfo & { readonly model: LayersModel; readonly calibration: AutoencoderCalibration; readonly layout: PanelModelLayout };
}

export interface DetectorSetOptions {
  /** Detectors to run (default PRODUCTION_DETECTORS). */
  readonly detectors?: readonly string[];
  /** Seed of the models fitted in the run (default 1). */
  readonly seed?: number;
  /** Models to use as given (the registry's); the others are fitted on the current panel. */
  readonly models?: ProductionModels;
  /**
   * Which series form the multivariate panels (default all series given): e.g. only rates, so
   * that a count and its rate do not count twice in a row's distance.
   */
  readonly panelSeries?: (series: Series) => boolean;
}

/** Fewest rows and indicators of a panel the multivariate detectors run on (fewer: nothing to learn from). */
export const MIN_PANEL_ROWS = 30;
export const MIN_PANEL_INDICATORS = 3;

/** A detector of the production set, and what the run records about it. */
export interface ProductionDetector extends DetectorRun {
  readonly provenance: () => DetectorProvenance;
}

function perSeries(name: string, params: Record<string, unknown>, detect: (s: Series) => CellScore[], applies: (s: Series) => boolean = () => true): ProductionDetector {
  return {
    name,
    run: (series) => series.flatMap((s) => (applies(s) ? detect(s) : [])),
    provenance: () => ({ version: null, params }),
  };
}

/** The panels of the series, one per period kind with enough rows and indicators. */
function panelsOf(series: readonly Series[], layout?: PanelModelLayout): PanelMatrix[] {
  const kinds = new Map<PeriodKind, Series[]>();
  const wanted = layout ? new Set(layout.indicators) : null;
  for (const s of series) {
    if (wanted && !wanted.has(s.indicator)) continue;
    const list = kinds.get(s.periodKind) ?? [];
    list.push(s);
    kinds.set(s.periodKind, list);
  }
  const panels: PanelMatrix[] = [];
  for (const list of kinds.values()) {
    const panel = buildPanelMatrix(list, layout ? { transforms: layout.transforms } : {});
    if (panel.rows.length >= MIN_PANEL_ROWS && panel.indicators.length >= MIN_PANEL_INDICATORS) panels.push(panel);
  }
  return panels;
}

interface PanelDetectorSpec<M> {
  readonly name: string;
  readonly defaults: Record<string, unknown>;
  readonly given: (RegistryInfo & { readonly layout: PanelModelLayout }) | undefined;
  readonly fit: (panel: PanelMatrix) => Promise<M> | M;
  readonly fromGiven: () => M;
  readonly detect: (panel: PanelMatrix, model: M) => Promise<CellScore[]> | CellScore[];
  readonly dispose?: (model: M) => void;
}

function panelDetector<M>(spec: PanelDetectorSpec<M>, panelSeries: (s: Series) => boolean): ProductionDetector {
  const notes: Record<string, unknown>[] = [];
  return {
    name: spec.name,
    async run(series) {
      notes.length = 0;
      const chosen = series.filter(panelSeries);
      const cells: CellScore[] = [];
      if (spec.given) {
        // The given model scores the panel of its own indicators; it is never refitted here.
        const model = spec.fromGiven();
        for (const panel of panelsOf(chosen, spec.given.layout)) {
          for (const cell of await spec.detect(panel, model)) cells.push(cell);
          notes.push({ periodKind: panel.periodKind, rows: panel.rows.length, indicators: panel.indicators.length, model: 'given' });
        }
        return cells;
      }
      for (const panel of panelsOf(chosen)) {
        const model = await spec.fit(panel);
        try {
          for (const cell of await spec.detect(panel, model)) cells.push(cell);
        } finally {
          spec.dispose?.(model);
        }
        notes.push({ periodKind: panel.periodKind, rows: panel.rows.length, indicators: panel.indicators.length, model: 'fitted in the run' });
      }
      return cells;
    },
    provenance: () => ({
      version: spec.given?.info?.version ?? null,
      params: { ...(spec.given?.info?.hyperparameters ?? (spec.given ? {} : spec.defaults)), panels: [...notes] },
    }),
  };
}

/** The production detectors, ready to run on series (the harness evaluates exactly these). */
export function productionDetectors(options: DetectorSetOptions = {}): ProductionDetector[] {
  const wanted = options.detectors ?? PRODUCTION_DETECTORS;
  const unknown = wanted.filter((d) => !PRODUCTION_DETECTORS.includes(d));
  if (unknown.length > 0) throw new Error(`unknown detector${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; the production detectors are ${PRODUCTION_DETECTORS.join(', ')}`);
  const seed = options.seed ?? 1;
  const models = options.models ?? {};
  const panelSeries = options.panelSeries ?? (() => true);
  const forestDefaults = { nTrees: 100, sampleSize: 256, seed };
  const all: Record<string, () => ProductionDetector> = {
    robust_z: () => perSeries('robust_z', { minHistory: 5 }, (s) => detectRobustLevel(s)),
    hampel: () => perSeries('hampel', { halfWindow: 3, minHistory: 5 }, (s) => detectHampel(s)),
    trend_residual: () => perSeries('trend_residual', { minPoints: 8, window: 30 }, (s) => detectTrendResidual(s)),
    seasonal_stl: () => perSeries('seasonal_stl', {}, (s) => detectSeasonal(s), (s) => s.periodKind !== 'year'),
    structural_break: () => perSeries('structural_break', { model: 'meanvar', minPoints: 8, minSegment: 3 }, (s) => detectBreaks(s)),
    forecast: () => perSeries('forecast', { damping: 0.9, level: 0.95 }, (s) => detectForecastResidual(s)),
    isolation_forest: () =>
      panelDetector<IsolationForest>(
        {
          name: 'isolation_forest',
          defaults: forestDefaults,
          given: models.isolation_forest,
          fit: (panel) => fitPanelForest(panel, forestDefaults),
          fromGiven: () => models.isolation_forest!.forest,
          detect: (panel, forest) => detectIsolationForest(panel, forest),
        },
        panelSeries,
      ),
    robust_mahalanobis: () =>
      panelDetector<McdFit>(
        {
          name: 'robust_mahalanobis',
          defaults: { estimator: 'MCD', ridge: 0.01, seed },
          given: models.robust_mahalanobis,
          fit: (panel) => fitPanelMahalanobis(panel, { seed }),
          fromGiven: () => models.robust_mahalanobis!.fit,
          detect: (panel, fit) => detectMahalanobis(panel, fit),
        },
        panelSeries,
      ),
    autoencoder: () =>
      panelDetector<{ model: LayersModel; calibration: AutoencoderCalibration; fitted: boolean }>(
        {
          name: 'autoencoder',
          defaults: { hyperparameters: 'DEFAULT_AUTOENCODER_HYPERPARAMETERS (models/autoencoder.ts)', backend: 'wasm', seed },
          given: models.autoencoder,
          // TensorFlow.js is loaded only when an autoencoder runs.
          fit: async (panel) => {
            const ae = await import('../../models/autoencoder.ts');
            await ae.ensureBackend('wasm');
            const trained = await ae.trainAutoencoder(panel.data, panel.rows.length, panel.indicators.length, ae.DEFAULT_AUTOENCODER_HYPERPARAMETERS, { seed, missing: panel.missing });
            return { model: trained.model, calibration: trained.calibration, fitted: true };
          },
          fromGiven: () => ({ model: models.autoencoder!.model, calibration: models.autoencoder!.calibration, fitted: false }),
          detect: async (panel, m) => {
            const ae = await import('../../models/autoencoder.ts');
            await ae.ensureBackend('wasm');
            return ae.detectAutoencoder(panel, m.model, m.calibration);
          },
          dispose: (m) => {
            if (m.fitted) m.model.dispose();
          },
        },
        panelSeries,
      ),
  };
  return PRODUCTION_DETECTORS.filter((d) => wanted.includes(d)).map((d) => all[d]!());
}

/** Unit of the population indicators (engine catalogue: `population`, `wb_population`). */
export const POPULATION_UNIT = 'persons';

/**
 * The series a production run scores: every current series but populations (the denominators
 * of the rate plans and any indicator in persons): they are read for count noise, and a
 * population is not a crime indicator to alert on.
 */
export function scoredSeries(series: readonly Series[], populationIndicators: Iterable<string> = []): Series[] {
  const excluded = new Set([...ratePlans(BUILTIN_INDICATORS).map((p) => p.denominator), ...populationIndicators]);
  return series.filter((s) => !excluded.has(s.indicator));
}

/** Units of rate indicators: comparable across entities, unlike counts (which scale with population). */
export const RATE_UNIT = /per 100,000/i;

/**
 * The default panels: per period kind, the rate series when that kind has at least
 * MIN_PANEL_INDICATORS rate indicators, else every series of the kind. A count and its rate
 * would otherwise count one event twice in a row's distance, and counts, which scale with
 * population, make large states look unusual.
 */
export function defaultPanelSeries(series: readonly Series[], rateIndicators: ReadonlySet<string>): (s: Series) => boolean {
  const ratesOfKind = new Map<PeriodKind, Set<string>>();
  for (const s of series) {
    if (!rateIndicators.has(s.indicator)) continue;
    const set = ratesOfKind.get(s.periodKind) ?? new Set<string>();
    set.add(s.indicator);
    ratesOfKind.set(s.periodKind, set);
  }
  return (s) => (ratesOfKind.get(s.periodKind)?.size ?? 0) < MIN_PANEL_INDICATORS || rateIndicators.has(s.indicator);
}

export interface RunDetectionOptions extends DetectorSetOptions {
  /** Who asked for the run (recorded with it and in the audit log). */
  readonly actor: string;
  /**
   * The batches the run may read (sharing rules; default every batch). The run's data_version is
   * dataVersion(db, scope), so runs over different scopes never stand in for each other.
   */
  readonly scope?: DataScope;
  /**
   * Which member flags are stored beside the ensemble's: those on the cells the ensemble flags
   * (the evidence behind each flag; the default) or every member flag of low or above.
   */
  readonly memberFlags?: 'ensemble_cells' | 'all';
  /** Versions and parameters of the models given, recorded as they are (merged over the run's own). */
  readonly modelVersions?: Readonly<Record<string, DetectorProvenance>>;
  readonly ensemble?: EnsembleOptions;
}

export interface DetectionResult {
  readonly runId: number;
  readonly run: AnomalyRun;
  /** The stored flags (severity low or above), ensemble first, highest score first. */
  readonly flags: CellScore[];
  /** Distinct cells scored by at least one detector. */
  readonly cellsScored: number;
  readonly dataVersion: string;
}

/** Runs the production detectors on the current store and stores the run; see the file comment. */
export async function runDetection(store: Store, options: RunDetectionOptions): Promise<DetectionResult> {
  const input = await loadDetectionInput(store, options.scope ?? ALL_DATA);
  const computed = await computeDetection(input, options);
  return saveDetection(store, input, computed, options.actor);
}

/** What a run reads from the store: plain data, so that the computation can run in a worker thread. */
export interface DetectionInput {
  readonly dataVersion: string;
  readonly series: Series[];
  /** Indicator codes whose unit is a rate (they form the default panels). */
  readonly rateIndicators: string[];
}

export async function loadDetectionInput(store: Store, scope: DataScope): Promise<DetectionInput> {
  const version = (await dataVersion(store.db, scope)).version;
  const catalogue = await store.db.selectFrom('indicators').select(['code', 'unit']).execute();
  const series = scoredSeries(await loadSeries(store.db, { scope }), catalogue.filter((i) => i.unit === POPULATION_UNIT).map((i) => i.code));
  return { dataVersion: version, series, rateIndicators: catalogue.filter((i) => RATE_UNIT.test(i.unit)).map((i) => i.code) };
}

/** The flags to store (each with the batches its values came from), and what the run records. */
export interface ComputedDetection {
  readonly flags: StoredFlagInput[];
  readonly cellsScored: number;
  readonly detectors: Record<string, unknown>;
}

/** Runs the detectors and the ensemble on the input: no store, no I/O. */
export async function computeDetection(input: DetectionInput, options: Omit<RunDetectionOptions, 'actor' | 'scope'>): Promise<ComputedDetection> {
  const { series } = input;
  const detectors = productionDetectors({ ...options, panelSeries: options.panelSeries ?? defaultPanelSeries(series, new Set(input.rateIndicators)) });
  const outputs: CellScore[][] = [];
  for (const detector of detectors) outputs.push(await detector.run(series));
  const ensembleOptions = { ...DEFAULT_ENSEMBLE_OPTIONS, ...options.ensemble };
  const ensemble = combineDetections(outputs, { ...ensembleOptions, series });

  const batchOf = new Map<string, number>();
  for (const s of series) for (const p of s.points) if (p.batchId !== undefined) batchOf.set(cellKey(s.entity, s.indicator, p.period), p.batchId);
  const batchesOf = (c: CellScore) => {
    const ids = new Set<number>();
    for (const indicator of [c.indicator, ...c.attributions.map((a) => a.indicator)]) {
      const id = batchOf.get(cellKey(c.entity, indicator, c.period));
      if (id !== undefined) ids.add(id);
    }
    return [...ids].sort((a, b) => a - b);
  };
  const ensembleFlags = ensemble.filter((c) => c.severity !== 'none');
  const flaggedCells = new Set(ensembleFlags.map((c) => cellKey(c.entity, c.indicator, c.period)));
  const memberFlags = outputs
    .flat()
    .filter((c) => c.severity !== 'none' && (options.memberFlags === 'all' || flaggedCells.has(cellKey(c.entity, c.indicator, c.period))))
    .sort((a, b) => b.score - a.score);
  const flags = [...ensembleFlags, ...memberFlags];

  const provenance: Record<string, unknown> = {};
  for (const d of detectors) provenance[d.name] = { ...d.provenance(), ...options.modelVersions?.[d.name] };
  provenance[ENSEMBLE_DETECTOR] = { version: null, params: { ...ensembleOptions, memberFlags: options.memberFlags ?? 'ensemble_cells' } };
  return { flags: flags.map((f) => ({ ...f, batchIds: batchesOf(f) })), cellsScored: ensemble.length, detectors: provenance };
}

/** Stores a computed run (one transaction, with its audit entry). */
export async function saveDetection(store: Store, input: DetectionInput, computed: ComputedDetection, actor: string): Promise<DetectionResult> {
  const run = await saveAnomalyRun(store.db, {
    dataVersion: input.dataVersion,
    codeVersion: codeVersion(),
    detectors: computed.detectors,
    cellsScored: computed.cellsScored,
    createdBy: actor,
    flags: computed.flags,
  });
  return { runId: run.id, run, flags: computed.flags, cellsScored: computed.cellsScored, dataVersion: input.dataVersion };
}

/**
 * The run that is up to date with the store (its data_version is the current one), running the
 * detectors first when there is none. `fresh` says whether this call ran them.
 */
export async function currentAnomalyRun(store: Store, options: RunDetectionOptions): Promise<{ run: AnomalyRun; fresh: boolean }> {
  const version = (await dataVersion(store.db, options.scope ?? ALL_DATA)).version;
  const existing = await latestAnomalyRun(store.db, version);
  if (existing) return { run: existing, fresh: false };
  const result = await runDetection(store, options);
  return { run: result.run, fresh: true };
}
