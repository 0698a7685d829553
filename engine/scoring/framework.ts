/**
 * Frameworks are data: a JSON tree whose leaves are indicator codes and whose inner nodes say how
 * their children combine, plus defaults for each step of the pipeline (denomination, imputation,
 * outlier treatment, normalisation, weighting, aggregation, availability, bands) and per-indicator
 * overrides. This module parses and validates one, with errors that name the node or indicator;
 * the engine then trusts what it returns (parse at the edge, compute inside).
 *
 * @example
 * {
 *   "id": "goci-2023", "version": "1.0.0", "title": "Global Organized Crime Index 2023",
 *   "defaults": { "aggregation": "arithmetic" },
 *   "roots": [{ "id": "criminality", "children": [
 *     { "id": "criminal_markets", "children": ["ocindex_market_human_trafficking", "..."] },
 *     { "id": "criminal_actors", "children": ["ocindex_actor_mafia_style_groups", "..."] } ] }]
 * }
 */
import { ThreatLensError } from '../errors.ts';
import { AGGREGATIONS, GEOMETRIC_FLOOR, type Aggregation } from './aggregate.ts';
import { DEFAULT_BANDS, type BandSpec } from './bands.ts';
import { IMPUTATION_METHODS, type ImputationSpec } from './impute.ts';
import { checkNormalisationSpec, type NormalisationSpec } from './normalise.ts';
import { TREATMENT_METHODS, type TreatmentSpec } from './outliers.ts';

export { AGGREGATIONS, GEOMETRIC_FLOOR, type Aggregation };

/** How a node's children are weighted: explicit `weights`, equal (neither), or PCA-derived. */
export interface PcaWeighting {
  readonly method: 'pca';
  readonly matrix: 'correlation' | 'covariance';
}

export interface FrameworkNode {
  readonly id: string;
  readonly aggregation: Aggregation;
  /** Exponent of the generalised mean (aggregation "generalised"). */
  readonly p?: number;
  /** Weight by child (node id or indicator code); equal weights when absent. */
  readonly weights?: Readonly<Record<string, number>>;
  /** PCA-derived weights (instead of `weights`). */
  readonly weighting?: PcaWeighting;
  /** Least share of children present for the node to have a score (framework default when absent). */
  readonly availability?: number;
  readonly children: readonly (FrameworkNode | string)[];
}

/** Per-indicator options: each overrides the framework default for that indicator. */
export interface IndicatorOptions {
  /** Indicator to divide by (e.g. "wb_population"), same entity and year. */
  readonly denominator?: string;
  /** Multiplier after division (default 1e5: per 100,000). */
  readonly scale?: number;
  readonly normalisation?: NormalisationSpec;
  readonly imputation?: readonly ImputationSpec[];
  readonly treatment?: TreatmentSpec;
}

export interface Framework {
  readonly id: string;
  readonly version: string;
  readonly title: string;
  /** How every indicator is normalised across entities before aggregation (default: none). */
  readonly normalisation: NormalisationSpec;
  /** Imputation steps tried in order for missing cells (default: none). */
  readonly imputation: readonly ImputationSpec[];
  /** Outlier treatment (default: none). */
  readonly treatment: TreatmentSpec;
  /** Default least share of children present (default 0: at least one). */
  readonly availability: number;
  readonly bands: BandSpec;
  /** Per-indicator overrides, by indicator code. */
  readonly indicatorOptions: Readonly<Record<string, IndicatorOptions>>;
  /** Top-level trees: each root is scored (GOCI has criminality and resilience). */
  readonly roots: readonly FrameworkNode[];
}

interface RawNode {
  id?: unknown;
  aggregation?: unknown;
  p?: unknown;
  weights?: unknown;
  weighting?: unknown;
  availability?: unknown;
  children?: unknown;
}

