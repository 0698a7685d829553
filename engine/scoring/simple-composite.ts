/**
 * The first composite risk score: simple, documented, replaced by the framework engine (issue 4).
 *
 * For a year Y:
 * 1. Imputation: each indicator takes the entity's value in Y, or else its latest value within
 *    `lookbackYears` before Y (INFORM's "latest available"); older values are not used.
 * 2. Normalisation: min-max across the entities that have a value, to 0..10; inverted for indicators
 *    whose polarity is `higher_better`, so that a higher normalised value always means more risk.
 *    An indicator with no spread (max = min) or fewer than `minEntities` values carries no ranking
 *    information and is left out for that year.
 * 3. Aggregation: the arithmetic mean of the available indicators in each crime area, then the
 *    arithmetic mean of the available crime-area scores (equal weights) as `overall`. Missing
 *    indicators drop out and the weights renormalise; an entity with no indicator has no score.
 * 4. Rank: 1 is the highest risk; ties share the lower rank (competition ranking: 1, 2, 2, 4).
 * Context indicators (population) are never scored.
 */
import type { CrimeArea, Polarity } from '../types.ts';

export const SIMPLE_COMPOSITE_METHOD = 'simple-composite';
export const SIMPLE_COMPOSITE_VERSION = '1.0.0';
export const OVERALL_NODE = 'overall';

export interface AnnualValue {
  readonly entity: string;
  readonly indicator: string;
  readonly year: number;
  readonly value: number;
}

export interface ScoredIndicator {
  readonly code: string;
  readonly crimeArea: CrimeArea | string;
  readonly polarity: Polarity;
}

export interface SimpleCompositeOptions {
  readonly lookbackYears: number;
  readonly minEntities: number;
}

export const DEFAULT_SIMPLE_COMPOSITE_OPTIONS: SimpleCompositeOptions = { lookbackYears: 3, minEntities: 3 };

export interface NodeScore {
  readonly entity: string;
  /** `overall` or a crime area. */
  readonly node: string;
  readonly score: number | null;
  readonly rank: number | null;
  readonly indicatorsUsed: number;
}

/**
 * Scores `entities` for `year` from annual values (any years; only Y and the look-back are read).
 * O(V + E * I) for V values, E entities and I indicators.
 */
export function scoreSimpleComposite(
  values: readonly AnnualValue[],
  indicators: readonly ScoredIndicator[],
  entities: readonly string[],
  year: number,
  options: SimpleCompositeOptions = DEFAULT_SIMPLE_COMPOSITE_OPTIONS,
): NodeScore[] {
  const scored = indicators.filter((i) => i.crimeArea !== 'context');
  const indicatorIndex = new Map(scored.map((indicator, i) => [indicator.code, i]));
  const entityIndex = new Map(entities.map((entity, e) => [entity, e]));
  // latest[e][i] = the value closest to Y within the look-back, and its year.
  const latestValue = new Float64Array(entities.length * scored.length).fill(Number.NaN);
  const latestYear = new Int32Array(entities.length * scored.length).fill(-1);
  const earliest = year - options.lookbackYears;
  for (const v of values) {
    if (v.year > year || v.year < earliest || !Number.isFinite(v.value)) continue;
    const i = indicatorIndex.get(v.indicator);
    const e = entityIndex.get(v.entity);
    if (i === undefined || e === undefined) continue;
    const cell = e * scored.length + i;
    if (v.year > latestYear[cell]!) {
      latestYear[cell] = v.year;
      latestValue[cell] = v.value;
    }
  }

  const areas = [...new Set(scored.map((i) => i.crimeArea))].sort();
  const areaSum = new Float64Array(entities.length * areas.length);
  const areaCount = new Int32Array(entities.length * areas.length);
  const areaIndex = new Map(areas.map((area, a) => [area, a]));

  scored.forEach((indicator, i) => {
    let min = Infinity;
    let max = -Infinity;
    let n = 0;
    for (let e = 0; e < entities.length; e++) {
      const x = latestValue[e * scored.length + i]!;
      if (Number.isNaN(x)) continue;
      n++;
      if (x < min) min = x;
      if (x > max) max = x;
    }
    if (n < options.minEntities || max === min) return;
    const a = areaIndex.get(indicator.crimeArea)!;
    const invert = indicator.polarity === 'higher_better';
    for (let e = 0; e < entities.length; e++) {
      const x = latestValue[e * scored.length + i]!;
      if (Number.isNaN(x)) continue;
      const normalised = ((x - min) / (max - min)) * 10;
      areaSum[e * areas.length + a]! += invert ? 10 - normalised : normalised;
      areaCount[e * areas.length + a]! += 1;
    }
  });

  const results: NodeScore[] = [];
  const overall: (number | null)[] = [];
  const overallUsed: number[] = [];
  const perArea: (number | null)[][] = areas.map(() => []);
  for (let e = 0; e < entities.length; e++) {
    let sum = 0;
    let count = 0;
    let used = 0;
    areas.forEach((_, a) => {
      const n = areaCount[e * areas.length + a]!;
      const score = n > 0 ? areaSum[e * areas.length + a]! / n : null;
      perArea[a]!.push(score);
      if (score !== null) {
        sum += score;
        count++;
        used += n;
      }
    });
    overall.push(count > 0 ? sum / count : null);
    overallUsed.push(used);
  }
  const overallRanks = competitionRanks(overall);
  entities.forEach((entity, e) => {
    results.push({ entity, node: OVERALL_NODE, score: overall[e]!, rank: overallRanks[e]!, indicatorsUsed: overallUsed[e]! });
  });
  areas.forEach((area, a) => {
    const ranks = competitionRanks(perArea[a]!);
    entities.forEach((entity, e) => {
      results.push({
        entity,
        node: area,
        score: perArea[a]![e]!,
        rank: ranks[e]!,
        indicatorsUsed: areaCount[e * areas.length + a]!,
      });
    });
  });
  return results;
}

/** Ranks scores in descending order, 1 = highest; equal scores share the lower rank; null stays null. */
export function competitionRanks(scores: readonly (number | null)[]): (number | null)[] {
  const order = scores
    .map((score, index) => ({ score, index }))
    .filter((x): x is { score: number; index: number } => x.score !== null)
    .sort((a, b) => b.score - a.score);
  const ranks: (number | null)[] = scores.map(() => null);
  order.forEach((item, position) => {
    const previous = order[position - 1];
    ranks[item.index] = previous && previous.score === item.score ? ranks[previous.index]! : position + 1;
  });
  return ranks;
}
