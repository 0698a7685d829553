/**
 * The first schema. Later issues add tables (sharing rules, model registry, jobs) in new
 * migrations; never edit a migration that has shipped.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('agencies')
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('entities')
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('country', 'region', 'subnational')`))
    .addColumn('osce_status', 'text', (c) =>
      c.check(sql`osce_status in ('participating', 'partner_asian', 'partner_mediterranean')`),
    )
    .addColumn('subregion', 'text')
    .addColumn('iso2', 'text')
    .addColumn('parent_code', 'text', (c) => c.references('entities.code'))
    .execute();

  await db.schema
    .createTable('indicators')
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('unit', 'text', (c) => c.notNull())
    .addColumn('crime_area', 'text', (c) => c.notNull())
    .addColumn('polarity', 'text', (c) => c.notNull().check(sql`polarity in ('higher_worse', 'higher_better')`))
    .addColumn('description', 'text')
    .addColumn('source', 'text')
    .addColumn('plausible_min', 'float8')
    .addColumn('plausible_max', 'float8')
    .execute();

  await db.schema
    .createTable('ingestion_batches')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull().unique())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('owner_agency', 'text', (c) => c.notNull().references('agencies.code'))
    .addColumn('sharing_level', 'text', (c) =>
      c.notNull().check(sql`sharing_level in ('public', 'restricted', 'owner')`),
    )
    .addColumn('shared_with', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('source_reliability', 'text', (c) => c.notNull())
    .addColumn('information_credibility', 'text', (c) => c.notNull())
    .addColumn('grading_scheme', 'text', (c) =>
      c.notNull().check(sql`grading_scheme in ('admiralty', 'europol_4x4')`),
    )
    .addColumn('rows_read', 'integer', (c) => c.notNull())
    .addColumn('rows_accepted', 'integer', (c) => c.notNull())
    .addColumn('rows_rejected', 'integer', (c) => c.notNull())
    .addColumn('synthetic', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // No foreign keys on observations: a per-row foreign-key check doubled the time of a 1M-row
  // COPY (5.4 s against 2.4 s, bench/). Integrity holds without them: entity and indicator codes
  // are checked against the append-only catalogues at the edge (engine/ingest), and observations
  // are written only by engine/store/batches.ts, in the transaction that creates their batch.
  // Deleting a batch must delete its observations in the same transaction.
  await db.schema
    .createTable('observations')
    .addColumn('batch_id', 'integer', (c) => c.notNull())
    .addColumn('entity_code', 'text', (c) => c.notNull())
    .addColumn('indicator_code', 'text', (c) => c.notNull())
    .addColumn('period', 'text', (c) => c.notNull())
    .addColumn('period_kind', 'text', (c) => c.notNull().check(sql`period_kind in ('year', 'quarter', 'month')`))
    .addColumn('year', 'smallint', (c) => c.notNull())
    .addColumn('value', 'float8')
    .addColumn('value_qualifier', 'text', (c) => c.check(sql`value_qualifier in ('<', '>')`))
    .addColumn('flags', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('row_source', 'text')
    // One index only: every extra index roughly doubles the cost of a bulk load (bench/). This one
    // serves lookups by indicator, by indicator and entity, and the latest-batch-wins reads.
    .addPrimaryKeyConstraint('observations_pk', ['indicator_code', 'entity_code', 'period', 'batch_id'])
    .execute();

  await db.schema
    .createTable('risk_scores')
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('year', 'smallint', (c) => c.notNull())
    .addColumn('entity_code', 'text', (c) => c.notNull().references('entities.code'))
    .addColumn('node_id', 'text', (c) => c.notNull())
    .addColumn('score', 'float8')
    .addColumn('rank', 'integer')
    .addColumn('indicators_used', 'integer', (c) => c.notNull())
    .addColumn('data_version', 'text', (c) => c.notNull())
    .addColumn('computed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('risk_scores_pk', ['method', 'year', 'node_id', 'entity_code'])
    .execute();

  await db.schema
    .createTable('assessments')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('entity_code', 'text', (c) => c.references('entities.code'))
    .addColumn('year', 'smallint', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('method_version', 'text', (c) => c.notNull())
    .addColumn('params_hash', 'text', (c) => c.notNull())
    .addColumn('data_version', 'text', (c) => c.notNull())
    .addColumn('code_version', 'text', (c) => c.notNull())
    .addColumn('seed', 'bigint')
    .addColumn('result', 'jsonb', (c) => c.notNull())
    .addColumn('provenance', 'jsonb', (c) => c.notNull())
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('agency', 'text')
    .addColumn('role', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('details', 'jsonb', (c) => c.notNull())
    .addColumn('purpose', 'text')
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull().unique())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['audit_log', 'assessments', 'risk_scores', 'observations', 'ingestion_batches', 'indicators', 'entities', 'agencies']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
