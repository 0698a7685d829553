/**
 * The scoring pipeline: one pure function from a framework and a panel (entity x indicator x year)
 * to node scores, ranks, bands and what was done on the way. Steps, in COINr's order:
 *   denominate -> impute -> treat outliers -> normalise -> weight -> aggregate -> rank and band.
 *
 * Built for speed: the framework is compiled once into flat arrays (edges, columns, codes); data
 * live in Float64Array matrices, column-major (entity fastest; NaN = missing); the inner loops
 * touch no Map. `prepareYear` does the per-year work that does not depend on methodological choices
 * (panel extraction, denomination, PCA weights); `scoreRoots` then scores one set of choices
 * (normalisation, aggregation, imputation, weight multipliers) reusing its buffers: the entry for
 * Monte Carlo uncertainty analysis. `runPipeline` is prepare + score + the reports.
 */
import { ThreatLensError } from '../errors.ts';
import type { Polarity } from '../types.ts';
import { AGGREGATION_CODE, aggregateInto, aggregationScratch, type Aggregation, type AggregationScratch } from './aggregate.ts';
import { BAND_LABELS, bands as toBands } from './bands.ts';
import { denominateInto } from './denominate.ts';
import type { Framework, FrameworkNode, PcaWeighting } from './framework.ts';
import {
  IMPUTED,
  IMPUTED_NAMES,
  imputeGroup,
  imputeInterpolate,
  imputeLatest,
  imputeRegression,
  type ImputationSpec,
  type RegressionFit,
  type SeriesView,
} from './impute.ts';
import { normaliseColumn, type Direction, type NormalisationSpec } from './normalise.ts';
import { treatColumn, type TreatmentReport } from './outliers.ts';
import { pcaWeights, type PcaWeights } from './weights.ts';

/** Values of entities x indicators x years: values[(t * indicators.length + j) * entities.length + i]. */
export interface Panel {
  readonly entities: readonly string[];
  readonly indicators: readonly string[];
  /** Ascending. */
  readonly years: readonly number[];
  readonly values: Float64Array;
}

/** Builds a panel from rows (any order; a repeated cell keeps the last value). O(rows). */
export function panelFromRows(rows: Iterable<{ readonly entity: string; readonly indicator: string; readonly year: number; readonly value: number }>): Panel {
  const list = [...rows];
  const entities = [...new Set(list.map((r) => r.entity))].sort();
  const indicators = [...new Set(list.map((r) => r.indicator))].sort();
  const years = [...new Set(list.map((r) => r.year))].sort((a, b) => a - b);
  const ei = new Map(entities.map((e, i) => [e, i]));
  const ii = new Map(indicators.map((c, j) => [c, j]));
  const yi = new Map(years.map((y, t) => [y, t]));
  const values = new Float64Array(entities.length * indicators.length * years.length).fill(Number.NaN);
  for (const r of list) values[(yi.get(r.year)! * indicators.length + ii.get(r.indicator)!) * entities.length + ei.get(r.entity)!] = r.value;
  return { entities, indicators, years, values };
}

export interface PipelineOptions {
  /** The year scored. */
  readonly year: number;
  /** Polarity by indicator code; higher_better inverts the indicator. Absent = higher_worse. */
  readonly polarities: ReadonlyMap<string, Polarity> | Readonly<Record<string, Polarity>>;
  /** Group of each entity (e.g. OSCE sub-region), for group_mean / group_median imputation. */
  readonly groups?: ReadonlyMap<string, string> | Readonly<Record<string, string>>;
}

/** One methodological alternative, for uncertainty analysis. Absent fields keep the framework's choice. */
export interface Choices {
  /** Replaces the default normalisation (indicators with their own override keep it). */
  readonly normalisation?: NormalisationSpec;
  /** Replaces the aggregation of every node. */
  readonly aggregation?: Aggregation;
  /** Exponent when `aggregation` is generalised. */
  readonly p?: number;
  /** Replaces the default imputation chain (indicators with their own override keep it). Cached per chain. */
  readonly imputation?: ImputationSpec | readonly ImputationSpec[];
  /** Multiplies each edge's weight (index = position in `prepared.tree.edges`), e.g. 1 + noise. */
  readonly weightMultipliers?: ArrayLike<number>;
}

