// Entry of a worker thread: registers tsx (workers do not inherit the parent's loader), imports
// the task module named in workerData and runs its exported function, relaying progress.
// Under Deno (the notebooks' kernel) TypeScript loads natively, and tsx's hooks there break
// CommonJS packages that require() JSON, so tsx is registered under Node only.
import { parentPort, workerData } from 'node:worker_threads';

if (typeof globalThis.Deno === 'undefined') {
  const { register } = await import('tsx/esm/api');
  register();
}
const { moduleUrl, exportName, input } = workerData;
const report = (update) => parentPort.postMessage({ type: 'progress', update });
try {
  const module = await import(moduleUrl);
  const task = module[exportName];
  if (typeof task !== 'function') throw new Error(`${moduleUrl} has no exported function ${exportName}`);
  const result = await task(input, report);
  parentPort.postMessage({ type: 'done', result });
} catch (error) {
  parentPort.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error), stack: error?.stack });
}
