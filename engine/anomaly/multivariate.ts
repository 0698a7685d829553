/**
 * The multivariate detectors on a panel (entity x period rows, indicator columns): an Isolation
 * Forest ('isolation_forest') and the robust Mahalanobis distance from an MCD fit
 * ('robust_mahalanobis'). Each scores a ROW and spreads the row score onto the row's present
 * cells through the attribution (which indicators made the row unusual).
 *
 * Row scores:
 * - forest: the forest score s = 2^(-E[h]/c(psi)) read as a robust z against the training rows'
 *   scores, z = (s - median) / (1.4826 MAD) (the forest's `calibration`, or this panel's own
 *   scores when the forest has none), then scoreFromRobustZ(z) for z > 0 and 0 otherwise; so a
 *   row 3.5 robust SDs above the usual forest score is 0.5 (low), as for the univariate detectors.
 * - Mahalanobis: mahalanobisScore(d^2, k) with k the indicators present (rows with missing
 *   cells are scored on the marginal distribution of what they have); the chi-square 0.975
 *   quantile is 0.5.
 *
 * Attribution shares (over the row's present indicators; a missing cell never gets any):
 * forest - the depth-based isolation credits of IsolationForest.importance; Mahalanobis - the
 * positive parts of the additive split x_i (P x)_i of d^2 (mahalanobis.ts), normalised.
 *
 * Spreading rule: indicator i is MATERIAL when its share is at least max(half the largest share,
 * 1 / k) - it carries more than an equal part and is comparable to the main culprit. A material
 * cell gets the row score; any other present cell gets row score x share (at most half the row
 * score, usually far less), so an unusual row flags the cells that made it unusual and not its
 * bystanders.
 *
 * Each cell: value = the raw value, expected = the value at the robust centre, back-transformed:
 * the cell's panel centre (under entity centring the entity's own median of the indicator) for
 * the forest, shifted by the MCD location for Mahalanobis; attributions = the
 * largest shares (up to 5, stopping at 95%) with the remainder as one '(other indicators)' entry
 * so that the shares sum to 1. likelyCause: 'unclear' for rows below the low threshold and for
 * the cells of a flagged row that are not material; for its material cells 'data_problem' when
 * the top indicator carries at least half of the attribution and its value is about 1,000 times
 * (10^2.5 to 10^3.5, either way) the entity's own median for that indicator in other periods (or
 * the expected value, with fewer than two other periods) - the signature of a unit error - else
 * 'real_change'. Half, not "almost all": the forest's attribution rarely gives one indicator much
 * more than half even for a x1000 unit error (a tree only sees that the value lies past the
 * range, not how far), while the Mahalanobis split gives it 99%.
 */
import { fitMcd, distanceContributions, mahalanobisScore, marginalMcd, type MarginalMcd, type McdFit, type McdOptions } from './mahalanobis.ts';
import { IsolationForest, robustCalibration, type ForestCalibration, type IsolationForestOptions } from './isolation-forest.ts';
import { cellValue, type PanelMatrix } from './panel-matrix.ts';
import { SEVERITY_THRESHOLDS, scoreFromRobustZ, severityOf, type Attribution, type CellScore, type LikelyCause } from './types.ts';

export const ISOLATION_FOREST_DETECTOR = 'isolation_forest';
export const MAHALANOBIS_DETECTOR = 'robust_mahalanobis';
/** The attribution entry that carries the shares of the indicators not listed. */
export const OTHER_INDICATORS = '(other indicators)';

/** Share the top indicator needs before its factor can mark the row as a unit error. */
const DOMINANT_SHARE = 0.5;
/** A unit error: |log10(value / typical)| within 3 +- 0.5. */
const UNIT_ERROR_LOG10 = 3;
const UNIT_ERROR_TOLERANCE = 0.5;

export interface SpreadOptions {
  /** Most indicators listed in a cell's attributions before the remainder entry (default 5). */
  readonly maxAttributions?: number;
}