/** The framework compiled to flat arrays. Node k's edges are childStart[k] .. childStart[k+1]. */
export interface CompiledTree {
  /** Leaf indicator codes, in tree order: leaf column j. */
  readonly indicators: readonly string[];
  /** Node ids in tree order (parents before children): node k, work column indicators.length + k. */
  readonly nodeIds: readonly string[];
  readonly roots: Int32Array;
  /** Nodes with children before parents. */
  readonly evalOrder: Int32Array;
  readonly childStart: Int32Array;
  /** Work column of each edge's child. */
  readonly childCol: Int32Array;
  /** Explicit or equal weight of each edge (PCA edges are resolved in `prepareYear`). */
  readonly edgeWeight: Float64Array;
  readonly edges: readonly { readonly node: string; readonly child: string }[];
  readonly aggregation: Uint8Array;
  readonly p: Float64Array;
  readonly availability: Float64Array;
  readonly pca: readonly (PcaWeighting | null)[];
}

/** Compiles a framework's tree (O(nodes + leaves)). */
export function compileFramework(framework: Framework): CompiledTree {
  const nodes: FrameworkNode[] = [];
  const visit = (node: FrameworkNode) => {
    nodes.push(node);
    for (const c of node.children) if (typeof c !== 'string') visit(c);
  };
  // leaves in the order frameworkIndicators gives (depth-first, children in order)
  const leafOrder: string[] = [];
  const leaves = (node: FrameworkNode) => {
    for (const c of node.children) typeof c === 'string' ? leafOrder.push(c) : leaves(c);
  };
  framework.roots.forEach(visit);
  framework.roots.forEach(leaves);
  const leafIndex = new Map(leafOrder.map((c, j) => [c, j]));
  const nodeIndex = new Map(nodes.map((n, k) => [n.id, k]));
  const nLeaf = leafOrder.length;
  const childStart = new Int32Array(nodes.length + 1);
  const childCol: number[] = [];
  const edgeWeight: number[] = [];
  const edges: { node: string; child: string }[] = [];
  nodes.forEach((node, k) => {
    childStart[k] = childCol.length;
    for (const c of node.children) {
      const id = typeof c === 'string' ? c : c.id;
      childCol.push(typeof c === 'string' ? leafIndex.get(c)! : nLeaf + nodeIndex.get(c.id)!);
      edgeWeight.push(node.weights ? node.weights[id]! : 1);
      edges.push({ node: node.id, child: id });
    }
  });
  childStart[nodes.length] = childCol.length;
  return {
    indicators: leafOrder,
    nodeIds: nodes.map((n) => n.id),
    roots: Int32Array.from(framework.roots, (r) => nodeIndex.get(r.id)!),
    evalOrder: Int32Array.from(nodes.keys()).reverse(),
    childStart,
    childCol: Int32Array.from(childCol),
    edgeWeight: Float64Array.from(edgeWeight),
    edges,
    aggregation: Uint8Array.from(nodes, (n) => AGGREGATION_CODE[n.aggregation]),
    p: Float64Array.from(nodes, (n) => n.p ?? 1),
    availability: Float64Array.from(nodes, (n) => n.availability ?? framework.availability),
    pca: nodes.map((n) => n.weighting ?? null),
  };
}

/** One imputed (and outlier-treated) year matrix, cached per imputation chain. */
interface ImputedYear {
  /** n x nLeaf, after imputation and treatment, before normalisation. */
  readonly values: Float64Array;
  /** IMPUTED code per cell. */
  readonly codes: Uint8Array;
  /** Source year of `latest` imputations (NaN otherwise). */
  readonly from: Float64Array;
  /** Treatment mark per cell (outliers.ts TREATED_*), 0 = untreated. */
  readonly marks: Uint8Array;
  readonly regressions: RegressionReport[];
  readonly treatment: TreatmentReport[];
  readonly notes: string[];
}

