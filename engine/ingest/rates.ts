/**
 * Counts to rates per 100,000 population, driven by the catalogue: a count indicator whose entry
 * has `ratePer100k` names the rate indicator and the population indicator that denominates it.
 * A rate is derived for an entity-year only where the source gave none itself (a stored rate from
 * a batch that is not derived), and only from the population of the same entity and year: no
 * interpolation, no population of a neighbouring year.
 */
import type { IndicatorDefinition } from '../types.ts';

export interface RatePlan {
  /** The count indicator. */
  readonly count: string;
  /** The rate indicator the derived values go to. */
  readonly rate: string;
  /** The population indicator (e.g. wb_population). */
  readonly denominator: string;
}

/** The rate plans of a catalogue: one per count indicator that asks for a rate. */
export function ratePlans(definitions: readonly IndicatorDefinition[]): RatePlan[] {
  return definitions.flatMap((d) => (d.ratePer100k ? [{ count: d.code, rate: d.ratePer100k.indicator, denominator: d.ratePer100k.per100kOf }] : []));
}

/**
 * Rate per 100,000: count / population x 100,000. O(1).
 *
 * @example ratePer100k(250, 5_000_000) // 5
 */
export function ratePer100k(count: number, population: number): number {
  return (count / population) * 100_000;
}

/** One current stored annual value (the latest batch's), with where it came from. */
export interface StoredAnnualValue {
  readonly entity: string;
  readonly indicator: string;
  readonly year: number;
  readonly value: number;
  /** `<` or `>` for a censored value: no rate is derived from it. */
  readonly qualifier: string | null;
  readonly batchId: number;
  /** True when the value is itself a derived one (a batch of format `derived-rate`). */
  readonly derived: boolean;
}

export interface DerivedRate {
  readonly entity: string;
  readonly indicator: string;
  readonly year: number;
  readonly value: number;
  readonly countBatch: number;
  readonly populationBatch: number;
}

export interface RateDerivation {
  readonly rates: DerivedRate[];
  /** Counts whose rate the source published itself: left alone. */
  readonly publishedBySource: number;
  /** Counts with no population for their entity and year (sub-national entities, gaps). */
  readonly noDenominator: number;
  /** Censored counts (`<5`): no rate. */
  readonly censored: number;
  /** Counts whose derived rate is already stored with the same value. */
  readonly unchanged: number;
}

/**
 * The rates to store: for each plan and each current count, count / population x 100,000 where
 * the source gave no rate and the stored derived rate (if any) differs. O(n) in the values.
 */
export function deriveRates(plans: readonly RatePlan[], values: readonly StoredAnnualValue[]): RateDerivation {
  const byKey = new Map<string, StoredAnnualValue>();
  const counts = new Map<string, StoredAnnualValue[]>();
  for (const v of values) {
    byKey.set(`${v.indicator}|${v.entity}|${v.year}`, v);
    const list = counts.get(v.indicator);
    if (list) list.push(v);
    else counts.set(v.indicator, [v]);
  }
  const rates: DerivedRate[] = [];
  let publishedBySource = 0;
  let noDenominator = 0;
  let censored = 0;
  let unchanged = 0;
  for (const plan of plans) {
    for (const count of counts.get(plan.count) ?? []) {
      const existing = byKey.get(`${plan.rate}|${count.entity}|${count.year}`);
      if (existing && !existing.derived) {
        publishedBySource++;
        continue;
      }
      if (count.qualifier !== null) {
        censored++;
        continue;
      }
      const population = byKey.get(`${plan.denominator}|${count.entity}|${count.year}`);
      if (!population || population.qualifier !== null || !(population.value > 0)) {
        noDenominator++;
        continue;
      }
      const value = ratePer100k(count.value, population.value);
      if (existing && Math.abs(existing.value - value) <= 1e-12 * Math.max(1, Math.abs(value))) {
        unchanged++;
        continue;
      }
      rates.push({ entity: count.entity, indicator: plan.rate, year: count.year, value, countBatch: count.batchId, populationBatch: population.batchId });
    }
  }
  return { rates, publishedBySource, noDenominator, censored, unchanged };
}
