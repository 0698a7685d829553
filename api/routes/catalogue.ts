/** GET /v1/entities and GET /v1/indicators: the reference data. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ROLES } from '../../engine/access/roles.ts';
import { listEntities, listIndicators } from '../../engine/store/catalogue.ts';
import { EntitySchema, IndicatorSchema, problemResponses } from '../schemas.ts';

export const catalogueRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/entities',
    {
      schema: {
        summary: 'Countries known to ThreatLens, with OSCE status and sub-region',
        tags: ['reference'],
        querystring: Type.Object({
          osceStatus: Type.Optional(
            Type.Union([Type.Literal('participating'), Type.Literal('partner_asian'), Type.Literal('partner_mediterranean')]),
          ),
        }),
        response: { 200: Type.Object({ entities: Type.Array(EntitySchema) }), ...problemResponses },
      },
      config: { access: { roles: ROLES } },
    },
    async (request) => {
      const rows = await listEntities(app.store.readDb, request.query.osceStatus ? { osceStatus: request.query.osceStatus } : {});
      return {
        entities: rows.map((e) => ({
          code: e.code,
          name: e.name,
          kind: e.kind,
          osceStatus: e.osce_status,
          subregion: e.subregion,
          iso2: e.iso2,
        })),
      };
    },
  );

  app.get(
    '/v1/indicators',
    {
      schema: {
        summary: 'The indicator catalogue: unit, crime area and polarity of every indicator',
        tags: ['reference'],
        response: { 200: Type.Object({ indicators: Type.Array(IndicatorSchema) }), ...problemResponses },
      },
      config: { access: { roles: ROLES } },
    },
    async () => {
      const rows = await listIndicators(app.store.readDb);
      return {
        indicators: rows.map((i) => ({
          code: i.code,
          name: i.name,
          unit: i.unit,
          crimeArea: i.crime_area,
          polarity: i.polarity,
          description: i.description,
          source: i.source,
        })),
      };
    },
  );
};