export interface RegressionReport extends RegressionFit {
  readonly indicator: string;
  readonly covariate: string;
  readonly minR2: number;
}

export interface PcaReport extends PcaWeights {
  readonly node: string;
  readonly children: readonly string[];
}

/** A year prepared for scoring: what does not change between methodological choices. */
export interface PreparedYear {
  readonly framework: Framework;
  readonly tree: CompiledTree;
  readonly year: number;
  readonly entities: readonly string[];
  /** +1 higher is worse, -1 higher is better, per leaf. */
  readonly directions: Int8Array;
  /** Resolved weight per edge (explicit, equal, or PCA from the default choices). */
  readonly weights: Float64Array;
  readonly pca: readonly PcaReport[];
  /** @internal */
  readonly internal: PreparedInternal;
}

interface PreparedInternal {
  /** Denominated leaf panel: leafPanel[(t * nLeaf + j) * n + i]. */
  readonly leafPanel: Float64Array;
  readonly years: readonly number[];
  readonly groups: Int32Array | null;
  readonly panel: Panel;
  readonly entityIndex: ReadonlyMap<string, number>;
  readonly cache: Map<string, ImputedYear>;
  readonly work: Float64Array;
  readonly scratch: AggregationScratch;
  readonly edgeBuffer: Float64Array;
}

const lookup = <V>(m: ReadonlyMap<string, V> | Readonly<Record<string, V>> | undefined, k: string): V | undefined =>
  m === undefined ? undefined : m instanceof Map ? m.get(k) : (m as Record<string, V>)[k];

/**
 * The framework's leaves extracted from a panel and denominated: leafPanel[(t * nLeaf + j) * n + i].
 * It does not depend on the year, so it is built once per (panel, framework) and shared by every
 * year prepared from them (scoring 25 years copied the whole panel 25 times). Panels and
 * frameworks are treated as immutable, as everywhere in the engine.
 */
const LEAF_PANELS = new WeakMap<Panel, WeakMap<Framework, Float64Array>>();

function leafPanelOf(framework: Framework, tree: CompiledTree, panel: Panel): Float64Array {
  const cached = LEAF_PANELS.get(panel)?.get(framework);
  if (cached) return cached;
  const n = panel.entities.length;
  const nLeaf = tree.indicators.length;
  const nYears = panel.years.length;
  const nInd = panel.indicators.length;
  const indicatorIndex = new Map(panel.indicators.map((c, j) => [c, j]));
  const leafPanel = new Float64Array(nYears * nLeaf * n).fill(Number.NaN);
  for (let j = 0; j < nLeaf; j++) {
    const code = tree.indicators[j]!;
    const src = indicatorIndex.get(code);
    if (src === undefined) continue;
    const opts = framework.indicatorOptions[code];
    const den = opts?.denominator !== undefined ? indicatorIndex.get(opts.denominator) : undefined;
    for (let t = 0; t < nYears; t++) {
      const out = (t * nLeaf + j) * n;
      leafPanel.set(panel.values.subarray((t * nInd + src) * n, (t * nInd + src + 1) * n), out);
      if (opts?.denominator !== undefined) {
        if (den === undefined) leafPanel.fill(Number.NaN, out, out + n);
        else denominateInto(leafPanel, out, panel.values, (t * nInd + den) * n, n, opts.scale ?? 1e5);
      }
    }
  }
  if (!LEAF_PANELS.has(panel)) LEAF_PANELS.set(panel, new WeakMap());
  LEAF_PANELS.get(panel)!.set(framework, leafPanel);
  return leafPanel;
}

/**
 * Prepares a year: compiles the tree, extracts and denominates the leaves' panel, resolves PCA
 * weights on the default choices. O(entities x years x leaves) plus PCA.
 */
