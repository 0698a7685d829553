/**
 * Explanations of one entity's score under a framework: how much each indicator contributes to
 * each root score, which indicators drive it up or pull it down, and how a change between two years
 * splits into indicator contributions.
 *
 * Contributions are exact, not estimated, wherever the aggregation allows it (METHODS.md,
 * "Explanations": a weighted mean is additive in some transform of its children):
 *
 * | root aggregation      | space        | the terms of the leaves sum to |
 * |-----------------------|--------------|--------------------------------|
 * | arithmetic            | `additive`   | the score                      |
 * | geometric             | `log`        | ln(score); exp(term) is a multiplicative factor, their product the score |
 * | harmonic              | `reciprocal` | 1 / score                      |
 * | generalised (p != 0)  | `power`      | score^p                        |
 * | anything else         | `shapley`    | the score (Shapley over the node's children; see below) |
 *
 * Through a tree, a node's term for child i (w_i / W x child value, or its log, reciprocal or
 * power) is shared out to the leaves under child i in proportion to their score-unit
 * contributions inside child i ("shares"). The shares of a child sum to 1, so the leaf terms sum
 * exactly to the root's total; for an all-arithmetic path this is plain weight x value through
 * the tree. Score-unit contributions inside a nested node are its Euler decomposition
 * c_i = x_i dM/dx_i, exact for every weighted power mean because they are homogeneous of degree 1
 * (it equals Aumann-Shapley attribution from a zero baseline): arithmetic w_i x_i / W; harmonic and
 * generalised M (w_i x_i^p) / sum(w_k x_k^p); geometric M w_i / W (a geometric mean's elasticity to
 * each child is its weight, so a nested geometric node passes its value on by weight).
 *
 * Nodes follow the scorer's rules: missing children drop out and weights renormalise; a node below
 * its availability threshold (its own, else `options.availability`) or with no child present is
 * missing; every mean but the arithmetic floors values at GEOMETRIC_FLOOR; `options.nodeWeights`
 * carries weights the pipeline derived (PCA).
 *
 * Copeland compares an entity with the others, so one entity's values cannot reproduce it, and
 * aggregations this module does not know (any added later) are in the same place. They fall back,
 * documented:
 * with an evaluator in `options.aggregators`, exact Shapley values over the node's children
 * (children not in a coalition drop out as missing values do; exact in total by efficiency; at
 * most 10 children, 2^10 coalitions); otherwise the node value from `options.nodeScores` split in
 * proportion to w_i x_i, marked `exact: false`.
 *
 * References: OECD/JRC Handbook on Constructing Composite Indicators (2008); Shapley (1953);
 * Aumann and Shapley, Values of Non-Atomic Games (1974); Ang, "Decomposition analysis for
 * policymaking in energy" (2004) for the LMDI used by `explainChange`.
 */
import { ThreatLensError } from '../errors.ts';
import { GEOMETRIC_FLOOR, type FrameworkNode } from './framework.ts';

export type ContributionSpace = 'additive' | 'log' | 'reciprocal' | 'power' | 'shapley';

/** Evaluates a node of a custom aggregation on its present children (weights as given, not normalised). */
export type Aggregator = (values: readonly number[], weights: readonly number[]) => number | null;

export interface ExplainOptions {
  /** Raw (unnormalised) value per indicator, reported beside the normalised one. */
  readonly raw?: ReadonlyMap<string, number>;
  /** Imputation method per indicator whose value was imputed. */
  readonly imputed?: ReadonlyMap<string, string>;
  /** Evaluators for aggregations this module does not know, by name; enables exact Shapley. */
  readonly aggregators?: Readonly<Record<string, Aggregator>>;
  /** Node scores from the scorer, used only for unknown aggregations without an evaluator. */
  readonly nodeScores?: ReadonlyMap<string, number | null>;
  /** Weights by node id that replace the tree's (PCA-derived weights come from the pipeline). */
  readonly nodeWeights?: ReadonlyMap<string, Readonly<Record<string, number>>>;
  /** The framework's default availability threshold (least share of children present; default 0). */
  readonly availability?: number;
}