/** Fits a forest on the panel's standardised rows and calibrates it on the same rows. */
export function fitPanelForest(panel: PanelMatrix, opts: IsolationForestOptions = {}): IsolationForest {
  const n = panel.rows.length;
  const p = panel.indicators.length;
  const forest = new IsolationForest(opts).fit(panel.data, n, p);
  forest.calibrate(panel.data, n);
  return forest;
}

/** Row scores of the forest: raw forest score s and the calibrated score in [0, 1]. */
export function forestRowScores(panel: PanelMatrix, forest: IsolationForest): { raw: Float64Array; score: Float64Array; calibration: ForestCalibration } {
  const n = panel.rows.length;
  const p = panel.indicators.length;
  if (forest.nCols !== p) throw new RangeError(`detectIsolationForest: the forest was fitted on ${forest.nCols} indicators, the panel has ${p}`);
  const raw = forest.scoreSamples(panel.data, n);
  const calibration = forest.calibration ?? robustCalibration(raw);
  const score = raw.map((s) => {
    const z = (s - calibration.median) / calibration.scale;
    return z > 0 ? scoreFromRobustZ(z) : 0;
  });
  return { raw, score, calibration };
}

/** Isolation Forest cell scores for every present cell of the panel. */
export function detectIsolationForest(panel: PanelMatrix, forest: IsolationForest, opts: SpreadOptions = {}): CellScore[] {
  const p = panel.indicators.length;
  const { raw, score } = forestRowScores(panel, forest);
  const cells: CellScore[] = [];
  const context = entityContext(panel);
  for (let i = 0; i < panel.rows.length; i++) {
    const credit = forest.importance(panel.data.subarray(i * p, (i + 1) * p));
    const shares = sharesOverPresent(panel, i, credit);
    const detail = `isolation forest score ${raw[i]!.toFixed(3)}`;
    const expected = panel.indicators.map((_, j) => cellValue(panel, i, j, 0));
    cells.push(...spreadRowScore(panel, i, score[i]!, shares, expected, ISOLATION_FOREST_DETECTOR, detail, context, opts));
  }
  return cells;
}

export interface PanelMcdOptions extends McdOptions {
  /** Fit on complete rows only when there are at least this many (default max(5p, 30)); else on all rows, missing cells at the median. */
  readonly minCompleteRows?: number;
}

/**
 * Fits the MCD on the panel: on its complete rows when there are enough of them (imputed medians
 * would shrink the covariance), else on all rows. Default ridge 0.01 (1% of an indicator's
 * robust variance) so that a mostly-constant indicator does not make the fit singular.
 */
export function fitPanelMahalanobis(panel: PanelMatrix, opts: PanelMcdOptions = {}): McdFit {
  const n = panel.rows.length;
  const p = panel.indicators.length;
  const complete: number[] = [];
  for (let i = 0; i < n; i++) {
    let ok = true;
    for (let j = 0; j < p && ok; j++) ok = panel.missing[i * p + j] === 0;
    if (ok) complete.push(i);
  }
  const minComplete = opts.minCompleteRows ?? Math.max(5 * p, 30);
  const mcdOptions: McdOptions = { ...opts, ridge: opts.ridge ?? 0.01 };
  if (complete.length >= minComplete && complete.length < n) {
    const data = new Float64Array(complete.length * p);
    complete.forEach((r, k) => data.set(panel.data.subarray(r * p, (r + 1) * p), k * p));
    return fitMcd(data, complete.length, p, mcdOptions);
  }
  return fitMcd(panel.data, n, p, mcdOptions);
}

