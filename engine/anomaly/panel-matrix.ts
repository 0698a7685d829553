/**
 * The multivariate detectors' input: one row per entity x period, one column per indicator,
 * transformed and robustly standardised so that indicators on different scales (a homicide rate
 * near 5, a seizure count in the thousands) weigh alike.
 *
 * Per indicator: values that are all non-negative (counts and rates per 100,000, which is what
 * crime indicators are) go through log1p first. Such figures are right-skewed across countries
 * and spread over orders of magnitude, and their errors are multiplicative (a unit slip
 * multiplies by 1,000); on the log scale a factor becomes a shift of fixed size, and log1p rather
 * than log keeps a rate of 0 finite. Indicators with negative values (indices, changes) stay
 * linear. The transform is the signed log1p, sign(x) log1p(|x|), so a negative value arriving
 * later for a logged indicator still maps somewhere sensible.
 *
 * Centring (`centre`): 'entity' (the default) centres each cell on the ENTITY's own median of
 * that indicator over the panel's periods, so a row says how an entity-year departs from that
 * entity's usual profile - a change, which is what the detectors look for - rather than how a
 * country differs from other countries (a country that always has a high homicide rate is not an
 * anomaly). 'indicator' centres on the indicator's median over all rows (the plain per-indicator
 * standardisation). Either way each indicator is then divided by one robust scale, 1.4826 x the
 * MAD of its centred values (pooled over entities; with entity centring only entities with at
 * least 3 values count, since a lone value is its own median), falling back to 1.2533 x the mean
 * absolute deviation when more than half the values tie, and to 1 for a constant indicator.
 *
 * Missing cells are imputed with 0 (the median) in `data` and marked in `missing`, so detectors
 * can run on a full matrix but never blame a cell that was not observed.
 */
import { median } from 'simple-statistics';
import { MAD_TO_SD, type PeriodKind, type Series } from './types.ts';

/** sqrt(pi / 2): mean absolute deviation x 1.2533 estimates the SD of normal data. */
const MEAN_ABS_DEV_TO_SD = 1.2533141373155001;

export interface PanelRow {
  readonly entity: string;
  readonly period: string;
}

/** How one indicator was transformed and standardised; reused to score new data with a trained model. */
export interface IndicatorTransform {
  readonly indicator: string;
  /** Signed log1p applied before standardising. */
  readonly log: boolean;
  /** Median of the (logged) values over all rows (the centre under 'indicator' centring). */
  readonly centre: number;
  /** Robust scale of the centred (logged) values; never 0. */
  readonly scale: number;
  /** How cells were centred; passing the transforms back in reproduces it (absent: 'entity'). */
  readonly centring?: PanelCentring;
}

export type PanelCentring = 'entity' | 'indicator';

export interface PanelMatrix {
  readonly rows: readonly PanelRow[];
  readonly indicators: readonly string[];
  readonly periodKind: PeriodKind | null;
  /** Row-major rows x indicators: transformed and standardised, missing cells imputed with 0. */
  readonly data: Float64Array;
  /** Row-major rows x indicators: the original values, NaN where missing. */
  readonly raw: Float64Array;
  /** Row-major rows x indicators: 1 where the cell is missing. */
  readonly missing: Uint8Array;
  readonly transforms: readonly IndicatorTransform[];
  readonly centring: PanelCentring;
  /**
   * Row-major rows x indicators: the centre each cell was standardised around, on the (logged)
   * scale - the entity's own median, or the indicator's median. cellValue() maps back to raw values.
   */
  readonly centres: Float64Array;
}

export interface PanelMatrixOptions {
  /** A row is kept when at least this share of the indicators is present (default 0.6). */
  readonly minPresentShare?: number;
  /** Columns and their order (default: every indicator in the series, sorted). */
  readonly indicators?: readonly string[];
  /**
   * Reuse these transforms (from the panel a model was trained on) instead of fitting new ones:
   * same logs, scales and centring. Under entity centring the centres are still each entity's
   * median in THIS panel, so the panel must hold the entities' history, not just the new period.
   */
  readonly transforms?: readonly IndicatorTransform[];
  /** Which indicators get log1p: 'auto' (all-non-negative ones, the default), 'never', or a list. */
  readonly log?: 'auto' | 'never' | readonly string[];
  /** 'entity' (default): centre on each entity's own median; 'indicator': on the indicator's median. */
  readonly centre?: PanelCentring;
}

/** Entities with fewer values of an indicator do not inform its scale under entity centring. */
const MIN_VALUES_FOR_SCALE = 3;

export function signedLog1p(x: number): number {
  return x < 0 ? -Math.log1p(-x) : Math.log1p(x);
}

export function signedExpm1(t: number): number {
  return t < 0 ? -Math.expm1(-t) : Math.expm1(t);
}

/** Raw value -> standardised coordinate. */
export function standardiseValue(transform: IndicatorTransform, value: number): number {
  const t = transform.log ? signedLog1p(value) : value;
  return (t - transform.centre) / transform.scale;
}

