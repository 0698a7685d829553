/**
 * Reading observations. Several batches may hold the same (entity, indicator, period), e.g. a
 * revised release: the current value is the one from the most recent batch.
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { ALL_DATA, type DataScope } from '../access/roles.ts';
import { ThreatLensError } from '../errors.ts';
import type { Database } from './schema.ts';
import { batchVisible } from './visibility.ts';

export interface ObservationQuery {
  readonly entity?: string;
  readonly indicator?: string;
  readonly fromYear?: number;
  readonly toYear?: number;
  readonly limit: number;
  readonly cursor?: string;
  /** The batches this read may use (sharing rules); default every batch (the operator). */
  readonly scope?: DataScope;
}

interface CursorKey {
  readonly e: string;
  readonly i: string;
  readonly p: string;
  readonly b: number;
}

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string): CursorKey {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as CursorKey;
    if (typeof key.e === 'string' && typeof key.i === 'string' && typeof key.p === 'string' && Number.isInteger(key.b)) return key;
  } catch {
    // fall through to the error below
  }
  throw new ThreatLensError('TL_BAD_OPTION', 'cursor is not one this API issued; start again without it');
}

/** A page of observations in a stable order (indicator, entity, period, batch); keyset pagination. */
export async function pageObservations(db: Kysely<Database>, query: ObservationQuery) {
  let q = db
    .selectFrom('observations as o')
    .innerJoin('ingestion_batches as b', 'b.id', 'o.batch_id')
    .select([
      'o.entity_code',
      'o.indicator_code',
      'o.period',
      'o.period_kind',
      'o.year',
      'o.value',
      'o.value_qualifier',
      'o.flags',
      'o.row_source',
      'o.batch_id',
      'b.source as batch_source',
      'b.synthetic',
    ])
    // The primary key's order, so that pages are read from the index, not sorted.
    .orderBy('o.indicator_code')
    .orderBy('o.entity_code')
    .orderBy('o.period')
    .orderBy('o.batch_id')
    .limit(query.limit + 1)
    .where(batchVisible(query.scope ?? ALL_DATA, 'b'));
  if (query.entity) q = q.where('o.entity_code', '=', query.entity);
  if (query.indicator) q = q.where('o.indicator_code', '=', query.indicator);
  if (query.fromYear !== undefined) q = q.where('o.year', '>=', query.fromYear);
  if (query.toYear !== undefined) q = q.where('o.year', '<=', query.toYear);
  if (query.cursor) {
    const k = decodeCursor(query.cursor);
    q = q.where(sql<boolean>`(o.indicator_code, o.entity_code, o.period, o.batch_id) > (${k.i}, ${k.e}, ${k.p}, ${k.b})`);
  }
  const rows = await q.execute();
  const hasMore = rows.length > query.limit;
  const page = hasMore ? rows.slice(0, query.limit) : rows;
  const last = page[page.length - 1];
  const nextCursor = hasMore && last
    ? encodeCursor({ e: last.entity_code, i: last.indicator_code, p: last.period, b: last.batch_id })
    : null;
  return { rows: page, nextCursor };
}

/**
 * Current annual values (latest batch wins) of every indicator, for scoring. With a `scope`, the
 * latest batch that the scope may use wins: a restricted revision never shows through to readers
 * who may not see it, and they get the value they may see.
 */
export async function currentAnnualValues(db: Kysely<Database>, range: { fromYear?: number; toYear?: number; scope?: DataScope } = {}) {
  let q = db
    .selectFrom('observations')
    .select(['entity_code', 'indicator_code', 'year', 'value', 'batch_id'])
    .distinctOn(['entity_code', 'indicator_code', 'year'])
    .where('period_kind', '=', 'year')
    .where('value', 'is not', null)
    .orderBy('entity_code')
    .orderBy('indicator_code')
    .orderBy('year')
    .orderBy('batch_id', 'desc');
  if (range.fromYear !== undefined) q = q.where('year', '>=', range.fromYear);
  if (range.toYear !== undefined) q = q.where('year', '<=', range.toYear);
  if (range.scope !== undefined && range.scope.kind !== 'all') {
    const scope = range.scope;
    q = q.where(({ exists, selectFrom }) =>
      exists(selectFrom('ingestion_batches as b').select('b.id').whereRef('b.id', '=', 'observations.batch_id').where(batchVisible(scope, 'b'))),
    );
  }
  const rows = await q.execute();
  return rows.map((r) => ({ entity: r.entity_code, indicator: r.indicator_code, year: r.year, value: r.value as number, batchId: r.batch_id }));
}

/** The years with at least one annual value in the batches `scope` may use (what the composite scores). */
export async function yearsWithAnnualValues(db: Kysely<Database>, scope: DataScope = ALL_DATA): Promise<number[]> {
  const rows = await db
    .selectFrom('observations as o')
    .innerJoin('ingestion_batches as b', 'b.id', 'o.batch_id')
    .select('o.year')
    .distinct()
    .where('o.period_kind', '=', 'year')
    .where('o.value', 'is not', null)
    .where(batchVisible(scope, 'b'))
    .orderBy('o.year')
    .execute();
  return rows.map((r) => r.year);
}

/**
 * The data version: a hash over the batches in the store (id and content hash). Any ingestion
 * changes it, so a score or an assessment names exactly the data it was computed from. With a
 * `scope`, over the batches that scope may use: a restricted batch changes nothing that readers
 * outside its sharing list can see, not even this.
 */
export async function dataVersion(db: Kysely<Database>, scope: DataScope = ALL_DATA): Promise<{ version: string; batches: { id: number; sha256: string }[] }> {
  const batches = await db.selectFrom('ingestion_batches').select(['id', 'sha256']).where(batchVisible(scope)).orderBy('id').execute();
  const hash = createHash('sha256');
  for (const b of batches) hash.update(`${b.id}:${b.sha256}\n`);
  return { version: hash.digest('hex').slice(0, 16), batches };
}
