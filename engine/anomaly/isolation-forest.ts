/**
 * Isolation Forest (Liu, Ting and Zhou, "Isolation Forest", ICDM 2008, and "Isolation-based
 * anomaly detection", ACM TKDD 2012) on typed arrays, seeded.
 *
 * Each tree is grown on its own subsample of `sampleSize` rows drawn WITHOUT replacement (psi =
 * 256 in the paper; subsampling is what keeps swamping and masking down, and the two npm packages
 * grow every tree on all rows, which is why this one exists). A node splits on a feature drawn at
 * random among those not constant in the node, at a threshold uniform between the node's minimum
 * and maximum (x <= threshold goes left, as in scikit-learn), until a node holds one row or the
 * depth limit ceil(log2 psi) is reached. The path length of a row in a tree is the depth of the
 * leaf it lands in plus c(size of that leaf), the expected depth of the unbuilt subtree. The
 * score is s = 2^(-E[h(x)] / c(psi)): near 1 for anomalies, near 0.5 or below for ordinary rows.
 *
 * Storage: all trees in flat arrays (feature, threshold, first child, training size); the two
 * children of a node are adjacent (right = left + 1), leaves have feature -1 and keep their path
 * value depth + c(size) in `leafValue`. Scoring a row walks each tree with two array reads per
 * level. Fit O(t psi log psi); score O(n t log psi).
 */
import { createRandom } from '../stats/random.ts';
import { MAD_TO_SD } from './types.ts';

/** Euler-Mascheroni constant (numpy's np.euler_gamma). */
const EULER_GAMMA = 0.5772156649015329;

/**
 * c(n): the average path length of an unsuccessful search in a binary search tree of n points,
 * 2 H(n - 1) - 2 (n - 1) / n with H(i) ~ ln(i) + Euler's constant; c(2) = 1 and c(1) = c(0) = 0
 * as in scikit-learn's `_average_path_length`.
 */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n <= 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

export interface IsolationForestOptions {
  /** Number of trees (default 100). */
  readonly nTrees?: number;
  /** Rows per tree, drawn without replacement (default 256; capped at the number of rows). */
  readonly sampleSize?: number;
  /** Depth limit (default ceil(log2(sample size)) of the sample size actually used). */
  readonly maxDepth?: number;
  /** Seed of the generator (default 1). */
  readonly seed?: number;
}

/** Robust centre and scale of the training scores, to turn a score into a robust z. */
export interface ForestCalibration {
  readonly median: number;
  readonly scale: number;
}

export interface IsolationForestJSON {
  readonly format: 'threatlens.isolation-forest';
  readonly version: 1;
  readonly nTrees: number;
  readonly sampleSize: number;
  readonly maxDepth: number;
  readonly seed: number;
  readonly nCols: number;
  readonly trainRows: number;
  /** Sample size actually used per tree: min(sampleSize, trainRows). */
  readonly psi: number;
  readonly roots: number[];
  readonly feature: number[];
  readonly threshold: number[];
  readonly left: number[];
  readonly size: number[];
  readonly calibration: ForestCalibration | null;
}

export class IsolationForest {
  readonly nTrees: number;
  readonly sampleSize: number;
  readonly seed: number;
  private readonly requestedMaxDepth: number | undefined;
  private depthLimit = 0;
  private cols = 0;
  private trainRows = 0;
  private psi = 0;
  private roots = new Int32Array(0);
  private feature = new Int32Array(0);
  private threshold = new Float64Array(0);
  private left = new Int32Array(0);
  private size = new Int32Array(0);
  private leafValue = new Float64Array(0);
  /** Set by `calibrate` (or restored by `fromJSON`). */
  calibration: ForestCalibration | null = null;

  constructor(opts: IsolationForestOptions = {}) {
    this.nTrees = opts.nTrees ?? 100;
    this.sampleSize = opts.sampleSize ?? 256;
    this.seed = opts.seed ?? 1;
    this.requestedMaxDepth = opts.maxDepth;
    if (!Number.isInteger(this.nTrees) || this.nTrees < 1) throw new RangeError(`IsolationForest: nTrees must be a positive integer, got ${this.nTrees}`);
    if (!Number.isInteger(this.sampleSize) || this.sampleSize < 2) throw new RangeError(`IsolationForest: sampleSize must be an integer >= 2, got ${this.sampleSize}`);
    if (opts.maxDepth !== undefined && (!Number.isInteger(opts.maxDepth) || opts.maxDepth < 1)) {
      throw new RangeError(`IsolationForest: maxDepth must be a positive integer, got ${opts.maxDepth}`);
    }
  }