/** Standardised coordinate -> raw value (the inverse of standardiseValue), under 'indicator' centring. */
export function unstandardiseValue(transform: IndicatorTransform, z: number): number {
  const t = transform.centre + z * transform.scale;
  return transform.log ? signedExpm1(t) : t;
}

/** The raw value of cell (row, column) at standardised coordinate z (0: the cell's centre). */
export function cellValue(panel: PanelMatrix, row: number, column: number, z: number): number {
  const transform = panel.transforms[column]!;
  const t = panel.centres[row * panel.indicators.length + column]! + z * transform.scale;
  return transform.log ? signedExpm1(t) : t;
}

/**
 * Builds the panel from series (one per entity x indicator). Throws on mixed period kinds,
 * duplicate series or duplicate periods within a series, and non-finite values.
 */
export function buildPanelMatrix(series: readonly Series[], opts: PanelMatrixOptions = {}): PanelMatrix {
  const minPresentShare = opts.minPresentShare ?? 0.6;
  if (!(minPresentShare >= 0 && minPresentShare <= 1)) {
    throw new RangeError(`buildPanelMatrix: minPresentShare must be in [0, 1], got ${minPresentShare}`);
  }
  let periodKind: PeriodKind | null = null;
  const seen = new Set<string>();
  const indicatorSet = new Set<string>();
  for (const s of series) {
    if (periodKind !== null && s.periodKind !== periodKind) {
      throw new RangeError(`buildPanelMatrix: series mix period kinds (${periodKind} and ${s.periodKind} for ${s.entity}/${s.indicator}); build one panel per kind`);
    }
    periodKind = s.periodKind;
    const key = `${s.entity}\u0000${s.indicator}`;
    if (seen.has(key)) throw new RangeError(`buildPanelMatrix: two series for ${s.entity}/${s.indicator}`);
    seen.add(key);
    indicatorSet.add(s.indicator);
  }
  const indicators = opts.indicators ?? opts.transforms?.map((t) => t.indicator) ?? [...indicatorSet].sort();
  const column = new Map(indicators.map((name, j) => [name, j]));
  if (column.size !== indicators.length) throw new RangeError('buildPanelMatrix: indicators listed twice');
  const p = indicators.length;

  // Cells keyed by entity x period; a row's values are filled as the series arrive.
  const cells = new Map<string, { row: PanelRow; values: Float64Array }>();
  for (const s of series) {
    const j = column.get(s.indicator);
    if (j === undefined) continue;
    const periods = new Set<string>();
    for (const point of s.points) {
      if (!Number.isFinite(point.value)) {
        throw new RangeError(`buildPanelMatrix: ${s.entity}/${s.indicator} ${point.period} has a non-finite value (${point.value}); drop missing points instead`);
      }
      if (periods.has(point.period)) throw new RangeError(`buildPanelMatrix: ${s.entity}/${s.indicator} has period ${point.period} twice`);
      periods.add(point.period);
      const key = `${s.entity}\u0000${point.period}`;
      let cell = cells.get(key);
      if (!cell) {
        cell = { row: { entity: s.entity, period: point.period }, values: new Float64Array(p).fill(Number.NaN) };
        cells.set(key, cell);
      }
      cell.values[j] = point.value;
    }
  }
  const kept = [...cells.values()]
    .filter((cell) => {
      let present = 0;
      for (let j = 0; j < p; j++) if (!Number.isNaN(cell.values[j]!)) present++;
      return present > 0 && present >= minPresentShare * p;
    })
    .sort((a, b) => compareText(a.row.entity, b.row.entity) || compareText(a.row.period, b.row.period));
  const raw = new Float64Array(kept.length * p);
  kept.forEach((cell, i) => raw.set(cell.values, i * p));
  return assemblePanel(kept.map((cell) => cell.row), indicators, raw, periodKind, opts);
}

/**
 * A panel from a plain matrix (tests, benchmarks, data already in wide form). Every row is kept;
 * NaN, null or undefined marks a missing cell. Rows default to entity `row<i>`, period `2020`.
 */
