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
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { Type } from 'typebox';
import { OSCE_PARTICIPATING_ISO3 } from '../../datasets/reference/osce.ts';
import { ROLES, type DataScope } from '../../engine/access/roles.ts';
import { ThreatLensError } from '../../engine/errors.ts';
import { frameworkScoreTable } from '../../engine/scoring/assessment-run.ts';
import {
  DEFAULT_SIMPLE_COMPOSITE_OPTIONS,
  scoreSimpleComposite,
  SIMPLE_COMPOSITE_METHOD,
  SIMPLE_COMPOSITE_VERSION,
  type NodeScore,
} from '../../engine/scoring/simple-composite.ts';
import { listEntities, listIndicators } from '../../engine/store/catalogue.ts';
import { currentAnnualValues, yearsWithAnnualValues } from '../../engine/store/observations.ts';
import { getRiskScores, scoredYears, scoreNodes } from '../../engine/store/risk-scores.ts';
import type { Database } from '../../engine/store/schema.ts';
import { batchVisible } from '../../engine/store/visibility.ts';
import { noteRead } from '../auth/plugin.ts';
import { builtinFramework } from '../frameworks.ts';
import { scopeKey, type CachedResponse } from '../read-cache.ts';
import { FrameworkScoresSchema, problemResponses, RiskScoreQuerySchema, RiskScoresSchema } from '../schemas.ts';

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
  const hasSyntheticData = async (scope: DataScope) =>
    (await app.store.readDb
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
    (request, reply) => {
      const scope = request.dataScope;
      const { framework: frameworkId, year: requestedYear, node } = request.query;
      if (frameworkId !== undefined && requestedYear === undefined) {
        throw new ThreatLensError('TL_BAD_OPTION', 'year is required with framework, e.g. ?framework=osce-threat-demo&year=2022');
      }
      // The dashboards poll this route: its answer is serialised once per (scope's data version,
      // query) and sent as bytes with a hash ETag, so a read costs a lookup (api/read-cache.ts).
      const keyFor = (version: string) => `risk-scores|${scopeKey(scope)}|${version}|${frameworkId ?? ''}|${requestedYear ?? 'latest'}|${node}`;
      // Most polls find the version and the answer in memory: answered without a promise.
      const knownVersion = app.readCache.dataVersionNow(scope);
      const ready = knownVersion && app.readCache.responseNow(keyFor(knownVersion.version));
      if (ready) {
        sendAnswer(request, reply, ready);
        return;
      }
      return (async () => {
        const version = await app.readCache.dataVersion(scope);
        const answer = await app.readCache.response(keyFor(version.version), async () => {
          const built = frameworkId !== undefined ? await frameworkAnswer(frameworkId, requestedYear!, node, scope, version.version) : await compositeAnswer(requestedYear, node, scope, version.version);
          return { body: reply.serialize(built.payload), batches: built.batches, cacheable: built.cacheable };
        });
        sendAnswer(request, reply, answer);
        return reply;
      })();
    },
  );

  function sendAnswer(request: FastifyRequest, reply: FastifyReply, answer: CachedResponse): void {
    noteRead(request, { batches: answer.batches });
    reply.header('etag', answer.etag).header('cache-control', 'private, no-cache').header('vary', 'authorization, x-api-key, x-purpose');
    if (request.headers['if-none-match'] === answer.etag) reply.code(304).send(null);
    else reply.type('application/json; charset=utf-8').send(answer.body);
  }

  interface BuiltAnswer {
    readonly payload: unknown;
    readonly batches: readonly number[];
    /** False when the answer may not match the data version it would be remembered under. */
    readonly cacheable: boolean;
  }

  async function frameworkAnswer(frameworkId: string, year: number, node: string, scope: DataScope, version: string): Promise<BuiltAnswer> {
    const db = app.store.readDb;
    const framework = await builtinFramework(app.store, frameworkId, app.readCache);
    const computed = await frameworkScoreTable(db, framework, year, scope);
    const root = node === 'overall' ? computed.roots[0]! : node;
    if (!computed.nodes.includes(root)) {
      throw new ThreatLensError('TL_BAD_OPTION', `node "${root}" is not in framework ${framework.id}; choose one of ${computed.nodes.join(', ')}`);
    }
    return {
      payload: {
        framework: computed.framework,
        year: computed.year,
        node: root,
        dataVersion: computed.dataVersion,
        synthetic: await hasSyntheticData(scope),
        availableNodes: [...computed.nodes],
        scores: computed.rows.map((r) => ({ entity: r.entity, name: r.name, subregion: r.subregion, score: r.scores[root] ?? null, rank: r.rank, band: r.band, nodes: r.scores })),
      },
      batches: computed.inputBatches,
      cacheable: computed.dataVersion === version,
    };
  }

  async function compositeAnswer(requestedYear: number | undefined, node: string, scope: DataScope, version: string): Promise<BuiltAnswer> {
    const db = app.store.readDb;
    if (scope.kind === 'public') {
      // The published scores, stored by refreshRiskScores from public batches.
      const [years, nodes] = await Promise.all([scoredYears(db, SIMPLE_COMPOSITE_METHOD), scoreNodes(db, SIMPLE_COMPOSITE_METHOD)]);
      const year = requestedYear ?? years[years.length - 1];
      checkYear(year, years);
      if (!nodes.includes(node)) throw new ThreatLensError('TL_BAD_OPTION', `node "${node}" is not scored; choose one of ${nodes.join(', ')}`);
      const rows = await getRiskScores(db, SIMPLE_COMPOSITE_METHOD, year, node);
      const storedVersion = rows[0]?.data_version ?? '';
      return {
        payload: {
          method: SIMPLE_COMPOSITE_METHOD,
          methodVersion: SIMPLE_COMPOSITE_VERSION,
          year,
          node,
          dataVersion: storedVersion,
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
        },
        batches: [],
        // Between an ingestion and the refresh of the stored scores they lag the data version.
        cacheable: storedVersion === version,
      };
    }

    const composite = await scopedComposite(db, scope, requestedYear);
    checkYear(composite.year, composite.years);
    const year = composite.year!;
    const nodes = [...new Set(composite.scores.map((s) => s.node))].sort();
    if (!nodes.includes(node)) throw new ThreatLensError('TL_BAD_OPTION', `node "${node}" is not scored; choose one of ${nodes.join(', ')}`);
    const entities = new Map((await listEntities(db, { osceStatus: 'participating' })).map((e) => [e.code, e]));
    const rows = composite.scores
      .filter((s) => s.node === node)
      .sort((a, b) => (a.rank ?? 1_000_000) - (b.rank ?? 1_000_000) || (a.entity < b.entity ? -1 : a.entity > b.entity ? 1 : 0));
    return {
      payload: {
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
      },
      batches: composite.batchIds,
      // Computed from a fresh read of the data, which may be newer than the version read first.
      cacheable: true,
    };
  }
};

function checkYear(year: number | undefined, years: readonly number[]): asserts year is number {
  if (year === undefined) throw new ThreatLensError('TL_NO_SCORES', 'No risk scores yet: ingest data first (`threatlens ingest`).');
  if (!years.includes(year)) {
    const range = years.length > 0 ? `scored years are ${years[0]}-${years[years.length - 1]}` : 'nothing is scored yet';
    throw new ThreatLensError('TL_NO_SCORES', `No risk scores for ${year}; ${range}.`);
  }
}
