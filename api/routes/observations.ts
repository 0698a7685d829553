/** GET /v1/observations: raw observations, paginated with a cursor. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ThreatLensError } from '../../engine/errors.ts';
import { pageObservations } from '../../engine/store/observations.ts';
import { noteRead } from '../auth/plugin.ts';
import { ObservationPageSchema, ObservationQuerySchema, problemResponses } from '../schemas.ts';

export const observationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/observations',
    {
      schema: {
        summary: 'Observations by entity, indicator and year range; follow nextCursor for the next page',
        tags: ['data'],
        querystring: ObservationQuerySchema,
        response: { 200: ObservationPageSchema, ...problemResponses },
      },
      config: { access: { roles: ['analyst', 'data_scientist'], sharing: true } },
    },
    async (request) => {
      const q = request.query;
      if (q.from !== undefined && q.to !== undefined && q.from > q.to) {
        throw new ThreatLensError('TL_BAD_OPTION', `from (${q.from}) is after to (${q.to})`);
      }
      const { rows, nextCursor } = await pageObservations(app.store.db, {
        limit: q.limit,
        ...(q.entity ? { entity: q.entity } : {}),
        ...(q.indicator ? { indicator: q.indicator } : {}),
        ...(q.from !== undefined ? { fromYear: q.from } : {}),
        ...(q.to !== undefined ? { toYear: q.to } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
        scope: request.dataScope,
      });
      noteRead(request, { batches: rows.map((r) => r.batch_id), entities: rows.map((r) => r.entity_code), indicators: rows.map((r) => r.indicator_code) });
      return {
        observations: rows.map((r) => ({
          entity: r.entity_code,
          indicator: r.indicator_code,
          period: r.period,
          periodKind: r.period_kind,
          year: r.year,
          value: r.value,
          qualifier: r.value_qualifier,
          flags: r.flags,
          source: r.row_source ?? r.batch_source,
          batchId: r.batch_id,
          synthetic: r.synthetic,
        })),
        nextCursor,
      };
    },
  );
};
