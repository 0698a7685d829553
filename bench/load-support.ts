/**
 * What the load and soak benchmarks share (bench/load.ts, bench/soak.ts): the server children
 * (ThreatLens in production mode, and bare Fastify), their IPC (event-loop delay and memory read
 * inside the server), the stores they run on, and the request mixes. Forked children run this
 * module with `--child <kind> <location>`.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { getHeapCodeStatistics } from 'node:v8';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { quantileSorted } from 'simple-statistics';
import { findPostgresBinDir, startTemporaryPostgres, type TemporaryPostgres } from '../test/support/postgres-cluster.ts';

export const DASHBOARD_READ = '/v1/risk-scores?framework=osce-threat-demo&year=2022';
export const TARGETS = { readRatio: 0.7, readP99Ms: 20, mixedP99Ms: 100 } as const;

// autocannon ships no types; only what this file uses.
export interface AutocannonRequest {
  method?: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Called before each send of this request (with the connection's context): returns the request to send. */
  setupRequest?: (request: AutocannonRequest, context?: { kind?: string }) => AutocannonRequest;
}
export interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  ['2xx']: number;
}
export type Autocannon = (options: {
  url: string;
  connections: number;
  /** Seconds; or, with `amount`, until that many requests are answered. */
  duration?: number;
  amount?: number;
  headers?: Record<string, string>;
  requests?: AutocannonRequest[];
  /**
   * Requests per second over all connections, instead of as fast as they go. Each connection sends
   * its share as fast as it can when a second starts, then waits for the next (autocannon's
   * lib/httpClient.js): a burst once a second, not an even stream.
   */
  overallRate?: number;
  /** Seconds before an unanswered request counts as an error (autocannon's default: 10). */
  timeout?: number;
}) => Promise<AutocannonResult>;
export const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export interface LoopDelay {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}
export interface MemorySample {
  /** Heap in use right after a full garbage collection (children run with --expose-gc). */
  readonly heapAfterGcMb: number;
  readonly rssMb: number;
  readonly externalMb: number;
  /** V8's compiled code and bytecode with their metadata (getHeapCodeStatistics), part of the heap: grows as the JIT warms up. */
  readonly codeMb: number;
}
/** The server process's own CPU (user + system, its threads together) since the phase began. */
export interface ServerCpu {
  readonly cpuMs: number;
  readonly wallMs: number;
  /** Of the wall time, how long the main thread was paused by garbage collection (V8's 'gc' entries). */
  readonly gcMs: number;
}
export type ChildMessage =
  | { type: 'ready'; port: number; key?: string; uploaderKey?: string }
  | { type: 'loop'; delay: LoopDelay; cpu: ServerCpu }
  | { type: 'memory'; memory: MemorySample };

// ---------------------------------------------------------------------------------------------
// Child side: a server that reports its own event-loop delay, CPU, GC pauses and memory on request.

function reportServerStatsOnRequest(): void {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  let cpuAtReset = process.cpuUsage();
  let wallAtReset = performance.now();
  let gcMs = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  }).observe({ entryTypes: ['gc'] });
  process.on('message', (message: { type: string }) => {
    if (message.type === 'reset-loop') {
      histogram.reset();
      cpuAtReset = process.cpuUsage();
      wallAtReset = performance.now();
      gcMs = 0;
    }
    if (message.type === 'read-memory') {
      (globalThis as { gc?: () => void }).gc?.();
      const usage = process.memoryUsage();
      const mb = (bytes: number) => Math.round((bytes / 1048576) * 100) / 100;
      const code = getHeapCodeStatistics();
      const codeMb = mb(code.code_and_metadata_size + code.bytecode_and_metadata_size);
      if (process.connected) process.send!({ type: 'memory', memory: { heapAfterGcMb: mb(usage.heapUsed), rssMb: mb(usage.rss), externalMb: mb(usage.external), codeMb } } satisfies ChildMessage, () => {});
    }
    if (message.type === 'read-loop') {
      const ms = (ns: number) => Math.round((ns / 1e6) * 100) / 100;
      // The parent may have given up (and closed the channel) if this process was saturated.
      const used = process.cpuUsage(cpuAtReset);
      const cpu = { cpuMs: Math.round((used.user + used.system) / 100) / 10, wallMs: Math.round(performance.now() - wallAtReset), gcMs: Math.round(gcMs) };
      if (process.connected) process.send!({ type: 'loop', delay: { p50Ms: ms(histogram.percentile(50)), p99Ms: ms(histogram.percentile(99)), maxMs: ms(histogram.max) }, cpu } satisfies ChildMessage, () => {});
    }
  });
}

