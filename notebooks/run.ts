/**
 * Executes every notebook in notebooks/ headless with Jupyter's nbclient (what `jupyter nbconvert
 * --execute` runs; notebooks/execute.py says why not nbconvert itself) on Deno's TypeScript
 * kernel, fails when a cell errors, and checks that each notebook drew its charts.
 *
 *   npm run notebooks                                   # run all, refresh their committed outputs in place
 *   node bin/run-ts.mjs notebooks/run.ts --output-dir DIR      # run all, write the executed copies to DIR
 *   node bin/run-ts.mjs notebooks/run.ts --demo 01-explore     # force the synthetic demo panel; one notebook
 *
 * Needs a Python with nbclient (Debian: jupyter-nbconvert, or python3-nbclient) and the deno
 * binary (the `deno` dev dependency). When either is missing it says "skipped: ..." and exits 0.
 * The Deno kernelspec is installed into a temporary directory given to Jupyter through
 * JUPYTER_PATH: nothing global. PYTHON and DENO_BIN choose the programs (and only those).
 *
 * Checks: execution stops at the first cell that raises (exit 1, naming the cell and its error);
 * every SVG must be well-formed XML (execute.py); every cell tagged `chart` must have an
 * image/svg+xml or image/png output, and every notebook at least one. A notebook's outputs replace
 * the committed ones only when all of it passed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const NOTEBOOK_DIR = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(NOTEBOOK_DIR, '..');
const KERNEL_NAME = 'deno';
const IMAGE_TYPES = ['image/svg+xml', 'image/png'];

interface Options {
  outputDir: string | null;
  demo: boolean;
  cellTimeout: number;
  notebooks: string[];
}

function usage(message?: string): never {
  if (message) console.error(`notebooks: ${message}`);
  console.error('usage: node bin/run-ts.mjs notebooks/run.ts [--output-dir DIR] [--demo] [--cell-timeout SECONDS] [NOTEBOOK ...]');
  process.exit(2);
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { outputDir: null, demo: false, cellTimeout: 600, notebooks: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--output-dir') options.outputDir = resolve(argv[++i] ?? usage('--output-dir needs a directory'));
    else if (arg === '--demo') options.demo = true;
    else if (arg === '--cell-timeout') {
      options.cellTimeout = Number(argv[++i]);
      if (!(options.cellTimeout > 0)) usage('--cell-timeout needs a number of seconds > 0');
    } else if (arg === '--help' || arg === '-h') usage();
    else if (arg.startsWith('-')) usage(`unknown option ${arg}`);
    else options.notebooks.push(arg);
  }
  return options;
}

/** The notebooks to run: those named (with or without .ipynb; a path, or a name in notebooks/), else all, in name order. */
function selectNotebooks(names: readonly string[]): string[] {
  if (names.length === 0) {
    return readdirSync(NOTEBOOK_DIR)
      .filter((f) => f.endsWith('.ipynb') && !f.startsWith('_') && !f.startsWith('.'))
      .sort()
      .map((f) => join(NOTEBOOK_DIR, f));
  }
  return names.map((name) => {
    const file = name.endsWith('.ipynb') ? name : `${name}.ipynb`;
    const candidates = [resolve(file), join(NOTEBOOK_DIR, basename(file))];
    const found = candidates.find((p) => existsSync(p));
    return found ?? usage(`no notebook ${name} (looked for ${candidates.join(' and ')})`);
  });
}

function works(command: string, args: readonly string[]): boolean {
  return spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).status === 0;
}

/** The deno binary: DENO_BIN when set (and only it), else the npm dev dependency, else deno on PATH. */
function findDeno(): string | null {
  const candidates = process.env.DENO_BIN ? [process.env.DENO_BIN] : [join(REPO_ROOT, 'node_modules', '.bin', 'deno'), 'deno'];
  return candidates.find((c) => works(c, ['--version'])) ?? null;
}

