/**
 * The ThreatLens API as a Fastify plugin tree: schemas, OpenAPI, problem+json errors, routes.
 * `server.ts` owns listening, logging and shutdown; tests call `buildApp` and `app.inject`.
 */
import type { ServerResponse } from 'node:http';
import Fastify, { type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Store } from '../engine/store/database.ts';
import { JobRunner } from '../models/job-runner.ts';
import { TRAIN_JOB_KIND, trainingJobHandler } from '../models/training-job.ts';
import { registerAccessControl, type AccessOptions } from './auth/plugin.ts';
import { loadSheddingFromEnv, registerLoadShedding, type LoadSheddingOptions } from './load-shedding.ts';
import { frameworkErrorHandler, registerProblemHandlers } from './problem.ts';
import { adminRoutes } from './routes/admin.ts';
import { anomalyRoutes } from './routes/anomalies.ts';
import { assessmentRoutes } from './routes/assessments.ts';
import { assistanceRoutes } from './routes/assistance.ts';
import { auditRoutes } from './routes/audit.ts';
import { catalogueRoutes } from './routes/catalogue.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { dashboardDataRoutes } from './routes/dashboard-data.ts';
import { frameworkRoutes } from './routes/frameworks.ts';
import { healthRoutes } from './routes/health.ts';
import { ingestRoutes } from './routes/ingest.ts';
import { modelRoutes } from './routes/models.ts';
import { observationRoutes } from './routes/observations.ts';
import { qualityRoutes } from './routes/quality.ts';
import { reportRoutes } from './routes/reports.ts';
import { riskScoreRoutes } from './routes/risk-scores.ts';
import { ProblemSchema } from './schemas.ts';
import { ReadCache } from './read-cache.ts';
import { AssessmentComputer } from './compute/assessments.ts';
import { listenForDataChanges, type DataChangeSubscription } from '../engine/store/changes.ts';

declare module 'fastify' {
  interface FastifyInstance {
    store: Store;
    /** The in-process job runner (training), when this process runs jobs. */
    jobRunner: JobRunner | undefined;
    /** Data versions and serialised answers of the read routes (api/read-cache.ts). */
    readCache: ReadCache;
    /** Assessments computed in worker threads, inputs and results reused per data version. */
    assessmentComputer: AssessmentComputer;
  }
}

export interface AppOptions {
  readonly store: Store;
  readonly logger?: FastifyServerOptions['logger'];
  /** Credentials, demo access, rate limit, CORS (api/auth/plugin.ts); server.ts reads them from the environment. */
  readonly access?: AccessOptions;
  /** Largest request body in bytes (default 256 KiB; THREATLENS_BODY_LIMIT in server.ts). */
  readonly bodyLimit?: number;
  /** Behind a reverse proxy: trust its X-Forwarded-For, so that limits per address see the client (THREATLENS_TRUST_PROXY). */
  readonly trustProxy?: FastifyServerOptions['trustProxy'];
  /** Run queued jobs (training) in this process, in worker threads (default false; the server turns it on). */
  readonly jobs?: boolean;
  /** 503 + Retry-After while the database is down or the process overloaded (api/load-shedding.ts); default from the environment. */
  readonly loadShedding?: LoadSheddingOptions;
  /**
   * How long a data version is trusted before it is read again (default 0: every request reads
   * it). The server sets 1 s (THREATLENS_VERSION_TTL_MS) and listens for change notifications
   * from every process, which drop remembered versions at once.
   */
  readonly versionTtlMs?: number;
}

export const DEFAULT_BODY_LIMIT = 256 * 1024;

/** Where a request's handler is, for the count of requests in flight (see buildApp). */
const HANDLER = Symbol('threatlens.handler');
type TrackedResponse = ServerResponse & { [HANDLER]?: 'working' | 'answered' | 'abandoned' };