async function runThreatLensChild(location: string): Promise<void> {
  process.env.THREATLENS_RATE_LIMIT = '0'; // the limit is per principal: one bench key would hit it
  process.env.THREATLENS_JOBS = 'off';
  const { serve } = await import('../api/server.ts');
  const { ensureAgency } = await import('../engine/store/catalogue.ts');
  const { createApiKey } = await import('../engine/store/keys.ts');
  const store = location.startsWith('postgres') ? { databaseUrl: location } : { dataDir: location };
  const server = await serve({ port: 0, host: '127.0.0.1', store, demoIfEmpty: true, log: (line) => process.stderr.write(`  [threatlens] ${line}\n`) });
  await ensureAgency(server.store.db, 'bench');
  const created = await createApiKey(server.store.db, { name: 'load bench', agency: 'bench', role: 'analyst' }, { actor: 'bench' });
  // Uploads come from another agency: its own data is not what the bench analyst reads or assesses.
  await ensureAgency(server.store.db, 'bench-uploader');
  const uploader = await createApiKey(server.store.db, { name: 'load bench uploads', agency: 'bench-uploader', role: 'analyst' }, { actor: 'bench' });
  const address = server.app.server.address();
  if (address === null || typeof address === 'string') throw new Error('ThreatLens child: the server has no TCP address');
  reportServerStatsOnRequest();
  process.on('disconnect', () => void server.close().then(() => process.exit(0)));
  process.send!({ type: 'ready', port: address.port, key: created.key, uploaderKey: uploader.key } satisfies ChildMessage);
}

async function runBareChild(): Promise<void> {
  // The body comes over IPC: it may exceed the 128 KiB limit of one command-line argument.
  const body = await new Promise<string>((resolve) => process.once('message', (message: { type: string; body: string }) => resolve(message.body)));
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: { level: 'warn' } });
  const payload = Buffer.from(body);
  app.get('/constant', async (_request, reply) => reply.type('application/json; charset=utf-8').send(payload));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('bare child: the server has no TCP address');
  reportServerStatsOnRequest();
  process.on('disconnect', () => void app.close().then(() => process.exit(0)));
  process.send!({ type: 'ready', port: address.port } satisfies ChildMessage);
}

// ---------------------------------------------------------------------------------------------
// Parent side.

