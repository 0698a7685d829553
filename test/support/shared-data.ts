/** The real public data sets in ../shared/datasets/real (never copied into the repo). */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';

export const REAL_DATA_DIR = resolve(fileURLToPath(new URL('../../..', import.meta.url)), 'shared', 'datasets', 'real');

export function realDataFile(...parts: string[]): string {
  return join(REAL_DATA_DIR, ...parts);
}

/** True when the real data is there; otherwise says once, clearly, which tests skip. */
export function hasRealData(what: string, ...files: string[][]): boolean {
  const missing = files.map((f) => realDataFile(...f)).filter((f) => !existsSync(f));
  if (missing.length > 0) console.warn(`SKIP ${what}: real data not found (${missing.join(', ')}); it lives in ../shared/datasets/real beside the checkout.`);
  return missing.length === 0;
}