/** One indicator's part in a root score. */
export interface LeafContribution {
  readonly indicator: string;
  /** Node ids from the root down to the indicator's parent. */
  readonly path: readonly string[];
  /** The normalised value that entered the aggregation. */
  readonly value: number;
  readonly raw: number | null;
  /** Imputation method, or null when observed. */
  readonly imputed: string | null;
  /** Effective weight in the root: product of the renormalised weights along the path (they sum to 1). */
  readonly weight: number;
  /** Contribution in the root's space; the terms of all leaves sum to `total`. */
  readonly term: number;
  /** exp(term) in log space: the factor by which this indicator multiplies the score. */
  readonly factor: number | null;
  /** term - weight x total: above (> 0) or below (< 0) an indicator sitting at the root's level; sums to 0. */
  readonly relative: number;
}

export interface RootExplanation {
  readonly root: string;
  readonly aggregation: string;
  /** Null when no child is present (the node is missing, never zero). */
  readonly score: number | null;
  readonly space: ContributionSpace;
  /** The exponent of a `power` space. */
  readonly p: number | null;
  /** score, ln(score), 1/score or score^p: what the terms sum to. */
  readonly total: number | null;
  readonly contributions: readonly LeafContribution[];
  /** False when a fallback approximation was used somewhere in the tree. */
  readonly exact: boolean;
}

interface LeafPart {
  readonly indicator: string;
  readonly path: readonly string[];
  readonly value: number;
  /** Score-unit contribution inside the node being visited (they sum to the node's value). */
  readonly points: number;
  /** Effective weight inside the node being visited. */
  readonly weight: number;
  /** Term in the node's own space (sums to the node's total). */
  readonly term: number;
}

interface NodeResult {
  readonly value: number;
  readonly total: number;
  readonly space: ContributionSpace;
  readonly p: number | null;
  readonly leaves: readonly LeafPart[];
  readonly exact: boolean;
  /** The exponent of the power mean (1 arithmetic, 0 geometric), null for Shapley nodes. */
  readonly exponent: number | null;
  /** Per present child, what explainChange needs to split a change exactly. */
  readonly parts: readonly ChildPart[];
}

interface ChildPart {
  readonly id: string;
  readonly value: number;
  /** Renormalised weight w_i / W. */
  readonly a: number;
  /** The child's term in the node's space: a x f(value) for power means. */
  readonly term: number;
  /** Share of the child's value by leaf (sum to 1). */
  readonly shares: ReadonlyMap<string, number>;
  /** The child's own explanation; null for an indicator. */
  readonly sub: NodeResult | null;
}

interface Present {
  readonly id: string;
  readonly value: number;
  readonly weight: number;
  readonly sub: NodeResult | null;
  /** Leaves under the child with their share of it (sum to 1); a leaf child is its own single leaf. */
  readonly leaves: readonly { readonly part: Omit<LeafPart, 'points' | 'weight' | 'term'>; readonly share: number; readonly weight: number }[];
}

/** The exponent of a power mean, or null when the aggregation is not one. */
export function powerOf(node: FrameworkNode): number | null {
  switch (node.aggregation as string) {
    case 'arithmetic':
      return 1;
    case 'geometric':
      return 0;
    case 'harmonic':
      return -1;
    case 'generalised': {
      // The parameter's field is the framework module's; read it structurally so this compiles either way.
      const p = (node as { readonly p?: unknown }).p;
      return typeof p === 'number' && Number.isFinite(p) ? p : null;
    }
    default:
      return null;
  }
}

/**
 * Every mean but the arithmetic floors its values at GEOMETRIC_FLOOR first, as the scorer does
 * (engine/scoring/aggregate.ts), so that the decomposition explains the score actually computed.
 */
function floored(x: number, p: number): number {
  return p === 1 ? x : Math.max(x, GEOMETRIC_FLOOR);
}

/** The weighted power mean of present values (weights not yet normalised): the scorer's rule. */
export function powerMean(values: readonly number[], weights: readonly number[], p: number): number | null {
  const W = weights.reduce((a, b) => a + b, 0);
  if (values.length === 0 || W === 0) return null;
  if (p === 0) return Math.exp(values.reduce((acc, x, i) => acc + weights[i]! * Math.log(floored(x, 0)), 0) / W);
  const m = values.reduce((acc, x, i) => acc + weights[i]! * floored(x, p) ** p, 0) / W;
  return p === 1 ? m : m ** (1 / p);
}