function invalid(frameworkId: string, where: string, message: string): never {
  throw new ThreatLensError('TL_BAD_OPTION', `framework ${frameworkId}, ${where}: ${message}`);
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isShare = (x: unknown): x is number => typeof x === 'number' && x >= 0 && x <= 1;

function parseImputation(raw: unknown, known: ReadonlySet<string>, fail: (m: string) => never): ImputationSpec[] {
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return list.map((item: unknown) => {
    const spec = typeof item === 'string' ? { method: item } : item;
    if (!isObject(spec) || !(IMPUTATION_METHODS as readonly unknown[]).includes(spec.method)) {
      fail(`imputation "${String(isObject(spec) ? spec.method : spec)}" is not one of ${IMPUTATION_METHODS.join(', ')}`);
    }
    if (spec.lookback !== undefined && !(Number.isInteger(spec.lookback) && (spec.lookback as number) >= 1)) fail('imputation "lookback" must be a whole number of years >= 1');
    if (spec.limit !== undefined && !(Number.isInteger(spec.limit) && (spec.limit as number) >= 0)) fail('imputation "limit" must be a whole number of years >= 0');
    if (spec.method === 'regression') {
      if (typeof spec.covariate !== 'string' || !known.has(spec.covariate)) fail(`regression imputation needs a "covariate" from the catalogue (got ${JSON.stringify(spec.covariate)})`);
      if (spec.minR2 !== undefined && !isShare(spec.minR2)) fail('regression "minR2" must be between 0 and 1');
    }
    return spec as unknown as ImputationSpec;
  });
}

function parseTreatment(raw: unknown, fail: (m: string) => never): TreatmentSpec {
  if (raw === undefined) return { method: 'none' };
  const spec = typeof raw === 'string' ? { method: raw } : raw;
  if (!isObject(spec) || !(TREATMENT_METHODS as readonly unknown[]).includes(spec.method)) fail(`treatment must be one of ${TREATMENT_METHODS.join(', ')}`);
  if (spec.winmax !== undefined && !(Number.isInteger(spec.winmax) && (spec.winmax as number) >= 1)) fail('treatment "winmax" must be a whole number >= 1');
  for (const k of ['skew', 'kurt']) if (spec[k] !== undefined && !(typeof spec[k] === 'number' && Number.isFinite(spec[k]))) fail(`treatment "${k}" must be a number`);
  if (spec.log !== undefined && typeof spec.log !== 'boolean') fail('treatment "log" must be true or false');
  return spec as unknown as TreatmentSpec;
}

function parseNormalisation(raw: unknown, fail: (m: string) => never): NormalisationSpec {
  const message = checkNormalisationSpec(raw);
  if (message) fail(message);
  return raw as NormalisationSpec;
}

/** Parses and validates a framework document against the indicator catalogue. */
export function parseFramework(document: unknown, knownIndicators: ReadonlySet<string>): Framework {
  const doc = document as {
    id?: unknown;
    version?: unknown;
    title?: unknown;
    defaults?: Record<string, unknown>;
    indicators?: unknown;
    roots?: unknown;
  };
  const id = typeof doc?.id === 'string' && doc.id ? doc.id : invalid('?', 'top level', '"id" must be a non-empty string');
  if (typeof doc.version !== 'string') invalid(id, 'top level', '"version" must be a string');
  if (typeof doc.title !== 'string') invalid(id, 'top level', '"title" must be a string');
  const defaults = doc.defaults ?? {};
  if (!isObject(defaults)) invalid(id, 'top level', '"defaults" must be an object');
  const atDefaults = (m: string): never => invalid(id, 'defaults', m);
  const defaultAggregation = defaults.aggregation ?? 'arithmetic';
  const defaultP = defaults.p;
  if (!Array.isArray(doc.roots) || doc.roots.length === 0) invalid(id, 'top level', '"roots" must be a non-empty array of nodes');
  const availability = (defaults.availability ?? 0) as number;
  if (!isShare(availability)) atDefaults('"availability" must be a share between 0 and 1');
  let bands = DEFAULT_BANDS;
  if (defaults.bands !== undefined) {
    const t = isObject(defaults.bands) ? defaults.bands.thresholds : undefined;
    if (!Array.isArray(t) || t.length !== 4 || !t.every((x, i) => typeof x === 'number' && Number.isFinite(x) && (i === 0 || x > t[i - 1]))) {
      atDefaults('"bands" must be { "thresholds": [four increasing numbers] } (lower bounds of low, medium, high, very high)');
    }
    bands = { thresholds: t as unknown as BandSpec['thresholds'] };
  }
  const seen = new Set<string>();

  const parseNode = (raw: RawNode, path: string): FrameworkNode => {
    const nodeId = typeof raw?.id === 'string' && raw.id ? raw.id : invalid(id, path, 'a node needs a string "id"');
    const where = `node "${nodeId}"`;
    if (seen.has(nodeId)) invalid(id, where, 'the id is used twice (a cycle or a copy-paste slip)');
    seen.add(nodeId);
    const aggregation = raw.aggregation ?? defaultAggregation;
    if (!AGGREGATIONS.includes(aggregation as Aggregation)) invalid(id, where, `aggregation "${String(aggregation)}" is not one of ${AGGREGATIONS.join(', ')}`);
    const p = raw.p ?? (raw.aggregation === undefined ? defaultP : undefined);
    if (aggregation === 'generalised' && !(typeof p === 'number' && Number.isFinite(p))) invalid(id, where, 'the generalised mean needs a number "p" (1 arithmetic, 0 geometric, -1 harmonic)');
    if (raw.availability !== undefined && !isShare(raw.availability)) invalid(id, where, '"availability" must be a share between 0 and 1');
    if (!Array.isArray(raw.children) || raw.children.length === 0) invalid(id, where, '"children" must be a non-empty array');
    const children = raw.children.map((child: unknown, i: number) => {
      if (typeof child === 'string') {
        if (!knownIndicators.has(child)) invalid(id, where, `child "${child}" is not an indicator in the catalogue`);
        if (seen.has(child)) invalid(id, where, `indicator "${child}" appears twice in the tree`);
        seen.add(child);
        return child;
      }
      return parseNode(child as RawNode, `${path}.children[${i}]`);
    });
    const childIds = children.map((c) => (typeof c === 'string' ? c : c.id));
    let weights: Record<string, number> | undefined;
    if (raw.weights !== undefined) {
      if (!isObject(raw.weights)) invalid(id, where, '"weights" must be an object of child -> number');
      weights = raw.weights as Record<string, number>;
      const keys = Object.keys(weights);
      const unknown = keys.filter((k) => !childIds.includes(k));
      const missing = childIds.filter((c) => !(c in weights!));
      if (unknown.length > 0 || missing.length > 0) {
        invalid(id, where, `weights do not match the children (${[...unknown.map((k) => `no child "${k}"`), ...missing.map((c) => `no weight for "${c}"`)].join('; ')})`);
      }
      for (const [k, w] of Object.entries(weights)) {
        if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) invalid(id, where, `weight of "${k}" must be a number >= 0`);
      }
      if (Object.values(weights).every((w) => w === 0)) invalid(id, where, 'weights are all zero');
    }
    let weighting: PcaWeighting | undefined;
    if (raw.weighting !== undefined && raw.weighting !== 'equal' && raw.weighting !== 'explicit') {
      const spec = typeof raw.weighting === 'string' ? { method: raw.weighting } : raw.weighting;
      if (!isObject(spec) || spec.method !== 'pca') invalid(id, where, 'weighting must be "equal", "explicit" or "pca" (or { "method": "pca", "matrix": "correlation" | "covariance" })');
      if (spec.matrix !== undefined && spec.matrix !== 'correlation' && spec.matrix !== 'covariance') invalid(id, where, 'PCA "matrix" must be "correlation" or "covariance"');
      if (weights) invalid(id, where, 'give either "weights" or PCA weighting, not both');
      weighting = { method: 'pca', matrix: (spec.matrix as PcaWeighting['matrix'] | undefined) ?? 'correlation' };
    }
    if (raw.weighting === 'explicit' && !weights) invalid(id, where, 'explicit weighting needs "weights"');
    return {
      id: nodeId,
      aggregation: aggregation as Aggregation,
      ...(typeof p === 'number' && aggregation === 'generalised' ? { p } : {}),
      ...(weights ? { weights } : {}),
      ...(weighting ? { weighting } : {}),
      ...(raw.availability !== undefined ? { availability: raw.availability as number } : {}),
      children,
    };
  };

  const normalisation = parseNormalisation(defaults.normalisation ?? { method: 'none' }, atDefaults);
  const imputation = parseImputation(defaults.imputation, knownIndicators, atDefaults);
  const treatment = parseTreatment(defaults.treatment, atDefaults);
  const roots = (doc.roots as RawNode[]).map((root, i) => parseNode(root, `roots[${i}]`));

  const indicatorOptions: Record<string, IndicatorOptions> = {};
  if (doc.indicators !== undefined) {
    if (!isObject(doc.indicators)) invalid(id, 'top level', '"indicators" must be an object of indicator code -> options');
    for (const [code, rawOptions] of Object.entries(doc.indicators)) {
      const fail = (m: string): never => invalid(id, `indicator "${code}"`, m);
      if (!knownIndicators.has(code) || !seen.has(code)) fail('options are given for an indicator that is not a leaf of the tree');
      if (!isObject(rawOptions)) fail('options must be an object');
      const o = rawOptions as Record<string, unknown>;
      const allowed = ['denominator', 'scale', 'normalisation', 'imputation', 'treatment'];
      const extra = Object.keys(o).filter((k) => !allowed.includes(k));
      if (extra.length) fail(`unknown option(s) ${extra.map((k) => `"${k}"`).join(', ')} (allowed: ${allowed.join(', ')})`);
      if (o.denominator !== undefined && (typeof o.denominator !== 'string' || !knownIndicators.has(o.denominator))) fail(`denominator ${JSON.stringify(o.denominator)} is not an indicator in the catalogue`);
      if (o.scale !== undefined && !(typeof o.scale === 'number' && Number.isFinite(o.scale) && o.scale > 0)) fail('"scale" must be a number > 0');
      if (o.scale !== undefined && o.denominator === undefined) fail('"scale" only applies with a "denominator"');
      indicatorOptions[code] = {
        ...(o.denominator !== undefined ? { denominator: o.denominator as string, scale: (o.scale as number | undefined) ?? 1e5 } : {}),
        ...(o.normalisation !== undefined ? { normalisation: parseNormalisation(o.normalisation, fail) } : {}),
        ...(o.imputation !== undefined ? { imputation: parseImputation(o.imputation, knownIndicators, fail) } : {}),
        ...(o.treatment !== undefined ? { treatment: parseTreatment(o.treatment, fail) } : {}),
      };
    }
  }
  return { id, version: doc.version as string, title: doc.title as string, normalisation, imputation, treatment, availability, bands, indicatorOptions, roots };
}

