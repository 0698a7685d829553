/**
 * Soak benchmark (`npm run bench:soak`): the mixed load of bench/load.ts (per 100 requests, 90
 * dashboard reads over five years, 9 assessments, 1 ingestion of a new CSV) at a fixed, moderate
 * rate for a long stretch, against a production-mode ThreatLens server in a child process
 * (bench/load-support.ts). A soak is about steady state, not saturation: it looks for memory that
 * keeps growing and for an event loop that slows down over time.
 *
 * Every sample interval it reads, inside the server process, the heap right after a forced full
 * garbage collection, RSS and external memory, and the event-loop delay (p50/p99/max over the
 * interval); and here, the responses, errors and non-2xx of the interval and their latency p99.
 * At the end it fits a least-squares line to heap-after-GC and RSS over time, leaving out the
 * warm-up (the first 20% or the first minute, whichever is longer), and prints the slope with its
 * 95% confidence interval, the growth over the measured part and a verdict (bench/soak-trend.ts).
 * The samples go to bench/out/soak-<time>.csv.
 *
 * Before the measured run, ingestions three at a time, in rounds of 1,000 (each followed by 5 s of
 * the mixed load as fast as it goes), until two rounds in a row
 * leave the heap after GC and V8's code steady (each within 0.05 MB), at most --warmup-ingestions
 * <n> (default 30,000; 0 for no warm-up): an ingestion is 1 request in 100, so at the soak's rate
 * its code path takes V8 tens of minutes to compile, and that compiled code, about 2 MB in all,
 * would read as growth (found with heap snapshots and a run with the optimisers off:
 * docs/scaling.md). Each sample also reports V8's code and bytecode in the heap
 * (getHeapCodeStatistics).
 *
 * --server-flags "<flags>" passes Node/V8 flags to the server, for control runs (e.g.
 * "--no-opt --no-sparkplug": without the optimisers, compiled code does not grow).
 *
 * Options: --minutes <m> (default 10), --sample-seconds <s> (10), --rate <requests/s overall>
 * (200: about a tenth of what the mixed load saturates at on the 2-core reference machine, which
 * it sustained for 10 minutes without an error; see docs/scaling.md), --connections <n> (20), --store postgres|pglite (default postgres when Debian's server is
 * installed: a temporary cluster, or a fresh database on DATABASE_URL when set).
 *
 * The rate is autocannon's overallRate: each connection sends its share of a second as fast as it
 * can when the second starts, so the load is a burst once a second, and the latencies include its
 * queue. They are those autocannon measured per response (its 'response' event), not corrected
 * for coordinated omission: a stalled server delays sends, so a stall shows in the requests count
 * of its interval (below the rate) and in the event-loop delay, more than in p99.
 */
import { type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quantileSorted } from 'simple-statistics';
import {
  autocannon,
  autocannonWithEvents,
  benchStore,
  DASHBOARD_READ,
  ingestionRequest,
  ingestionsSent,
  mixedRequests,
  nextMessage,
  option,
  startChildWithFlags,
  textOption,
  storeKind,
  type AutocannonResult,
  type LoopDelay,
  type MemorySample,
  type StoreForBench,
} from './load-support.ts';
import { firstMeasuredIndex, fitTrend, growthVerdict, GROWTH_THRESHOLD_MB_PER_HOUR, type TrendFit } from './soak-trend.ts';


interface Sample {
  readonly elapsedSeconds: number;
  readonly requests: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly memory: MemorySample;
  readonly loop: LoopDelay;
}

/** Responses, errors and latencies since the last sample. */
class IntervalCounter {
  requests = 0;
  errors = 0;
  non2xx = 0;
  latencies: number[] = [];
  take(): { requests: number; errors: number; non2xx: number; p50: number; p99: number } {
    const sorted = this.latencies.sort((a, b) => a - b);
    const taken = {
      requests: this.requests,
      errors: this.errors,
      non2xx: this.non2xx,
      p50: sorted.length ? quantileSorted(sorted, 0.5) : Number.NaN,
      p99: sorted.length ? quantileSorted(sorted, 0.99) : Number.NaN,
    };
    this.requests = 0;
    this.errors = 0;
    this.non2xx = 0;
    this.latencies = [];
    return taken;
  }
}

