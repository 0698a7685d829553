/** Runs the threatlens command line as a user does: a child process on a PGlite data directory. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `threatlens ARGS` on `dataDir` (never PostgreSQL: DATABASE_URL is cleared); never throws. */
export async function threatlens(dataDir: string, ...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/threatlens.mjs', ...args], {
      env: { ...process.env, THREATLENS_DATA_DIR: dataDir, DATABASE_URL: '' },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
