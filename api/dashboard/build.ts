/**
 * Builds the crime-map dashboard into api/dashboard/dist/: the TypeScript in src/ bundled and
 * minified by esbuild (plain TypeScript, no framework), the stylesheet, the page, and the map:
 * boundaries cut from world-atlas (atlas.ts) and projected to SVG paths with d3-geo
 * (geometry.ts); each text file also gzip-compressed (and brotli, up to 150 kB) for
 * @fastify/static's preCompressed. Nothing is fetched from a CDN.
 *
 * `ensureDashboardBuilt()` runs when the server starts: it rebuilds only when dist is missing or
 * its recorded hash of the inputs (sources, this script, the library versions) differs, which
 * takes well under a second. Several processes may build at once (test files run in parallel):
 * each builds in its own temporary directory and renames finished files into dist, the build
 * record last, so a reader never sees a half-written file.
 *
 * Run by hand: `node bin/run-ts.mjs api/dashboard/build.ts` prints the sizes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlibConstants, gzipSync } from 'node:zlib';
import { build as esbuild, version as esbuildVersion } from 'esbuild';
import { buildAtlas } from './atlas.ts';
import { projectAtlas } from './geometry.ts';

const require = createRequire(import.meta.url);

export const DASHBOARD_DIR = fileURLToPath(new URL('.', import.meta.url));
export const DIST_DIR = join(DASHBOARD_DIR, 'dist');
const BUILD_RECORD = 'build-info.json';

export interface BuiltFile {
  readonly bytes: number;
  readonly gzip: number;
  /** Null where no brotli copy is made (served gzip-compressed). */
  readonly brotli: number | null;
}

const BROTLI_MAX_BYTES = 150_000;

export interface BuildInfo {
  readonly hash: string;
  readonly builtAt: string;
  readonly esbuild: string;
  readonly buildMs: number;
  readonly files: Readonly<Record<string, BuiltFile>>;
}

/** Library versions that end up in the bundle or the atlas. */
const LIBRARIES = ['d3-geo', 'd3-array', 'topojson-client', 'world-atlas', 'i18n-iso-countries'];

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else out.push(path);
  }
  return out.sort();
}

/** A package's version, from its package.json in the node_modules Node would load it from (not every package exports it). */
async function packageVersion(name: string): Promise<string> {
  for (const dir of require.resolve.paths(name) ?? []) {
    try {
      const pkg = JSON.parse(await readFile(join(dir, name, 'package.json'), 'utf8')) as { version?: string };
      if (pkg.version) return pkg.version;
    } catch {
      // not installed here: the next node_modules up
    }
  }
  throw new Error(`dashboard build: ${name} is not installed (npm install)`);
}

/** The build's own code (this script, the atlas cutter, the projection, the list of states), as loaded. */
const BUILD_CODE = [
  fileURLToPath(import.meta.url),
  join(DASHBOARD_DIR, 'atlas.ts'),
  join(DASHBOARD_DIR, 'geometry.ts'),
  fileURLToPath(new URL('../../datasets/reference/osce.ts', import.meta.url)),
];
/**
 * Read when this module loads, so that a process records the hash of the code it runs: one started
 * before an edit builds with the old code and names it by the old hash, and the next process rebuilds.
 */
const BUILD_CODE_TEXT = await Promise.all(BUILD_CODE.map((file) => readFile(file)));

/** A hash of everything the build reads: sources, page, stylesheet, the build's code, library versions. */
export async function inputsHash(): Promise<string> {
  const hash = createHash('sha256');
  const files = [...(await listFiles(join(DASHBOARD_DIR, 'src'))), join(DASHBOARD_DIR, 'index.html')];
  for (const file of files) hash.update(`${relative(DASHBOARD_DIR, file)}\n`).update(await readFile(file)).update('\n');
  BUILD_CODE.forEach((file, i) => hash.update(`${relative(DASHBOARD_DIR, file)}\n`).update(BUILD_CODE_TEXT[i]!).update('\n'));
  for (const name of LIBRARIES) hash.update(`${name}@${await packageVersion(name)}\n`);
  hash.update(`esbuild@${esbuildVersion}\n`);
  return hash.digest('hex').slice(0, 16);
}

async function readBuildInfo(): Promise<BuildInfo | null> {
  try {
    return JSON.parse(await readFile(join(DIST_DIR, BUILD_RECORD), 'utf8')) as BuildInfo;
  } catch {
    return null;
  }
}

async function allPresent(info: BuildInfo): Promise<boolean> {
  try {
    await Promise.all(Object.keys(info.files).map((f) => stat(join(DIST_DIR, f))));
    return true;
  } catch {
    return false;
  }
}