/** Robust Mahalanobis cell scores for every present cell of the panel. */
export function detectMahalanobis(panel: PanelMatrix, fit: McdFit, opts: SpreadOptions = {}): CellScore[] {
  const p = panel.indicators.length;
  if (fit.nCols !== p) throw new RangeError(`detectMahalanobis: the fit has ${fit.nCols} indicators, the panel has ${p}`);
  const marginals = new Map<string, MarginalMcd>();
  const cells: CellScore[] = [];
  const context = entityContext(panel);
  for (let i = 0; i < panel.rows.length; i++) {
    const present: number[] = [];
    for (let j = 0; j < p; j++) if (panel.missing[i * p + j] === 0) present.push(j);
    if (present.length === 0) continue;
    const key = present.join(',');
    let marginal = marginals.get(key);
    if (!marginal) {
      marginal = marginalMcd(fit, present);
      marginals.set(key, marginal);
    }
    const values = panel.data.subarray(i * p, (i + 1) * p);
    const contributions = distanceContributions(marginal, values);
    let d2 = 0;
    for (const c of contributions) d2 += c;
    const credit = new Float64Array(p);
    present.forEach((j, a) => (credit[j] = contributions[a]!));
    const shares = sharesOverPresent(panel, i, credit);
    const detail = `robust distance ${Math.sqrt(d2).toFixed(2)} on ${present.length} indicators`;
    const expected = panel.indicators.map((_, j) => cellValue(panel, i, j, fit.location[j]!));
    cells.push(...spreadRowScore(panel, i, mahalanobisScore(d2, present.length), shares, expected, MAHALANOBIS_DETECTOR, detail, context, opts));
  }
  return cells;
}

/** Non-negative credits -> shares over the row's present cells (missing cells get 0); equal shares when all credits are 0. */
export function sharesOverPresent(panel: PanelMatrix, row: number, credit: ArrayLike<number>): Float64Array {
  const p = panel.indicators.length;
  const shares = new Float64Array(p);
  let total = 0;
  let present = 0;
  for (let j = 0; j < p; j++) {
    if (panel.missing[row * p + j] === 0) {
      present++;
      total += Math.max(0, credit[j]!);
    }
  }
  for (let j = 0; j < p; j++) {
    if (panel.missing[row * p + j] === 0) shares[j] = total > 0 ? Math.max(0, credit[j]!) / total : 1 / present;
  }
  return shares;
}

/** Which present cells are material for a row: share >= max(largest share / 2, 1 / present). */
export function materialCells(panel: PanelMatrix, row: number, shares: ArrayLike<number>): boolean[] {
  const p = panel.indicators.length;
  let largest = 0;
  let present = 0;
  for (let j = 0; j < p; j++) {
    if (panel.missing[row * p + j] === 0) {
      present++;
      largest = Math.max(largest, shares[j]!);
    }
  }
  const cut = Math.max(largest / 2, present > 0 ? 1 / present : 1);
  return Array.from({ length: p }, (_, j) => panel.missing[row * p + j] === 0 && shares[j]! >= cut - 1e-12);
}

export interface EntityContext {
  /** Per entity and indicator: the row indices with a value, to find the entity's own typical value. */
  readonly rowsOf: Map<string, number[]>;
}

/** Per-entity row lists, built once per panel for the unit-error check. */
export function entityContext(panel: PanelMatrix): EntityContext {
  const rowsOf = new Map<string, number[]>();
  panel.rows.forEach((r, i) => {
    const list = rowsOf.get(r.entity);
    if (list) list.push(i);
    else rowsOf.set(r.entity, [i]);
  });
  return { rowsOf };
}

/**
 * One row's score spread onto its present cells (the rule in the module comment). `expected`
 * holds the row's expected raw value per indicator. Exported for other row-level detectors (the
 * autoencoder) so that all spread alike.
 */
