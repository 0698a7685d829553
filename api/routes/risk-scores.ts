/**
 * GET /v1/risk-scores: the dashboards' route, one row per OSCE participating state. Without
 * `framework`, the simple composite; with it, a framework's nominal scores, computed once per
 * (framework parameters, data version, year), cached, and sent with an ETag so that a dashboard
 * polling an unchanged table gets 304 Not Modified.
 *
 * Sharing: every score is computed from the batches the caller may use (`request.dataScope`).
 * Public data: the stored composite (published, computed from public batches only) and framework
 * tables computed from public batches. An agency's scope: computed from its data on request.
 * Caches are keyed by the scope's data version, so no table computed for one agency's data is
 * ever served to a caller who may not see that data.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Kysely } from 'kysely';
import { Type } from 'typebox';
import { OSCE_PARTICIPATING_ISO3 } from '../../datasets/reference/osce.ts';
import { ROLES, type DataScope } from '../../engine/access/roles.ts';
import { ThreatLensError } from '../../engine/errors.ts';
import { frameworkParamsHash, frameworkScoreTable, type FrameworkScoreTable } from '../../engine/scoring/assessment-run.ts';
import {
  DEFAULT_SIMPLE_COMPOSITE_OPTIONS,
  scoreSimpleComposite,
  SIMPLE_COMPOSITE_METHOD,
  SIMPLE_COMPOSITE_VERSION,
  type NodeScore,
} from '../../engine/scoring/simple-composite.ts';
import { listEntities, listIndicators } from '../../engine/store/catalogue.ts';
import { currentAnnualValues, dataVersion, yearsWithAnnualValues } from '../../engine/store/observations.ts';
import { getRiskScores, scoredYears, scoreNodes } from '../../engine/store/risk-scores.ts';
import type { Database } from '../../engine/store/schema.ts';
import { batchVisible } from '../../engine/store/visibility.ts';
import { noteRead } from '../auth/plugin.ts';
import { builtinFramework } from '../frameworks.ts';
import { FrameworkScoresSchema, problemResponses, RiskScoreQuerySchema, RiskScoresSchema } from '../schemas.ts';

/** Tables kept; a dashboard asks for a handful of (framework, year) pairs. */
const TABLE_CACHE_SIZE = 64;

interface ScopedComposite {
  readonly years: readonly number[];
  readonly scores: readonly NodeScore[];
  readonly batchIds: readonly number[];
}

/** The simple composite of one year from the batches a scope may use (what refreshRiskScores stores for public data). */
async function scopedComposite(db: Kysely<Database>, scope: DataScope, year: number | undefined): Promise<ScopedComposite & { year: number | undefined }> {
  const years = await yearsWithAnnualValues(db, scope);
  const target = year ?? years[years.length - 1];
  if (target === undefined || !years.includes(target)) return { years, scores: [], batchIds: [], year: target };
  const [values, indicators] = await Promise.all([
    currentAnnualValues(db, { scope, fromYear: target - DEFAULT_SIMPLE_COMPOSITE_OPTIONS.lookbackYears, toYear: target }),
    listIndicators(db),
  ]);
  const scored = indicators.map((i) => ({ code: i.code, crimeArea: i.crime_area, polarity: i.polarity }));
  const scores = scoreSimpleComposite(values, scored, OSCE_PARTICIPATING_ISO3, target, DEFAULT_SIMPLE_COMPOSITE_OPTIONS);
  return { years, scores, batchIds: [...new Set(values.map((v) => v.batchId))].sort((a, b) => a - b), year: target };
}

