/**
 * GET /v1/assistance-priorities: the participating states ranked by the gap between threat and
 * resilience, overall and per crime area, with Monte Carlo intervals, the indicators behind each
 * gap and the data-capacity gaps (engine/scoring/assistance.ts). Computed under the request's data
 * scope and cached per (framework parameters, scope's data version, year, runs, seed).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { describeScope } from '../../engine/access/roles.ts';
import { ThreatLensError } from '../../engine/errors.ts';
import { frameworkParamsHash } from '../../engine/scoring/assessment-run.ts';
import { runAssistancePriorities, type AssistanceAnswer } from '../../engine/scoring/assistance-run.ts';
import { dataVersion } from '../../engine/store/observations.ts';
import { noteRead } from '../auth/plugin.ts';
import { builtinFramework } from '../frameworks.ts';
import { problemResponses } from '../schemas.ts';

const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
const IntervalSchema = Type.Union([Type.Object({ low: Type.Number(), median: Type.Number(), high: Type.Number() }), Type.Null()]);
const TermSchema = Type.Object({
  indicator: Type.String(),
  normalised: Type.Number({ description: '0-10, higher = more risk (resilience indicators: less resilience)' }),
  weight: Type.Number({ description: 'weight in its side of the gap; each side sums to 1' }),
  contribution: Type.Number({ description: 'weight x (normalised - 5): points this indicator adds to the gap' }),
  imputed: Type.Union([Type.String(), Type.Null()]),
});
const GapRowSchema = Type.Object({
  entity: Type.String(),
  name: Type.String(),
  subregion: Type.Union([Type.String(), Type.Null()]),
  threat: Type.Union([Type.Number(), Type.Null()], { description: 'threat node (overall) or the crime area\'s scale, 0-10' }),
  resilience: NullableNumber,
  gap: NullableNumber,
  interval: IntervalSchema,
  rank: Type.Union([Type.Integer(), Type.Null()], { description: '1 = largest gap' }),
  rankInterval: IntervalSchema,
  threatTerms: Type.Array(TermSchema),
  resilienceTerms: Type.Array(TermSchema),
  resilienceContribution: NullableNumber,
  exact: Type.Boolean(),
});

export const AssistanceQuerySchema = Type.Object({
  framework: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,62}$', description: 'a built-in framework with a threat and a lack_of_resilience node (osce-threat, osce-threat-demo)' }),
  year: Type.Integer({ minimum: 1900, maximum: 2100 }),
  crimeArea: Type.Optional(Type.String({ pattern: '^[a-z_]{1,40}$', description: 'only this crime area in `crimeAreas`' })),
  runs: Type.Optional(Type.Integer({ minimum: 10, maximum: 5000, description: 'Monte Carlo runs (default 1000)' })),
  seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 })),
});

export const AssistanceSchema = Type.Object({
  framework: Type.Object({ id: Type.String(), version: Type.String(), title: Type.String(), paramsHash: Type.String() }),
  year: Type.Integer(),
  units: Type.Integer(),
  dataVersion: Type.String(),
  synthetic: Type.Boolean({ description: 'true when any input batch is synthetic (demo) data' }),
  inputBatches: Type.Array(Type.Integer()),
  method: Type.Object({
    threatNode: Type.String(),
    resilienceNode: Type.String(),
    formula: Type.Object({ resilience: Type.String(), overall: Type.String(), crimeArea: Type.String(), contribution: Type.String(), dataCapacity: Type.String() }),
    seed: Type.Integer(),
    runs: Type.Integer(),
    weightNoise: Type.Number(),
    uncertainInputs: Type.Array(Type.String()),
    intervalPercentiles: Type.Array(Type.Number()),
    staleAfterYears: Type.Integer(),
  }),
  indicators: Type.Record(Type.String(), Type.Object({ label: Type.String(), crimeArea: Type.String(), side: Type.Union([Type.Literal('threat'), Type.Literal('resilience'), Type.Literal('other')]) })),
  overall: Type.Array(GapRowSchema),
  crimeAreas: Type.Array(Type.Object({ crimeArea: Type.String(), indicators: Type.Array(Type.String()), rows: Type.Array(GapRowSchema) })),
  dataCapacity: Type.Union([
    Type.Object({
      window: Type.Object({ from: Type.Integer(), to: Type.Integer() }),
      indicators: Type.Integer(),
      rows: Type.Array(
        Type.Object({
          entity: Type.String(),
          name: Type.String(),
          subregion: Type.Union([Type.String(), Type.Null()]),
          missing: Type.Array(Type.String()),
          stale: Type.Array(Type.Object({ indicator: Type.String(), latestYear: Type.Integer() })),
          gapShare: Type.Number({ description: '(missing + stale) / framework indicators' }),
          rank: Type.Integer(),
        }),
      ),
    }),
    Type.Null(),
  ]),
  notes: Type.Array(Type.String()),
});
export type AssistanceBody = Static<typeof AssistanceSchema>;

/** Rankings kept; each is a few hundred kB. */
const CACHE_SIZE = 16;