export function spreadRowScore(
  panel: PanelMatrix,
  row: number,
  rowScore: number,
  shares: ArrayLike<number>,
  expected: ArrayLike<number>,
  detector: string,
  detail: string,
  context: EntityContext = entityContext(panel),
  opts: SpreadOptions = {},
): CellScore[] {
  const p = panel.indicators.length;
  const { entity, period } = panel.rows[row]!;
  const material = materialCells(panel, row, shares);
  const order = Array.from({ length: p }, (_, j) => j)
    .filter((j) => panel.missing[row * p + j] === 0)
    .sort((a, b) => shares[b]! - shares[a]! || a - b);
  const attributions = attributionList(panel, row, shares, expected, order, opts.maxAttributions ?? 5);
  const flagged = rowScore >= SEVERITY_THRESHOLDS.low;
  const top = order[0]!;
  const likelyCause: LikelyCause = !flagged ? 'unclear' : looksLikeUnitError(panel, row, top, shares[top]!, expected[top]!, context) ? 'data_problem' : 'real_change';
  const leading = order
    .filter((j) => material[j])
    .slice(0, 3)
    .map((j) => `${panel.indicators[j]} ${percent(shares[j]!)} (${formatNumber(panel.raw[row * p + j]!)} against ${formatNumber(expected[j]!)})`)
    .join(', ');
  const cells: CellScore[] = [];
  for (const j of order) {
    const score = material[j] ? rowScore : rowScore * shares[j]!;
    // The row's cause concerns the cells that made it unusual; a bystander's is unclear.
    const cellCause: LikelyCause = material[j] ? likelyCause : 'unclear';
    const indicator = panel.indicators[j]!;
    const value = panel.raw[row * p + j]!;
    let reason: string;
    if (!flagged) {
      reason = `${entity} ${period} is ordinary across its ${order.length} indicators (${detail}, row score ${rowScore.toFixed(2)}).`;
    } else if (material[j]) {
      reason = `${entity} ${period} stands out across its indicators (${detail}, row score ${rowScore.toFixed(2)}); ${indicator} carries ${percent(shares[j]!)} of it, ${formatNumber(value)} against ${formatNumber(expected[j]!)} expected${likelyCause === 'data_problem' ? ', a factor near 1,000 that suggests a unit error' : ''}.`;
    } else {
      reason = `${entity} ${period} stands out across its indicators (${detail}, row score ${rowScore.toFixed(2)}) through ${leading}; ${indicator} carries only ${percent(shares[j]!)}.`;
    }
    cells.push({
      entity,
      indicator,
      period,
      detector,
      score,
      severity: severityOf(score),
      value,
      expected: expected[j]!,
      attributions,
      likelyCause: cellCause,
      reason,
    });
  }
  return cells;
}

function attributionList(panel: PanelMatrix, row: number, shares: ArrayLike<number>, centre: ArrayLike<number>, order: readonly number[], max: number): Attribution[] {
  const p = panel.indicators.length;
  const out: Attribution[] = [];
  let cumulative = 0;
  for (const j of order) {
    if (out.length >= max || cumulative >= 0.95 || !(shares[j]! > 0)) break;
    out.push({ indicator: panel.indicators[j]!, share: shares[j]!, value: panel.raw[row * p + j]!, expected: centre[j]! });
    cumulative += shares[j]!;
  }
  const rest = 1 - cumulative;
  if (rest > 1e-9) out.push({ indicator: OTHER_INDICATORS, share: rest });
  return out;
}

function looksLikeUnitError(panel: PanelMatrix, row: number, j: number, share: number, centre: number, context: EntityContext): boolean {
  if (share < DOMINANT_SHARE) return false;
  const p = panel.indicators.length;
  const value = panel.raw[row * p + j]!;
  const own: number[] = [];
  for (const other of context.rowsOf.get(panel.rows[row]!.entity) ?? []) {
    if (other !== row && panel.missing[other * p + j] === 0) own.push(panel.raw[other * p + j]!);
  }
  const typical = own.length >= 2 ? medianOfNumbers(own) : centre;
  if (!(Math.abs(value) > 0) || !(Math.abs(typical) > 0)) return false;
  const factor = Math.abs(Math.log10(Math.abs(value) / Math.abs(typical)));
  return Math.abs(factor - UNIT_ERROR_LOG10) <= UNIT_ERROR_TOLERANCE;
}

function medianOfSorted(sorted: Float64Array): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : 0.5 * (sorted[mid - 1]! + sorted[mid]!);
}

function medianOfNumbers(values: number[]): number {
  return medianOfSorted(Float64Array.from(values).sort());
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2);
  return Number(v.toPrecision(3)).toLocaleString('en', { maximumFractionDigits: 3 });
}