export function nextMessage<T extends ChildMessage['type']>(child: ChildProcess, type: T, timeoutMs: number): Promise<Extract<ChildMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${type}" message from the ${child.spawnargs.slice(-2).join(' ')} child in ${timeoutMs / 1000} s`)), timeoutMs);
    const onExit = (code: number | null) => reject(new Error(`the ${child.spawnargs.slice(-2).join(' ')} child exited (code ${code}) before "${type}"`));
    const onMessage = (message: ChildMessage) => {
      if (message.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message as Extract<ChildMessage, { type: T }>);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export function startChild(...args: string[]): ChildProcess {
  return startChildWithFlags([], ...args);
}

/** A child with extra V8/Node flags (e.g. `--no-opt` for a control run). */
export function startChildWithFlags(flags: readonly string[], ...args: string[]): ChildProcess {
  return fork(fileURLToPath(import.meta.url), args, { execArgv: ['--import', 'tsx', '--expose-gc', ...flags], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

/**
 * Which CPUs the server under test and the load client run on. On a small machine, unpinned, the
 * two take turns on the same cores as the scheduler pleases, and a round's throughput moves with
 * that; pinned (taskset, util-linux), the server has one core to itself and the client the rest,
 * the same for bare Fastify and ThreatLens. Null where it cannot be done (one CPU, no taskset).
 */
export interface CpuPlan {
  readonly server: string;
  readonly client: string;
  readonly all: string;
}
export function cpuPlan(): CpuPlan | null {
  const cpus = availableParallelism();
  if (cpus < 2) return null;
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
  } catch {
    return null;
  }
  return { server: String(cpus - 1), client: cpus === 2 ? '0' : `0-${cpus - 2}`, all: `0-${cpus - 1}` };
}
/** Every thread of process `pid` (libuv's pool and V8's helpers too) on `cpus` (a taskset list, e.g. "0-2"). */
export function pinToCpus(pid: number, cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

export interface PhaseResult {
  readonly byKind?: MeasuredLatency['byKind'];
  name: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  requests: number;
  errors: number;
  non2xx: number;
  loop: LoopDelay;
  backlogMs: number;
  /** The server process's CPU per answered request, in µs: its cost, whatever the client could send. */
  serverCpuUsPerRequest: number;
  /** Its CPU over the phase's wall time: near 100% (of one core) when the server, not the client, limits throughput. */
  serverBusyPercent: number;
  /** Share of the phase's wall time the server's main thread spent paused for garbage collection. */
  serverGcPercent: number;
}

/** Latency percentiles of one run, from each answer's own response time. */
export interface MeasuredLatency {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** The same by kind of request (read, assessment, ingestion), when the request mix names them. */
  readonly byKind?: Readonly<Record<string, KindLatency>>;
}
export interface KindLatency {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /**
   * How many connections were waiting on this kind at an average moment (Little's law: the sum of
   * its answered requests' latencies over the phase's duration). A connection waiting on a slow
   * ingestion sends nothing else meanwhile, so the other kinds ran at that much less concurrency.
   */
  readonly connections: number;
}

/**
 * Runs autocannon and takes the latency from its per-response events. Its own summary is not
 * used for latency: under `overallRate` it "corrects" for coordinated omission by filling its
 * histogram with invented samples (a cached read on an idle server showed p50 4-5 ms instead of
 * under 1 ms), and the same measure is then used in both modes.
 */
export function measure(options: Parameters<Autocannon>[0]): Promise<{ result: AutocannonResult; latency: MeasuredLatency }> {
  const times: number[] = [];
  const byKind = new Map<string, number[]>();
  const durationMs = (options.duration ?? Number.NaN) * 1000;
  const summary = (values: number[]): KindLatency => {
    values.sort((a, b) => a - b);
    const at = (q: number) => (values.length ? Math.round(quantileSorted(values, q) * 10) / 10 : Number.NaN);
    const connections = Math.round((values.reduce((sum, v) => sum + v, 0) / durationMs) * 10) / 10;
    return { count: values.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: values.length ? Math.round(values[values.length - 1]!) : Number.NaN, connections };
  };
  return new Promise((resolve, reject) => {
    const instance = autocannonWithEvents(options, (error, result) => {
      if (error) return reject(error);
      const { count: _count, connections: _connections, ...all } = summary(times);
      resolve({ result, latency: { ...all, ...(byKind.size > 0 ? { byKind: Object.fromEntries([...byKind].map(([kind, values]) => [kind, summary(values)])) } : {}) } });
    });
    instance.on('response', (client, _status, _bytes, responseTime) => {
      times.push(responseTime);
      // A connection sends one request at a time: the kind its last setupRequest noted is this answer's.
      const kind = (client as { requestIterator?: { context?: { kind?: string } } }).requestIterator?.context?.kind;
      if (kind !== undefined) {
        const list = byKind.get(kind) ?? [];
        list.push(responseTime);
        byKind.set(kind, list);
      }
    });
  });
}

/** With a callback autocannon returns its instance: a 'response' event per answer, 'reqError' per error or timeout. */
export interface AutocannonInstance {
  on(event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void): this;
  on(event: 'reqError', listener: (error: Error) => void): this;
  stop(): void;
}
export const autocannonWithEvents = autocannon as unknown as (
  options: Parameters<Autocannon>[0],
  done: (error: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;

export async function phase(name: string, child: ChildProcess, options: Parameters<Autocannon>[0]): Promise<PhaseResult> {
  child.send({ type: 'reset-loop' });
  const { result, latency } = await measure(options);
  const endedAt = performance.now();
  child.send({ type: 'read-loop' });
  // Generous: a saturated server may still be answering the requests queued before the phase ended.
  const { delay, cpu } = await nextMessage(child, 'loop', 120_000);
  // autocannon leaves out requests still unanswered when the phase ends: how long the server took to
  // answer this message shows how much work was still queued (its latency figures miss that).
  const backlogMs = Math.round(performance.now() - endedAt);
  return {
    name,
    rps: Math.round(result.requests.average),
    ...latency,
    requests: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    loop: delay,
    backlogMs,
    serverCpuUsPerRequest: Math.round((cpu.cpuMs * 1000) / Math.max(1, result.requests.total)),
    serverBusyPercent: Math.round((cpu.cpuMs / Math.max(1, cpu.wallMs)) * 100),
    serverGcPercent: Math.round((cpu.gcMs / Math.max(1, cpu.wallMs)) * 1000) / 10,
  };
}

export function line(r: PhaseResult): string {
  return `${r.name.padEnd(26)} ${String(r.rps).padStart(7)} req/s  p50 ${String(r.p50Ms).padStart(4)} ms  p99 ${String(r.p99Ms).padStart(4)} ms  max ${String(r.maxMs).padStart(5)} ms  ` +
    `errors ${r.errors}  non-2xx ${r.non2xx}  | server CPU ${r.serverCpuUsPerRequest} µs/request, busy ${r.serverBusyPercent}%, GC ${r.serverGcPercent}% | ` +
    `event loop p50 ${r.loop.p50Ms} ms p99 ${r.loop.p99Ms} ms max ${r.loop.maxMs} ms, busy ${r.backlogMs} ms after the phase`;
}

export function option(name: string, fallback: number, options: { allowZero?: boolean } = {}): number {
  const text = textOption(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !options.allowZero)) {
    throw new Error(`--${name} must be a ${options.allowZero ? 'number >= 0' : 'positive number'}; got "${text}"`);
  }
  return value;
}

/** A text option (`--name value`), or undefined. */
export function textOption(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return undefined;
  const value = process.argv[index + 1];
  if (value === undefined) throw new Error(`--${name} needs a value`);
  return value;
}

export const FRAMEWORK = 'osce-threat-demo';

/** The seeds of the assessments in the mixed load. */
export const MIXED_ASSESSMENT_SEEDS = [5, 16, 27, 38, 49, 60, 71, 82, 93] as const;

export function assessmentRequest(seed: number): AutocannonRequest {
  return {
    method: 'POST',
    path: '/v1/assessments',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ framework: FRAMEWORK, year: 2022, entity: 'ALB', runs: 100, seed, requestedBy: 'load bench', purpose: 'load benchmark of issue 9' }),
  };
}

let ingestions = 0;
/** Ingestion requests sent so far by this process. */
export function ingestionsSent(): number {
  return ingestions;
}
/**
 * A new CSV each time (a new batch): one state's homicide rate for 2022, uploaded by another
 * agency than the one reading and assessing. `owner`: that agency's own data, seen only by itself
 * (an agency uploading its national figures); `public`: published data, which changes the data
 * version of every reader, and so every score and assessment.
 */
export function ingestionRequest(sharing: 'owner' | 'public', uploaderKey: string): AutocannonRequest {
  return {
    method: 'POST',
    path: `/v1/ingest?source=load-bench&sharing=${sharing}`,
    headers: { 'content-type': 'text/csv', authorization: `Bearer ${uploaderKey}` },
    body: '',
    setupRequest: (request) => {
      ingestions += 1;
      // A value of its own for each of 100,000 uploads: a repeated file would be skipped as a duplicate, a shorter path.
      const value = (2 + (ingestions % 100_000) / 10_000).toFixed(4);
      return { ...request, body: `entity,period,indicator,value\nALB,2022,unodc_homicide_rate,${value}\n` };
    },
  };
}

/**
 * The mixed load: per 100 requests, 90 dashboard reads (five years), 9 assessments (nine seeds,
 * asked again and again, as analysts re-open the same assessment) and 1 ingestion. Each request
 * is chosen when it is sent, from one counter shared by all connections: the mix holds over any
 * stretch of the run, and the connections do not move through it in lockstep (all 50 asking for
 * the same ingestion at once is not a load anyone sends).
 */
export function mixedRequests(uploaderKey: string, ingestionSharing: 'owner' | 'public' = 'owner'): AutocannonRequest[] {
  const ingestion = ingestionRequest(ingestionSharing, uploaderKey);
  const cycle: { kind: string; make: () => AutocannonRequest }[] = [];
  for (let i = 0; i < 100; i++) {
    if (i === 50) cycle.push({ kind: 'ingestion', make: () => ingestion.setupRequest!(ingestion) });
    else if ((MIXED_ASSESSMENT_SEEDS as readonly number[]).includes(i)) {
      const request = assessmentRequest(i);
      cycle.push({ kind: 'assessment', make: () => request });
    } else {
      const request: AutocannonRequest = { method: 'GET', path: `/v1/risk-scores?framework=${FRAMEWORK}&year=${2018 + (i % 5)}` };
      cycle.push({ kind: 'read', make: () => request });
    }
  }
  let sent = 0;
  // autocannon merges the run's headers (the key) into the request before setupRequest, not after.
  // The kind goes into the connection's context, where measure() finds it for the answer.
  const pick = (defaults: AutocannonRequest, context?: { kind?: string }): AutocannonRequest => {
    const { kind, make } = cycle[sent++ % cycle.length]!;
    if (context) context.kind = kind;
    const next = make();
    return { ...defaults, ...next, headers: { ...defaults.headers, ...next.headers } };
  };
  return [{ method: 'GET', path: '/', setupRequest: pick }];
}

let coldSeed = 1_000_000;
/** Assessments that cannot reuse anything: every one has a seed never asked before. */
export function coldAssessmentRequests(): AutocannonRequest[] {
  return [{ ...assessmentRequest(0), setupRequest: (request) => ({ ...request, body: JSON.stringify({ ...JSON.parse(request.body!), seed: coldSeed++ }) }) }];
}

export interface StoreForBench {
  readonly location: string;
  readonly description: string;
  close(): Promise<void>;
}

/** Where the server keeps its data: a fresh PostgreSQL database (production), or a PGlite directory. */
export async function benchStore(kind: 'postgres' | 'pglite', dataDir: string): Promise<StoreForBench> {
  if (kind === 'pglite') return { location: dataDir, description: `PGlite in ${dataDir}`, close: async () => undefined };
  if (process.env.DATABASE_URL) {
    const name = `tl_load_${Date.now()}`;
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${name}`;
    return {
      location: url.toString(),
      description: `PostgreSQL, database ${name} on DATABASE_URL`,
      close: async () => {
        const cleanup = new pg.Client({ connectionString: process.env.DATABASE_URL });
        await cleanup.connect();
        await cleanup.query(`drop database if exists ${name} with (force)`);
        await cleanup.end();
      },
    };
  }
  const server: TemporaryPostgres = await startTemporaryPostgres();
  return { location: server.url, description: `PostgreSQL (a temporary cluster from ${server.binDir})`, close: () => server.stop() };
}

export function storeKind(): 'postgres' | 'pglite' {
  const index = process.argv.indexOf('--store');
  if (index >= 0) {
    const value = process.argv[index + 1];
    if (value !== 'postgres' && value !== 'pglite') throw new Error(`--store must be postgres or pglite; got "${value}"`);
    return value;
  }
  return process.env.DATABASE_URL || findPostgresBinDir() ? 'postgres' : 'pglite';
}

const childIndex = process.argv.indexOf('--child');
if (childIndex >= 0) {
  const [kind, argument] = process.argv.slice(childIndex + 1);
  const started = kind === 'threatlens' ? runThreatLensChild(argument!) : kind === 'bare' ? runBareChild() : Promise.reject(new Error(`unknown child kind "${kind}"`));
  started.catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