export function prepareYear(framework: Framework, panel: Panel, options: PipelineOptions): PreparedYear {
  const tree = compileFramework(framework);
  const n = panel.entities.length;
  const nLeaf = tree.indicators.length;
  const nYears = panel.years.length;
  const nInd = panel.indicators.length;
  if (panel.values.length !== n * nInd * nYears) {
    throw new ThreatLensError('TL_BAD_OPTION', `panel: values has ${panel.values.length} cells, expected entities x indicators x years = ${n * nInd * nYears}`);
  }
  const leafPanel = leafPanelOf(framework, tree, panel);
  const directions = Int8Array.from(tree.indicators, (c) => (lookup(options.polarities, c) === 'higher_better' ? -1 : 1));
  let groups: Int32Array | null = null;
  if (options.groups) {
    const names = new Map<string, number>();
    groups = Int32Array.from(panel.entities, (e) => {
      const g = lookup(options.groups, e);
      if (g === undefined) return -1;
      if (!names.has(g)) names.set(g, names.size);
      return names.get(g)!;
    });
  }
  const internal: PreparedInternal = {
    leafPanel,
    years: panel.years,
    groups,
    panel,
    entityIndex: new Map(panel.entities.map((e, i) => [e, i])),
    cache: new Map(),
    work: new Float64Array(n * (nLeaf + tree.nodeIds.length)),
    scratch: aggregationScratch(n),
    edgeBuffer: new Float64Array(tree.edges.length),
  };
  const weights = Float64Array.from(tree.edgeWeight);
  const pca: PcaReport[] = [];
  const prepared: PreparedYear = { framework, tree, year: options.year, entities: panel.entities, directions, weights, pca, internal };
  if (tree.pca.some((x) => x !== null)) evaluate(prepared, {}, pca);
  return prepared;
}

function chainOf(framework: Framework, code: string, choice: Choices['imputation']): readonly ImputationSpec[] {
  const own = framework.indicatorOptions[code]?.imputation;
  if (own) return own;
  if (choice === undefined) return framework.imputation;
  return Array.isArray(choice) ? (choice as readonly ImputationSpec[]) : [choice as ImputationSpec];
}

/** Imputes and treats every leaf column of the year for one default imputation choice; cached. */
function imputedYear(prepared: PreparedYear, choice: Choices['imputation']): ImputedYear {
  const key = choice === undefined ? '' : JSON.stringify(choice);
  const { internal, tree, framework, year } = prepared;
  const hit = internal.cache.get(key);
  if (hit) return hit;
  const n = prepared.entities.length;
  const nLeaf = tree.indicators.length;
  const { years, leafPanel, panel } = internal;
  const t0 = years.indexOf(year);
  const values = new Float64Array(n * nLeaf).fill(Number.NaN);
  const codes = new Uint8Array(n * nLeaf);
  const from = new Float64Array(n * nLeaf).fill(Number.NaN);
  const marks = new Uint8Array(n * nLeaf);
  const regressions: RegressionReport[] = [];
  const treatment: TreatmentReport[] = [];
  const notes: string[] = [];
  for (let j = 0; j < nLeaf; j++) {
    const code = tree.indicators[j]!;
    const off = j * n;
    if (t0 >= 0) values.set(leafPanel.subarray((t0 * nLeaf + j) * n, (t0 * nLeaf + j + 1) * n), off);
    for (let i = 0; i < n; i++) codes[off + i] = values[off + i] === values[off + i] ? IMPUTED.observed : IMPUTED.missing;
    const view: SeriesView = { values: leafPanel, years, base: j * n, stride: nLeaf * n };
    for (const spec of chainOf(framework, code, choice)) {
      switch (spec.method) {
        case 'none':
          break;
        case 'latest':
          imputeLatest(view, year, spec.lookback ?? 5, values, off, n, codes, from);
          break;
        case 'interpolate':
          imputeInterpolate(view, year, spec.limit ?? Number.POSITIVE_INFINITY, values, off, n, codes);
          break;
        case 'group_mean':
        case 'group_median':
          if (!internal.groups) {
            notes.push(`${code}: ${spec.method} imputation asked for, but no entity groups were given`);
            break;
          }
          imputeGroup(values, off, n, internal.groups, spec.method === 'group_mean' ? 'mean' : 'median', codes);
          break;
        case 'regression': {
          const c = panel.indicators.indexOf(spec.covariate);
          const covariate = new Float64Array(n).fill(Number.NaN);
          const tc = panel.years.indexOf(year);
          if (c >= 0 && tc >= 0) covariate.set(panel.values.subarray((tc * panel.indicators.length + c) * n, (tc * panel.indicators.length + c + 1) * n));
          const minR2 = spec.minR2 ?? 0.5;
          const fit = imputeRegression(values, off, n, covariate, minR2, codes);
          regressions.push({ indicator: code, covariate: spec.covariate, minR2, ...fit });
          break;
        }
      }
    }
    const treat = framework.indicatorOptions[code]?.treatment ?? framework.treatment;
    if (treat.method !== 'none') treatment.push({ indicator: code, ...treatColumn(values, off, n, treat, marks) });
  }
  const result = { values, codes, from, marks, regressions, treatment, notes };
  internal.cache.set(key, result);
  return result;
}

