/**
 * Read-only routes for the crime-map dashboard (api/dashboard), for what no other route gives in
 * one request: map classes of any framework node, crime area or indicator; every state's rank
 * interval and confidence for the ranking table; a country's assessment with its score history
 * and all indicator contributions; and the difference between two countries or two years split
 * into indicator contributions. Everything is computed by the engine (assess, runPipeline,
 * explainChange, bands); nothing is stored. An assessment of all 57 states (Monte Carlo, no
 * Sobol) is cached per framework parameters, data version and year.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Kysely } from 'kysely';
import { Type } from 'typebox';
import { OSCE_PARTICIPATING_ISO3 } from '../../datasets/reference/osce.ts';
import { describeScope, PUBLIC_DATA, ROLES, type DataScope } from '../../engine/access/roles.ts';
import { ThreatLensError } from '../../engine/errors.ts';
import { assess, pointsAboveLevel, type AssessmentResult, type EntityAssessment } from '../../engine/scoring/assessment.ts';
import { frameworkParamsHash, frameworkScoreTable, loadAssessmentContext, type FrameworkScoreTable } from '../../engine/scoring/assessment-run.ts';
import { DEFAULT_BANDS } from '../../engine/scoring/bands.ts';
import { explainChange } from '../../engine/scoring/explain.ts';
import type { Framework } from '../../engine/scoring/framework.ts';
import { runPipeline, type PipelineResult } from '../../engine/scoring/pipeline.ts';
import { DEFAULT_SIMPLE_COMPOSITE_OPTIONS, scoreSimpleComposite, SIMPLE_COMPOSITE_METHOD } from '../../engine/scoring/simple-composite.ts';
import type { IndicatorBatch } from '../../engine/store/panels.ts';
import { listEntities, listIndicators } from '../../engine/store/catalogue.ts';
import { currentAnnualValues, dataVersion, yearsWithAnnualValues } from '../../engine/store/observations.ts';
import { getRiskScores, scoreNodes } from '../../engine/store/risk-scores.ts';
import type { Database } from '../../engine/store/schema.ts';
import { batchVisible } from '../../engine/store/visibility.ts';
import type { Polarity } from '../../engine/types.ts';
import { noteRead } from '../auth/plugin.ts';
import { fifths, scoreClasses, scoreLegend, type LegendClass } from '../dashboard/classes.ts';
import { builtinFramework } from '../frameworks.ts';
import { problemResponses } from '../schemas.ts';

/** Years of all-state analyses kept (each about 3 MB): a slider over a decade, two frameworks. */
const ANALYSIS_CACHE_SIZE = 24;
const TABLE_CACHE_SIZE = 64;

const FrameworkId = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,62}$', description: 'a built-in framework id (GET /v1/frameworks)' });
const Year = Type.Integer({ minimum: 1900, maximum: 2100 });
const Iso3 = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO3 code of a participating state' });
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);

const MapQuery = Type.Object(
  {
    framework: Type.Optional(FrameworkId),
    year: Type.Optional(Type.Integer({ minimum: 1900, maximum: 2100, description: 'default: the latest year with data the caller may see' })),
    layer: Type.String({
      pattern: '^(node|area|indicator):[a-z0-9_.-]{1,200}$',
      description: '`node:<framework node id>` or `node:overall` (its first root; score 0-10, the framework\'s bands), `area:<crime area>` (simple composite 0-10, INFORM bands) or `indicator:<code>` (value; five classes of equal size by value, in the direction of risk)',
    }),
  },
  { additionalProperties: false },
);

const LegendSchema = Type.Array(
  Type.Object({ band: Type.Integer(), label: Type.String(), from: NullableNumber, to: NullableNumber }),
  { description: 'five classes, least risk first' },
);

