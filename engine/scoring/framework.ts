/**
 * Frameworks are data: a JSON tree whose leaves are indicator codes and whose inner nodes say how
 * their children combine. This module parses and validates one (unknown indicators, repeated
 * node ids, weights that do not match the children) with errors that name the node.
 *
 * @example
 * {
 *   "id": "goci-2023", "version": "1.0.0", "title": "Global Organized Crime Index 2023",
 *   "defaults": { "aggregation": "arithmetic" },
 *   "root": { "id": "criminality", "children": [
 *     { "id": "criminal_markets", "children": ["ocindex_market_human_trafficking", "..."] },
 *     { "id": "criminal_actors", "children": ["ocindex_actor_mafia_style_groups", "..."] } ] }
 * }
 */
import { ThreatLensError } from '../errors.ts';
import { NORMALISATION_METHODS, type NormalisationSpec } from './normalise.ts';

export const AGGREGATIONS = ['arithmetic', 'geometric'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

export interface FrameworkNode {
  readonly id: string;
  readonly aggregation: Aggregation;
  /** Weight by child (node id or indicator code); equal weights when absent. */
  readonly weights?: Readonly<Record<string, number>>;
  readonly children: readonly (FrameworkNode | string)[];
}

export interface Framework {
  readonly id: string;
  readonly version: string;
  readonly title: string;
  /** How every indicator is normalised across entities before aggregation (default: none). */
  readonly normalisation: NormalisationSpec;
  /** Top-level trees: each root is scored (GOCI has criminality and resilience). */
  readonly roots: readonly FrameworkNode[];
}

interface RawNode {
  id?: unknown;
  aggregation?: unknown;
  weights?: unknown;
  children?: unknown;
}

function invalid(frameworkId: string, where: string, message: string): never {
  throw new ThreatLensError('TL_BAD_OPTION', `framework ${frameworkId}, ${where}: ${message}`);
}

/** Parses and validates a framework document against the indicator catalogue. */
export function parseFramework(document: unknown, knownIndicators: ReadonlySet<string>): Framework {
  const doc = document as {
    id?: unknown;
    version?: unknown;
    title?: unknown;
    defaults?: { aggregation?: unknown; normalisation?: { method?: unknown } };
    roots?: unknown;
  };
  const id = typeof doc?.id === 'string' && doc.id ? doc.id : invalid('?', 'top level', '"id" must be a non-empty string');
  if (typeof doc.version !== 'string') invalid(id, 'top level', '"version" must be a string');
  if (typeof doc.title !== 'string') invalid(id, 'top level', '"title" must be a string');
  const defaultAggregation = doc.defaults?.aggregation ?? 'arithmetic';
  if (!Array.isArray(doc.roots) || doc.roots.length === 0) invalid(id, 'top level', '"roots" must be a non-empty array of nodes');
  const seen = new Set<string>();

  const parseNode = (raw: RawNode, path: string): FrameworkNode => {
    const nodeId = typeof raw?.id === 'string' && raw.id ? raw.id : invalid(id, path, 'a node needs a string "id"');
    const where = `node "${nodeId}"`;
    if (seen.has(nodeId)) invalid(id, where, 'the id is used twice (a cycle or a copy-paste slip)');
    seen.add(nodeId);
    const aggregation = raw.aggregation ?? defaultAggregation;
    if (!AGGREGATIONS.includes(aggregation as Aggregation)) invalid(id, where, `aggregation "${String(aggregation)}" is not one of ${AGGREGATIONS.join(', ')}`);
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
    return { id: nodeId, aggregation: aggregation as Aggregation, ...(weights ? { weights } : {}), children };
  };

  const normalisation = (doc.defaults?.normalisation ?? { method: 'none' }) as NormalisationSpec;
  if (!NORMALISATION_METHODS.includes(normalisation.method)) {
    invalid(id, 'defaults', `normalisation method "${String(normalisation.method)}" is not one of ${NORMALISATION_METHODS.join(', ')}`);
  }
  if (normalisation.method === 'goalposts' && !(Number.isFinite(normalisation.lower) && Number.isFinite(normalisation.upper) && normalisation.upper > normalisation.lower)) {
    invalid(id, 'defaults', 'goalposts need numbers "lower" < "upper"');
  }
  const roots = (doc.roots as RawNode[]).map((root, i) => parseNode(root, `roots[${i}]`));
  return { id, version: doc.version as string, title: doc.title as string, normalisation, roots };
}

/**
 * The geometric mean is undefined for values <= 0; values are floored here first. Scores on GI-TOC's
 * 1-10 scale never reach it; normalised 0-10 scores do, and a zero child would otherwise zero the parent.
 */
export const GEOMETRIC_FLOOR = 0.01;

/**
 * Scores every node for one entity: missing children drop out and the weights of the others are
 * renormalised; a node with no child present is missing (null), never zero. Returns node id -> score.
 */
export function scoreEntity(framework: Framework, values: ReadonlyMap<string, number>): Map<string, number | null> {
  const scores = new Map<string, number | null>();
  const visit = (node: FrameworkNode): number | null => {
    let weightSum = 0;
    let acc = 0;
    for (const child of node.children) {
      const childId = typeof child === 'string' ? child : child.id;
      const value = typeof child === 'string' ? values.get(child) ?? null : visit(child);
      if (value === null || !Number.isFinite(value)) continue;
      const weight = node.weights ? node.weights[childId]! : 1;
      if (weight === 0) continue;
      weightSum += weight;
      acc += node.aggregation === 'geometric' ? weight * Math.log(Math.max(value, GEOMETRIC_FLOOR)) : weight * value;
    }
    const score = weightSum === 0 ? null : node.aggregation === 'geometric' ? Math.exp(acc / weightSum) : acc / weightSum;
    scores.set(node.id, score);
    return score;
  };
  for (const root of framework.roots) visit(root);
  return scores;
}