/**
 * Normalises and aggregates into the work matrix. With `pcaOut`, derives PCA weights for PCA nodes
 * on the way (into prepared.weights) and reports them.
 */
function evaluate(prepared: PreparedYear, choices: Choices, pcaOut?: PcaReport[]): ImputedYear {
  const { tree, framework, internal, directions } = prepared;
  const n = prepared.entities.length;
  const nLeaf = tree.indicators.length;
  const { work, scratch, edgeBuffer } = internal;
  const imputed = imputedYear(prepared, choices.imputation);
  for (let j = 0; j < nLeaf; j++) {
    const code = tree.indicators[j]!;
    const spec = framework.indicatorOptions[code]?.normalisation ?? choices.normalisation ?? framework.normalisation;
    const refIndex = spec.method === 'dist2ref' && spec.ref !== undefined ? (internal.entityIndex.get(spec.ref) ?? -1) : -1;
    normaliseColumn(imputed.values, j * n, n, directions[j] as Direction, spec, work, j * n, refIndex);
  }
  const mult = choices.weightMultipliers;
  for (let e = 0; e < edgeBuffer.length; e++) edgeBuffer[e] = prepared.weights[e]! * (mult ? mult[e]! : 1);
  const forced = choices.aggregation === undefined ? -1 : AGGREGATION_CODE[choices.aggregation];
  for (let o = 0; o < tree.evalOrder.length; o++) {
    const k = tree.evalOrder[o]!;
    const from = tree.childStart[k]!;
    const to = tree.childStart[k + 1]!;
    const pcaSpec = tree.pca[k];
    if (pcaOut && pcaSpec) {
      const cols = [];
      for (let e = from; e < to; e++) cols.push({ data: work, off: tree.childCol[e]! * n });
      const result = pcaWeights(cols, n, { matrix: pcaSpec.matrix });
      for (let e = from; e < to; e++) {
        prepared.weights[e] = result.weights[e - from]!;
        edgeBuffer[e] = result.weights[e - from]! * (mult ? mult[e]! : 1);
      }
      pcaOut.push({ node: tree.nodeIds[k]!, children: tree.edges.slice(from, to).map((x) => x.child), ...result });
    }
    const method = forced >= 0 ? forced : tree.aggregation[k]!;
    const p = forced >= 0 ? (choices.p ?? 1) : tree.p[k]!;
    aggregateInto(work, n, tree.childCol, edgeBuffer, from, to, method, p, tree.availability[k]!, nLeaf + k, scratch);
  }
  return imputed;
}

/**
 * The Monte Carlo entry: scores one set of choices on a prepared year and returns the root scores
 * (one Float64Array per root, entities in `prepared.entities` order). Reuses the prepared buffers:
 * one call at a time per prepared year. O(entities x (leaves + edges)) per call, plus O(n log n)
 * per leaf for rank-based normalisations and O(n^2) per node for Copeland.
 */