/** A Python with nbclient and nbformat: PYTHON when set (and only it), else python3, else /usr/bin/python3. */
function findPython(): string | null {
  const candidates = process.env.PYTHON ? [process.env.PYTHON] : ['python3', '/usr/bin/python3'];
  return candidates.find((c) => works(c, ['-c', 'import nbclient, nbformat'])) ?? null;
}

function findFile(dir: string, suffix: string): string | null {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) {
      const found = findFile(path, suffix);
      if (found) return found;
    } else if (path.endsWith(suffix)) return path;
  }
  return null;
}

/**
 * Installs the Deno kernelspec into `home` with deno's own installer (`deno jupyter --install`),
 * pointed there by HOME and XDG_DATA_HOME, and returns the directory to give Jupyter as JUPYTER_PATH.
 */
function installKernelspec(deno: string, home: string): string {
  const env = { ...process.env, HOME: home, XDG_DATA_HOME: join(home, 'share'), NO_COLOR: '1' };
  const result = spawnSync(deno, ['jupyter', '--install', '--force', '--name', KERNEL_NAME], { env, encoding: 'utf8' });
  const kernelJson = existsSync(home) ? findFile(home, join('kernels', KERNEL_NAME, 'kernel.json')) : null;
  if (result.status !== 0 || !kernelJson) {
    throw new Error(`could not install the Deno kernelspec into ${home}: ${(result.stderr || result.stdout || '').trim() || `exit ${result.status}`}`);
  }
  return dirname(dirname(dirname(kernelJson)));
}