/** Builds into a fresh temporary directory and moves the files into dist; returns the record. */
export async function buildDashboard(): Promise<BuildInfo> {
  const started = performance.now();
  const hash = await inputsHash();
  const tmp = join(DASHBOARD_DIR, `dist.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp, { recursive: true });
  try {
    const result = await esbuild({
      entryPoints: { app: join(DASHBOARD_DIR, 'src', 'main.ts'), style: join(DASHBOARD_DIR, 'src', 'style.css') },
      bundle: true,
      minify: true,
      format: 'esm',
      target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
      outdir: tmp,
      write: false,
      legalComments: 'none',
      logLevel: 'silent',
      define: { 'process.env.NODE_ENV': '"production"' },
    });
    const outputs = new Map<string, Uint8Array>();
    for (const file of result.outputFiles) outputs.set(relative(tmp, file.path), file.contents);
    outputs.set('map.json', Buffer.from(JSON.stringify(projectAtlas(await buildAtlas()))));
    // Cache busting: the page names each asset with the build's hash as a query.
    const page = (await readFile(join(DASHBOARD_DIR, 'index.html'), 'utf8')).replaceAll('__BUILD__', hash);
    outputs.set('index.html', Buffer.from(page));

    const files: Record<string, BuiltFile> = {};
    for (const [name, contents] of outputs) {
      const gz = gzipSync(contents, { level: 9 });
      await writeFile(join(tmp, name), contents);
      await writeFile(join(tmp, `${name}.gz`), gz);
      // Brotli at its best setting takes seconds on a file of several hundred kB for ~10% less than gzip: only for the smaller files.
      const br = contents.length <= BROTLI_MAX_BYTES ? brotliCompressSync(contents, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: contents.length } }) : null;
      if (br) await writeFile(join(tmp, `${name}.br`), br);
      files[name] = { bytes: contents.length, gzip: gz.length, brotli: br?.length ?? null };
    }
    const info: BuildInfo = { hash, builtAt: new Date().toISOString(), esbuild: esbuildVersion, buildMs: Math.round(performance.now() - started), files };
    await mkdir(DIST_DIR, { recursive: true });
    for (const name of Object.keys(files)) {
      for (const variant of [name, `${name}.gz`, ...(files[name]!.brotli === null ? [] : [`${name}.br`])]) await rename(join(tmp, variant), join(DIST_DIR, variant));
    }
    // Files of an earlier build that this one does not make (a stale .br would be served in place of the new file).
    const made = new Set([BUILD_RECORD, ...Object.keys(files).flatMap((name) => [name, `${name}.gz`, ...(files[name]!.brotli === null ? [] : [`${name}.br`])])]);
    for (const entry of await readdir(DIST_DIR)) if (!made.has(entry)) await rm(join(DIST_DIR, entry), { recursive: true, force: true });
    await writeFile(join(tmp, BUILD_RECORD), JSON.stringify(info, null, 2));
    await rename(join(tmp, BUILD_RECORD), join(DIST_DIR, BUILD_RECORD));
    return info;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** The build record of an up-to-date dist, building first when dist is missing or stale. */
export async function ensureDashboardBuilt(options: { force?: boolean } = {}): Promise<BuildInfo & { rebuilt: boolean }> {
  if (!options.force) {
    const [info, hash] = await Promise.all([readBuildInfo(), inputsHash()]);
    if (info && info.hash === hash && (await allPresent(info))) return { ...info, rebuilt: false };
  }
  return { ...(await buildDashboard()), rebuilt: true };
}

/** The size of what a browser downloads for the page (JavaScript, stylesheet, page, map): raw, gzip, and as served to a browser that accepts brotli. */
export function transferSizes(info: BuildInfo): { bytes: number; gzip: number; served: number } {
  const files = Object.values(info.files);
  return {
    bytes: files.reduce((acc, f) => acc + f.bytes, 0),
    gzip: files.reduce((acc, f) => acc + f.gzip, 0),
    served: files.reduce((acc, f) => acc + (f.brotli ?? f.gzip), 0),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const info = await ensureDashboardBuilt({ force: process.argv.includes('--force') });
  const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`;
  console.log(`dashboard ${info.rebuilt ? 'built' : 'up to date'} in ${DIST_DIR} (hash ${info.hash}, ${info.buildMs} ms)`);
  for (const [name, f] of Object.entries(info.files)) {
    console.log(`  ${name.padEnd(12)} ${kb(f.bytes).padStart(10)}  gzip ${kb(f.gzip).padStart(9)}  brotli ${(f.brotli === null ? '-' : kb(f.brotli)).padStart(9)}`);
  }
  const total = transferSizes(info);
  console.log(`  ${'total'.padEnd(12)} ${kb(total.bytes).padStart(10)}  gzip ${kb(total.gzip).padStart(9)}  served ${kb(total.served).padStart(9)} (brotli where made, else gzip)`);
}
