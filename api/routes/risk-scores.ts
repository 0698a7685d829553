/** GET /v1/risk-scores: the dashboards' route, one row per OSCE participating state. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ThreatLensError } from '../../engine/errors.ts';
import { SIMPLE_COMPOSITE_METHOD, SIMPLE_COMPOSITE_VERSION } from '../../engine/scoring/simple-composite.ts';
import { getRiskScores, scoredYears, scoreNodes } from '../../engine/store/risk-scores.ts';
import { problemResponses, RiskScoreQuerySchema, RiskScoresSchema } from '../schemas.ts';

export const riskScoreRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/risk-scores',
    {
      schema: {
        summary: 'Composite risk score and rank of every participating state for a year',
        description:
          'Method `simple-composite` v1: min-max normalisation to 0-10 per indicator (inverted where higher is better), ' +
          'arithmetic mean per crime area, then of the crime areas. Rank 1 is the highest risk.',
        tags: ['scores'],
        querystring: RiskScoreQuerySchema,
        response: { 200: RiskScoresSchema, ...problemResponses },
      },
    },
    async (request) => {
      const db = app.store.db;
      const [years, nodes] = await Promise.all([scoredYears(db, SIMPLE_COMPOSITE_METHOD), scoreNodes(db, SIMPLE_COMPOSITE_METHOD)]);
      const year = request.query.year ?? years[years.length - 1];
      if (year === undefined) throw new ThreatLensError('TL_NO_SCORES', 'No risk scores yet: ingest data first (`threatlens ingest`).');
      if (!years.includes(year)) {
        const range = years.length > 0 ? `scored years are ${years[0]}-${years[years.length - 1]}` : 'nothing is scored yet';
        throw new ThreatLensError('TL_NO_SCORES', `No risk scores for ${year}; ${range}.`);
      }
      const node = request.query.node;
      if (!nodes.includes(node)) {
        throw new ThreatLensError('TL_BAD_OPTION', `node "${node}" is not scored; choose one of ${nodes.join(', ')}`);
      }
      const rows = await getRiskScores(db, SIMPLE_COMPOSITE_METHOD, year, node);
      const synthetic = await app.store.db
        .selectFrom('ingestion_batches')
        .select('id')
        .where('synthetic', '=', true)
        .limit(1)
        .executeTakeFirst();
      return {
        method: SIMPLE_COMPOSITE_METHOD,
        methodVersion: SIMPLE_COMPOSITE_VERSION,
        year,
        node,
        dataVersion: rows[0]?.data_version ?? '',
        synthetic: synthetic !== undefined,
        availableYears: years,
        availableNodes: nodes,
        scores: rows.map((r) => ({
          entity: r.entity_code,
          name: r.name,
          subregion: r.subregion,
          score: r.score === null ? null : Math.round(r.score * 1000) / 1000,
          rank: r.rank,
          indicatorsUsed: r.indicators_used,
        })),
      };
    },
  );
};