/** The node's availability threshold: its own, else the framework default (read structurally: optional field). */
function availabilityOf(node: FrameworkNode, options: ExplainOptions): number {
  const own = (node as { readonly availability?: unknown }).availability;
  return typeof own === 'number' ? own : options.availability ?? 0;
}

/**
 * Exact Shapley values of players 0..n-1 under characteristic function `v` (v of the empty
 * coalition included), by enumerating all 2^n coalitions: O(2^n n). Efficiency makes them sum
 * to v(all) - v(none) exactly (up to rounding).
 */
export function shapleyValues(n: number, v: (members: readonly number[]) => number): number[] {
  if (n > 10) throw new ThreatLensError('TL_BAD_OPTION', `exact Shapley values are enumerated for at most 10 players, got ${n}`);
  const worth = new Float64Array(1 << n);
  for (let mask = 0; mask < 1 << n; mask++) {
    const members: number[] = [];
    for (let i = 0; i < n; i++) if (mask & (1 << i)) members.push(i);
    worth[mask] = v(members);
  }
  const fact = [1];
  for (let i = 1; i <= n; i++) fact.push(fact[i - 1]! * i);
  const phi = new Array<number>(n).fill(0);
  for (let mask = 0; mask < 1 << n; mask++) {
    let size = 0;
    for (let i = 0; i < n; i++) if (mask & (1 << i)) size++;
    const coef = (fact[size]! * fact[n - size - 1]!) / fact[n]!;
    for (let i = 0; i < n; i++) if (!(mask & (1 << i))) phi[i]! += coef * (worth[mask | (1 << i)]! - worth[mask]!);
  }
  return phi;
}

function present(node: FrameworkNode, values: ReadonlyMap<string, number>, options: ExplainOptions, path: readonly string[]): { children: Present[]; count: number; exact: boolean } {
  const children: Present[] = [];
  let exact = true;
  // Children with a value, zero-weight ones included: the availability threshold counts them (as the scorer does).
  let count = 0;
  const weights = options.nodeWeights?.get(node.id) ?? node.weights;
  for (const child of node.children) {
    const id = typeof child === 'string' ? child : child.id;
    const weight = weights ? weights[id] ?? 0 : 1;
    if (typeof child === 'string') {
      const value = values.get(child);
      if (value === undefined || !Number.isFinite(value)) continue;
      count++;
      if (weight === 0) continue;
      children.push({ id, value, weight, sub: null, leaves: [{ part: { indicator: child, path, value }, share: 1, weight: 1 }] });
      continue;
    }
    const result = visit(child, values, options, [...path, child.id]);
    if (result === null) continue;
    count++;
    if (weight === 0) continue;
    exact &&= result.exact;
    // Shares of the child's value by score-unit contribution; a zero value has none, so weights stand in.
    const shares = result.leaves.map((l) => (result.value !== 0 ? l.points / result.value : l.weight));
    children.push({
      id,
      value: result.value,
      weight,
      sub: result,
      leaves: result.leaves.map((l, i) => ({ part: { indicator: l.indicator, path: l.path, value: l.value }, share: shares[i]!, weight: l.weight })),
    });
  }
  return { children, count, exact };
}

