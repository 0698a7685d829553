/**
 * The model lifecycle and stored detections (issue 5):
 * - `models`: one row per trained model version, with everything needed to reproduce it and its
 *   status; at most one `production` version per model name (partial unique index).
 * - `model_artifacts`: the artifacts of a version (TensorFlow.js topology and weights, a forest's
 *   structure) in the database, so that they live with the data on PGlite and on PostgreSQL.
 * - `jobs`: long work (training) run off the request path, with its progress.
 * - `anomaly_runs` and `anomaly_flags`: the detections of one run of the production detectors
 *   over one data version.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('jobs')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('model_name', 'text')
    .addColumn('params', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('state', 'text', (c) =>
      c.notNull().check(sql`state in ('queued', 'running', 'succeeded', 'failed', 'cancelled')`),
    )
    .addColumn('percent', 'float8', (c) => c.notNull().defaultTo(0))
    .addColumn('progress', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('message', 'text')
    .addColumn('result', 'jsonb')
    .addColumn('error', 'text')
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('claimed_by', 'text')
    .addColumn('cancel_requested', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('started_at', 'timestamptz')
    .addColumn('heartbeat_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('jobs_state_idx').on('jobs').columns(['state', 'created_at']).execute();

  await db.schema
    .createTable('models')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('hyperparameters', 'jsonb', (c) => c.notNull())
    .addColumn('seed', 'integer', (c) => c.notNull())
    .addColumn('data_version', 'text', (c) => c.notNull())
    .addColumn('code_version', 'text', (c) => c.notNull())
    .addColumn('metrics', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('model_card', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('trained_by', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('candidate', 'production', 'retired')`),
    )
    .addColumn('job_id', 'integer', (c) => c.references('jobs.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('promoted_at', 'timestamptz')
    .addPrimaryKeyConstraint('models_pk', ['name', 'version'])
    .execute();
  await sql`create unique index models_one_production on models (name) where status = 'production'`.execute(db);

  await db.schema
    .createTable('model_artifacts')
    .addColumn('model_name', 'text', (c) => c.notNull())
    .addColumn('model_version', 'integer', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('content', 'bytea', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('model_artifacts_pk', ['model_name', 'model_version', 'kind'])
    .addForeignKeyConstraint('model_artifacts_model_fk', ['model_name', 'model_version'], 'models', ['name', 'version'], (fk) =>
      fk.onDelete('cascade'),
    )
    .execute();

  await db.schema
    .createTable('anomaly_runs')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('data_version', 'text', (c) => c.notNull())
    .addColumn('code_version', 'text', (c) => c.notNull())
    /** The model versions and parameters of every detector that ran: {detector: {version, params}}. */
    .addColumn('detectors', 'jsonb', (c) => c.notNull())
    .addColumn('cells_scored', 'integer', (c) => c.notNull())
    .addColumn('flags', 'integer', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('anomaly_flags')
    .addColumn('run_id', 'integer', (c) => c.notNull().references('anomaly_runs.id').onDelete('cascade'))
    .addColumn('entity_code', 'text', (c) => c.notNull())
    .addColumn('indicator_code', 'text', (c) => c.notNull())
    .addColumn('period', 'text', (c) => c.notNull())
    .addColumn('year', 'integer', (c) => c.notNull())
    .addColumn('detector', 'text', (c) => c.notNull())
    .addColumn('score', 'float8', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull().check(sql`severity in ('low', 'medium', 'high')`))
    .addColumn('value', 'float8')
    .addColumn('expected', 'float8')
    .addColumn('interval_low', 'float8')
    .addColumn('interval_high', 'float8')
    .addColumn('attributions', 'jsonb', (c) => c.notNull())
    .addColumn('likely_cause', 'text', (c) =>
      c.notNull().check(sql`likely_cause in ('data_problem', 'real_change', 'unclear')`),
    )
    .addColumn('reason', 'text', (c) => c.notNull())
    /** The batches the flagged values came from (provenance; sharing rules apply through them). */
    .addColumn('batch_ids', sql`integer[]`, (c) => c.notNull().defaultTo(sql`'{}'::integer[]`))
    .execute();
  await db.schema.createIndex('anomaly_flags_run_entity_idx').on('anomaly_flags').columns(['run_id', 'entity_code', 'indicator_code']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('anomaly_flags').execute();
  await db.schema.dropTable('anomaly_runs').execute();
  await db.schema.dropTable('model_artifacts').execute();
  await db.schema.dropTable('models').execute();
  await db.schema.dropTable('jobs').execute();
}
