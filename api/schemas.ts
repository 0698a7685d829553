/** JSON schemas of the API (TypeBox): the request and response types come from these. */
import { Type, type Static } from 'typebox';

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    instance: Type.Optional(Type.String()),
    issues: Type.Optional(
      Type.Array(
        Type.Object({
          file: Type.Optional(Type.String()),
          line: Type.Optional(Type.Integer()),
          field: Type.Optional(Type.String()),
          message: Type.String(),
          value: Type.Optional(Type.String()),
        }),
      ),
    ),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details' },
);

export const problemResponses = {
  400: Type.Ref('Problem'),
  404: Type.Ref('Problem'),
  500: Type.Ref('Problem'),
  503: Type.Ref('Problem'),
};

export const EntitySchema = Type.Object({
  code: Type.String({ description: 'ISO 3166-1 alpha-3 (XKX for Kosovo)' }),
  name: Type.String(),
  kind: Type.String(),
  osceStatus: Type.Union([Type.String(), Type.Null()]),
  subregion: Type.Union([Type.String(), Type.Null()]),
  iso2: Type.Union([Type.String(), Type.Null()]),
});

export const IndicatorSchema = Type.Object({
  code: Type.String(),
  name: Type.String(),
  unit: Type.String(),
  crimeArea: Type.String(),
  polarity: Type.Union([Type.Literal('higher_worse'), Type.Literal('higher_better')]),
  description: Type.Union([Type.String(), Type.Null()]),
  source: Type.Union([Type.String(), Type.Null()]),
});

export const ObservationQuerySchema = Type.Object({
  entity: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO3 code' })),
  indicator: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  from: Type.Optional(Type.Integer({ minimum: 1900, maximum: 2100, description: 'first year' })),
  to: Type.Optional(Type.Integer({ minimum: 1900, maximum: 2100, description: 'last year' })),
  limit: Type.Integer({ minimum: 1, maximum: 10000, default: 1000 }),
  cursor: Type.Optional(Type.String({ maxLength: 1000, description: 'nextCursor of the previous page' })),
});
export type ObservationQuery = Static<typeof ObservationQuerySchema>;

export const ObservationSchema = Type.Object({
  entity: Type.String(),
  indicator: Type.String(),
  period: Type.String(),
  periodKind: Type.String(),
  year: Type.Integer(),
  value: Type.Union([Type.Number(), Type.Null()]),
  qualifier: Type.Union([Type.String(), Type.Null()]),
  flags: Type.Array(Type.String()),
  source: Type.Union([Type.String(), Type.Null()]),
  batchId: Type.Integer(),
  synthetic: Type.Boolean(),
});

export const ObservationPageSchema = Type.Object({
  observations: Type.Array(ObservationSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const RiskScoreQuerySchema = Type.Object({
  year: Type.Optional(Type.Integer({ minimum: 1900, maximum: 2100, description: 'defaults to the latest scored year' })),
  node: Type.String({ default: 'overall', maxLength: 100, description: '`overall` or a crime area' }),
});
export type RiskScoreQuery = Static<typeof RiskScoreQuerySchema>;

export const RiskScoreSchema = Type.Object({
  entity: Type.String(),
  name: Type.String(),
  subregion: Type.Union([Type.String(), Type.Null()]),
  score: Type.Union([Type.Number(), Type.Null()], { description: '0 (lowest risk) to 10 (highest); null without data' }),
  rank: Type.Union([Type.Integer(), Type.Null()], { description: '1 = highest risk' }),
  indicatorsUsed: Type.Integer(),
});

export const RiskScoresSchema = Type.Object({
  method: Type.String(),
  methodVersion: Type.String(),
  year: Type.Integer(),
  node: Type.String(),
  dataVersion: Type.String(),
  synthetic: Type.Boolean({ description: 'true when any stored batch is synthetic (demo) data' }),
  availableYears: Type.Array(Type.Integer()),
  availableNodes: Type.Array(Type.String()),
  scores: Type.Array(RiskScoreSchema),
});

export const HealthSchema = Type.Object({
  status: Type.Literal('ok'),
  store: Type.String(),
  dataVersion: Type.String(),
  batches: Type.Integer(),
});
