/**
 * Detections for analysts and dashboards: GET /v1/anomalies serves the flags of the production
 * detectors' run over the data the caller may see (run on demand when no stored run is up to
 * date), each with its attribution and likely cause; GET /v1/nowcasts serves the expected value
 * of the periods not yet published, with a prediction interval (crime statistics lag one to two
 * years, so the nowcast is useful by itself).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { nowcast } from '../../engine/anomaly/forecast.ts';
import { loadSeries } from '../../engine/anomaly/series.ts';
import { ThreatLensError } from '../../engine/errors.ts';
import { queryAnomalies } from '../../engine/store/anomalies.ts';
import { currentDetections } from '../../models/detection.ts';
import { noteRead } from '../auth/plugin.ts';
import { problemResponses } from '../schemas.ts';

const Iso3 = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 3166-1 alpha-3' });
const IndicatorCode = Type.String({ pattern: '^[a-z0-9_]{1,80}$' });
const Year = Type.Integer({ minimum: 1900, maximum: 2100 });
const Severity = Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')]);

const FlagSchema = Type.Object(
  {
    entity: Type.String(),
    indicator: Type.String(),
    period: Type.String(),
    detector: Type.String({ description: '`ensemble` for the combined verdict; the others are its members\' evidence' }),
    score: Type.Number({ minimum: 0, maximum: 1 }),
    severity: Severity,
    value: Type.Union([Type.Number(), Type.Null()]),
    expected: Type.Union([Type.Number(), Type.Null()]),
    interval: Type.Union([Type.Array(Type.Number(), { minItems: 2, maxItems: 2 }), Type.Null()]),
    attributions: Type.Array(
      Type.Object({ indicator: Type.String(), share: Type.Number(), value: Type.Optional(Type.Number()), expected: Type.Optional(Type.Number()) }),
    ),
    likelyCause: Type.Union([Type.Literal('data_problem'), Type.Literal('real_change'), Type.Literal('unclear')]),
    reason: Type.String(),
    batchIds: Type.Array(Type.Integer()),
  },
  { $id: 'AnomalyFlag' },
);

const RunSchema = Type.Object({
  id: Type.Integer(),
  dataVersion: Type.String(),
  codeVersion: Type.String(),
  detectors: Type.Unknown({ description: 'per detector: the model version (null when fitted in the run) and parameters' }),
  cellsScored: Type.Integer(),
  flags: Type.Integer(),
  createdAt: Type.String(),
  fresh: Type.Boolean({ description: 'whether this request ran the detectors (no stored run was up to date)' }),
});

export const anomalyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addSchema(FlagSchema);

  app.get(
    '/v1/anomalies',
    {
      schema: {
        summary: 'Anomaly flags with their attributions',
        description:
          'Flags of the production detectors (robust level z, Hampel, Theil-Sen trend residual, STL for monthly series, PELT breaks, ' +
          'forecast residual, isolation forest, robust Mahalanobis, autoencoder) combined by the ensemble, over the data the caller may ' +
          'see. Default: the ensemble\'s verdicts only; `detector=all` adds each member\'s evidence. `severity` is the lowest wanted.',
        tags: ['anomalies'],
        querystring: Type.Object({
          entity: Type.Optional(Iso3),
          indicator: Type.Optional(IndicatorCode),
          from: Type.Optional(Year),
          to: Type.Optional(Year),
          severity: Type.Optional(Severity),
          detector: Type.String({ default: 'ensemble', pattern: '^[a-z_]{1,40}$' }),
          limit: Type.Integer({ minimum: 1, maximum: 5000, default: 500 }),
        }),
        response: { 200: Type.Object({ run: RunSchema, flags: Type.Array(Type.Ref('AnomalyFlag')) }), ...problemResponses },
      },
      config: { access: { roles: ['viewer', 'analyst', 'data_scientist'], sharing: true } },
    },
    async (request) => {
      const q = request.query;
      if (q.from !== undefined && q.to !== undefined && q.from > q.to) throw new ThreatLensError('TL_BAD_OPTION', `from (${q.from}) is after to (${q.to})`);
      const { run, fresh } = await currentDetections(app.store, { scope: request.dataScope, actor: request.principal?.subject ?? 'anonymous' });
      const flags = await queryAnomalies(app.store.db, {
        runId: run.id,
        ...(q.entity !== undefined ? { entity: q.entity } : {}),
        ...(q.indicator !== undefined ? { indicator: q.indicator } : {}),
        ...(q.from !== undefined ? { from: q.from } : {}),
        ...(q.to !== undefined ? { to: q.to } : {}),
        ...(q.severity !== undefined ? { severity: q.severity } : {}),
        ...(q.detector !== 'all' ? { detector: q.detector } : {}),
      });
      const shown = flags.slice(0, q.limit);
      noteRead(request, {
        batches: [...new Set(shown.flatMap((f) => f.batchIds))],
        entities: [...new Set(shown.map((f) => f.entity))],
        indicators: [...new Set(shown.map((f) => f.indicator))],
      });
      return {
        run: { ...run, createdAt: new Date(run.createdAt).toISOString(), fresh },
        flags: shown.map(({ runId: _r, year: _y, ...f }) => ({ ...f, expected: f.expected ?? null, interval: f.interval ? [...f.interval] : null })),
      };
    },
  );

  app.get(
    '/v1/nowcasts',
    {
      schema: {
        summary: 'Nowcast of a series: the expected value of the next periods with a prediction interval',
        description: 'Damped robust trend on the series\' recent points (engine/anomaly/forecast.ts); `level` is the interval\'s nominal coverage.',
        tags: ['anomalies'],
        querystring: Type.Object({
          entity: Iso3,
          indicator: IndicatorCode,
          horizon: Type.Integer({ minimum: 1, maximum: 5, default: 2 }),
          level: Type.Number({ minimum: 0.5, maximum: 0.99, default: 0.9 }),
        }),
        response: {
          200: Type.Object({
            entity: Type.String(),
            indicator: Type.String(),
            lastObserved: Type.Object({ period: Type.String(), value: Type.Number() }),
            nowcast: Type.Array(Type.Object({ period: Type.String(), expected: Type.Number(), lower: Type.Number(), upper: Type.Number() })),
          }),
          ...problemResponses,
        },
      },
      config: { access: { roles: ['viewer', 'analyst', 'data_scientist'], sharing: true } },
    },
    async (request) => {
      const { entity, indicator, horizon, level } = request.query;
      const [series] = await loadSeries(app.store.db, { entity, indicator, scope: request.dataScope });
      if (!series || series.points.length === 0) throw new ThreatLensError('TL_NOT_FOUND', `no ${indicator} series for ${entity} in the data you may see`);
      let points;
      try {
        points = nowcast(series, { horizon, level });
      } catch (error) {
        throw new ThreatLensError('TL_BAD_OPTION', `cannot nowcast ${entity}/${indicator}: ${(error as Error).message}`);
      }
      noteRead(request, { batches: [...new Set(series.points.flatMap((p) => (p.batchId === undefined ? [] : [p.batchId])))], entities: [entity], indicators: [indicator] });
      const last = series.points[series.points.length - 1]!;
      return { entity, indicator, lastObserved: { period: last.period, value: last.value }, nowcast: points };
    },
  );
};
