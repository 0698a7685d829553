/** Tasks for test/run-in-worker.test.ts, run in a worker thread. */
export async function sumSquares(input: { n: number }, report: (update: { done: number }) => void): Promise<number> {
  let total = 0;
  for (let i = 1; i <= input.n; i++) {
    total += i * i;
    if (i % Math.ceil(input.n / 4) === 0) report({ done: i });
  }
  return total;
}

export async function failing(): Promise<never> {
  throw new Error('planted failure');
}

/** Busy for `ms` milliseconds without yielding: the caller's event loop must stay free meanwhile. */
export async function busy(input: { ms: number }): Promise<string> {
  const end = Date.now() + input.ms;
  while (Date.now() < end) {
    // spin
  }
  return 'finished';
}