export const riskScoreRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const tables = new Map<string, Promise<FrameworkScoreTable>>();
  const composites = new Map<string, Promise<ScopedComposite & { year: number | undefined }>>();

  const remember = <T>(cache: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> => {
    let entry = cache.get(key);
    if (!entry) {
      entry = make();
      entry.catch(() => cache.delete(key));
      cache.set(key, entry);
      if (cache.size > TABLE_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    }
    return entry;
  };

  const hasSyntheticData = async (scope: DataScope) =>
    (await app.store.db
      .selectFrom('ingestion_batches')
      .select('id')
      .where('synthetic', '=', true)
      .where(batchVisible(scope))
      .limit(1)
      .executeTakeFirst()) !== undefined;

  app.get(
    '/v1/risk-scores',
    {
      schema: {
        summary: 'Risk score and rank of every participating state for a year',
        description:
          'Without `framework`: method `simple-composite` v1 (min-max to 0-10 per indicator, inverted where higher is better, ' +
          'mean per crime area, then of the crime areas). With `framework` (GET /v1/frameworks): the framework\'s nominal scores, ' +
          'every node per state, rank and band of its first root; cached per data version and sent with an ETag (304 when unchanged). ' +
          'Rank 1 is the highest risk. Scores are computed only from the data the caller may see.',
        tags: ['scores'],
        querystring: RiskScoreQuerySchema,
        response: { 200: Type.Union([RiskScoresSchema, FrameworkScoresSchema]), 304: Type.Null(), ...problemResponses },
      },
      config: { access: { roles: ROLES, sharing: true } },
    },
    async (request, reply) => {
      const db = app.store.db;
      const scope = request.dataScope;
      const { framework: frameworkId, year: requestedYear } = request.query;
      if (frameworkId !== undefined) {
        if (requestedYear === undefined) throw new ThreatLensError('TL_BAD_OPTION', 'year is required with framework, e.g. ?framework=osce-threat-demo&year=2022');
        const framework = await builtinFramework(app.store, frameworkId);
        const version = (await dataVersion(db, scope)).version;
        // The version hashes the batches visible in this scope: scopes that see the same batches share a table, others never do.
        const etag = `"${frameworkParamsHash(framework)}-${version}-${requestedYear}"`;
        reply.header('etag', etag).header('cache-control', 'private, no-cache').header('vary', 'authorization, x-api-key, x-purpose');
        const computed = await remember(tables, etag, () => frameworkScoreTable(db, framework, requestedYear, scope));
        noteRead(request, { batches: computed.inputBatches });
        if (request.headers['if-none-match'] === etag) return reply.code(304).send(null);
        const node = request.query.node === 'overall' ? computed.roots[0]! : request.query.node;
        if (!computed.nodes.includes(node)) {
          throw new ThreatLensError('TL_BAD_OPTION', `node "${node}" is not in framework ${framework.id}; choose one of ${computed.nodes.join(', ')}`);
        }
        return {
          framework: computed.framework,
          year: computed.year,
          node,
          dataVersion: computed.dataVersion,
          synthetic: await hasSyntheticData(scope),
          availableNodes: [...computed.nodes],
          scores: computed.rows.map((r) => ({ entity: r.entity, name: r.name, subregion: r.subregion, score: r.scores[node] ?? null, rank: r.rank, band: r.band, nodes: r.scores })),
        };
      }

      const node = request.query.node;
      if (scope.kind === 'public') {
        // The published scores, stored by refreshRiskScores from public batches.
        const [years, nodes] = await Promise.all([scoredYears(db, SIMPLE_COMPOSITE_METHOD), scoreNodes(db, SIMPLE_COMPOSITE_METHOD)]);
        const year = requestedYear ?? years[years.length - 1];
        checkYear(year, years);
        if (!nodes.includes(node)) throw new ThreatLensError('TL_BAD_OPTION', `node "${node}" is not scored; choose one of ${nodes.join(', ')}`);
        const rows = await getRiskScores(db, SIMPLE_COMPOSITE_METHOD, year, node);
        return {
          method: SIMPLE_COMPOSITE_METHOD,
          methodVersion: SIMPLE_COMPOSITE_VERSION,
          year,
          node,
          dataVersion: rows[0]?.data_version ?? '',
          synthetic: await hasSyntheticData(scope),
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
      }

      const version = (await dataVersion(db, scope)).version;
      const composite = await remember(composites, `${version}:${requestedYear ?? 'latest'}`, () => scopedComposite(db, scope, requestedYear));
      checkYear(composite.year, composite.years);
      const year = composite.year!;
      noteRead(request, { batches: composite.batchIds });
      const nodes = [...new Set(composite.scores.map((s) => s.node))].sort();
      if (!nodes.includes(node)) throw new ThreatLensError('TL_BAD_OPTION', `node "${node}" is not scored; choose one of ${nodes.join(', ')}`);
      const entities = new Map((await listEntities(db, { osceStatus: 'participating' })).map((e) => [e.code, e]));
      const rows = composite.scores
        .filter((s) => s.node === node)
        .sort((a, b) => (a.rank ?? 1_000_000) - (b.rank ?? 1_000_000) || (a.entity < b.entity ? -1 : a.entity > b.entity ? 1 : 0));
      return {
        method: SIMPLE_COMPOSITE_METHOD,
        methodVersion: SIMPLE_COMPOSITE_VERSION,
        year,
        node,
        dataVersion: version,
        synthetic: await hasSyntheticData(scope),
        availableYears: [...composite.years],
        availableNodes: nodes,
        scores: rows.map((r) => ({
          entity: r.entity,
          name: entities.get(r.entity)?.name ?? r.entity,
          subregion: entities.get(r.entity)?.subregion ?? null,
          score: r.score === null ? null : Math.round(r.score * 1000) / 1000,
          rank: r.rank,
          indicatorsUsed: r.indicatorsUsed,
        })),
      };
    },
  );
};

function checkYear(year: number | undefined, years: readonly number[]): asserts year is number {
  if (year === undefined) throw new ThreatLensError('TL_NO_SCORES', 'No risk scores yet: ingest data first (`threatlens ingest`).');
  if (!years.includes(year)) {
    const range = years.length > 0 ? `scored years are ${years[0]}-${years[years.length - 1]}` : 'nothing is scored yet';
    throw new ThreatLensError('TL_NO_SCORES', `No risk scores for ${year}; ${range}.`);
  }
}