export const assistanceRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const cache = new Map<string, Promise<AssistanceAnswer>>();

  app.get(
    '/v1/assistance-priorities',
    {
      schema: {
        summary: 'Where assistance is most needed: the gap between threat and resilience, per crime area and overall',
        description:
          'Resilience R = 10 - lack_of_resilience; overall gap = threat - R; crime-area gap = the threat matrix scale of the area - R ' +
          '(all 0-10, gaps -10..10). Each gap is split exactly into indicator terms weight x (normalised - 5). Intervals: 5th-95th ' +
          'percentile over the assessments\' Monte Carlo (normalisation, aggregation, imputation, weight noise). Data-capacity gaps: ' +
          'per state the framework indicators with no value in the ten-year window or a latest value more than two years old, from ' +
          'the data-quality report. An input for co-ordinating technical assistance, not an allocation formula: see the limits in the README.',
        tags: ['scores'],
        querystring: AssistanceQuerySchema,
        response: { 200: AssistanceSchema, 304: Type.Null(), ...problemResponses },
      },
      config: { access: { roles: ['viewer', 'analyst', 'data_scientist', 'oversight', 'admin'], sharing: true } },
    },
    async (request, reply) => {
      const q = request.query;
      const framework = await builtinFramework(app.store, q.framework, app.readCache);
      const scope = request.dataScope;
      const version = (await dataVersion(app.store.db, scope)).version;
      const key = [frameworkParamsHash(framework), describeScope(scope), version, q.year, q.runs ?? '', q.seed ?? ''].join('|');
      const etag = `"${key.replace(/[^A-Za-z0-9._:-]/g, '-')}"`;
      reply.header('etag', etag).header('cache-control', 'no-cache');
      let answer = cache.get(key);
      if (!answer) {
        answer = runAssistancePriorities(app.store.db, framework, { year: q.year, ...(q.runs !== undefined ? { runs: q.runs } : {}), ...(q.seed !== undefined ? { seed: q.seed } : {}) }, scope);
        answer.catch(() => cache.delete(key));
        cache.set(key, answer);
        if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      const result = await answer;
      noteRead(request, { batches: result.inputBatches, indicators: Object.keys(result.indicators) });
      if (request.headers['if-none-match'] === etag) return reply.code(304).send(null);
      const crimeAreas = q.crimeArea === undefined ? result.crimeAreas : result.crimeAreas.filter((a) => a.crimeArea === q.crimeArea);
      if (q.crimeArea !== undefined && crimeAreas.length === 0) {
        throw new ThreatLensError('TL_BAD_OPTION', `crimeArea "${q.crimeArea}" is not among the threat areas of ${framework.id}: ${result.crimeAreas.map((a) => a.crimeArea).join(', ')}`);
      }
      return { ...result, crimeAreas };
    },
  );
};