  get fitted(): boolean {
    return this.roots.length > 0;
  }

  get nCols(): number {
    return this.cols;
  }

  get maxDepth(): number {
    return this.depthLimit;
  }

  /** Sample size used per tree (min(sampleSize, rows)); c(psi) normalises the path lengths. */
  get effectiveSampleSize(): number {
    return this.psi;
  }

  get nodeCount(): number {
    return this.feature.length;
  }

  /** Grows the trees on row-major `data` (nRows x nCols). Values must be finite (impute first). */
  fit(data: Float64Array, nRows: number, nCols: number): this {
    checkMatrix(data, nRows, nCols, 'fit');
    if (nRows < 2) throw new RangeError(`IsolationForest.fit needs at least 2 rows, got ${nRows}`);
    const psi = Math.min(this.sampleSize, nRows);
    const maxDepth = this.requestedMaxDepth ?? Math.ceil(Math.log2(Math.max(psi, 2)));
    const random = createRandom(this.seed);
    const capacity = this.nTrees * (2 * psi - 1);
    const feature = new Int32Array(capacity);
    const threshold = new Float64Array(capacity);
    const left = new Int32Array(capacity);
    const size = new Int32Array(capacity);
    const leafValue = new Float64Array(capacity);
    const roots = new Int32Array(this.nTrees);
    // A permutation pool: a partial Fisher-Yates shuffle of its first psi slots draws a uniform
    // sample without replacement, and what is left stays a permutation for the next tree.
    const pool = new Int32Array(nRows);
    for (let i = 0; i < nRows; i++) pool[i] = i;
    const sample = new Float64Array(psi * nCols);
    const index = new Int32Array(psi);
    const candidates = new Int32Array(nCols);
    let next = 0;

    const grow = (node: number, start: number, end: number, depth: number): void => {
      const count = end - start;
      size[node] = count;
      if (depth < maxDepth && count > 1) {
        // Draw features until one is not constant in this node (as scikit-learn's random splitter).
        for (let f = 0; f < nCols; f++) candidates[f] = f;
        let remaining = nCols;
        while (remaining > 0) {
          const pick = Math.floor(random.next() * remaining);
          const f = candidates[pick]!;
          let min = Number.POSITIVE_INFINITY;
          let max = Number.NEGATIVE_INFINITY;
          for (let k = start; k < end; k++) {
            const v = sample[index[k]! * nCols + f]!;
            if (v < min) min = v;
            if (v > max) max = v;
          }
          if (max > min) {
            let t = min + random.next() * (max - min);
            if (!(t < max)) t = min; // rounding at a tiny range: keep both sides non-empty
            let i = start;
            let j = end - 1;
            while (i <= j) {
              if (sample[index[i]! * nCols + f]! <= t) i++;
              else {
                const tmp = index[i]!;
                index[i] = index[j]!;
                index[j] = tmp;
                j--;
              }
            }
            const child = next;
            next += 2;
            feature[node] = f;
            threshold[node] = t;
            left[node] = child;
            grow(child, start, i, depth + 1);
            grow(child + 1, i, end, depth + 1);
            return;
          }
          candidates[pick] = candidates[remaining - 1]!;
          remaining--;
        }
      }
      feature[node] = -1;
      left[node] = -1;
      leafValue[node] = depth + averagePathLength(count);
    };

    for (let t = 0; t < this.nTrees; t++) {
      for (let k = 0; k < psi; k++) {
        const r = k + Math.floor(random.next() * (nRows - k));
        const chosen = pool[r]!;
        pool[r] = pool[k]!;
        pool[k] = chosen;
        sample.set(data.subarray(chosen * nCols, chosen * nCols + nCols), k * nCols);
        index[k] = k;
      }
      const root = next++;
      roots[t] = root;
      grow(root, 0, psi, 0);
    }
    this.cols = nCols;
    this.trainRows = nRows;
    this.psi = psi;
    this.depthLimit = maxDepth;
    this.roots = roots;
    this.feature = feature.slice(0, next);
    this.threshold = threshold.slice(0, next);
    this.left = left.slice(0, next);
    this.size = size.slice(0, next);
    this.leafValue = leafValue.slice(0, next);
    this.calibration = null;
    return this;
  }

