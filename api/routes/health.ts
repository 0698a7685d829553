/**
 * GET /health: answers 200 when the store is reachable, 503 (problem+json, Retry-After) otherwise.
 * Load shedding never sheds it; while the periodic database ping (api/load-shedding.ts) says the
 * database is down it answers 503 at once, so that it agrees with what the other routes answer.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PUBLIC_DATA } from '../../engine/access/roles.ts';
import { ThreatLensError } from '../../engine/errors.ts';
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
      const health = app.storeHealth;
      if (health && !health.up) {
        const seconds = Math.round((Date.now() - health.since) / 1000);
        throw new ThreatLensError('TL_STORE_UNAVAILABLE', `no answer to the database ping for ${seconds} s (${health.lastError ?? 'unknown error'})`);
      }
      // Public: it must say nothing about restricted batches, not even how many there are.
      const version = await dataVersion(app.store.db, PUBLIC_DATA);
      return { status: 'ok' as const, store: app.store.kind, dataVersion: version.version, batches: version.batches.length, reads: app.store.readTarget() };
    },
  );
};
