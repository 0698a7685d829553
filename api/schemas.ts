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
  framework: Type.Optional(
    Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,62}$', description: 'a built-in framework id (GET /v1/frameworks); without it, the simple composite' }),
  ),
  year: Type.Optional(Type.Integer({ minimum: 1900, maximum: 2100, description: 'defaults to the latest scored year; required with `framework`' })),
  node: Type.String({ default: 'overall', maxLength: 100, description: 'simple composite: `overall` or a crime area; framework: a node id (default: its first root)' }),
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
  reads: Type.Optional(
    Type.Union([Type.Literal('replica'), Type.Literal('primary')], {
      description: 'where dashboard reads go now: the read replica (DATABASE_REPLICA_URL), or the primary (no replica, or it is unreachable)',
    }),
  ),
});

// --- Data-quality report (GET /v1/quality); the engine's QualityReport must fit this schema.

export const QualityQuerySchema = Type.Object({
  batch: Type.Optional(Type.Integer({ minimum: 1, description: 'only this ingestion batch (duplicates still compare it with the others)' })),
  indicator: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'only this indicator code' })),
  from: Type.Optional(Type.Integer({ minimum: 1900, maximum: 2100, description: 'first year of the window (default: first year with data)' })),
  to: Type.Optional(Type.Integer({ minimum: 1900, maximum: 2100, description: 'last year of the window and reference year for recency (default: latest year with data)' })),
});
export type QualityQuery = Static<typeof QualityQuerySchema>;

const GradeSchema = Type.Union([Type.Literal('A'), Type.Literal('B'), Type.Literal('C'), Type.Literal('D'), Type.Literal('E')], { description: 'A (best) to E' });
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
const NullableInteger = Type.Union([Type.Integer(), Type.Null()]);

const IndicatorQualitySchema = Type.Object({
  indicator: Type.String(),
  name: Type.String(),
  unit: Type.String(),
  observations: Type.Integer({ description: 'current observations (latest batch wins per entity-period)' }),
  censored: Type.Integer({ description: 'values such as <5' }),
  withoutValue: Type.Integer(),
  coverage: Type.Object({
    states: Type.Integer({ description: 'participating states with a value in the window' }),
    ofStates: Type.Integer(),
    cellsPresent: Type.Integer(),
    cellsExpected: Type.Integer(),
    share: Type.Number(),
    byYear: Type.Array(Type.Object({ year: Type.Integer(), states: Type.Integer() })),
  }),
  missing: Type.Object({
    cells: Type.Integer(),
    absentStates: Type.Array(Type.String()),
    completeStates: Type.Integer(),
    pattern: Type.Array(
      Type.Object({
        entity: Type.String(),
        marks: Type.String({ description: 'one mark per year of the window: # value, < censored only, . missing' }),
        missing: Type.Integer(),
      }),
    ),
  }),
  latest: Type.Object({
    latestYear: NullableInteger,
    medianLatestYear: NullableInteger,
    byState: Type.Record(Type.String(), NullableInteger),
  }),
  outOfRange: Type.Object({
    plausibleMin: NullableNumber,
    plausibleMax: NullableNumber,
    count: Type.Integer(),
    share: Type.Number(),
    values: Type.Array(Type.Object({ entity: Type.String(), period: Type.String(), value: Type.Number(), batchId: Type.Integer() })),
  }),
  duplicates: Type.Object({
    count: Type.Integer({ description: 'entity-periods held by several batches with different values' }),
    values: Type.Array(
      Type.Object({
        entity: Type.String(),
        period: Type.String(),
        values: Type.Array(Type.Object({ batchId: Type.Integer(), value: NullableNumber, qualifier: Type.Union([Type.String(), Type.Null()]) })),
      }),
    ),
  }),
  levelShifts: Type.Object({
    changesTested: Type.Integer(),
    count: Type.Integer(),
    withSourceChange: Type.Integer(),
    shifts: Type.Array(
      Type.Object({
        entity: Type.String(),
        fromYear: Type.Integer(),
        toYear: Type.Integer(),
        fromValue: Type.Number(),
        toValue: Type.Number(),
        logChange: Type.Number(),
        robustZ: Type.Number(),
        kind: Type.Union([Type.Literal('shift'), Type.Literal('spike')]),
        sourceChange: Type.Union([Type.String({ description: 'e.g. CTS->MoI' }), Type.Null()]),
      }),
    ),
  }),
  grade: GradeSchema,
  criteria: Type.Array(
    Type.Object({
      criterion: Type.Union([Type.Literal('coverage'), Type.Literal('recency'), Type.Literal('outOfRange'), Type.Literal('breaks')]),
      value: NullableNumber,
      grade: GradeSchema,
    }),
  ),
});