/** Explains one node: its value, its total in its own space, and its leaves' points and terms. */
function visit(node: FrameworkNode, values: ReadonlyMap<string, number>, options: ExplainOptions, path: readonly string[]): NodeResult | null {
  const { children, count, exact: childrenExact } = present(node, values, options, path);
  // Below the availability threshold the node is missing; the tolerance is the scorer's.
  if (children.length === 0 || count / node.children.length < availabilityOf(node, options) - 1e-12) return null;
  const W = children.reduce((a, c) => a + c.weight, 0);
  const p = powerOf(node);
  let value: number;
  let total: number;
  let space: ContributionSpace;
  let childTerms: number[];
  let childPoints: number[];
  let exact = childrenExact;
  if (p !== null) {
    value = powerMean(children.map((c) => c.value), children.map((c) => c.weight), p)!;
    const a = children.map((c) => c.weight / W);
    if (p === 0) {
      space = 'log';
      total = Math.log(value);
      childTerms = children.map((c, i) => a[i]! * Math.log(floored(c.value, 0)));
      childPoints = a.map((ai) => ai * value);
    } else {
      space = p === 1 ? 'additive' : p === -1 ? 'reciprocal' : 'power';
      const powered = children.map((c, i) => a[i]! * floored(c.value, p) ** p);
      total = powered.reduce((s, t) => s + t, 0);
      childTerms = powered;
      // All children at 0 (p > 0): nothing to share but zero, so weights stand in.
      childPoints = powered.map((t, i) => (total !== 0 ? (value * t) / total : value * a[i]!));
    }
  } else {
    space = 'shapley';
    const aggregate = options.aggregators?.[node.aggregation as string];
    if (aggregate && children.length <= 10) {
      const v = (members: readonly number[]) =>
        members.length === 0 ? 0 : aggregate(members.map((i) => children[i]!.value), members.map((i) => children[i]!.weight)) ?? 0;
      value = v(children.map((_, i) => i));
      childPoints = shapleyValues(children.length, v);
    } else {
      const given = aggregate ? aggregate(children.map((c) => c.value), children.map((c) => c.weight)) : options.nodeScores?.get(node.id);
      if (given === undefined || given === null) {
        throw new ThreatLensError(
          'TL_BAD_OPTION',
          `node "${node.id}": aggregation "${String(node.aggregation)}" cannot be explained without its value; pass options.aggregators["${String(node.aggregation)}"] or options.nodeScores`,
        );
      }
      value = given;
      // Approximation: split as if arithmetic, scaled so that the parts still sum to the value.
      const wx = children.map((c) => (c.weight / W) * c.value);
      const sum = wx.reduce((s, t) => s + t, 0);
      childPoints = children.map((c, i) => (sum !== 0 ? (value * wx[i]!) / sum : (value * c.weight) / W));
      exact = false;
    }
    total = value;
    childTerms = childPoints;
  }
  const leaves: LeafPart[] = [];
  children.forEach((c, i) => {
    for (const leaf of c.leaves) {
      leaves.push({
        ...leaf.part,
        points: childPoints[i]! * leaf.share,
        term: childTerms[i]! * leaf.share,
        weight: (c.weight / W) * leaf.weight,
      });
    }
  });
  const parts = children.map((c, i) => ({
    id: c.id,
    value: c.value,
    a: c.weight / W,
    term: childTerms[i]!,
    shares: new Map(c.leaves.map((l) => [l.part.indicator, l.share])),
    sub: c.sub,
  }));
  return { value, total, space, p: space === 'power' ? p : null, leaves, exact, exponent: p, parts };
}

/**
 * Explains one root score of an entity: each present indicator's exact contribution in the
 * root's space (see the module comment), its effective weight, normalised and raw value, and
 * whether it was imputed. Cost O(indicators x depth), or O(2^n n) at a Shapley node of n children.
 *
 * @example
 * explainScore({ id: 'r', aggregation: 'arithmetic', children: ['a', 'b'] }, new Map([['a', 2], ['b', 4]]))
 * // score 3, space 'additive', terms a: 1, b: 2
 */
export function explainScore(root: FrameworkNode, values: ReadonlyMap<string, number>, options: ExplainOptions = {}): RootExplanation {
  const result = visit(root, values, options, [root.id]);
  if (result === null) {
    return { root: root.id, aggregation: root.aggregation, score: null, space: spaceOf(root), p: null, total: null, contributions: [], exact: true };
  }
  const contributions = result.leaves.map((l) => ({
    indicator: l.indicator,
    path: l.path,
    value: l.value,
    raw: options.raw?.get(l.indicator) ?? null,
    imputed: options.imputed?.get(l.indicator) ?? null,
    weight: l.weight,
    term: l.term,
    factor: result.space === 'log' ? Math.exp(l.term) : null,
    relative: l.term - l.weight * result.total,
  }));
  return { root: root.id, aggregation: root.aggregation, score: result.value, space: result.space, p: result.p, total: result.total, contributions, exact: result.exact };
}