/**
 * Scores every node for one entity: missing children drop out and the weights of the others are
 * renormalised; a node below its availability threshold, or with no child present, is missing
 * (null), never zero. Returns node id -> score. Copeland needs other entities: one entity alone
 * scores 0. PCA-weighted nodes need other entities too: here they use equal weights (the pipeline
 * derives the PCA weights).
 */
export function scoreEntity(framework: Framework, values: ReadonlyMap<string, number>): Map<string, number | null> {
  const scores = new Map<string, number | null>();
  const visit = (node: FrameworkNode): number | null => {
    let weightSum = 0;
    let acc = 0;
    let present = 0;
    const p = node.aggregation === 'generalised' ? node.p! : 1;
    const kind = node.aggregation === 'generalised' && p === 0 ? 'geometric' : node.aggregation;
    for (const child of node.children) {
      const childId = typeof child === 'string' ? child : child.id;
      const value = typeof child === 'string' ? values.get(child) ?? null : visit(child);
      if (value === null || !Number.isFinite(value)) continue;
      present++;
      const weight = node.weights ? node.weights[childId]! : 1;
      if (weight === 0) continue;
      weightSum += weight;
      const floored = Math.max(value, GEOMETRIC_FLOOR);
      if (kind === 'geometric') acc += weight * Math.log(floored);
      else if (kind === 'harmonic') acc += weight / floored;
      else if (kind === 'generalised') acc += weight * floored ** p;
      else acc += weight * value;
    }
    const threshold = node.availability ?? framework.availability;
    let score: number | null;
    if (weightSum === 0 || present / node.children.length < threshold - 1e-12) score = null;
    else if (kind === 'geometric') score = Math.exp(acc / weightSum);
    else if (kind === 'harmonic') score = weightSum / acc;
    else if (kind === 'generalised') score = (acc / weightSum) ** (1 / p);
    else if (kind === 'copeland') score = 0;
    else score = acc / weightSum;
    scores.set(node.id, score);
    return score;
  };
  for (const root of framework.roots) visit(root);
  return scores;
}