export const QualityReportSchema = Type.Object({
  scope: Type.Object({
    batch: NullableInteger,
    indicator: Type.Union([Type.String(), Type.Null()]),
    years: Type.Union([Type.Object({ from: Type.Integer(), to: Type.Integer() }), Type.Null()]),
    referenceYear: NullableInteger,
    states: Type.Integer(),
  }),
  method: Type.Object({
    levelShiftK: Type.Number(),
    levelShiftMinChanges: Type.Integer(),
    levelShiftMinScale: Type.Number(),
    gradeWindowYears: Type.Integer(),
  }),
  overall: Type.Object({
    grade: Type.Union([GradeSchema, Type.Null()]),
    gradeCounts: Type.Object({ A: Type.Integer(), B: Type.Integer(), C: Type.Integer(), D: Type.Integer(), E: Type.Integer() }),
    indicators: Type.Integer(),
    observations: Type.Integer(),
    censored: Type.Integer(),
    outOfRange: Type.Integer(),
    duplicates: Type.Integer(),
    levelShifts: Type.Integer(),
    levelShiftsWithSourceChange: Type.Integer(),
  }),
  batches: Type.Array(
    Type.Object({
      id: Type.Integer(),
      source: Type.String(),
      fileName: Type.String(),
      format: Type.String(),
      admiralty: Type.String({ description: 'source reliability and information credibility, e.g. B2' }),
      synthetic: Type.Boolean(),
      createdAt: Type.String(),
      observations: Type.Integer(),
      indicators: Type.Integer(),
      censored: Type.Integer(),
      outOfRange: Type.Integer(),
      conflicts: Type.Integer(),
    }),
  ),
  states: Type.Array(
    Type.Object({
      state: Type.String({ description: 'ISO3 code of a participating state' }),
      indicators: Type.Integer(),
      observations: Type.Integer(),
      fromSubnational: Type.Integer({ description: 'observations of its sub-national entities (GB-SCT, London boroughs)' }),
      years: Type.Union([Type.Object({ from: Type.Integer(), to: Type.Integer() }), Type.Null()]),
      batchesWithData: Type.Array(Type.Integer()),
      batchesWithout: Type.Array(Type.Integer(), { description: 'batches in scope with nothing on this state' }),
    }),
    { description: 'what each participating state has, and which batches have nothing on it' },
  ),
  indicators: Type.Array(IndicatorQualitySchema),
});

export const FrameworkScoresSchema = Type.Object({
  framework: Type.Object({ id: Type.String(), version: Type.String(), paramsHash: Type.String() }),
  year: Type.Integer(),
  node: Type.String(),
  dataVersion: Type.String(),
  synthetic: Type.Boolean({ description: 'true when any stored batch is synthetic (demo) data' }),
  availableNodes: Type.Array(Type.String()),
  scores: Type.Array(
    Type.Object({
      entity: Type.String(),
      name: Type.String(),
      subregion: Type.Union([Type.String(), Type.Null()]),
      score: Type.Union([Type.Number(), Type.Null()], { description: 'score of the node, 0 (lowest risk) to 10; null without data' }),
      rank: Type.Union([Type.Number(), Type.Null()], { description: 'rank of the first root, 1 = highest risk' }),
      band: Type.Union([Type.String(), Type.Null()], { description: 'band of the first root: very low .. very high' }),
      nodes: Type.Record(Type.String(), Type.Union([Type.Number(), Type.Null()])),
    }),
  ),
});

export const AssessmentRequestSchema = Type.Object(
  {
    framework: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,62}$', description: 'a built-in framework id' }),
    year: Type.Integer({ minimum: 1900, maximum: 2100 }),
    entity: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO3 code of a participating state; all 57 when absent' })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 })),
    runs: Type.Optional(Type.Integer({ minimum: 10, maximum: 20000, description: 'Monte Carlo runs (default 1000)' })),
    weightNoise: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    trendYears: Type.Optional(Type.Integer({ minimum: 2, maximum: 30 })),
    requestedBy: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'on whose behalf, as the caller states it (the audit entry keeps it beside the authenticated caller, who is recorded as the requester)' }),
    ),
    purpose: Type.Optional(Type.String({ maxLength: 1000, description: 'why the assessment is made: required for analysts, recorded with it and in the audit trail' })),
  },
  { additionalProperties: false },
);
export type AssessmentRequestBody = Static<typeof AssessmentRequestSchema>;

export const StoredAssessmentSchema = Type.Object({
  id: Type.Integer(),
  entity: Type.Union([Type.String(), Type.Null()]),
  year: Type.Integer(),
  method: Type.String(),
  methodVersion: Type.String(),
  paramsHash: Type.String(),
  dataVersion: Type.String(),
  codeVersion: Type.String(),
  seed: Type.Union([Type.Integer(), Type.Null()]),
  requestedBy: Type.String(),
  purpose: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  result: Type.Unknown({ description: 'scores, bands, ranks with intervals, confidence, trends, drivers, threat matrix, narrative' }),
  provenance: Type.Unknown({ description: 'batch ids and hashes, framework id, version and parameter hash, code version, seed' }),
});
