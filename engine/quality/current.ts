/**
 * Current values and cross-batch duplicates. The store's primary key makes (indicator, entity,
 * period) unique within a batch; across batches the latest batch wins (engine/store/observations.ts).
 */
import type { ConflictingDuplicate, QualityObservation } from './types.ts';

export function observationKey(o: Pick<QualityObservation, 'indicator' | 'entity' | 'period'>): string {
  return `${o.indicator}\u0000${o.entity}\u0000${o.period}`;
}

/** The current observation of each key: the one from the highest batch id. O(n). */
export function currentObservations(rows: readonly QualityObservation[]): QualityObservation[] {
  const latest = new Map<string, QualityObservation>();
  for (const row of rows) {
    const key = observationKey(row);
    const seen = latest.get(key);
    if (!seen || row.batchId > seen.batchId) latest.set(key, row);
  }
  return [...latest.values()];
}

/**
 * Keys held by several batches with different values (or qualifiers); a re-release with the same
 * value is not a conflict. `keys`, when given, limits the result to those keys. O(n log n).
 */
export function conflictingDuplicates(
  rows: readonly QualityObservation[],
  keys?: ReadonlySet<string>,
): (ConflictingDuplicate & { readonly indicator: string })[] {
  const byKey = new Map<string, QualityObservation[]>();
  for (const row of rows) {
    const key = observationKey(row);
    if (keys && !keys.has(key)) continue;
    const list = byKey.get(key);
    if (list) list.push(row);
    else byKey.set(key, [row]);
  }
  const conflicts: (ConflictingDuplicate & { indicator: string })[] = [];
  for (const list of byKey.values()) {
    if (list.length < 2) continue;
    const distinct = new Set(list.map((r) => `${r.value}|${r.qualifier ?? ''}`));
    if (distinct.size < 2) continue;
    const sorted = [...list].sort((a, b) => a.batchId - b.batchId);
    const first = sorted[0]!;
    conflicts.push({
      indicator: first.indicator,
      entity: first.entity,
      period: first.period,
      values: sorted.map((r) => ({ batchId: r.batchId, value: r.value, qualifier: r.qualifier })),
    });
  }
  return conflicts.sort((a, b) => a.indicator.localeCompare(b.indicator) || a.entity.localeCompare(b.entity) || a.period.localeCompare(b.period));
}
