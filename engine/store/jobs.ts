/**
 * Jobs: long work (model training) queued in the database and run off the request path.
 *
 * A job moves queued -> running -> succeeded | failed | cancelled. Workers claim queued jobs with
 * `FOR UPDATE SKIP LOCKED`, so that several worker processes on PostgreSQL share one queue
 * without taking the same job twice. A running job writes a heartbeat with its progress; a job
 * whose worker died (SIGKILL, crash, host restart) is found by its stale heartbeat and marked
 * failed by `failInterruptedJobs`, so that it can be re-run. A job only ever writes its result
 * (a registered model version) in one transaction at its very end, so an interrupted job leaves
 * nothing half-written.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import { ThreatLensError } from '../errors.ts';
import type { Database, JobState, JobTable } from './schema.ts';

export type Job = Selectable<JobTable>;

export const FINAL_JOB_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];

/** A running job whose heartbeat is older than this is taken to have lost its worker. */
export const DEFAULT_STALE_AFTER_MS = 60_000;

export interface NewJob {
  readonly kind: string;
  readonly modelName?: string;
  readonly params?: Record<string, unknown>;
  readonly requestedBy: string;
}

export async function createJob(db: Kysely<Database>, job: NewJob): Promise<Job> {
  return db
    .insertInto('jobs')
    .values({
      kind: job.kind,
      model_name: job.modelName ?? null,
      params: JSON.stringify(job.params ?? {}),
      progress: JSON.stringify({}),
      state: 'queued',
      requested_by: job.requestedBy,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function getJob(db: Kysely<Database>, id: number): Promise<Job> {
  const job = await db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
  if (!job) throw new ThreatLensError('TL_NOT_FOUND', `no job ${id}`);
  return job;
}

export async function listJobs(db: Kysely<Database>, options: { state?: JobState; limit?: number } = {}): Promise<Job[]> {
  let query = db.selectFrom('jobs').selectAll().orderBy('id', 'desc').limit(options.limit ?? 50);
  if (options.state) query = query.where('state', '=', options.state);
  return query.execute();
}

/**
 * Claims the oldest queued job of the given kinds for `workerId`, or returns undefined. The row
 * lock with SKIP LOCKED makes concurrent claimers pass over a job another one is taking.
 */
export async function claimNextJob(db: Kysely<Database>, workerId: string, kinds?: readonly string[]): Promise<Job | undefined> {
  return db.transaction().execute(async (trx) => {
    let pick = trx.selectFrom('jobs').select('id').where('state', '=', 'queued').orderBy('id').limit(1);
    if (kinds && kinds.length > 0) pick = pick.where('kind', 'in', [...kinds]);
    const next = await pick.forUpdate().skipLocked().executeTakeFirst();
    if (!next) return undefined;
    return trx
      .updateTable('jobs')
      .set({ state: 'running', claimed_by: workerId, started_at: sql`now()`, heartbeat_at: sql`now()`, percent: 0 })
      .where('id', '=', next.id)
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

export interface JobProgress {
  readonly percent: number;
  readonly message?: string;
  /** Metrics so far (loss by epoch, trees built, ...), replaced on every update. */
  readonly progress?: Record<string, unknown>;
}

/** Records progress and the heartbeat; returns whether a cancellation was requested. */
export async function reportJobProgress(db: Kysely<Database>, id: number, update: JobProgress): Promise<{ cancelRequested: boolean }> {
  const row = await db
    .updateTable('jobs')
    .set({
      percent: Math.max(0, Math.min(100, update.percent)),
      heartbeat_at: sql`now()`,
      ...(update.message === undefined ? {} : { message: update.message }),
      ...(update.progress === undefined ? {} : { progress: JSON.stringify(update.progress) }),
    })
    .where('id', '=', id)
    .where('state', '=', 'running')
    .returning('cancel_requested')
    .executeTakeFirst();
  return { cancelRequested: row?.cancel_requested ?? true };
}

export async function finishJob(db: Kysely<Database>, id: number, result: unknown, message = 'done'): Promise<void> {
  await db
    .updateTable('jobs')
    .set({ state: 'succeeded', percent: 100, result: JSON.stringify(result), message, finished_at: sql`now()`, heartbeat_at: sql`now()` })
    .where('id', '=', id)
    .execute();
}

export async function failJob(db: Kysely<Database>, id: number, error: string, state: 'failed' | 'cancelled' = 'failed'): Promise<void> {
  await db
    .updateTable('jobs')
    .set({ state, error, message: state === 'cancelled' ? 'cancelled' : 'failed', finished_at: sql`now()` })
    .where('id', '=', id)
    .where('state', 'in', ['queued', 'running'])
    .execute();
}

/**
 * Asks a job to stop. A queued job is cancelled at once; a running one is stopped by its runner
 * at its next progress report. Returns the job as it now stands.
 */
export async function requestJobCancel(db: Kysely<Database>, id: number): Promise<Job> {
  await db
    .updateTable('jobs')
    .set({ state: 'cancelled', error: 'cancelled before it started', message: 'cancelled', finished_at: sql`now()` })
    .where('id', '=', id)
    .where('state', '=', 'queued')
    .execute();
  await db.updateTable('jobs').set({ cancel_requested: true }).where('id', '=', id).where('state', '=', 'running').execute();
  return getJob(db, id);
}

/**
 * Marks running jobs whose worker is gone as failed, so that they can be re-run: every running job
 * when `all` is set (an embedded store has one process, so at its start any running job is
 * orphaned), else those whose heartbeat is older than `staleAfterMs`. Returns their ids.
 */
export async function failInterruptedJobs(
  db: Kysely<Database>,
  options: { staleAfterMs?: number; all?: boolean } = {},
): Promise<number[]> {
  const staleAfter = `${Math.round((options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS) / 1000)} seconds`;
  let query = db
    .updateTable('jobs')
    .set({
      state: 'failed',
      error: 'interrupted: the process running it stopped before it finished; nothing was registered. Re-run the job.',
      message: 'interrupted',
      finished_at: sql`now()`,
    })
    .where('state', '=', 'running');
  if (!options.all) query = query.where('heartbeat_at', '<', sql<Date>`now() - ${staleAfter}::interval`);
  const rows = await query.returning('id').execute();
  return rows.map((r) => r.id);
}

/** The job as the API and the CLI show it. */
export function jobView(job: Job) {
  return {
    id: job.id,
    kind: job.kind,
    model: job.model_name,
    state: job.state,
    percent: Math.round(job.percent * 10) / 10,
    message: job.message,
    progress: job.progress,
    params: job.params,
    result: job.result,
    error: job.error,
    requestedBy: job.requested_by,
    createdAt: new Date(job.created_at).toISOString(),
    startedAt: job.started_at ? new Date(job.started_at).toISOString() : null,
    finishedAt: job.finished_at ? new Date(job.finished_at).toISOString() : null,
  };
}
