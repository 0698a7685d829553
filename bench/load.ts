/**
 * Load benchmark (`npm run bench:load`): a production-mode ThreatLens server (api/server.ts
 * `serve`, logging at warn, a throwaway PGlite store with the demo data) and, in the same run, a
 * bare Fastify server answering a constant JSON of the same size as the dashboard read, both on
 * loopback in child processes, driven by autocannon from this process. Prints requests/s,
 * p50/p99 latency and the event-loop delay measured inside the server process, beside the
 * targets of issue 9. Options: --duration <s> per phase (default 10), --connections <n> (50).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const DASHBOARD_READ = '/v1/risk-scores?framework=osce-threat-demo&year=2022';
const TARGETS = { readRatio: 0.7, readP99Ms: 20, mixedP99Ms: 100 } as const;

// autocannon ships no types; only what this file uses.
interface AutocannonRequest {
  method?: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}
interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  ['2xx']: number;
}
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  headers?: Record<string, string>;
  requests?: AutocannonRequest[];
}) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

interface LoopDelay {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}
type ChildMessage = { type: 'ready'; port: number; key?: string } | { type: 'loop'; delay: LoopDelay };

// ---------------------------------------------------------------------------------------------
// Child side: a server that reports its own event-loop delay on request.

function reportLoopDelayOnRequest(): void {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  process.on('message', (message: { type: string }) => {
    if (message.type === 'reset-loop') histogram.reset();
    if (message.type === 'read-loop') {
      const ms = (ns: number) => Math.round((ns / 1e6) * 100) / 100;
      // The parent may have given up (and closed the channel) if this process was saturated.
      if (process.connected) process.send!({ type: 'loop', delay: { p50Ms: ms(histogram.percentile(50)), p99Ms: ms(histogram.percentile(99)), maxMs: ms(histogram.max) } } satisfies ChildMessage, () => {});
    }
  });
}

async function runThreatLensChild(dataDir: string): Promise<void> {
  process.env.THREATLENS_RATE_LIMIT = '0'; // the limit is per principal: one bench key would hit it
  process.env.THREATLENS_JOBS = 'off';
  const { serve } = await import('../api/server.ts');
  const { ensureAgency } = await import('../engine/store/catalogue.ts');
  const { createApiKey } = await import('../engine/store/keys.ts');
  const server = await serve({ port: 0, host: '127.0.0.1', store: { dataDir }, demoIfEmpty: true, log: (line) => process.stderr.write(`  [threatlens] ${line}\n`) });
  await ensureAgency(server.store.db, 'bench');
  const created = await createApiKey(server.store.db, { name: 'load bench', agency: 'bench', role: 'analyst' }, { actor: 'bench' });
  const address = server.app.server.address();
  if (address === null || typeof address === 'string') throw new Error('ThreatLens child: the server has no TCP address');
  reportLoopDelayOnRequest();
  process.on('disconnect', () => void server.close().then(() => process.exit(0)));
  process.send!({ type: 'ready', port: address.port, key: created.key } satisfies ChildMessage);
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
  reportLoopDelayOnRequest();
  process.on('disconnect', () => void app.close().then(() => process.exit(0)));
  process.send!({ type: 'ready', port: address.port } satisfies ChildMessage);
}

// ---------------------------------------------------------------------------------------------
// Parent side.

function nextMessage<T extends ChildMessage['type']>(child: ChildProcess, type: T, timeoutMs: number): Promise<Extract<ChildMessage, { type: T }>> {
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

function startChild(...args: string[]): ChildProcess {
  return fork(fileURLToPath(import.meta.url), args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

interface PhaseResult {
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
}

async function phase(name: string, child: ChildProcess, options: Parameters<Autocannon>[0]): Promise<PhaseResult> {
  child.send({ type: 'reset-loop' });
  const result = await autocannon(options);
  const endedAt = performance.now();
  child.send({ type: 'read-loop' });
  // Generous: a saturated server may still be answering the requests queued before the phase ended.
  const { delay } = await nextMessage(child, 'loop', 120_000);
  // autocannon leaves out requests still unanswered when the phase ends: how long the server took to
  // answer this message shows how much work was still queued (its latency figures miss that).
  const backlogMs = Math.round(performance.now() - endedAt);
  return {
    name,
    rps: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    requests: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    loop: delay,
    backlogMs,
  };
}

function line(r: PhaseResult): string {
  return `${r.name.padEnd(26)} ${String(r.rps).padStart(7)} req/s  p50 ${String(r.p50Ms).padStart(4)} ms  p99 ${String(r.p99Ms).padStart(4)} ms  max ${String(r.maxMs).padStart(5)} ms  ` +
    `errors ${r.errors}  non-2xx ${r.non2xx}  | event loop p50 ${r.loop.p50Ms} ms p99 ${r.loop.p99Ms} ms max ${r.loop.maxMs} ms, busy ${r.backlogMs} ms after the phase`;
}

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number; got "${process.argv[index + 1]}"`);
  return value;
}

/** The mixed load: 91 dashboard reads (five years) and 9 assessments with a stated purpose per 100 requests. */
function mixedRequests(): AutocannonRequest[] {
  const requests: AutocannonRequest[] = [];
  for (let i = 0; i < 100; i++) {
    if (i % 11 === 5 && requests.filter((r) => r.method === 'POST').length < 9) {
      requests.push({
        method: 'POST',
        path: '/v1/assessments',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ framework: 'osce-threat-demo', year: 2022, entity: 'ALB', runs: 100, seed: i, requestedBy: 'load bench', purpose: 'load benchmark of issue 9' }),
      });
    } else {
      requests.push({ method: 'GET', path: `/v1/risk-scores?framework=osce-threat-demo&year=${2018 + (i % 5)}` });
    }
  }
  return requests;
}