  /** Mean path length E[h(x)] over the trees, per row. */
  pathLengths(data: Float64Array, nRows: number): Float64Array {
    this.checkFitted('pathLengths');
    checkMatrix(data, nRows, this.cols, 'pathLengths');
    const { roots, feature, threshold, left, leafValue, cols } = this;
    const trees = roots.length;
    const out = new Float64Array(nRows);
    for (let i = 0, base = 0; i < nRows; i++, base += cols) {
      let sum = 0;
      for (let t = 0; t < trees; t++) {
        let node = roots[t]!;
        let f: number;
        while ((f = feature[node]!) >= 0) node = data[base + f]! <= threshold[node]! ? left[node]! : left[node]! + 1;
        sum += leafValue[node]!;
      }
      out[i] = sum / trees;
    }
    return out;
  }

  /** Anomaly score s = 2^(-E[h(x)] / c(psi)) per row, in (0, 1]. */
  scoreSamples(data: Float64Array, nRows: number): Float64Array {
    const out = this.pathLengths(data, nRows);
    const norm = averagePathLength(this.psi);
    for (let i = 0; i < nRows; i++) out[i] = Math.pow(2, -out[i]! / norm);
    return out;
  }

  /**
   * Per-feature attribution for one row, in bits of isolation (after DIFFI, Carletti et al. 2020,
   * but measured by how much each split isolates rather than by 1/depth): in every tree, each
   * split on the row's path credits its feature with log2(rows in the node / rows in the child the
   * row goes to), counted on the tree's training subsample. A split that cuts the row off from
   * almost everything earns nearly log2(psi) at once; a split that merely halves the node earns
   * 1. The credits of one tree sum to log2(psi / size of the leaf reached), so the result, the
   * mean over trees, sums to the mean isolation achieved; normalise it to get shares.
   */
  importance(row: ArrayLike<number>): Float64Array {
    this.checkFitted('importance');
    if (row.length !== this.cols) throw new RangeError(`IsolationForest.importance: row has ${row.length} values, the forest was fitted on ${this.cols}`);
    const { roots, feature, threshold, left, size } = this;
    const credit = new Float64Array(this.cols);
    for (let t = 0; t < roots.length; t++) {
      let node = roots[t]!;
      let f: number;
      while ((f = feature[node]!) >= 0) {
        const child = row[f]! <= threshold[node]! ? left[node]! : left[node]! + 1;
        credit[f] = credit[f]! + Math.log2(size[node]! / size[child]!);
        node = child;
      }
    }
    for (let f = 0; f < credit.length; f++) credit[f] = credit[f]! / roots.length;
    return credit;
  }

  /**
   * Records the median and robust scale (1.4826 MAD) of the scores of `data` (normally the
   * training rows), so a score can be read as a robust z against ordinary rows.
   */
  calibrate(data: Float64Array, nRows: number): ForestCalibration {
    this.calibration = robustCalibration(this.scoreSamples(data, nRows));
    return this.calibration;
  }

  toJSON(): IsolationForestJSON {
    this.checkFitted('toJSON');
    return {
      format: 'threatlens.isolation-forest',
      version: 1,
      nTrees: this.nTrees,
      sampleSize: this.sampleSize,
      maxDepth: this.depthLimit,
      seed: this.seed,
      nCols: this.cols,
      trainRows: this.trainRows,
      psi: this.psi,
      roots: Array.from(this.roots),
      feature: Array.from(this.feature),
      threshold: Array.from(this.threshold),
      left: Array.from(this.left),
      size: Array.from(this.size),
      calibration: this.calibration,
    };
  }