export function scoreRoots(prepared: PreparedYear, choices: Choices = {}): Float64Array[] {
  evaluate(prepared, choices);
  const n = prepared.entities.length;
  const nLeaf = prepared.tree.indicators.length;
  return Array.from(prepared.tree.roots, (k) => prepared.internal.work.slice((nLeaf + k) * n, (nLeaf + k + 1) * n));
}

export interface ImputationLogEntry {
  readonly entity: string;
  readonly indicator: string;
  readonly method: (typeof IMPUTED_NAMES)[number];
  readonly value: number;
  /** For `latest`: the year the value comes from. */
  readonly fromYear?: number;
}

export interface PipelineResult {
  readonly year: number;
  readonly entities: readonly string[];
  /** Leaf indicators (columns of `values`, `normalised`, `imputed`, `treated`). */
  readonly indicators: readonly string[];
  readonly nodeIds: readonly string[];
  readonly roots: readonly string[];
  /** Score of every node, by node id; entities in order; NaN = missing. */
  readonly scores: Readonly<Record<string, Float64Array>>;
  /** Rank per root, 1 = highest risk, ties share the best rank (R rank ties "min"); NaN = missing. */
  readonly ranks: Readonly<Record<string, Float64Array>>;
  /** Band index per root, 0 very low .. 4 very high, -1 missing (labels in `bandLabels`). */
  readonly bands: Readonly<Record<string, Int8Array>>;
  readonly bandLabels: typeof BAND_LABELS;
  /** Entities x leaves, column-major: after denomination, imputation and treatment. */
  readonly values: Float64Array;
  /** Entities x leaves, column-major: normalised (higher = more risk). */
  readonly normalised: Float64Array;
  /** Entities x leaves: IMPUTED code per cell (0 observed, 255 missing). */
  readonly imputed: Uint8Array;
  /** Entities x leaves: outlier treatment mark per cell (0 none, 1 winsorised high, 2 low, 3 log). */
  readonly treated: Uint8Array;
  readonly imputation: readonly ImputationLogEntry[];
  readonly regressions: readonly RegressionReport[];
  readonly treatment: readonly TreatmentReport[];
  readonly weights: {
    /** Resolved weight of each child, renormalised to sum 1 within its node. */
    readonly nodes: Readonly<Record<string, Readonly<Record<string, number>>>>;
    /** Each leaf's share of each root: the product of its renormalised weights down the tree. */
    readonly effective: Readonly<Record<string, Readonly<Record<string, number>>>>;
    readonly pca: readonly PcaReport[];
  };
  /** Aggregates made missing by the availability threshold although some child was present. */
  readonly unavailable: readonly { readonly node: string; readonly entity: string; readonly present: number; readonly children: number }[];
  readonly notes: readonly string[];
}

/** Ranks descending, 1 = highest, ties share the smallest rank; NaN stays NaN. O(n log n). */
export function rankDescending(scores: ArrayLike<number>): Float64Array {
  const idx: number[] = [];
  for (let i = 0; i < scores.length; i++) if (scores[i] === scores[i]) idx.push(i);
  idx.sort((a, b) => scores[b]! - scores[a]!);
  const out = new Float64Array(scores.length).fill(Number.NaN);
  for (let r = 0; r < idx.length; r++) {
    out[idx[r]!] = r > 0 && scores[idx[r]!] === scores[idx[r - 1]!] ? out[idx[r - 1]!]! : r + 1;
  }
  return out;
}

/**
 * Effective weights: each leaf's share of each root, the product down the tree of its
 * renormalised weights (with every child present; a missing child shifts its share to siblings).
 */
