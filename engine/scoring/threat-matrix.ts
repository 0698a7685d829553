/**
 * The country x crime-area threat matrix, in the spirit of MoRiLE and Europol's SOCTA: for each
 * crime area of a country, how large the problem is (scale), where it is heading (trend), how much
 * harm that kind of crime does (harm), against what the state can do about it (capacity), giving
 * a priority score and an ordered list per country.
 *
 * MoRiLE's own numeric scales are not public (METHODS.md), so the scales here are ThreatLens's,
 * documented in HARM_BY_CRIME_AREA and `priorityScore`, and every input is returned with the result
 * so that an analyst can see and challenge each step.
 */
import type { CrimeArea } from '../types.ts';
import type { TrendLabel } from './trend.ts';

/**
 * Harm of a crime area on a 1-5 scale, from MoRiLE's harm dimensions (physical, psychological,
 * financial, community, environmental, victim vulnerability). A judgement, written down so it can
 * be argued with and overridden (`options.harm`), not a measurement.
 */
export const HARM_BY_CRIME_AREA: Readonly<Partial<Record<CrimeArea, { readonly harm: number; readonly why: string }>>> = {
  homicide: { harm: 5, why: 'loss of life' },
  trafficking_in_persons: { harm: 5, why: 'severe physical and psychological harm to vulnerable victims' },
  sexual_offences: { harm: 5, why: 'severe physical and psychological harm' },
  firearms: { harm: 4, why: 'enables lethal violence' },
  violence: { harm: 4, why: 'physical harm' },
  drugs: { harm: 4, why: 'health harm and the violence and corruption of drug markets' },
  organised_crime: { harm: 4, why: 'community harm, corruption of institutions, many victims' },
  corruption: { harm: 3, why: 'erodes institutions and the capacity to respond' },
  cybercrime: { harm: 3, why: 'financial harm at scale, mostly non-physical' },
  property: { harm: 2, why: 'financial harm to individuals, rarely physical' },
};

/** Trend multipliers: an escalating threat is ranked as if it were 20% larger, a receding one 20% smaller. */
export const TREND_FACTOR: Readonly<Record<TrendLabel, number>> = {
  escalating: 1.2,
  stable: 1,
  'de-escalating': 0.8,
  insufficient_data: 1,
};

/** Priority classes on the 0-10 priority score (lower bounds). */
export const PRIORITY_CLASSES = [
  { label: 'priority 1', min: 6 },
  { label: 'priority 2', min: 4 },
  { label: 'priority 3', min: 2 },
  { label: 'monitor', min: Number.NEGATIVE_INFINITY },
] as const;

export interface CrimeAreaInput {
  readonly crimeArea: CrimeArea;
  /** Where the country's level sits among the states compared, 0-10 (10 = highest); null without data. */
  readonly scale: number | null;
  readonly trend: TrendLabel;
  /** The trend's Theil-Sen slope of the scale, points per year, for display. */
  readonly slopePerYear?: number | null;
  /** How many indicators fed the scale. */
  readonly indicators: number;
}

export interface ThreatMatrixCell extends CrimeAreaInput {
  readonly harm: number;
  readonly harmReason: string;
  /** scale x harm / 5: the size of the problem weighted by its harm, 0-10. */
  readonly threat: number | null;
  readonly trendFactor: number;
  /** 1 - capacity / 20: from 1 (no capacity) down to 0.5 (full capacity). */
  readonly capacityGap: number;
  readonly priorityScore: number | null;
  readonly priorityClass: string | null;
  /** 1 = first priority of the country; null where the area has no data. */
  readonly priority: number | null;
}

export interface ThreatMatrixRow {
  readonly entity: string;
  /** Capacity (resilience), 0-10; null where the country has no resilience data (the gap is then 1). */
  readonly capacity: number | null;
  /** Cells ordered by priority, areas without data last. */
  readonly cells: readonly ThreatMatrixCell[];
}

export interface ThreatMatrixOptions {
  readonly harm?: Readonly<Partial<Record<CrimeArea, number>>>;
}

/**
 * Priority score of one crime area, 0-10:
 *   threat = scale * harm / 5; priority = min(10, threat * trendFactor * (1 - capacity / 20)).
 * Capacity halves the priority at most: a capable state still has to act on a large threat.
 * @example priorityScore(8, 5, 'escalating', 6) // 8 * 1.2 * 0.7 = 6.72
 */
export function priorityScore(scale: number, harm: number, trend: TrendLabel, capacity: number | null): number {
  return Math.min(10, ((scale * harm) / 5) * TREND_FACTOR[trend] * capacityGap(capacity));
}

/** 1 - capacity / 20, capacity clamped to 0-10; 1 where capacity is unknown. */
export function capacityGap(capacity: number | null): number {
  return capacity === null ? 1 : 1 - Math.min(10, Math.max(0, capacity)) / 20;
}

export function priorityClass(score: number): string {
  return PRIORITY_CLASSES.find((c) => score >= c.min)!.label;
}

/** Builds one country's row of the matrix: every crime area given, ordered by priority. */
export function threatMatrixRow(
  entity: string,
  areas: readonly CrimeAreaInput[],
  capacity: number | null,
  options: ThreatMatrixOptions = {},
): ThreatMatrixRow {
  const gap = capacityGap(capacity);
  const cells = areas.map((area) => {
    const known = HARM_BY_CRIME_AREA[area.crimeArea];
    const harm = options.harm?.[area.crimeArea] ?? known?.harm ?? 3;
    const harmReason = options.harm?.[area.crimeArea] !== undefined ? 'set by the analyst' : known?.why ?? 'no harm rating for this area: middle value 3';
    const score = area.scale === null ? null : priorityScore(area.scale, harm, area.trend, capacity);
    return {
      ...area,
      harm,
      harmReason,
      threat: area.scale === null ? null : (area.scale * harm) / 5,
      trendFactor: TREND_FACTOR[area.trend],
      capacityGap: gap,
      priorityScore: score,
      priorityClass: score === null ? null : priorityClass(score),
      priority: null as number | null,
    };
  });
  // Highest priority first; ties by harm, then by name, so the order is deterministic.
  cells.sort((a, b) => {
    if (a.priorityScore === null || b.priorityScore === null) return a.priorityScore === null ? (b.priorityScore === null ? a.crimeArea.localeCompare(b.crimeArea) : 1) : -1;
    return b.priorityScore - a.priorityScore || b.harm - a.harm || a.crimeArea.localeCompare(b.crimeArea);
  });
  let next = 1;
  for (const cell of cells) if (cell.priorityScore !== null) cell.priority = next++;
  return { entity, capacity, cells };
}
