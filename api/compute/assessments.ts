/**
 * How the API computes assessments (issue 9: heavy work never on the event loop):
 * - the Monte Carlo, Sobol and trend computation runs in a pool of worker threads (piscina);
 * - the inputs of an assessment (the panel and grades of a framework, year and scope) are read
 *   once per data version and reused;
 * - the anomaly flags an assessment reports are remembered like data versions;
 * - a computation is deterministic (seeded): the result for the same inputs and options is
 *   computed once per data version and shared, however many analysts ask at the same time.
 * Every request still stores its own assessment, with its requester, purpose and audit entry.
 */
import { availableParallelism } from 'node:os';
import type { Kysely } from 'kysely';
import { Piscina } from 'piscina';
import type { DataScope } from '../../engine/access/roles.ts';
import type { AssessmentContext, AssessmentOptions, AssessmentResult } from '../../engine/scoring/assessment.ts';
import { anomalyFlagsFor, frameworkParamsHash, loadAssessmentContext, type AssessmentAnomalyFlags, type AssessmentCompute, type LoadedAssessmentContext } from '../../engine/scoring/assessment-run.ts';
import type { Framework } from '../../engine/scoring/framework.ts';
import { dataVersion } from '../../engine/store/observations.ts';
import type { Database } from '../../engine/store/schema.ts';
import { PromiseCache } from '../promise-cache.ts';
import { scopeKey, type ReadCache } from '../read-cache.ts';
import type { AssessTaskInput } from './tasks.ts';

export interface AssessmentComputerOptions {
  /** Worker threads (default: the cores less one for the event loop, at least 1; THREATLENS_COMPUTE_THREADS). */
  readonly threads?: number;
  /** Contexts and results remembered (each; oldest dropped first). */
  readonly maxEntries?: number;
}

export class AssessmentComputer implements AssessmentCompute {
  /** Started on the first assessment: most processes (tests, CLI) never need the threads. */
  private pool: Piscina<AssessTaskInput, AssessmentResult> | undefined;
  private readonly threads: number;
  private readonly contexts: PromiseCache<LoadedAssessmentContext>;
  private readonly results: PromiseCache<AssessmentResult>;
  /** Framework parameter hashes by framework object (hashing is not free). */
  private readonly paramsHashes = new WeakMap<Framework, string>();

  /**
   * `versions`: where data versions are remembered, when they are read from the database the
   * assessments read (null with a read replica: the versions of the replica may lag the primary).
   */
  constructor(
    private readonly versions: ReadCache | null,
    options: AssessmentComputerOptions = {},
  ) {
    this.threads = options.threads ?? Math.max(1, availableParallelism() - 1);
    const maxEntries = options.maxEntries ?? 64;
    this.contexts = new PromiseCache(maxEntries);
    this.results = new PromiseCache(maxEntries);
  }

  dataVersion(db: Kysely<Database>, scope: DataScope): Promise<{ version: string }> {
    return this.versions ? this.versions.dataVersion(scope) : dataVersion(db, scope);
  }

  loadContext(db: Kysely<Database>, framework: Framework, year: number, trendYears: number | undefined, scope: DataScope, version: string): Promise<LoadedAssessmentContext> {
    // The version hashes the batches the scope may see: scopes that see the same batches share inputs.
    const key = `${this.paramsHash(framework)}|${version}|${year}|${trendYears ?? ''}`;
    return this.contexts.get(key, async () => {
      const loaded = await loadAssessmentContext(db, framework, year, trendYears, scope);
      // Data that changed while it was read belongs to another version: use it, do not remember it.
      if ((await dataVersion(db, scope)).version !== version) this.contexts.delete(key);
      return loaded;
    });
  }

  assess(context: AssessmentContext, options: AssessmentOptions, version: string): Promise<AssessmentResult> {
    const { year, entity, seed, runs, weightNoise, trendYears, sensitivityN } = options;
    const key = `${this.paramsHash(context.framework)}|${version}|${JSON.stringify([year, entity, seed, runs, weightNoise, trendYears, sensitivityN])}`;
    this.pool ??= new Piscina({ filename: new URL('./worker.mjs', import.meta.url).href, minThreads: this.threads, maxThreads: this.threads, idleTimeout: 60_000 });
    const pool = this.pool;
    return this.results.get(key, () => pool.run({ context, options }));
  }

  anomalyFlags(db: Kysely<Database>, version: string, scope: DataScope, entity: string | undefined, year: number): Promise<AssessmentAnomalyFlags | null> {
    const read = () => anomalyFlagsFor(db, version, scope, entity, year);
    // Flags change only when a detection run is stored, which notifies like new data does.
    return this.versions ? this.versions.remember(`flags|${version}|${scopeKey(scope)}|${entity ?? ''}|${year}`, read) : read();
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
    this.pool = undefined;
  }

  private paramsHash(framework: Framework): string {
    let hash = this.paramsHashes.get(framework);
    if (hash === undefined) {
      hash = frameworkParamsHash(framework);
      this.paramsHashes.set(framework, hash);
    }
    return hash;
  }
}
