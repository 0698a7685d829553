/** GET /health: answers 200 when the store is reachable, 503 otherwise. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PUBLIC_DATA } from '../../engine/access/roles.ts';
import { dataVersion } from '../../engine/store/observations.ts';
import { HealthSchema, problemResponses } from '../schemas.ts';

export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/health',
    {
      schema: { summary: 'Liveness and store reachability; the data version and count of the public batches', tags: ['system'], response: { 200: HealthSchema, ...problemResponses } },
      config: { access: { public: true } },
    },
    async () => {
      // Public: it must say nothing about restricted batches, not even how many there are.
      const version = await dataVersion(app.store.db, PUBLIC_DATA);
      return { status: 'ok' as const, store: app.store.kind, dataVersion: version.version, batches: version.batches.length };
    },
  );
};
