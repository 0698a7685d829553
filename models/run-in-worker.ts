/**
 * Runs CPU-heavy work (model training) in a worker thread, so that the API's event loop keeps
 * answering while it runs. The task is an exported async function `(input, report) => result` of
 * a TypeScript module; `report(update)` relays progress to `onProgress` in the caller's thread.
 * Aborting the signal terminates the worker at once (a training loop need not poll for it).
 */
import { Worker } from 'node:worker_threads';

export interface WorkerTaskOptions<P> {
  readonly onProgress?: (update: P) => void | Promise<void>;
  readonly signal?: AbortSignal;
}

export type WorkerTask<I, R, P> = (input: I, report: (update: P) => void) => Promise<R>;

export class WorkerTaskError extends Error {
  constructor(message: string, readonly workerStack?: string) {
    super(message);
    this.name = 'WorkerTaskError';
  }
}

const ENTRY = new URL('./worker-entry.mjs', import.meta.url);

export function runInWorker<I, R, P = unknown>(moduleUrl: URL, exportName: string, input: I, options: WorkerTaskOptions<P> = {}): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(options.signal.reason ?? new Error('aborted'));
      return;
    }
    const worker = new Worker(ENTRY, { workerData: { moduleUrl: moduleUrl.href, exportName, input } });
    let settled = false;
    const settle = (action: () => void) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      action();
      void worker.terminate();
    };
    const onAbort = () => settle(() => reject(options.signal?.reason ?? new Error('aborted')));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (message: { type: string; update?: P; result?: R; message?: string; stack?: string }) => {
      if (message.type === 'progress' && !settled) {
        // A failing progress sink (e.g. the store is briefly away) must not kill the training.
        Promise.resolve(options.onProgress?.(message.update as P)).catch(() => undefined);
      } else if (message.type === 'done') {
        settle(() => resolve(message.result as R));
      } else if (message.type === 'error') {
        settle(() => reject(new WorkerTaskError(message.message ?? 'worker task failed', message.stack)));
      }
    });
    worker.on('error', (error) => settle(() => reject(error)));
    worker.on('exit', (code) => settle(() => reject(new WorkerTaskError(`worker stopped with exit code ${code} before finishing`))));
  });
}