export function panelFromMatrix(
  values: readonly (readonly (number | null | undefined)[])[],
  indicators: readonly string[],
  opts: Omit<PanelMatrixOptions, 'minPresentShare' | 'indicators'> & { readonly rows?: readonly PanelRow[]; readonly periodKind?: PeriodKind } = {},
): PanelMatrix {
  const p = indicators.length;
  const rows = opts.rows ?? values.map((_, i) => ({ entity: `row${i}`, period: '2020' }));
  if (rows.length !== values.length) throw new RangeError(`panelFromMatrix: ${rows.length} row labels for ${values.length} rows`);
  const raw = new Float64Array(values.length * p);
  values.forEach((row, i) => {
    if (row.length !== p) throw new RangeError(`panelFromMatrix: row ${i} has ${row.length} values for ${p} indicators`);
    row.forEach((v, j) => {
      if (v !== null && v !== undefined && !Number.isNaN(v) && !Number.isFinite(v)) {
        throw new RangeError(`panelFromMatrix: row ${i}, ${indicators[j]} is ${v}`);
      }
      raw[i * p + j] = v ?? Number.NaN;
    });
  });
  return assemblePanel(rows, indicators, raw, opts.periodKind ?? 'year', opts);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function assemblePanel(
  rows: readonly PanelRow[],
  indicators: readonly string[],
  raw: Float64Array,
  periodKind: PeriodKind | null,
  opts: Pick<PanelMatrixOptions, 'transforms' | 'log' | 'centre'>,
): PanelMatrix {
  const n = rows.length;
  const p = indicators.length;
  const givenCentring = opts.transforms?.[0] ? (opts.transforms[0].centring ?? 'entity') : undefined;
  const centring = opts.centre ?? givenCentring ?? 'entity';
  if (centring !== 'entity' && centring !== 'indicator') throw new RangeError(`panel: centre must be 'entity' or 'indicator', got ${String(centring)}`);
  if (givenCentring !== undefined && (opts.transforms!.some((t) => (t.centring ?? 'entity') !== givenCentring) || centring !== givenCentring)) {
    throw new RangeError(`panel: centre '${centring}' differs from the centring of the given transforms ('${givenCentring}'); they were fitted with it`);
  }
  const logFor = (name: string, j: number): boolean => {
    const given = opts.transforms?.find((t) => t.indicator === name);
    if (given) return given.log;
    if (opts.transforms) throw new RangeError(`panel: no transform given for indicator ${name}`);
    const log = opts.log ?? 'auto';
    if (log === 'never') return false;
    if (log === 'auto') {
      for (let i = 0; i < n; i++) if (raw[i * p + j]! < 0) return false;
      return true;
    }
    return log.includes(name);
  };
  const logged = indicators.map(logFor);
  // Transformed values, NaN where missing.
  const t = new Float64Array(n * p);
  for (let k = 0; k < n * p; k++) {
    const v = raw[k]!;
    t[k] = Number.isNaN(v) ? Number.NaN : logged[k % p] ? signedLog1p(v) : v;
  }
  // Row indices per entity, for entity centring.
  const entityRows = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const list = entityRows.get(r.entity);
    if (list) list.push(i);
    else entityRows.set(r.entity, [i]);
  });
  const centres = new Float64Array(n * p);
  const fitted: IndicatorTransform[] = [];
  for (let j = 0; j < p; j++) {
    const all: number[] = [];
    for (let i = 0; i < n; i++) if (!Number.isNaN(t[i * p + j]!)) all.push(t[i * p + j]!);
    const pooledCentre = all.length > 0 ? median(all) : 0;
    const deviations: number[] = [];
    if (centring === 'indicator') {
      for (let i = 0; i < n; i++) centres[i * p + j] = pooledCentre;
      for (const v of all) deviations.push(v - pooledCentre);
    } else {
      for (const list of entityRows.values()) {
        const own: number[] = [];
        for (const i of list) if (!Number.isNaN(t[i * p + j]!)) own.push(t[i * p + j]!);
        const centre = own.length > 0 ? median(own) : pooledCentre;
        for (const i of list) centres[i * p + j] = centre;
        if (own.length >= MIN_VALUES_FOR_SCALE) for (const v of own) deviations.push(v - centre);
      }
    }
    fitted.push({ indicator: indicators[j]!, log: logged[j]!, centre: pooledCentre, scale: robustScale(deviations), centring });
  }
  const transforms = opts.transforms ? indicators.map((name) => opts.transforms!.find((tr) => tr.indicator === name)!) : fitted;
  if (opts.transforms && centring === 'indicator') {
    for (let j = 0; j < p; j++) for (let i = 0; i < n; i++) centres[i * p + j] = transforms[j]!.centre;
  }
  const data = new Float64Array(n * p);
  const missing = new Uint8Array(n * p);
  for (let k = 0; k < n * p; k++) {
    if (Number.isNaN(t[k]!)) missing[k] = 1;
    else data[k] = (t[k]! - centres[k]!) / transforms[k % p]!.scale;
  }
  return { rows, indicators, periodKind, data, raw, missing, transforms, centring, centres };
}

/** 1.4826 MAD of centred values; 1.2533 x mean absolute deviation when the MAD is 0; else 1. */
function robustScale(deviations: number[]): number {
  if (deviations.length === 0) return 1;
  const absolute = deviations.map(Math.abs);
  // Spread around the centres themselves (0), which under entity centring are not the pooled median.
  let scale = MAD_TO_SD * median(absolute);
  if (!(scale > 0)) scale = (MEAN_ABS_DEV_TO_SD * absolute.reduce((sum, d) => sum + d, 0)) / absolute.length;
  return scale > 0 ? scale : 1;
}