function spaceOf(node: FrameworkNode): ContributionSpace {
  const p = powerOf(node);
  return p === null ? 'shapley' : p === 0 ? 'log' : p === 1 ? 'additive' : p === -1 ? 'reciprocal' : 'power';
}

/** Explains every root of a framework (GOCI has two). */
export function explainFramework(roots: readonly FrameworkNode[], values: ReadonlyMap<string, number>, options: ExplainOptions = {}): RootExplanation[] {
  return roots.map((root) => explainScore(root, values, options));
}

export interface Drivers {
  /** Largest contributions first (by term; in reciprocal space the smallest term adds most to the score). */
  readonly up: readonly LeafContribution[];
  /** Indicators pulling the score down most: most negative `relative` first, only those below 0. */
  readonly down: readonly LeafContribution[];
}

/**
 * The top `k` drivers of a score, and the `k` indicators pulling it down. Up is by term because
 * that is the contribution itself; down is by `relative` because in additive space no term is
 * negative for values >= 0, and what pulls a mean down is a child below it.
 */
export function topDrivers(explanation: RootExplanation, k = 3): Drivers {
  // In reciprocal (harmonic) space and power space with p < 0 a larger term means a lower score.
  const sign = explanation.space === 'reciprocal' || (explanation.space === 'power' && (explanation.p ?? 1) < 0) ? -1 : 1;
  const up = [...explanation.contributions].sort((a, b) => sign * (b.term - a.term)).slice(0, k);
  const down = explanation.contributions
    .filter((c) => sign * c.relative < 0)
    .sort((a, b) => sign * (a.relative - b.relative))
    .slice(0, k);
  return { up, down };
}

export interface ChangeContribution {
  readonly indicator: string;
  /** Change attributed to the indicator in the root's space (log change for a geometric root). */
  readonly termChange: number;
  /** Its share of the score change, in score units. */
  readonly points: number;
}

export interface ChangeExplanation {
  readonly root: string;
  readonly from: number;
  readonly to: number;
  readonly change: number;
  readonly space: ContributionSpace;
  readonly contributions: readonly ChangeContribution[];
  /** change - sum of points: 0 up to rounding when the decomposition is exact. */
  readonly residual: number;
}

/** (b - a) / (ln b - ln a), and a when a = b: the logarithmic mean of LMDI. */
export function logarithmicMean(a: number, b: number): number {
  if (Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b))) return a;
  return (b - a) / (Math.log(b) - Math.log(a));
}

/** f(x) of a power mean's space: x^p, ln x for p = 0; floored like the scorer. */
function transform(x: number, p: number): number {
  return p === 0 ? Math.log(floored(x, 0)) : floored(x, p) ** p;
}

/** f'(x), 0 where the floor holds the value. */
function derivative(x: number, p: number): number {
  if (p !== 1 && x <= GEOMETRIC_FLOOR) return 0;
  return p === 0 ? 1 / x : p * x ** (p - 1);
}

/** d(score) / d(total) between two totals: the exact secant that turns a term change into score points. */
function toPoints(n0: NodeResult, n1: NodeResult): number {
  const p = n1.exponent;
  if (p === null || p === 1) return 1;
  if (p === 0) return logarithmicMean(n0.value, n1.value);
  const dt = n1.total - n0.total;
  // At no change in total the derivative ds/d(s^p) = s^(1-p) / p stands in.
  return Math.abs(dt) > 1e-15 ? (n1.value - n0.value) / dt : n0.value ** (1 - p) / p;
}

function add(into: Map<string, number>, key: string, x: number): void {
  into.set(key, (into.get(key) ?? 0) + x);
}

/**
 * Splits total1 - total0 of one node (same aggregation both years) into leaf changes in the node's
 * space, exactly in total. For a child present both years, T = a f(v) changes by
 * mean(a) (f(v1) - f(v0)) + (a1 - a0) mean(f(v)) (the midpoint split, exact): the first part goes
 * to the child's leaves in proportion to their score-point changes inside the child (which sum to
 * v1 - v0; this is LMDI for a log space), the second, a weight change caused by siblings going
 * missing or coming back, by the leaves' mean shares. In an additive node over an additive child
 * (and at Shapley nodes) the plain difference of contributions is used, which is the same when
 * the same children are present and is the rule stated for arithmetic trees. A child present in
 * one year only contributes its whole term, with its sign.
 */