async function main(): Promise<void> {
  const duration = option('duration', 10);
  const connections = option('connections', 50);
  const dataDir = await mkdtemp(join(tmpdir(), 'threatlens-load-'));
  const children: ChildProcess[] = [];
  try {
    process.stderr.write(`starting ThreatLens on a fresh PGlite store in ${dataDir} (demo data, scores)...\n`);
    const threatlens = startChild('--child', 'threatlens', dataDir);
    children.push(threatlens);
    const ready = await nextMessage(threatlens, 'ready', 300_000);
    const base = `http://127.0.0.1:${ready.port}`;
    const headers = { authorization: `Bearer ${ready.key!}` };
    const sample = await fetch(base + DASHBOARD_READ, { headers });
    const body = await sample.text();
    if (sample.status !== 200) throw new Error(`GET ${DASHBOARD_READ} answered ${sample.status}: ${body.slice(0, 300)}`);
    const entities = (JSON.parse(body) as { scores?: unknown[]; rows?: unknown[]; entities?: unknown[] });
    const rowCount = (entities.scores ?? entities.rows ?? entities.entities ?? []).length;

    const bare = startChild('--child', 'bare', '-');
    children.push(bare);
    bare.send({ type: 'body', body });
    const bareReady = await nextMessage(bare, 'ready', 60_000);

    console.log(`\nload benchmark: ${connections} connections, ${duration} s per phase, loopback; body of ${DASHBOARD_READ}: ${Buffer.byteLength(body)} bytes${rowCount ? `, ${rowCount} rows` : ''}`);
    const warm = Math.min(2, duration);
    await autocannon({ url: base + DASHBOARD_READ, connections, duration: warm, headers });
    await autocannon({ url: `http://127.0.0.1:${bareReady.port}/constant`, connections, duration: warm });

    const bareResult = await phase('bare Fastify (constant)', bare, { url: `http://127.0.0.1:${bareReady.port}/constant`, connections, duration });
    const readResult = await phase('ThreatLens dashboard read', threatlens, { url: base + DASHBOARD_READ, connections, duration, headers });
    const mixedResult = await phase('ThreatLens mixed 91/9', threatlens, { url: base, connections, duration, headers, requests: mixedRequests() });
    bare.disconnect();

    console.log(line(bareResult));
    console.log(line(readResult));
    console.log(line(mixedResult));
    const ratio = readResult.rps / bareResult.rps;
    const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
    console.log(`\ntargets (issue 9):`);
    console.log(`  dashboard reads / bare Fastify: ${ratio.toFixed(3)} (target >= ${TARGETS.readRatio}): ${verdict(ratio >= TARGETS.readRatio)}`);
    console.log(`  dashboard read p99: ${readResult.p99Ms} ms (target < ${TARGETS.readP99Ms} ms): ${verdict(readResult.p99Ms < TARGETS.readP99Ms)}`);
    const mixedErrors = mixedResult.errors + mixedResult.non2xx;
    console.log(`  mixed load: ${mixedErrors} errors or non-2xx of ${mixedResult.requests} (target 0): ${verdict(mixedErrors === 0)}; p99 ${mixedResult.p99Ms} ms (target < ${TARGETS.mixedP99Ms} ms): ${verdict(mixedResult.p99Ms < TARGETS.mixedP99Ms && mixedResult.backlogMs < TARGETS.mixedP99Ms)}` +
      (mixedResult.backlogMs >= TARGETS.mixedP99Ms ? ` (the server was still busy ${mixedResult.backlogMs} ms after the phase: requests unanswered at its end are missing from these figures)` : ''));
    console.log(`  not in the mixed load: the 1% ingestion (ThreatLens has no HTTP ingestion route; ingestion is \`threatlens ingest\`).`);
  } finally {
    for (const child of children) if (child.connected) child.disconnect();
    await Promise.all(children.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined)));
    await rm(dataDir, { recursive: true, force: true });
  }
}

const childIndex = process.argv.indexOf('--child');
if (childIndex >= 0) {
  const [kind, argument] = process.argv.slice(childIndex + 1);
  const started = kind === 'threatlens' ? runThreatLensChild(argument!) : kind === 'bare' ? runBareChild() : Promise.reject(new Error(`unknown child kind "${kind}"`));
  started.catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