export async function buildApp(options: AppOptions) {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    frameworkErrors: frameworkErrorHandler,
    trustProxy: options.trustProxy ?? false,
    // Query strings such as ?year=2020 arrive as text: coerce to the schema's types.
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false, useDefaults: true, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('store', options.store);
  const runner = options.jobs
    ? new JobRunner({ store: options.store, handlers: { [TRAIN_JOB_KIND]: trainingJobHandler }, log: (line) => app.log.warn(line) })
    : undefined;
  app.decorate('jobRunner', runner);
  const readCache = new ReadCache(() => options.store.readDb, { versionTtlMs: options.versionTtlMs ?? 0 });
  app.decorate('readCache', readCache);
  const assessmentComputer = new AssessmentComputer(options.store.readDb === options.store.db ? readCache : null, computeThreadsFromEnv());
  app.decorate('assessmentComputer', assessmentComputer);
  app.addHook('onClose', () => assessmentComputer.close());
  if (readCache.versionTtlMs > 0) {
    let changes: DataChangeSubscription | undefined;
    app.addHook('onReady', async () => {
      changes = await listenForDataChanges(options.store, () => readCache.invalidate(), (line) => app.log.warn(line));
    });
    app.addHook('onClose', async () => changes?.close());
  }
  if (runner) {
    app.addHook('onReady', () => runner.start());
    // Before the store closes: a job in hand is stopped and marked failed (interrupted), never half-registered.
    app.addHook('onClose', () => runner.stop());
  }
  // Graceful shutdown: close() first lets the requests in flight finish (up to
  // THREATLENS_SHUTDOWN_GRACE_MS, default 30 s; new ones are answered 503 meanwhile), and only
  // then do the onClose hooks stop the worker threads and the job runner and the store close.
  // A request is in flight until its answer is sent, or, when the client went away first, until
  // its handler has handed over an answer (onSend, registered below): the work it does (an
  // ingestion's transaction, an audit entry) must not find the store closed under it.
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const release = () => {
    inFlight -= 1;
    if (inFlight === 0) drained?.();
  };
  // One listener for all requests: a closure per request cost more than the counting itself.
  function responseClosed(this: TrackedResponse) {
    if (this.writableEnded || this[HANDLER] === 'answered') release();
    else this[HANDLER] = 'abandoned';
  }
  app.addHook('onRequest', (_request, reply, done) => {
    inFlight += 1;
    (reply.raw as TrackedResponse)[HANDLER] = 'working';
    // A response emits 'close' once, after it is sent or when the client goes away: on(), not
    // once(), which would wrap the listener anew for every request.
    reply.raw.on('close', responseClosed);
    done();
  });
  app.addHook('preClose', async () => {
    if (inFlight === 0) return;
    const graceMs = shutdownGraceFromEnv();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, graceMs);
      drained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  });
  app.addSchema(ProblemSchema);
  const loadShedding = options.loadShedding ?? loadSheddingFromEnv();
  registerProblemHandlers(app, { retryAfterSeconds: loadShedding.retryAfterSeconds });
  // Before access control and routes: a shed request costs no credential check.
  await registerLoadShedding(app, options.store, loadShedding);
  // Before any route: it checks each route's access declaration as the route is added.
  await registerAccessControl(app, options.store, options.access ?? {});
  // After access control's onSend (the audit of a read), which the answer waits for.
  app.addHook('onSend', (_request, reply, payload, done) => {
    const raw = reply.raw as TrackedResponse;
    if (raw[HANDLER] === 'abandoned') release();
    raw[HANDLER] = 'answered';
    done(null, payload);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'ThreatLens API',
        version: '0.1.0',
        description:
          'Crime indicators, data quality and risk scores for the 57 OSCE participating states. ' +
          'Errors are application/problem+json (RFC 9457).',
      },
      tags: [
        { name: 'system', description: 'Health' },
        { name: 'reference', description: 'Countries and the indicator catalogue' },
        { name: 'data', description: 'Observations as ingested' },
        { name: 'scores', description: 'Composite risk scores' },
        { name: 'quality', description: 'Data-quality report per indicator and batch' },
        { name: 'anomalies', description: 'Anomaly flags with attributions, and nowcasts' },
        { name: 'models', description: 'Model registry, training jobs, promotion and rollback (data scientists)' },
        { name: 'access', description: 'Who is calling; agencies and API keys (admin)' },
        { name: 'audit', description: 'The hash-chained audit trail (oversight)' },
      ],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'an API key (tlk_...) or a JWT with sub, agency, role and exp' },
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(healthRoutes);
  await app.register(catalogueRoutes);
  await app.register(observationRoutes);
  await app.register(ingestRoutes);
  await app.register(riskScoreRoutes);
  await app.register(frameworkRoutes);
  await app.register(qualityRoutes);
  await app.register(assessmentRoutes);
  await app.register(modelRoutes);
  await app.register(anomalyRoutes);
  await app.register(assistanceRoutes);
  await app.register(reportRoutes);
  await app.register(auditRoutes);
  await app.register(adminRoutes);
  await app.register(dashboardDataRoutes);
  await app.register(dashboardRoutes);
  return app;
}

export type App = Awaited<ReturnType<typeof buildApp>>;

/** THREATLENS_COMPUTE_THREADS: worker threads for assessments (default: the cores less one, at least 1). */
function computeThreadsFromEnv(env: NodeJS.ProcessEnv = process.env): { threads?: number } {
  if (!env.THREATLENS_COMPUTE_THREADS) return {};
  const threads = Number(env.THREATLENS_COMPUTE_THREADS);
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) throw new Error(`THREATLENS_COMPUTE_THREADS must be a whole number from 1 to 256; got "${env.THREATLENS_COMPUTE_THREADS}"`);
  return { threads };
}

/** THREATLENS_SHUTDOWN_GRACE_MS: how long close() waits for requests in flight (default 30,000). */
function shutdownGraceFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  if (!env.THREATLENS_SHUTDOWN_GRACE_MS) return 30_000;
  const ms = Number(env.THREATLENS_SHUTDOWN_GRACE_MS);
  if (!Number.isInteger(ms) || ms < 0) throw new Error(`THREATLENS_SHUTDOWN_GRACE_MS must be a whole number of milliseconds; got "${env.THREATLENS_SHUTDOWN_GRACE_MS}"`);
  return ms;
}