  /** Restores a forest written by `toJSON`, checking that its structure is consistent. */
  static fromJSON(json: IsolationForestJSON): IsolationForest {
    if (json?.format !== 'threatlens.isolation-forest' || json.version !== 1) {
      throw new RangeError(`IsolationForest.fromJSON: not a version 1 threatlens.isolation-forest (format ${String(json?.format)}, version ${String(json?.version)})`);
    }
    const forest = new IsolationForest({ nTrees: json.nTrees, sampleSize: json.sampleSize, maxDepth: json.maxDepth, seed: json.seed });
    const nodes = json.feature.length;
    if (json.threshold.length !== nodes || json.left.length !== nodes || json.size.length !== nodes) {
      throw new RangeError(`IsolationForest.fromJSON: node arrays differ in length (${nodes}, ${json.threshold.length}, ${json.left.length}, ${json.size.length})`);
    }
    if (json.roots.length !== json.nTrees) throw new RangeError(`IsolationForest.fromJSON: ${json.roots.length} roots for ${json.nTrees} trees`);
    forest.cols = json.nCols;
    forest.trainRows = json.trainRows;
    forest.psi = json.psi;
    forest.depthLimit = json.maxDepth;
    forest.roots = Int32Array.from(json.roots);
    forest.feature = Int32Array.from(json.feature);
    forest.threshold = Float64Array.from(json.threshold);
    forest.left = Int32Array.from(json.left);
    forest.size = Int32Array.from(json.size);
    forest.leafValue = new Float64Array(nodes);
    forest.calibration = json.calibration;
    // Recompute the leaves' path values (depth + c(size)) by walking each tree, which also checks the links.
    const visit = (node: number, depth: number): void => {
      if (!(node >= 0 && node < nodes)) throw new RangeError(`IsolationForest.fromJSON: link to node ${node} outside 0..${nodes - 1}`);
      if (depth > json.maxDepth) throw new RangeError(`IsolationForest.fromJSON: node ${node} deeper than maxDepth ${json.maxDepth}`);
      const f = forest.feature[node]!;
      if (f < 0) {
        forest.leafValue[node] = depth + averagePathLength(forest.size[node]!);
        return;
      }
      if (f >= json.nCols) throw new RangeError(`IsolationForest.fromJSON: node ${node} splits on feature ${f}, there are ${json.nCols}`);
      visit(forest.left[node]!, depth + 1);
      visit(forest.left[node]! + 1, depth + 1);
    };
    for (const root of forest.roots) visit(root, 0);
    return forest;
  }

  private checkFitted(method: string): void {
    if (!this.fitted) throw new Error(`IsolationForest.${method}: call fit() first`);
  }
}

function checkMatrix(data: Float64Array, nRows: number, nCols: number, method: string): void {
  if (!Number.isInteger(nRows) || nRows < 0 || !Number.isInteger(nCols) || nCols < 1) {
    throw new RangeError(`IsolationForest.${method}: bad shape ${nRows} x ${nCols}`);
  }
  if (data.length !== nRows * nCols) {
    throw new RangeError(`IsolationForest.${method}: data has ${data.length} values, expected ${nRows} x ${nCols} = ${nRows * nCols}`);
  }
  for (let k = 0; k < data.length; k++) {
    if (!Number.isFinite(data[k]!)) {
      throw new RangeError(`IsolationForest.${method}: row ${Math.floor(k / nCols)}, column ${k % nCols} is ${data[k]}; impute missing values first`);
    }
  }
}

/** Median and 1.4826 MAD of forest scores (the range, or 1e-6, when the MAD is 0). */
export function robustCalibration(scores: Float64Array): ForestCalibration {
  const sorted = scores.slice().sort();
  const median = medianOfSorted(sorted);
  const deviations = sorted.map((s) => Math.abs(s - median)).sort();
  let scale = MAD_TO_SD * medianOfSorted(deviations);
  if (!(scale > 0)) scale = Math.max(sorted[sorted.length - 1]! - sorted[0]!, 1e-6);
  return { median, scale };
}

function medianOfSorted(sorted: Float64Array): number {
  if (sorted.length === 0) throw new RangeError('robustCalibration needs at least one score');
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : 0.5 * (sorted[mid - 1]! + sorted[mid]!);
}
