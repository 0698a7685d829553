/**
 * GET /v1/risk-scores: the dashboards' route, one row per OSCE participating state. Without
 * `framework`, the stored simple composite; with it, a framework's nominal scores, computed once per
 * (framework parameters, data version, year), cached, and sent with an ETag so that a dashboard
 * polling an unchanged table gets 304 Not Modified.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ThreatLensError } from '../../engine/errors.ts';
import { frameworkParamsHash, frameworkScoreTable, type FrameworkScoreTable } from '../../engine/scoring/assessment-run.ts';
import { SIMPLE_COMPOSITE_METHOD, SIMPLE_COMPOSITE_VERSION } from '../../engine/scoring/simple-composite.ts';
import { dataVersion } from '../../engine/store/observations.ts';
import { getRiskScores, scoredYears, scoreNodes } from '../../engine/store/risk-scores.ts';
import { builtinFramework } from '../frameworks.ts';
import { FrameworkScoresSchema, problemResponses, RiskScoreQuerySchema, RiskScoresSchema } from '../schemas.ts';

/** Tables kept; a dashboard asks for a handful of (framework, year) pairs. */
const TABLE_CACHE_SIZE = 64;

export const riskScoreRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const tables = new Map<string, Promise<FrameworkScoreTable>>();

  const hasSyntheticData = async () =>
    (await app.store.db.selectFrom('ingestion_batches').select('id').where('synthetic', '=', true).limit(1).executeTakeFirst()) !== undefined;

  app.get(
    '/v1/risk-scores',
    {
      schema: {
        summary: 'Risk score and rank of every participating state for a year',
        description:
          'Without `framework`: method `simple-composite` v1 (min-max to 0-10 per indicator, inverted where higher is better, ' +
          'mean per crime area, then of the crime areas). With `framework` (GET /v1/frameworks): the framework\'s nominal scores, ' +
          'every node per state, rank and band of its first root; cached per data version and sent with an ETag (304 when unchanged). ' +
          'Rank 1 is the highest risk.',
        tags: ['scores'],
        querystring: RiskScoreQuerySchema,
        response: { 200: Type.Union([RiskScoresSchema, FrameworkScoresSchema]), 304: Type.Null(), ...problemResponses },
      },
    },
    async (request, reply) => {
      const db = app.store.db;
      const { framework: frameworkId, year: requestedYear } = request.query;
      if (frameworkId !== undefined) {
        if (requestedYear === undefined) throw new ThreatLensError('TL_BAD_OPTION', 'year is required with framework, e.g. ?framework=osce-threat-demo&year=2022');
        const framework = await builtinFramework(app.store, frameworkId);
        const version = (await dataVersion(db)).version;
        const etag = `"${frameworkParamsHash(framework)}-${version}-${requestedYear}"`;
        reply.header('etag', etag).header('cache-control', 'no-cache');
        if (request.headers['if-none-match'] === etag) return reply.code(304).send(null);
        let table = tables.get(etag);
        if (!table) {
          table = frameworkScoreTable(db, framework, requestedYear);
          table.catch(() => tables.delete(etag));
          tables.set(etag, table);
          if (tables.size > TABLE_CACHE_SIZE) tables.delete(tables.keys().next().value!);
        }
        const computed = await table;
        const node = request.query.node === 'overall' ? computed.roots[0]! : request.query.node;
        if (!computed.nodes.includes(node)) {
          throw new ThreatLensError('TL_BAD_OPTION', `node "${node}" is not in framework ${framework.id}; choose one of ${computed.nodes.join(', ')}`);
        }
        return {
          framework: computed.framework,
          year: computed.year,
          node,
          dataVersion: computed.dataVersion,
          synthetic: await hasSyntheticData(),
          availableNodes: [...computed.nodes],
          scores: computed.rows.map((r) => ({ entity: r.entity, name: r.name, subregion: r.subregion, score: r.scores[node] ?? null, rank: r.rank, band: r.band, nodes: r.scores })),
        };
      }

      const [years, nodes] = await Promise.all([scoredYears(db, SIMPLE_COMPOSITE_METHOD), scoreNodes(db, SIMPLE_COMPOSITE_METHOD)]);
      const year = requestedYear ?? years[years.length - 1];
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
      return {
        method: SIMPLE_COMPOSITE_METHOD,
        methodVersion: SIMPLE_COMPOSITE_VERSION,
        year,
        node,
        dataVersion: rows[0]?.data_version ?? '',
        synthetic: await hasSyntheticData(),
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
