/** GET /health: answers 200 when the store is reachable, 503 otherwise. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { dataVersion } from '../../engine/store/observations.ts';
import { HealthSchema, problemResponses } from '../schemas.ts';

export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/health',
    { schema: { summary: 'Liveness and store reachability', tags: ['system'], response: { 200: HealthSchema, ...problemResponses } } },
    async () => {
      const version = await dataVersion(app.store.db);
      return { status: 'ok' as const, store: app.store.kind, dataVersion: version.version, batches: version.batches.length };
    },
  );
};