const MapSchema = Type.Object({
  framework: Type.String(),
  year: Type.Integer(),
  layer: Type.String({ description: 'the layer shown, exactly (node:overall answers as node:<root id>)' }),
  kind: Type.Union([Type.Literal('node'), Type.Literal('area'), Type.Literal('indicator')]),
  title: Type.String(),
  unit: Type.String(),
  classification: Type.String({ description: 'how the classes were made' }),
  synthetic: Type.Boolean(),
  dataVersion: Type.String(),
  legend: LegendSchema,
  states: Type.Array(
    Type.Object({
      entity: Type.String(),
      name: Type.String(),
      subregion: Type.Union([Type.String(), Type.Null()]),
      value: NullableNumber,
      band: Type.Union([Type.Integer(), Type.Null()]),
      status: Type.Union([Type.Literal('ok'), Type.Literal('no_data')], { description: 'no_data: no value for the year (never shown as zero)' }),
    }),
  ),
});

const YearQuery = Type.Object({ framework: FrameworkId, year: Year }, { additionalProperties: false });

const IntervalSchema = Type.Union([
  Type.Object({ rankLow: Type.Number(), rankHigh: Type.Number(), rankMedian: Type.Number(), scoreLow: Type.Number(), scoreHigh: Type.Number() }),
  Type.Null(),
]);

const SummarySchema = Type.Object({
  framework: Type.Object({ id: Type.String(), version: Type.String(), title: Type.String() }),
  year: Type.Integer(),
  root: Type.String(),
  units: Type.Integer(),
  synthetic: Type.Boolean(),
  dataVersion: Type.String(),
  method: Type.Object({ seed: Type.Integer(), runs: Type.Integer(), weightNoise: Type.Number(), intervalLevel: Type.Integer() }),
  states: Type.Array(
    Type.Object({
      entity: Type.String(),
      name: Type.String(),
      subregion: Type.Union([Type.String(), Type.Null()]),
      score: NullableNumber,
      band: Type.Union([Type.String(), Type.Null()]),
      rank: NullableNumber,
      of: Type.Integer(),
      interval: IntervalSchema,
      confidence: Type.String(),
      nodes: Type.Record(Type.String(), NullableNumber),
    }),
  ),
});

const CountryQuery = Type.Object({ framework: FrameworkId, year: Year, entity: Iso3 }, { additionalProperties: false });
const CompareQuery = Type.Object(
  {
    framework: FrameworkId,
    a: Iso3,
    year: Year,
    b: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$', description: 'second state (default: a)' })),
    yearB: Type.Optional(Type.Integer({ minimum: 1900, maximum: 2100, description: 'year of the second side (default: year)' })),
  },
  { additionalProperties: false },
);

interface YearAnalysis {
  readonly framework: Framework;
  readonly paramsHash: string;
  readonly dataVersion: string;
  readonly year: number;
  readonly result: AssessmentResult;
  readonly nominal: PipelineResult;
  /** Root score per entity over the trend window (the years `assess` trends over). */
  readonly history: ReadonlyMap<string, readonly { year: number; score: number | null }[]>;
  readonly batches: ReadonlyMap<string, readonly IndicatorBatch[]>;
  /** Every batch whose values or grades went in (for the audit of restricted reads). */
  readonly inputBatches: readonly number[];
}

/** The normalised leaf values of one entity in a pipeline result (what explainChange compares). */
function normalisedLeaves(result: PipelineResult, entity: string): Map<string, number> {
  const i = result.entities.indexOf(entity);
  const out = new Map<string, number>();
  if (i < 0) return out;
  const n = result.entities.length;
  result.indicators.forEach((code, j) => {
    const v = result.normalised[j * n + i]!;
    if (!Number.isNaN(v)) out.set(code, v);
  });
  return out;
}

const round = (x: number, digits = 6) => Math.round(x * 10 ** digits) / 10 ** digits;

function requireParticipating(entity: string): void {
  if (!OSCE_PARTICIPATING_ISO3.includes(entity)) {
    throw new ThreatLensError('TL_BAD_OPTION', `entity "${entity}" is not one of the 57 OSCE participating states (ISO3 codes, e.g. ALB)`);
  }
}

async function hasSyntheticData(db: Kysely<Database>, scope: DataScope): Promise<boolean> {
  return (await db.selectFrom('ingestion_batches').select('id').where('synthetic', '=', true).where(batchVisible(scope)).limit(1).executeTakeFirst()) !== undefined;
}