function execute(python: string, notebook: string, output: string, env: NodeJS.ProcessEnv, cellTimeout: number): Promise<{ code: number; signal: string | null; log: string }> {
  const args = [join(NOTEBOOK_DIR, 'execute.py'), notebook, output, '--kernel', KERNEL_NAME, '--timeout', String(cellTimeout)];
  return new Promise((resolvePromise) => {
    const child = spawn(python, args, { cwd: dirname(notebook), env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    child.on('close', (code, signal) => resolvePromise({ code: code ?? 1, signal, log }));
  });
}

/** The parts of an .ipynb document the checks read. */
export interface NotebookDocument {
  readonly cells: readonly {
    readonly cell_type: string;
    readonly source: string | readonly string[];
    readonly metadata?: { readonly tags?: readonly string[] };
    readonly outputs?: readonly {
      readonly output_type: string;
      readonly data?: Readonly<Record<string, unknown>>;
      readonly ename?: string;
      readonly evalue?: string;
    }[];
  }[];
}

export interface NotebookInspection {
  /** What is wrong, one line each, naming the cell (1-based) and its first line. */
  readonly problems: readonly string[];
  /** Image outputs (image/svg+xml or image/png). */
  readonly charts: number;
  /** The application/json output of the cell tagged `summary`, if any. */
  readonly summary: Record<string, unknown> | null;
}

const joined = (text: unknown) => (Array.isArray(text) ? text.join('') : String(text));

/** What an executed notebook shows: error outputs, images per cell (every `chart` cell needs one), the JSON summary. */
export function inspectNotebook(document: NotebookDocument): NotebookInspection {
  const problems: string[] = [];
  let charts = 0;
  let summary: Record<string, unknown> | null = null;
  document.cells.forEach((cell, index) => {
    if (cell.cell_type !== 'code') return;
    const outputs = cell.outputs ?? [];
    const tags = cell.metadata?.tags ?? [];
    const where = `cell ${index + 1} (${joined(cell.source).split('\n')[0]})`;
    for (const o of outputs) if (o.output_type === 'error') problems.push(`${where} raised ${o.ename}: ${o.evalue}`);
    const images = outputs.filter((o) => o.data && IMAGE_TYPES.some((t) => t in o.data!));
    for (const o of images) {
      const svg = o.data!['image/svg+xml'];
      if (svg === undefined) continue;
      const text = joined(svg).trim();
      if (!text.startsWith('<svg') || !text.endsWith('</svg>')) problems.push(`${where} has an image/svg+xml output that is not an <svg> document`);
    }
    charts += images.length;
    if (tags.includes('chart') && images.length === 0) problems.push(`${where} is tagged "chart" but drew no image/svg+xml or image/png output`);
    if (tags.includes('summary')) {
      const json = outputs.find((o) => o.data?.['application/json'] !== undefined)?.data?.['application/json'];
      summary = (json as Record<string, unknown> | undefined) ?? null;
      if (!summary) problems.push(`${where} is tagged "summary" but has no application/json output`);
    }
  });
  if (charts === 0) problems.push('the notebook drew no chart (no image/svg+xml or image/png output)');
  return { problems, charts, summary };
}

export async function main(argv: readonly string[]): Promise<number> {
  const options = parseArgs(argv);
  const notebooks = selectNotebooks(options.notebooks);
  if (notebooks.length === 0) {
    console.log(`skipped: no notebooks in ${NOTEBOOK_DIR}`);
    return 0;
  }
  const python = findPython();
  if (!python) {
    const tried = process.env.PYTHON ? `PYTHON=${process.env.PYTHON}` : 'python3 and /usr/bin/python3';
    console.log(`skipped: Jupyter is not installed: no Python with nbclient and nbformat (tried ${tried}); on Debian: apt-get install jupyter-nbconvert (or python3-nbclient)`);
    return 0;
  }
  const deno = findDeno();
  if (!deno) {
    const where = process.env.DENO_BIN ? `DENO_BIN=${process.env.DENO_BIN}` : 'npm install installs it as a dev dependency in node_modules/.bin/deno; or set DENO_BIN';
    console.log(`skipped: the deno binary was not found (${where})`);
    return 0;
  }

  const work = mkdtempSync(join(tmpdir(), 'threatlens-notebooks-'));
  try {
    const jupyterPath = installKernelspec(deno, join(work, 'home'));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      JUPYTER_PATH: [jupyterPath, process.env.JUPYTER_PATH].filter(Boolean).join(':'),
      // Connection files and other runtime state stay in the temporary directory too.
      JUPYTER_RUNTIME_DIR: join(work, 'runtime'),
      // Plain-text outputs without ANSI colour codes.
      NO_COLOR: '1',
      ...(options.demo ? { THREATLENS_NOTEBOOK_DATA: 'demo' } : {}),
    };
    const outDir = options.outputDir ?? join(work, 'executed');
    mkdirSync(outDir, { recursive: true });
    console.log(`notebooks: ${notebooks.length} to run with ${python} (nbclient) and ${deno}${options.demo ? ', synthetic demo data forced' : ''}`);

    let failed = 0;
    for (const notebook of notebooks) {
      const name = basename(notebook);
      const started = Date.now();
      const executed = join(outDir, name);
      const run = await execute(python, notebook, executed, env, options.cellTimeout);
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      if (run.code !== 0 || !existsSync(executed)) {
        failed++;
        const log = run.log.split('\n').filter((l) => !l.includes('"deno jupyter" is unstable')).slice(-60).join('\n');
        console.error(`FAIL ${name} (${seconds} s): a cell raised an error, a chart is malformed, or the kernel failed (exit ${run.code}${run.signal ? `, ${run.signal}` : ''})\n${log}`);
        continue;
      }
      const { problems, charts, summary } = inspectNotebook(JSON.parse(readFileSync(executed, 'utf8')) as NotebookDocument);
      if (problems.length > 0) {
        failed++;
        console.error(`FAIL ${name} (${seconds} s):\n  ${problems.join('\n  ')}`);
        continue;
      }
      if (!options.outputDir) copyFileSync(executed, notebook);
      console.log(`ok   ${name} (${seconds} s, ${charts} charts)${options.outputDir ? ` -> ${executed}` : ', outputs updated in place'}`);
      if (summary) {
        const text = JSON.stringify(summary);
        console.log(`     summary: ${text.length > 400 ? `${text.slice(0, 400)}...` : text}`);
      }
    }
    console.log(`notebooks: ${notebooks.length - failed} passed, ${failed} failed`);
    return failed === 0 ? 0 : 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`notebooks: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
