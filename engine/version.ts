/**
 * The code version recorded with every assessment: the package version and, where the code runs
 * from a git checkout, the commit (with `+dirty` when the working tree differs from it).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function gitDescribe(): string | null {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return dirty ? `${commit}+dirty` : commit;
  } catch {
    return null; // not a checkout (an installed package): the package version alone
  }
}

let cached: string | undefined;

export function codeVersion(): string {
  if (cached === undefined) {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const git = gitDescribe();
    cached = git ? `${version}+${git}` : version;
  }
  return cached;
}
