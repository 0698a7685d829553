import { describe, expect, it } from 'vitest';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { runInWorker, WorkerTaskError } from '../models/run-in-worker.ts';

const TASKS = new URL('./support/worker-tasks.ts', import.meta.url);

describe('runInWorker', () => {
  it('runs a TypeScript task in a worker thread and relays its progress', async () => {
    const updates: number[] = [];
    const result = await runInWorker<{ n: number }, number, { done: number }>(TASKS, 'sumSquares', { n: 100 }, {
      onProgress: (u) => void updates.push(u.done),
    });
    expect(result).toBe((100 * 101 * 201) / 6);
    expect(updates).toEqual([25, 50, 75, 100]);
  });

  it('reports a failing task as an error with its message', async () => {
    await expect(runInWorker(TASKS, 'failing', {})).rejects.toThrow(WorkerTaskError);
    await expect(runInWorker(TASKS, 'failing', {})).rejects.toThrow('planted failure');
    await expect(runInWorker(TASKS, 'missing', {})).rejects.toThrow(/no exported function missing/);
  });

  it('stops the worker when aborted', async () => {
    const controller = new AbortController();
    const running = runInWorker(TASKS, 'busy', { ms: 10_000 }, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('cancelled by test')), 200);
    const started = Date.now();
    await expect(running).rejects.toThrow('cancelled by test');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('keeps the caller\'s event loop free while the task spins', async () => {
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    await runInWorker(TASKS, 'busy', { ms: 1_000 });
    delay.disable();
    // A spin of 1 s on the caller's thread would show a delay of about 1 s.
    expect(delay.max / 1e6).toBeLessThan(300);
  });
});
