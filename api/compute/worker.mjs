// Entry of the assessment worker threads (piscina): registers tsx, since workers do not inherit
// the parent's loader, and exports the task. Under Deno TypeScript loads natively.
if (typeof globalThis.Deno === 'undefined') {
  const { register } = await import('tsx/esm/api');
  register();
}
const { assessTask } = await import('./tasks.ts');
export default assessTask;
