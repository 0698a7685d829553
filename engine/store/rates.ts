/**
 * Storing derived rates: reads the current counts, published rates and populations the rate
 * plans name, derives the missing rates (engine/ingest/rates.ts) and writes them as one batch of
 * format `derived-rate`, in one transaction with its audit entry. The batch names the batches it
 * was computed from (`derived_from`); each value says which count batch and which population
 * batch (row source) and carries the flag `derived`. Only public batches are read, so that a
 * derived value never spreads restricted data.
 */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { formatGrade, worstGrade, type SourceGrade } from '../ingest/grades.ts';
import { deriveRates, type RateDerivation, type RatePlan, type StoredAnnualValue } from '../ingest/rates.ts';
import { appendAudit } from './audit.ts';
import { PUBLIC_AGENCY } from './catalogue.ts';
import type { Store } from './database.ts';
import type { Database } from './schema.ts';

export const DERIVED_RATE_FORMAT = 'derived-rate';

export interface RateDerivationSummary extends Omit<RateDerivation, 'rates'> {
  /** The derived batch, or null when there was nothing new to derive. */
  readonly batchId: number | null;
  readonly derived: number;
  readonly derivedFrom: readonly number[];
  readonly grade: string | null;
}

interface InputBatch {
  readonly id: number;
  readonly grade: SourceGrade;
  readonly synthetic: boolean;
}

/** Current (latest public batch wins) annual values of the given indicators, with their batch. */
export async function currentAnnualValuesOf(db: Kysely<Database>, indicators: readonly string[]) {
  if (indicators.length === 0) return { values: [] as StoredAnnualValue[], batches: new Map<number, InputBatch>() };
  const rows = await db
    .selectFrom('observations as o')
    .innerJoin('ingestion_batches as b', 'b.id', 'o.batch_id')
    .select(['o.entity_code', 'o.indicator_code', 'o.year', 'o.value', 'o.value_qualifier', 'o.batch_id', 'b.format', 'b.source_reliability', 'b.information_credibility', 'b.grading_scheme', 'b.synthetic'])
    .distinctOn(['o.entity_code', 'o.indicator_code', 'o.year'])
    .where('o.period_kind', '=', 'year')
    .where('o.value', 'is not', null)
    .where('o.indicator_code', 'in', [...indicators])
    .where('b.sharing_level', '=', 'public')
    .orderBy('o.entity_code')
    .orderBy('o.indicator_code')
    .orderBy('o.year')
    .orderBy('o.batch_id', 'desc')
    .execute();
  const batches = new Map<number, InputBatch>();
  const values = rows.map((r): StoredAnnualValue => {
    if (!batches.has(r.batch_id)) {
      batches.set(r.batch_id, {
        id: r.batch_id,
        grade: { scheme: r.grading_scheme, source: r.source_reliability, information: r.information_credibility },
        synthetic: r.synthetic,
      });
    }
    return {
      entity: r.entity_code,
      indicator: r.indicator_code,
      year: r.year,
      value: r.value as number,
      qualifier: r.value_qualifier,
      batchId: r.batch_id,
      derived: r.format === DERIVED_RATE_FORMAT,
    };
  });
  return { values, batches };
}

const INSERT_CHUNK = 1000;

/**
 * Derives and stores the rates the plans ask for. Idempotent: run again on the same data, it
 * finds nothing new and writes no batch. The grade of the batch is the weakest of its inputs.
 */
export async function deriveStoredRates(store: Store, plans: readonly RatePlan[], options: { actor?: string } = {}): Promise<RateDerivationSummary> {
  const codes = [...new Set(plans.flatMap((p) => [p.count, p.rate, p.denominator]))];
  const { values, batches } = await currentAnnualValuesOf(store.db, codes);
  const { rates, ...counts } = deriveRates(plans, values);
  if (rates.length === 0) return { ...counts, batchId: null, derived: 0, derivedFrom: [], grade: null };

  const inputIds = [...new Set(rates.flatMap((r) => [r.countBatch, r.populationBatch]))].sort((a, b) => a - b);
  const inputs = inputIds.map((id) => batches.get(id)!);
  const grade = worstGrade(inputs.map((b) => b.grade));
  const sha256 = createHash('sha256');
  sha256.update(`${DERIVED_RATE_FORMAT}\n`);
  for (const r of rates) sha256.update(`${r.entity},${r.indicator},${r.year},${r.value},${r.countBatch},${r.populationBatch}\n`);
  const actor = options.actor ?? 'derive-rates';

  const batchId = await store.db.transaction().execute(async (trx) => {
    const { id } = await trx
      .insertInto('ingestion_batches')
      .values({
        source: 'ThreatLens: rates per 100,000 derived from stored counts and population',
        file_name: DERIVED_RATE_FORMAT,
        sha256: sha256.digest('hex'),
        format: DERIVED_RATE_FORMAT,
        owner_agency: PUBLIC_AGENCY,
        sharing_level: 'public',
        shared_with: [],
        source_reliability: grade.source,
        information_credibility: grade.information,
        grading_scheme: grade.scheme,
        rows_read: rates.length,
        rows_accepted: rates.length,
        rows_rejected: 0,
        synthetic: inputs.some((b) => b.synthetic),
        created_by: actor,
        derived_from: inputIds,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    for (let i = 0; i < rates.length; i += INSERT_CHUNK) {
      await trx
        .insertInto('observations')
        .values(
          rates.slice(i, i + INSERT_CHUNK).map((r) => ({
            batch_id: id,
            entity_code: r.entity,
            indicator_code: r.indicator,
            period: String(r.year),
            period_kind: 'year' as const,
            year: r.year,
            value: r.value,
            value_qualifier: null,
            flags: ['derived'],
            row_source: `derived: count batch ${r.countBatch}, population batch ${r.populationBatch}`,
          })),
        )
        .execute();
    }
    await appendAudit(trx, {
      actor,
      agency: PUBLIC_AGENCY,
      action: 'derive-rates',
      details: { batchId: id, format: DERIVED_RATE_FORMAT, derivedFrom: inputIds, rows: rates.length, grade: formatGrade(grade), ...counts },
      outcome: 'ok',
    });
    return id;
  });
  return { ...counts, batchId, derived: rates.length, derivedFrom: inputIds, grade: formatGrade(grade) };
}