/** Reads the server's event-loop delay since the last reset, then its memory after a forced GC, then resets the delay (so the GC pause counts in no interval). */
async function readServer(child: ChildProcess): Promise<{ loop: LoopDelay; memory: MemorySample }> {
  child.send({ type: 'read-loop' });
  const { delay } = await nextMessage(child, 'loop', 60_000);
  child.send({ type: 'read-memory' });
  const { memory } = await nextMessage(child, 'memory', 60_000);
  child.send({ type: 'reset-loop' });
  return { loop: delay, memory };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '-');

function row(sample: Sample, sampleSeconds: number): string {
  const cells = [
    fixed(sample.elapsedSeconds / 60, 2).padStart(6),
    String(sample.requests).padStart(8),
    fixed(sample.requests / sampleSeconds, 0).padStart(6),
    String(sample.errors + sample.non2xx).padStart(7),
    fixed(sample.latencyP50Ms, 0).padStart(7),
    fixed(sample.latencyP99Ms, 0).padStart(7),
    fixed(sample.memory.heapAfterGcMb, 2).padStart(9),
    fixed(sample.memory.codeMb, 2).padStart(8),
    fixed(sample.memory.rssMb, 1).padStart(8),
    fixed(sample.memory.externalMb, 1).padStart(8),
    fixed(sample.loop.p99Ms, 1).padStart(8),
    fixed(sample.loop.maxMs, 1).padStart(8),
  ];
  return cells.join(' ');
}
const HEADER = ['minute', 'requests', 'req/s', 'errors', 'p50 ms', 'p99 ms', 'heap MB', 'code MB', 'RSS MB', 'ext MB', 'loop p99', 'loop max'];
const HEADER_WIDTHS = [6, 8, 6, 7, 7, 7, 9, 8, 8, 8, 8, 8];

function csv(samples: readonly Sample[]): string {
  const header = 'elapsed_s,requests,errors,non2xx,latency_p50_ms,latency_p99_ms,heap_after_gc_mb,code_mb,rss_mb,external_mb,loop_p50_ms,loop_p99_ms,loop_max_ms';
  const lines = samples.map((s) =>
    [s.elapsedSeconds.toFixed(1), s.requests, s.errors, s.non2xx, fixed(s.latencyP50Ms, 1), fixed(s.latencyP99Ms, 1), s.memory.heapAfterGcMb, s.memory.codeMb, s.memory.rssMb, s.memory.externalMb, s.loop.p50Ms, s.loop.p99Ms, s.loop.maxMs].join(','),
  );
  return [header, ...lines].join('\n') + '\n';
}

function trendLine(name: string, fit: TrendFit): string {
  return `  ${name.padEnd(14)} slope ${fixed(fit.slopePerMinute, 3)} MB/min (95% CI ${fixed(fit.slopeLow, 3)} to ${fixed(fit.slopeHigh, 3)}; ${fixed(fit.projectedPerHour, 1)} MB/h projected), ` +
    `growth over the measured part ${fixed(fit.fittedGrowth, 1)} MB fitted, ${fixed(fit.rawGrowth, 1)} MB first to last sample: ${growthVerdict(fit)}`;
}

const WARMUP_ROUND = 1000;
const WARMUP_MIX_SECONDS = 5;
/** A round of the warm-up that grows heap after GC and V8's code by less than this counts as steady. */
const WARMUP_STEADY_MB = 0.05;

/**
 * Ingestions, three at a time, in rounds of WARMUP_ROUND, each followed by a few seconds of the
 * mixed load at saturation, until two rounds in a row leave the
 * heap after GC and V8's code each within WARMUP_STEADY_MB of where they were (at most `most`).
 * At the soak's 2 ingestions a second, a round is 8 minutes of the soak, and the growth verdict's
 * threshold (1 MB/h) is 0.14 MB a round: a steady round is well below it.
 */
