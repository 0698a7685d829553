/**
 * The sharing rules (engine/access/sharing.ts) as SQL, for every read path: which batches a data
 * scope may use. Routes that read anything derived from batches (observations, scores, anomaly
 * flags, model training data, exports) apply one of these with the request's scope
 * (`request.dataScope`, api/auth/).
 *
 * @example
 *   // rows joined to their batch as `b`
 *   db.selectFrom('observations as o').innerJoin('ingestion_batches as b', 'b.id', 'o.batch_id').where(batchVisible(scope, 'b'))
 *   // a table with a batch id column
 *   db.selectFrom('observations').where(batchIdVisible(scope, 'batch_id'))
 *   // a result computed from several batches (anomaly_flags.batch_ids): every batch must be visible
 *   db.selectFrom('anomaly_flags as f').where(batchArrayVisible(scope, 'f.batch_ids'))
 *   // or in code
 *   const ids = await visibleBatchIds(db, scope);
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DataScope } from '../access/roles.ts';
import type { BatchSharing } from '../access/sharing.ts';
import type { Database } from './schema.ts';

/** A condition on an `ingestion_batches` row (under `alias`): true when `scope` may use it. */
export function batchVisible(scope: DataScope, alias = 'ingestion_batches'): RawBuilder<boolean> {
  if (scope.kind === 'all') return sql<boolean>`true`;
  const level = sql.ref(`${alias}.sharing_level`);
  if (scope.kind === 'public') return sql<boolean>`(${level} = 'public')`;
  const owner = sql.ref(`${alias}.owner_agency`);
  const sharedWith = sql.ref(`${alias}.shared_with`);
  return sql<boolean>`(${level} = 'public' or ${owner} = ${scope.agency} or (${level} = 'restricted' and ${scope.agency} = any(${sharedWith})))`;
}

/** A condition on a batch id column: true when `scope` may use that batch. */
export function batchIdVisible(scope: DataScope, column: string): RawBuilder<boolean> {
  if (scope.kind === 'all') return sql<boolean>`true`;
  return sql<boolean>`(${sql.ref(column)} in (select vb.id from ingestion_batches vb where ${batchVisible(scope, 'vb')}))`;
}

/**
 * A condition on an integer[] column of batch ids (the inputs of a derived result): true when
 * `scope` may use every one of them (the intersection rule). An empty array is visible (nothing
 * restricted went in); an id that names no batch is not.
 */
export function batchArrayVisible(scope: DataScope, column: string): RawBuilder<boolean> {
  if (scope.kind === 'all') return sql<boolean>`true`;
  return sql<boolean>`(${sql.ref(column)} <@ array(select vb.id from ingestion_batches vb where ${batchVisible(scope, 'vb')}))`;
}

/** The ids of the batches `scope` may use, ascending. */
export async function visibleBatchIds(db: Kysely<Database>, scope: DataScope): Promise<number[]> {
  const rows = await db.selectFrom('ingestion_batches').select('id').where(batchVisible(scope)).orderBy('id').execute();
  return rows.map((r) => r.id);
}

/** The sharing of the given batches (those that exist). */
export async function batchSharing(db: Kysely<Database>, ids: readonly number[]): Promise<BatchSharing[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('ingestion_batches')
    .select(['id', 'owner_agency', 'sharing_level', 'shared_with'])
    .where('id', 'in', [...new Set(ids)])
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ id: r.id, ownerAgency: r.owner_agency, sharingLevel: r.sharing_level, sharedWith: r.shared_with }));
}

/** Of the given batch ids, those that are not public (for the audit of restricted reads). */
export async function nonPublicBatchIds(db: Kysely<Database>, ids: Iterable<number>): Promise<number[]> {
  const list = [...new Set(ids)];
  if (list.length === 0) return [];
  const rows = await db
    .selectFrom('ingestion_batches')
    .select('id')
    .where('id', 'in', list)
    .where('sharing_level', '<>', 'public')
    .orderBy('id')
    .execute();
  return rows.map((r) => r.id);
}
