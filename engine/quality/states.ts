/**
 * Coverage per participating state: what each of the 57 has (indicators, years, latest year, the
 * files that hold data on it) and which files have nothing on it. A sub-national entity's rows
 * (GB-SCT, a London borough) count for its state.
 */
import type { QualityBatchInfo, QualityObservation, StateCoverage } from './types.ts';

export function stateCoverage(rows: readonly QualityObservation[], states: readonly string[], batches: readonly QualityBatchInfo[]): StateCoverage[] {
  interface Acc { indicators: Set<string>; batches: Set<number>; first: number; last: number; observations: number; subnational: number }
  const acc = new Map<string, Acc>(states.map((s) => [s, { indicators: new Set(), batches: new Set(), first: Infinity, last: -Infinity, observations: 0, subnational: 0 }]));
  const inScope = new Set<number>();
  for (const r of rows) {
    inScope.add(r.batchId);
    const a = acc.get(r.state ?? r.entity);
    if (!a || (r.value === null && r.qualifier === null)) continue;
    a.indicators.add(r.indicator);
    a.batches.add(r.batchId);
    a.observations++;
    if (r.state !== undefined && r.state !== r.entity) a.subnational++;
    if (r.year < a.first) a.first = r.year;
    if (r.year > a.last) a.last = r.year;
  }
  const files = batches.filter((b) => inScope.has(b.id));
  return states.map((state) => {
    const a = acc.get(state)!;
    return {
      state,
      indicators: a.indicators.size,
      observations: a.observations,
      fromSubnational: a.subnational,
      years: a.observations === 0 ? null : { from: a.first, to: a.last },
      batchesWithData: files.filter((b) => a.batches.has(b.id)).map((b) => b.id),
      batchesWithout: files.filter((b) => !a.batches.has(b.id)).map((b) => b.id),
    };
  });
}