async function warmUp(child: ChildProcess, base: string, headers: Record<string, string>, uploaderKey: string, most: number): Promise<void> {
  const started = performance.now();
  process.stderr.write(`warm-up: rounds of ${WARMUP_ROUND} ingestions (3 at a time) and ${WARMUP_MIX_SECONDS} s of the mixed load as fast as it goes, until two rounds in a row leave heap after GC and V8 code within ${WARMUP_STEADY_MB} MB (at most ${most} ingestions)...\n`);
  const first = await readServer(child);
  let previous = first.memory;
  let done = 0;
  let steadyRounds = 0;
  while (done < most && steadyRounds < 2) {
    const amount = Math.min(WARMUP_ROUND, most - done);
    const warm = await autocannon({ url: base, connections: 3, amount, requests: [ingestionRequest('owner', uploaderKey)] });
    if (warm.errors + warm.non2xx > 0) throw new Error(`warm-up: ${warm.errors} errors and ${warm.non2xx} non-2xx of ${amount} ingestions`);
    // The reads and assessments compile too (and the allocator reaches its high-water mark), at
    // saturation in seconds rather than in the measured part's first minutes.
    const mix = await autocannon({ url: base, connections: 20, duration: WARMUP_MIX_SECONDS, headers, requests: mixedRequests(uploaderKey) });
    if (mix.errors + mix.non2xx > 0) throw new Error(`warm-up: ${mix.errors} errors and ${mix.non2xx} non-2xx of ${mix.requests.total} requests of the mixed load`);
    done += amount;
    const { memory } = await readServer(child);
    const heapGrowth = memory.heapAfterGcMb - previous.heapAfterGcMb;
    const codeGrowth = memory.codeMb - previous.codeMb;
    steadyRounds = heapGrowth < WARMUP_STEADY_MB && codeGrowth < WARMUP_STEADY_MB ? steadyRounds + 1 : 0;
    process.stderr.write(`  ${String(done).padStart(6)} ingestions: heap after GC ${fixed(memory.heapAfterGcMb, 2)} MB (${heapGrowth >= 0 ? '+' : ''}${fixed(heapGrowth, 2)}), V8 code ${fixed(memory.codeMb, 2)} MB (${codeGrowth >= 0 ? '+' : ''}${fixed(codeGrowth, 2)})\n`);
    previous = memory;
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  const outcome = steadyRounds >= 2 ? 'steady' : `NOT steady after ${most} (the soak's trend includes the rest of the warm-up)`;
  console.log(`warm-up: ${done} ingestions in ${seconds} s, ${outcome}; heap after GC ${fixed(first.memory.heapAfterGcMb, 2)} -> ${fixed(previous.heapAfterGcMb, 2)} MB, V8 code ${fixed(first.memory.codeMb, 2)} -> ${fixed(previous.codeMb, 2)} MB`);
}

async function main(): Promise<void> {
  const minutes = option('minutes', 10);
  const sampleSeconds = option('sample-seconds', 10);
  const rate = option('rate', 200);
  const connections = option('connections', 20);
  const warmupIngestions = option('warmup-ingestions', 30_000, { allowZero: true });
  const serverFlags = (textOption('server-flags') ?? '').split(/\s+/).filter(Boolean);
  const durationSeconds = Math.round(minutes * 60);
  if (sampleSeconds * 3 > durationSeconds) throw new Error(`--minutes ${minutes} with --sample-seconds ${sampleSeconds} gives fewer than 3 samples; a trend needs more`);
  const dataDir = await mkdtemp(join(tmpdir(), 'threatlens-soak-'));
  let child: ChildProcess | undefined;
  let store: StoreForBench | undefined;
  try {
    store = await benchStore(storeKind(), dataDir);
    process.stderr.write(`starting ThreatLens on ${store.description} (demo data, scores)...\n`);
    child = startChildWithFlags(serverFlags, '--child', 'threatlens', store.location);
    if (serverFlags.length > 0) process.stderr.write(`server flags: ${serverFlags.join(' ')}\n`);
    const ready = await nextMessage(child, 'ready', 300_000);
    const base = `http://127.0.0.1:${ready.port}`;
    const headers = { authorization: `Bearer ${ready.key!}` };
    const probe = await fetch(base + DASHBOARD_READ, { headers });
    if (probe.status !== 200) throw new Error(`GET ${DASHBOARD_READ} answered ${probe.status}: ${(await probe.text()).slice(0, 300)}`);
    await probe.arrayBuffer().catch(() => undefined);

    if (warmupIngestions > 0) await warmUp(child, base, headers, ready.uploaderKey!, warmupIngestions);

    const loadAtStart = loadavg().map((l) => l.toFixed(2)).join(' ');
    console.log(`\nsoak: ${minutes} min of the mixed load (90 reads / 9 assessments / 1 ingestion per 100) at ${rate} requests/s over ${connections} connections, ` +
      `sampled every ${sampleSeconds} s; ${store.description}${serverFlags.length > 0 ? `; server flags ${serverFlags.join(' ')}` : ''}; load average at start ${loadAtStart}`);
    console.log(HEADER.map((h, i) => h.padStart(HEADER_WIDTHS[i]!)).join(' '));

    const samples: Sample[] = [];
    const baseline = await readServer(child);
    const zero: Sample = { elapsedSeconds: 0, requests: 0, errors: 0, non2xx: 0, latencyP50Ms: Number.NaN, latencyP99Ms: Number.NaN, ...baseline };
    samples.push(zero);
    console.log(row(zero, sampleSeconds) + '   (before the load)');

    const counter = new IntervalCounter();
    const errorKinds = new Map<string, number>();
    const allLatencies: number[] = [];
    const ingestedBefore = ingestionsSent();
    const startedAt = performance.now();
    let finished: AutocannonResult | undefined;
    const done = new Promise<AutocannonResult>((resolve, reject) => {
      const instance = autocannonWithEvents(
        { url: base, connections, duration: durationSeconds, overallRate: rate, headers, requests: mixedRequests(ready.uploaderKey!) },
        (error, result) => (error ? reject(error) : resolve((finished = result))),
      );
      instance.on('response', (_client, statusCode, _bytes, responseTime) => {
        counter.requests += 1;
        if (statusCode < 200 || statusCode > 299) counter.non2xx += 1;
        counter.latencies.push(responseTime);
        allLatencies.push(responseTime);
      });
      instance.on('reqError', (error) => {
        counter.errors += 1;
        errorKinds.set(error.message, (errorKinds.get(error.message) ?? 0) + 1);
      });
    });
    done.catch(() => undefined); // awaited below; keeps an early failure from being unhandled meanwhile

    for (let k = 1; k * sampleSeconds <= durationSeconds && finished === undefined; k++) {
      await sleep(startedAt + k * sampleSeconds * 1000 - performance.now());
      const interval = counter.take();
      const server = await readServer(child);
      const sample: Sample = {
        elapsedSeconds: (performance.now() - startedAt) / 1000,
        requests: interval.requests,
        errors: interval.errors,
        non2xx: interval.non2xx,
        latencyP50Ms: interval.p50,
        latencyP99Ms: interval.p99,
        ...server,
      };
      samples.push(sample);
      console.log(row(sample, sampleSeconds));
    }
    const result = await done;
    // autocannon abandons the requests in flight when its time is up; the server still answers
    // them. Let it, so that shutting it down does not fail them (their errors would only be noise).
    await sleep(5000);
    const ingestions = ingestionsSent() - ingestedBefore;
    const loadAtEnd = loadavg().map((l) => l.toFixed(2)).join(' ');

    const outDir = fileURLToPath(new URL('./out/', import.meta.url));
    await mkdir(outDir, { recursive: true });
    const csvPath = join(outDir, `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.csv`);
    await writeFile(csvPath, csv(samples));

    const totalErrors = result.errors + result.timeouts;
    // Our own figures from every response, not autocannon's summary: at a fixed rate autocannon
    // "corrects" for coordinated omission with an expected interval of ceil(1 / rate) taken as ms
    // while its rate is per second (lib/run.js), which fills its histogram with invented samples.
    const sortedLatencies = allLatencies.sort((a, b) => a - b);
    if (sortedLatencies.length === 0) throw new Error('soak: no request was answered');
    const achieved = result.requests.total / durationSeconds;
    console.log(`\ntotal: ${result.requests.total} requests (${achieved.toFixed(1)}/s of ${rate}/s asked), ${ingestions} ingestions, ${totalErrors} errors, ${result.non2xx} non-2xx; ` +
      `latency p50 ${fixed(quantileSorted(sortedLatencies, 0.5), 0)} ms p99 ${fixed(quantileSorted(sortedLatencies, 0.99), 0)} ms max ${fixed(sortedLatencies.at(-1)!, 0)} ms; load average at end ${loadAtEnd}`);
    if (errorKinds.size > 0) console.log(`  errors: ${[...errorKinds].map(([message, count]) => `${count} × ${message}`).join('; ')}`);
    if (achieved < 0.9 * rate) console.log(`  the server did not keep up with ${rate}/s: this was not a steady state; lower --rate`);

    const measured = samples.slice(firstMeasuredIndex(samples.map((s) => s.elapsedSeconds / 60), minutes));
    if (measured.length < 3) {
      console.log(`\ntrend: only ${measured.length} samples after the warm-up; run longer (--minutes) or sample more often (--sample-seconds) for a trend`);
    } else {
      const times = measured.map((s) => s.elapsedSeconds / 60);
      const heap = fitTrend(times, measured.map((s) => s.memory.heapAfterGcMb));
      const rss = fitTrend(times, measured.map((s) => s.memory.rssMb));
      const loopP99 = fitTrend(times, measured.map((s) => s.loop.p99Ms));
      console.log(`\ntrend over minutes ${fixed(times[0]!, 2)} to ${fixed(times.at(-1)!, 2)} (${measured.length} samples; the warm-up before is left out), least squares:`);
      console.log(trendLine('heap after GC', heap));
      console.log(trendLine('RSS', rss));
      // Beside the verdict, not instead of it: V8's code count misses part of a JIT warm-up (the dependent-code lists).
      console.log(trendLine('heap - code', fitTrend(times, measured.map((s) => s.memory.heapAfterGcMb - s.memory.codeMb))));
      // Growth that slows down (a cache filling to its bound, code warming) differs from a leak,
      // which keeps its pace: the two halves' slopes tell them apart.
      const half = Math.floor(measured.length / 2);
      if (half >= 3) {
        const halfFit = (part: Sample[]) => fitTrend(part.map((s) => s.elapsedSeconds / 60), part.map((s) => s.memory.heapAfterGcMb));
        const [early, late] = [halfFit(measured.slice(0, half)), halfFit(measured.slice(half))];
        const show = (fit: TrendFit) => `${fixed(fit.slopePerMinute, 3)} MB/min (95% CI ${fixed(fit.slopeLow, 3)} to ${fixed(fit.slopeHigh, 3)}): ${growthVerdict(fit)}`;
        console.log(`  ${'heap, halves'.padEnd(14)} first half ${show(early)}; second half ${show(late)}`);
      }
      console.log(`  ${'loop p99'.padEnd(14)} slope ${fixed(loopP99.slopePerMinute, 3)} ms/min (95% CI ${fixed(loopP99.slopeLow, 3)} to ${fixed(loopP99.slopeHigh, 3)})`);
      console.log(`\nverdict: ${growthVerdict(heap)} (heap after GC: "GROWTH" only when the slope's 95% confidence interval is above 0 and the projected growth is at least ${GROWTH_THRESHOLD_MB_PER_HOUR} MB/h)`);
    }
    console.log(`samples: ${csvPath}`);
  } finally {
    if (child?.connected) child.disconnect();
    if (child && child.exitCode === null) await new Promise((resolve) => child!.once('exit', resolve));
    await store?.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