function termChanges(n0: NodeResult, n1: NodeResult): Map<string, number> {
  const out = new Map<string, number>();
  const before = new Map(n0.parts.map((c) => [c.id, c]));
  const after = new Map(n1.parts.map((c) => [c.id, c]));
  const p = n1.exponent;
  for (const id of new Set([...before.keys(), ...after.keys()])) {
    const c0 = before.get(id);
    const c1 = after.get(id);
    const flat = (c: ChildPart | undefined, sign: number) => c && c.shares.forEach((s, leaf) => add(out, leaf, sign * c.term * s));
    const additiveChild = (c: ChildPart) => c.sub === null || c.sub.exponent === 1;
    if (!c0 || !c1 || p === null || (p === 1 && additiveChild(c0) && additiveChild(c1))) {
      flat(c1, 1);
      flat(c0, -1);
      continue;
    }
    const dv = c1.value - c0.value;
    const df = transform(c1.value, p) - transform(c0.value, p);
    const ratio = Math.abs(dv) > 1e-15 ? df / dv : derivative(c0.value, p);
    const aMean = (c0.a + c1.a) / 2;
    const fMean = (transform(c0.value, p) + transform(c1.value, p)) / 2;
    const inner = c0.sub && c1.sub ? pointChanges(c0.sub, c1.sub) : new Map([[id, dv]]);
    inner.forEach((d, leaf) => add(out, leaf, aMean * ratio * d));
    const da = c1.a - c0.a;
    if (da !== 0) {
      for (const leaf of new Set([...c0.shares.keys(), ...c1.shares.keys()])) {
        add(out, leaf, (da * fMean * ((c0.shares.get(leaf) ?? 0) + (c1.shares.get(leaf) ?? 0))) / 2);
      }
    }
  }
  return out;
}

/** Splits value1 - value0 of one node into leaf changes in score points, exactly in total. */
function pointChanges(n0: NodeResult, n1: NodeResult): Map<string, number> {
  if (n0.exponent !== n1.exponent) {
    throw new ThreatLensError('TL_BAD_OPTION', 'explainChange compares one tree: a node changed its aggregation between the two years');
  }
  const scale = toPoints(n0, n1);
  return new Map([...termChanges(n0, n1)].map(([leaf, t]) => [leaf, t * scale]));
}

/**
 * Splits the change of a root score between two years into indicator contributions, exact in
 * total; the residual is reported (0 up to rounding).
 *
 * - Arithmetic tree: the difference of each indicator's contributions.
 * - Geometric root (INFORM style) or any power mean: the change of the root's total (ln score,
 *   1/score, score^p) is split as `termChanges` says, then turned into score points by the exact
 *   identity of the space: log, the logarithmic mean L(s0, s1) (LMDI-I, Ang 2004); reciprocal
 *   -s0 s1; power (s1 - s0) / (s1^p - s0^p). An indicator that did not change gets 0 when the same
 *   indicators are present in both years.
 *
 * Null when either year has no score. O(indicators x depth).
 *
 * @example
 * // 2021 a = 2, b = 4 (score 3); 2022 a = 3, b = 4 (score 3.5): a +0.5, b 0, residual 0.
 */
export function explainChange(
  root: FrameworkNode,
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
  options: ExplainOptions = {},
): ChangeExplanation | null {
  const n0 = visit(root, before, options, [root.id]);
  const n1 = visit(root, after, options, [root.id]);
  if (n0 === null || n1 === null) return null;
  const scale = toPoints(n0, n1);
  const contributions = [...termChanges(n0, n1)].map(([indicator, termChange]) => ({ indicator, termChange, points: termChange * scale }));
  const change = n1.value - n0.value;
  const residual = change - contributions.reduce((acc, c) => acc + c.points, 0);
  return { root: root.id, from: n0.value, to: n1.value, change, space: n1.space, contributions, residual };
}