export function effectiveWeights(tree: CompiledTree, weights: ArrayLike<number>): Record<string, Record<string, number>> {
  const nLeaf = tree.indicators.length;
  const out: Record<string, Record<string, number>> = {};
  for (const root of tree.roots) {
    const shares: Record<string, number> = {};
    const walk = (k: number, share: number) => {
      const from = tree.childStart[k]!;
      const to = tree.childStart[k + 1]!;
      let sum = 0;
      for (let e = from; e < to; e++) sum += weights[e]!;
      for (let e = from; e < to; e++) {
        const s = sum > 0 ? (share * weights[e]!) / sum : 0;
        const col = tree.childCol[e]!;
        if (col < nLeaf) shares[tree.indicators[col]!] = s;
        else walk(col - nLeaf, s);
      }
    };
    walk(root, 1);
    out[tree.nodeIds[root]!] = shares;
  }
  return out;
}

/** Runs the whole pipeline for one year, with the reports. See the module comment. */
export function runPipeline(framework: Framework, panel: Panel, options: PipelineOptions, choices: Choices = {}): PipelineResult {
  const prepared = prepareYear(framework, panel, options);
  const imputed = evaluate(prepared, choices);
  const { tree, entities, internal } = prepared;
  const n = entities.length;
  const nLeaf = tree.indicators.length;
  const work = internal.work;
  const scores: Record<string, Float64Array> = {};
  tree.nodeIds.forEach((id, k) => (scores[id] = work.slice((nLeaf + k) * n, (nLeaf + k + 1) * n)));
  const roots = Array.from(tree.roots, (k) => tree.nodeIds[k]!);
  const ranks: Record<string, Float64Array> = {};
  const bandsByRoot: Record<string, Int8Array> = {};
  for (const r of roots) {
    ranks[r] = rankDescending(scores[r]!);
    bandsByRoot[r] = toBands(scores[r]!, framework.bands.thresholds);
  }
  const imputation: ImputationLogEntry[] = [];
  for (let j = 0; j < nLeaf; j++) {
    for (let i = 0; i < n; i++) {
      const c = imputed.codes[j * n + i]!;
      if (c === IMPUTED.observed || c === IMPUTED.missing) continue;
      const from = imputed.from[j * n + i]!;
      imputation.push({
        entity: entities[i]!,
        indicator: tree.indicators[j]!,
        method: IMPUTED_NAMES[c]!,
        value: imputed.values[j * n + i]!,
        ...(from === from ? { fromYear: from } : {}),
      });
    }
  }
  const nodes: Record<string, Record<string, number>> = {};
  tree.nodeIds.forEach((id, k) => {
    const from = tree.childStart[k]!;
    const to = tree.childStart[k + 1]!;
    let sum = 0;
    for (let e = from; e < to; e++) sum += internal.edgeBuffer[e]!;
    nodes[id] = Object.fromEntries(tree.edges.slice(from, to).map((edge, x) => [edge.child, internal.edgeBuffer[from + x]! / sum]));
  });
  const unavailable: { node: string; entity: string; present: number; children: number }[] = [];
  tree.nodeIds.forEach((id, k) => {
    const from = tree.childStart[k]!;
    const to = tree.childStart[k + 1]!;
    const col = scores[id]!;
    for (let i = 0; i < n; i++) {
      if (col[i] === col[i]) continue;
      let present = 0;
      for (let e = from; e < to; e++) if (work[tree.childCol[e]! * n + i] === work[tree.childCol[e]! * n + i]) present++;
      if (present > 0) unavailable.push({ node: id, entity: entities[i]!, present, children: to - from });
    }
  });
  return {
    year: options.year,
    entities,
    indicators: tree.indicators,
    nodeIds: tree.nodeIds,
    roots,
    scores,
    ranks,
    bands: bandsByRoot,
    bandLabels: BAND_LABELS,
    values: imputed.values.slice(),
    normalised: work.slice(0, nLeaf * n),
    imputed: imputed.codes.slice(),
    treated: imputed.marks.slice(),
    imputation,
    regressions: imputed.regressions,
    treatment: imputed.treatment,
    weights: { nodes, effective: effectiveWeights(tree, internal.edgeBuffer), pca: prepared.pca },
    unavailable,
    notes: imputed.notes,
  };
}
