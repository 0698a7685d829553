/**
 * The ThreatLens API as a Fastify plugin tree: schemas, OpenAPI, problem+json errors, routes.
 * `server.ts` owns listening, logging and shutdown; tests call `buildApp` and `app.inject`.
 */
import Fastify, { type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Store } from '../engine/store/database.ts';
import { registerProblemHandlers } from './problem.ts';
import { assessmentRoutes } from './routes/assessments.ts';
import { catalogueRoutes } from './routes/catalogue.ts';
import { frameworkRoutes } from './routes/frameworks.ts';
import { healthRoutes } from './routes/health.ts';
import { observationRoutes } from './routes/observations.ts';
import { qualityRoutes } from './routes/quality.ts';
import { riskScoreRoutes } from './routes/risk-scores.ts';
import { ProblemSchema } from './schemas.ts';

declare module 'fastify' {
  interface FastifyInstance {
    store: Store;
  }
}

export interface AppOptions {
  readonly store: Store;
  readonly logger?: FastifyServerOptions['logger'];
}

export async function buildApp(options: AppOptions) {
  const app = Fastify({
    logger: options.logger ?? false,
    // Query strings such as ?year=2020 arrive as text: coerce to the schema's types.
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false, useDefaults: true, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('store', options.store);
  app.addSchema(ProblemSchema);
  registerProblemHandlers(app);

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
      ],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(healthRoutes);
  await app.register(catalogueRoutes);
  await app.register(observationRoutes);
  await app.register(riskScoreRoutes);
  await app.register(frameworkRoutes);
  await app.register(qualityRoutes);
  await app.register(assessmentRoutes);
  return app;
}

export type App = Awaited<ReturnType<typeof buildApp>>;
