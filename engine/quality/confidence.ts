/**
 * What the scoring engine needs to grade its confidence in one entity's indicator values:
 * coverage of a window, years since the latest value, and the Admiralty grades of the batches
 * that supplied the values. Pure; engine/store/quality.ts `entityIndicatorQuality` reads the rows.
 */
import { currentObservations } from './current.ts';
import type { QualityBatchInfo, QualityObservation, YearRange } from './types.ts';

export interface SeriesConfidenceInputs {
  readonly indicator: string;
  /** Years of the window with a value (censored values count) / years in the window. */
  readonly coverageShare: number;
  readonly latestYear: number | null;
  /** referenceYear - latestYear; null without any value up to the reference year. */
  readonly yearsSinceLatest: number | null;
  /** The batches that supply the current values in the window, with their Admiralty grades. */
  readonly batches: readonly {
    readonly id: number;
    readonly admiralty: string;
    readonly sourceReliability: string;
    readonly informationCredibility: string;
  }[];
}

/**
 * One entry per requested indicator, in the order asked, for one entity's observations (any
 * batches: the latest batch wins per period). Values after the reference year are ignored for
 * recency. O(n).
 */
export function seriesConfidenceInputs(
  rows: readonly QualityObservation[],
  indicators: readonly string[],
  window: YearRange,
  referenceYear: number,
  batches: readonly QualityBatchInfo[],
): SeriesConfidenceInputs[] {
  const current = currentObservations(rows).filter((r) => r.value !== null || r.qualifier !== null);
  const batchInfo = new Map(batches.map((b) => [b.id, b]));
  const span = window.to - window.from + 1;
  return indicators.map((indicator) => {
    const mine = current.filter((r) => r.indicator === indicator);
    const inWindow = mine.filter((r) => r.year >= window.from && r.year <= window.to);
    const years = new Set(inWindow.map((r) => r.year));
    const upToReference = mine.filter((r) => r.year <= referenceYear).map((r) => r.year);
    const latestYear = upToReference.length > 0 ? upToReference.reduce((a, b) => Math.max(a, b)) : null;
    const batchIds = [...new Set(inWindow.map((r) => r.batchId))].sort((a, b) => a - b);
    return {
      indicator,
      coverageShare: span > 0 ? years.size / span : 0,
      latestYear,
      yearsSinceLatest: latestYear === null ? null : referenceYear - latestYear,
      batches: batchIds.flatMap((id) => {
        const b = batchInfo.get(id);
        return b
          ? [{ id, admiralty: `${b.sourceReliability}${b.informationCredibility}`, sourceReliability: b.sourceReliability, informationCredibility: b.informationCredibility }]
          : [];
      }),
    };
  });
}