/** Keeps at most `size` promises, oldest out first; a failed computation is forgotten. */
function lruCache<T>(size: number) {
  const entries = new Map<string, Promise<T>>();
  return (key: string, compute: () => Promise<T>): Promise<T> => {
    let hit = entries.get(key);
    if (!hit) {
      hit = compute();
      hit.catch(() => entries.delete(key));
      entries.set(key, hit);
      if (entries.size > size) entries.delete(entries.keys().next().value!);
    }
    return hit;
  };
}

/** Each route reads under the caller's sharing scope: public data, or with a stated purpose the agency's (api/auth). */
const ACCESS = { access: { roles: ROLES, sharing: true } } as const;

export const dashboardDataRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Read-only routes: served by the read replica when there is one (may lag the primary briefly;
  // the caches are keyed by the data version read from the same server, so never mislabelled).
  const db = app.store.readDb;
  const analyses = lruCache<YearAnalysis>(ANALYSIS_CACHE_SIZE);
  const tables = lruCache<FrameworkScoreTable>(TABLE_CACHE_SIZE);

  /**
   * The assessment of all 57 states for a year from the batches `scope` may use, cached by the
   * scope's data version (a hash of exactly those batches): callers who may see different data
   * never share an entry.
   */
  async function analysis(frameworkId: string, year: number, scope: DataScope): Promise<YearAnalysis> {
    const framework = await builtinFramework(app.store, frameworkId, app.readCache);
    const paramsHash = frameworkParamsHash(framework);
    const version = (await dataVersion(db, scope)).version;
    return analyses(`${paramsHash}-${version}-${year}`, async () => {
      const { context, batches, inputBatches } = await loadAssessmentContext(db, framework, year, undefined, scope);
      if (!context.panel.values.some((v) => !Number.isNaN(v))) {
        throw new ThreatLensError('TL_NO_SCORES', `no data for framework ${framework.id} up to ${year}: ingest its indicators first (GET /v1/frameworks lists them)`);
      }
      // Sobol sensitivity is for the stored assessment (POST /v1/assessments), not for a map.
      const result = assess(context, { year, sensitivityN: 0 });
      const options = { polarities: context.polarities, ...(context.groups ? { groups: context.groups } : {}) };
      const root = framework.roots[0]!.id;
      const years = context.panel.years.filter((y) => y > year - result.method.trendYears && y <= year);
      const runs = new Map(years.map((y) => [y, runPipeline(framework, context.panel, { ...options, year: y })]));
      const nominal = runs.get(year) ?? runPipeline(framework, context.panel, { ...options, year });
      const history = new Map(
        context.panel.entities.map((entity) => [
          entity,
          years.map((y) => {
            const r = runs.get(y)!;
            const v = r.scores[root]![r.entities.indexOf(entity)]!;
            return { year: y, score: Number.isNaN(v) ? null : round(v) };
          }),
        ]),
      );
      return { framework, paramsHash, dataVersion: version, year, result, nominal, history, batches, inputBatches };
    });
  }

  /** The framework table of one year from the batches `scope` may use, cached by that scope's data version. */
  async function scopedTable(framework: Framework, year: number, scope: DataScope, version: string): Promise<FrameworkScoreTable> {
    return tables(`${frameworkParamsHash(framework)}-${version}-${year}`, () => frameworkScoreTable(db, framework, year, scope));
  }

  /**
   * What a map without `framework` or `year` shows (the page's first request): the demo framework
   * on synthetic data, else the OSCE threat framework; the latest year with data the scope may see.
   */
  async function defaults(scope: DataScope, frameworkId: string | undefined, year: number | undefined): Promise<{ frameworkId: string; year: number }> {
    const id = frameworkId ?? ((await hasSyntheticData(db, scope)) ? 'osce-threat-demo' : 'osce-threat');
    if (year !== undefined) return { frameworkId: id, year };
    const years = await yearsWithAnnualValues(db, scope);
    const latest = years[years.length - 1];
    if (latest === undefined) throw new ThreatLensError('TL_NO_SCORES', 'No data yet: ingest data first (`threatlens ingest`).');
    return { frameworkId: id, year: latest };
  }

  // When the server starts listening (not for app.inject), compute the layer a first visitor's page
  // asks for (the defaults above, on public data), so the first map does not wait for it. In the
  // background: listening does not wait, and a failure only means the first request computes it.
  app.addHook('onListen', async () => {
    const warm = async () => {
      const [{ frameworkId, year }, version] = await Promise.all([defaults(PUBLIC_DATA, undefined, undefined), dataVersion(db, PUBLIC_DATA)]);
      await scopedTable(await builtinFramework(app.store, frameworkId, app.readCache), year, PUBLIC_DATA, version.version);
    };
    warm().catch((error: unknown) => app.log.warn({ err: error }, 'dashboard: the default map layer was not computed ahead'));
  });

  function entityOf(a: YearAnalysis, entity: string): EntityAssessment {
    const found = a.result.entities.find((e) => e.entity === entity);
    if (!found) throw new ThreatLensError('TL_NOT_FOUND', `no assessment of ${entity} in ${a.year}`);
    return found;
  }

  /** Crime-area scores of the simple composite: the published (stored, public) ones, or computed from the agency's data. */
  async function areaScores(scope: DataScope, year: number, area: string): Promise<{ values: Map<string, number | null>; batches: number[] }> {
    if (scope.kind === 'public') {
      const areas = (await scoreNodes(db, SIMPLE_COMPOSITE_METHOD)).filter((n) => n !== 'overall');
      if (!areas.includes(area)) throw new ThreatLensError('TL_BAD_OPTION', `crime area "${area}" has no scores; choose one of ${areas.join(', ')}`);
      const rows = await getRiskScores(db, SIMPLE_COMPOSITE_METHOD, year, area);
      return { values: new Map(rows.map((r) => [r.entity_code, r.score === null ? null : round(r.score, 3)])), batches: [] };
    }
    const options = DEFAULT_SIMPLE_COMPOSITE_OPTIONS;
    const [values, indicators] = await Promise.all([currentAnnualValues(db, { scope, fromYear: year - options.lookbackYears, toYear: year }), listIndicators(db)]);
    const scored = indicators.map((i) => ({ code: i.code, crimeArea: i.crime_area, polarity: i.polarity }));
    const scores = scoreSimpleComposite(values, scored, OSCE_PARTICIPATING_ISO3, year, options).filter((x) => x.node === area);
    if (scores.length === 0) throw new ThreatLensError('TL_BAD_OPTION', `crime area "${area}" has no scores in ${year}`);
    return { values: new Map(scores.map((x) => [x.entity, x.score === null ? null : round(x.score, 3)])), batches: [...new Set(values.map((v) => v.batchId))] };
  }

  app.get(
    '/v1/dashboard/map',
    {
      schema: {
        summary: 'Map classes of every participating state for a framework node, a crime area or an indicator',
        description:
          'For the crime map (without `framework` and `year`: the default framework and the latest year with data; the answer names both): each state\'s value and class (0 least risk .. 4 most risk), or status `no_data` (no value for the year in ' +
          'the data the caller may see; never zero). Framework nodes use the framework\'s band thresholds; crime areas the simple ' +
          'composite\'s area scores with INFORM\'s thresholds (2, 3.5, 5, 6.5); indicators five classes of (nearly) equal size by value ' +
          'in the direction of risk (polarity from the catalogue).',
        tags: ['scores'],
        querystring: MapQuery,
        response: { 200: MapSchema, ...problemResponses },
      },
      config: ACCESS,
    },
    async (request) => {
      const scope = request.dataScope;
      const { layer } = request.query;
      const { frameworkId, year } = await defaults(scope, request.query.framework, request.query.year);
      const [kind, key] = layer.split(/:(.*)/s) as ['node' | 'area' | 'indicator', string];
      const [entities, synthetic, version] = await Promise.all([listEntities(db, { osceStatus: 'participating' }), hasSyntheticData(db, scope), dataVersion(db, scope)]);
      const base = { framework: frameworkId, year, layer, kind, synthetic, dataVersion: version.version };
      const states = (values: ReadonlyMap<string, number | null>, classes: ReadonlyMap<string, number | null>) =>
        entities.map((e) => {
          const value = values.get(e.code) ?? null;
          return { entity: e.code, name: e.name, subregion: e.subregion, value, band: value === null ? null : classes.get(e.code) ?? null, status: value === null ? ('no_data' as const) : ('ok' as const) };
        });
      const classified = (values: ReadonlyMap<string, number | null>, thresholds: readonly number[]) => {
        const codes = [...values.keys()];
        const classes = scoreClasses(codes.map((c) => values.get(c)!), thresholds);
        return states(values, new Map(codes.map((c, i) => [c, classes[i]!])));
      };

      if (kind === 'node') {
        const framework = await builtinFramework(app.store, frameworkId, app.readCache);
        const table = await scopedTable(framework, year, scope, version.version);
        const node = key === 'overall' ? table.roots[0]! : key;
        if (!table.nodes.includes(node)) {
          throw new ThreatLensError('TL_BAD_OPTION', `node "${key}" is not in framework ${framework.id}; choose one of overall, ${table.nodes.join(', ')}`);
        }
        noteRead(request, { batches: table.inputBatches });
        return {
          ...base,
          layer: `node:${node}`,
          title: node === table.roots[0] ? `${framework.title}: overall (${node})` : `${framework.title}: ${node}`,
          unit: 'score 0-10',
          classification: `the framework's bands: thresholds ${framework.bands.thresholds.join(', ')}`,
          legend: scoreLegend(framework.bands.thresholds),
          states: classified(new Map(table.rows.map((r) => [r.entity, r.scores[node] ?? null])), framework.bands.thresholds),
        };
      }

      if (kind === 'area') {
        const { values, batches } = await areaScores(scope, year, key);
        noteRead(request, { batches });
        return {
          ...base,
          title: `Crime area: ${key.replaceAll('_', ' ')} (simple composite)`,
          unit: 'score 0-10',
          classification: `INFORM bands: thresholds ${DEFAULT_BANDS.thresholds.join(', ')}`,
          legend: scoreLegend(DEFAULT_BANDS.thresholds),
          states: classified(values, DEFAULT_BANDS.thresholds),
        };
      }

      const indicator = (await listIndicators(db)).find((i) => i.code === key);
      if (!indicator) throw new ThreatLensError('TL_NOT_FOUND', `indicator "${key}" is not in the catalogue (GET /v1/indicators)`);
      const participating = new Set(entities.map((e) => e.code));
      const rows = (await currentAnnualValues(db, { fromYear: year, toYear: year, scope })).filter((r) => r.indicator === key && participating.has(r.entity));
      noteRead(request, { batches: rows.map((r) => r.batchId), indicators: [key] });
      const values = new Map(rows.map((r) => [r.entity, r.value]));
      const codes = entities.map((e) => e.code);
      const { classes, legend } = fifths(codes.map((c) => values.get(c) ?? null), indicator.polarity as Polarity);
      return {
        ...base,
        title: `${indicator.name} (${indicator.code})`,
        unit: indicator.unit,
        classification: `five classes of equal size by value among the ${rows.length} states with a value, ${indicator.polarity === 'higher_better' ? 'lowest values' : 'highest values'} in the highest-risk class`,
        legend: legend as LegendClass[],
        states: states(values, new Map(codes.map((c, i) => [c, classes[i]!]))),
      };
    },
  );

  app.get(
    '/v1/dashboard/summary',
    {
      schema: {
        summary: 'Every participating state\'s score, band, rank with its 90% Monte Carlo interval, and confidence level',
        description:
          'The ranking table of the dashboard: the framework\'s first root, the same Monte Carlo (seed, runs, choices) as POST /v1/assessments, ' +
          'so each state\'s interval equals its assessment\'s on the same data; computed once per framework parameters, data version and year.',
        tags: ['scores'],
        querystring: YearQuery,
        response: { 200: SummarySchema, ...problemResponses },
      },
      config: ACCESS,
    },
    async (request) => {
      const scope = request.dataScope;
      const a = await analysis(request.query.framework, request.query.year, scope);
      noteRead(request, { batches: a.inputBatches });
      const entities = await listEntities(db, { osceStatus: 'participating' });
      const subregions = new Map(entities.map((e) => [e.code, e.subregion]));
      const { result } = a;
      return {
        framework: result.framework,
        year: result.year,
        root: a.framework.roots[0]!.id,
        units: result.units,
        synthetic: await hasSyntheticData(db, scope),
        dataVersion: a.dataVersion,
        method: { seed: result.method.seed, runs: result.method.runs, weightNoise: result.method.weightNoise, intervalLevel: 90 },
        states: result.entities.map((e) => {
          const main = e.roots[0]!;
          return {
            entity: e.entity,
            name: e.name,
            subregion: subregions.get(e.entity) ?? null,
            score: main.score,
            band: main.band,
            rank: main.rank,
            of: main.of,
            interval: main.interval,
            confidence: e.confidence.level,
            nodes: e.nodeScores,
          };
        }),
      };
    },
  );

  app.get(
    '/v1/dashboard/country',
    {
      schema: {
        summary: 'One state\'s assessment for the dashboard\'s country panel',
        description:
          'Score, band, rank and 90% interval, confidence with reasons, the root score over the trend window with its trend, every ' +
          'indicator\'s points above the score\'s level (the drivers), the change since the previous year by indicator, the threat ' +
          'matrix row, the narrative, and the batches behind the framework with their grades. Not stored (POST /v1/assessments stores one).',
        tags: ['scores'],
        querystring: CountryQuery,
        response: { 200: Type.Unknown({ description: 'see the summary' }), ...problemResponses },
      },
      config: ACCESS,
    },
    async (request) => {
      const scope = request.dataScope;
      const { entity } = request.query;
      requireParticipating(entity);
      const a = await analysis(request.query.framework, request.query.year, scope);
      noteRead(request, { batches: a.inputBatches, entities: [entity] });
      const e = entityOf(a, entity);
      const main = e.roots[0]!;
      const indicators = new Map((await listIndicators(db)).map((i) => [i.code, i]));
      const label = (code: string) => indicators.get(code)?.name ?? code;
      const gradeText = (b: { scheme: string; source: string; information: string }) => `${b.scheme === 'europol_4x4' ? 'europol:' : ''}${b.source}${b.information}`;
      const gradesOf = (code: string) => [...new Set((a.batches.get(code) ?? []).map(gradeText))];
      const drivers = main.explanation.contributions
        .map((c) => ({
          indicator: c.indicator,
          label: label(c.indicator),
          crimeArea: indicators.get(c.indicator)?.crime_area ?? null,
          unit: indicators.get(c.indicator)?.unit ?? null,
          path: c.path,
          raw: c.raw === null ? null : round(c.raw),
          normalised: round(c.value),
          weight: round(c.weight),
          pointsAboveLevel: round(pointsAboveLevel(main.explanation, c.relative)),
          imputed: c.imputed,
          grades: gradesOf(c.indicator),
        }))
        .sort((x, y) => y.pointsAboveLevel - x.pointsAboveLevel || x.indicator.localeCompare(y.indicator));
      const batchIds = [...new Set([...a.batches.values()].flat().map((b) => b.batchId))].sort((x, y) => x - y);
      const batchRows = batchIds.length === 0
        ? []
        : await db
            .selectFrom('ingestion_batches')
            .select(['id', 'source', 'file_name', 'format', 'synthetic', 'sha256', 'source_reliability', 'information_credibility', 'grading_scheme'])
            .where('id', 'in', batchIds)
            .where(batchVisible(scope))
            .orderBy('id')
            .execute();
      const indicatorsPerBatch = new Map<number, number>();
      for (const list of a.batches.values()) for (const b of list) indicatorsPerBatch.set(b.batchId, (indicatorsPerBatch.get(b.batchId) ?? 0) + 1);
      const entities = await listEntities(db, { osceStatus: 'participating' });
      return {
        framework: a.result.framework,
        year: a.year,
        entity: e.entity,
        name: e.name,
        subregion: entities.find((x) => x.code === entity)?.subregion ?? null,
        synthetic: batchRows.some((b) => b.synthetic),
        dataScope: describeScope(scope),
        root: main.root,
        score: main.score,
        band: main.band,
        rank: main.rank,
        of: main.of,
        interval: main.interval,
        intervalLevel: 90,
        bandThresholds: a.framework.bands.thresholds,
        nodeScores: e.nodeScores,
        confidence: e.confidence,
        trend: {
          label: main.trend.label,
          reason: main.trend.reason,
          slope: Number.isFinite(main.trend.slope) ? round(main.trend.slope) : null,
          intercept: Number.isFinite(main.trend.intercept) ? round(main.trend.intercept) : null,
          p: main.trend.mannKendall ? round(main.trend.mannKendall.p, 4) : null,
          years: main.trend.years,
        },
        history: a.history.get(entity) ?? [],
        drivers,
        contributionSpace: main.explanation.space,
        change: main.change
          ? {
              fromYear: main.change.fromYear,
              toYear: a.year,
              from: round(main.change.from),
              to: round(main.change.to),
              change: round(main.change.change),
              residual: main.change.residual,
              contributions: main.change.contributions
                .map((c) => ({ indicator: c.indicator, label: label(c.indicator), points: round(c.points) }))
                .sort((x, y) => Math.abs(y.points) - Math.abs(x.points) || x.indicator.localeCompare(y.indicator)),
            }
          : null,
        threatMatrix: e.threatMatrix,
        narrative: e.narrative,
        provenance: {
          dataVersion: a.dataVersion,
          framework: { id: a.framework.id, version: a.framework.version, paramsHash: a.paramsHash },
          method: a.result.method,
          batches: batchRows.map((b) => ({
            id: b.id,
            source: b.source,
            fileName: b.file_name,
            format: b.format,
            synthetic: b.synthetic,
            sha256: b.sha256,
            grade: gradeText({ scheme: b.grading_scheme, source: b.source_reliability, information: b.information_credibility }),
            indicators: indicatorsPerBatch.get(b.id) ?? 0,
          })),
        },
      };
    },
  );

  app.get(
    '/v1/dashboard/compare',
    {
      schema: {
        summary: 'Two states, or one state in two years, side by side, with the difference split into indicator contributions',
        description:
          'Side a is state `a` in `year`, side b state `b` (default a) in `yearB` (default year). The difference of the first root\'s ' +
          'score (b - a) is split exactly into indicator contributions in score points by the engine\'s explainChange (LMDI in log space ' +
          'for a geometric root); the residual is reported.',
        tags: ['scores'],
        querystring: CompareQuery,
        response: { 200: Type.Unknown(), ...problemResponses },
      },
      config: ACCESS,
    },
    async (request) => {
      const scope = request.dataScope;
      const q = request.query;
      const b = q.b ?? q.a;
      const yearB = q.yearB ?? q.year;
      requireParticipating(q.a);
      requireParticipating(b);
      const [left, right] = await Promise.all([analysis(q.framework, q.year, scope), analysis(q.framework, yearB, scope)]);
      noteRead(request, { batches: [...left.inputBatches, ...right.inputBatches], entities: [q.a, b] });
      const indicators = new Map((await listIndicators(db)).map((i) => [i.code, i.name]));
      const side = (an: YearAnalysis, entity: string) => {
        const e = entityOf(an, entity);
        const main = e.roots[0]!;
        return { entity, name: e.name, year: an.year, score: main.score, band: main.band, rank: main.rank, of: main.of, interval: main.interval, confidence: e.confidence.level, nodeScores: e.nodeScores };
      };
      const rootNode = left.framework.roots[0]!;
      const explained = explainChange(rootNode, normalisedLeaves(left.nominal, q.a), normalisedLeaves(right.nominal, b), {
        nodeWeights: new Map(Object.entries(left.nominal.weights.nodes)),
        availability: left.framework.availability,
      });
      return {
        framework: left.result.framework,
        root: rootNode.id,
        a: side(left, q.a),
        b: side(right, b),
        difference: explained
          ? {
              from: round(explained.from),
              to: round(explained.to),
              change: round(explained.change),
              space: explained.space,
              residual: explained.residual,
              contributions: explained.contributions
                .map((c) => ({ indicator: c.indicator, label: indicators.get(c.indicator) ?? c.indicator, points: round(c.points) }))
                .sort((x, y) => Math.abs(y.points) - Math.abs(x.points) || x.indicator.localeCompare(y.indicator)),
            }
          : null,
        note: explained ? null : 'one side has no score: nothing to decompose',
      };
    },
  );
};
