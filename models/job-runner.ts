/**
 * The job runner: claims queued jobs from the database and runs them, one at a time per runner,
 * beside the API in the same process (the heavy part of each job runs in a worker thread, see
 * run-in-worker.ts). Several processes on PostgreSQL can each run one: claims use SKIP LOCKED.
 *
 * A job handler gets the job, a `progress` function (written to the job row, at most every
 * `progressEveryMs`, and which tells it whether a cancel was asked) and an AbortSignal that fires
 * on cancel or shutdown. Whatever the handler returns is the job's result; if it throws, the job
 * fails with the message, and the handler must not have written anything partial (the training
 * handler registers its model in one transaction at its end).
 *
 * A database outage never ends the process: polling logs it once and keeps polling until the
 * database answers again; a progress report that cannot be written is skipped (the job goes on);
 * a job's final state (done or failed) is retried until it is written or the runner stops.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { describeStoreError, isStoreUnavailable } from '../engine/store/availability.ts';
import type { Store } from '../engine/store/database.ts';
import {
  claimNextJob,
  failInterruptedJobs,
  failJob,
  finishJob,
  getJob,
  reportJobProgress,
  type Job,
  type JobProgress,
} from '../engine/store/jobs.ts';

export interface JobContext {
  readonly store: Store;
  readonly signal: AbortSignal;
  /** Records progress; resolves to true when the job should stop (cancel requested). */
  progress(update: JobProgress): Promise<boolean>;
}

export type JobHandler = (job: Job, context: JobContext) => Promise<unknown>;

export interface JobRunnerOptions {
  readonly store: Store;
  readonly handlers: Readonly<Record<string, JobHandler>>;
  readonly pollMs?: number;
  readonly progressEveryMs?: number;
  readonly log?: (message: string) => void;
}

/** How long a finished job's outcome is retried through a database outage before the runner gives up on it. */
const RECORD_RETRY_MS = 5 * 60_000;

export class CancelledError extends Error {
  constructor() {
    super('cancelled on request');
    this.name = 'CancelledError';
  }
}

export class JobRunner {
  readonly workerId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly pollMs: number;
  private readonly progressEveryMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private current: AbortController | undefined;
  private stopped = true;
  /** Set while the database is unreachable, so that an outage is logged once, not on every poll. */
  private storeDownSince: number | undefined;

  constructor(private readonly options: JobRunnerOptions) {
    this.pollMs = options.pollMs ?? 1_000;
    this.progressEveryMs = options.progressEveryMs ?? 250;
  }

  /** Fails jobs orphaned by a previous life of this store, then starts polling. */
  async start(): Promise<void> {
    const orphaned = await failInterruptedJobs(this.options.store.db, { all: this.options.store.kind === 'pglite' });
    if (orphaned.length > 0) this.options.log?.(`jobs ${orphaned.join(', ')} were interrupted by a stop and are marked failed; re-run them`);
    this.stopped = false;
    this.schedule(0);
  }

  /** Looks for work now (called after a job is queued, so it need not wait for the next poll). */
  poke(): void {
    if (!this.stopped && !this.running) this.schedule(0);
  }

  /** Stops polling and aborts the job in hand (it ends as failed: interrupted by shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.current?.abort(new Error('interrupted: the server is shutting down; re-run the job'));
    await this.running;
  }

  /** Runs queued jobs until none is left; for the CLI and tests. */
  async drain(): Promise<void> {
    while (await this.runOne()) {
      // next
    }
  }

  private schedule(delay: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.loop().finally(() => {
        this.running = undefined;
      });
    }, delay);
    this.timer.unref();
  }

  private async loop(): Promise<void> {
    try {
      while (!this.stopped && (await this.runOne())) {
        // keep going while there is work
      }
      this.storeReachable();
    } catch (error) {
      if (isStoreUnavailable(error)) this.storeUnreachable(error);
      else this.options.log?.(`job runner: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!this.stopped) this.schedule(this.pollMs);
  }

  private storeUnreachable(error: unknown): void {
    if (this.storeDownSince !== undefined) return;
    this.storeDownSince = Date.now();
    this.options.log?.(`job runner: the database is not reachable (${describeStoreError(error)}); polling again every ${this.pollMs} ms`);
  }

  private storeReachable(): void {
    if (this.storeDownSince === undefined) return;
    this.options.log?.(`job runner: the database is reachable again after ${((Date.now() - this.storeDownSince) / 1000).toFixed(1)} s`);
    this.storeDownSince = undefined;
  }

  /**
   * Writes a job's final state, retrying through a database outage (every pollMs) so that a job
   * that finished during one does not stay "running"; gives up when the runner stops (the next
   * runner's start marks it interrupted) or after `RECORD_RETRY_MS`.
   */
  private async recordOutcome(write: () => Promise<void>): Promise<void> {
    const deadline = Date.now() + RECORD_RETRY_MS;
    for (;;) {
      try {
        await write();
        this.storeReachable();
        return;
      } catch (error) {
        if (!isStoreUnavailable(error) || this.stopped || Date.now() > deadline) throw error;
        this.storeUnreachable(error);
        await new Promise((resolve) => setTimeout(resolve, this.pollMs));
      }
    }
  }

  /** Claims and runs one job; returns false when the queue was empty. */
  async runOne(): Promise<boolean> {
    const { store } = this.options;
    const job = await claimNextJob(store.db, this.workerId, Object.keys(this.options.handlers));
    if (!job) return false;
    const handler = this.options.handlers[job.kind]!;
    const controller = new AbortController();
    this.current = controller;
    let lastWrite = 0;
    const progress = async (update: JobProgress): Promise<boolean> => {
      const now = Date.now();
      if (now - lastWrite < this.progressEveryMs && update.percent < 100) return controller.signal.aborted;
      lastWrite = now;
      let cancelRequested: boolean;
      try {
        ({ cancelRequested } = await reportJobProgress(store.db, job.id, update));
      } catch (error) {
        // A progress row is not worth failing a job for: skip it while the database is away.
        if (!isStoreUnavailable(error)) throw error;
        this.storeUnreachable(error);
        return controller.signal.aborted;
      }
      if (cancelRequested && !controller.signal.aborted) controller.abort(new CancelledError());
      return cancelRequested;
    };
    // A cancel asked while the handler is in a long step without progress reports still lands.
    const cancelWatch = setInterval(() => {
      void getJob(store.db, job.id)
        .then((row) => {
          if (row.cancel_requested && !controller.signal.aborted) controller.abort(new CancelledError());
        })
        .catch(() => undefined);
    }, Math.max(this.pollMs, 500));
    cancelWatch.unref();
    try {
      const result = await handler(job, { store, signal: controller.signal, progress });
      if (controller.signal.aborted) throw controller.signal.reason;
      await this.recordOutcome(() => finishJob(store.db, job.id, result));
      this.options.log?.(`job ${job.id} (${job.kind} ${job.model_name ?? ''}) succeeded`);
    } catch (error) {
      const reason = controller.signal.aborted ? controller.signal.reason : error;
      const message = reason instanceof Error ? reason.message : String(reason);
      await this.recordOutcome(() => failJob(store.db, job.id, message, reason instanceof CancelledError ? 'cancelled' : 'failed'));
      this.options.log?.(`job ${job.id} (${job.kind} ${job.model_name ?? ''}) ${reason instanceof CancelledError ? 'cancelled' : 'failed'}: ${message}`);
    } finally {
      clearInterval(cancelWatch);
      this.current = undefined;
    }
    return true;
  }
}
