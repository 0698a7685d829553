/**
 * The report library: publish a threat assessment report (HTML and PDF), list and search the
 * published ones (PostgreSQL full-text search), read a report's metadata, inputs and documents,
 * re-render it from its stored inputs, and compare it with what the current data gives.
 *
 * Sharing: a report is built from the data its publisher may see (request.dataScope) and is
 * readable only by callers who may see every batch it was built from; to anyone else it does not
 * exist (404). A report built from batches that are not public is marked with its handling level
 * on every page and stores the agencies it may be released to.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ThreatLensError } from '../../engine/errors.ts';
import { getReportDocument, listReports } from '../../engine/store/reports.ts';
import { chromiumAvailable, PdfRenderer } from '../../reports/pdf.ts';
import { compareReport, findReport, publishedInputs, publishReport, rerenderReport } from '../../reports/publish.ts';
import { markAudited, noteRead } from '../auth/plugin.ts';
import { builtinFramework } from '../frameworks.ts';
import { problemResponses } from '../schemas.ts';

/** Text without control characters (PostgreSQL refuses NUL in text and in JSON). */
const PLAIN_TEXT = '^[^\\u0000-\\u001f\\u007f]*$';
const FrameworkId = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,62}$', description: 'a built-in framework id (osce-threat, osce-threat-demo)' });
const Ref = Type.String({ pattern: '^([0-9]{1,9}|TLR-[0-9]{8}-[0-9a-f]{8})$', description: 'the report id or its reference (TLR-YYYYMMDD-xxxxxxxx)' });

const PublishSchema = Type.Object(
  {
    framework: FrameworkId,
    year: Type.Integer({ minimum: 1900, maximum: 2100 }),
    entity: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO3 code of a participating state (or give region)' })),
    region: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: PLAIN_TEXT, description: 'an OSCE sub-region, e.g. "South-Eastern Europe" (or give entity)' })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 })),
    runs: Type.Optional(Type.Integer({ minimum: 10, maximum: 5000, description: 'Monte Carlo runs (default 1000)' })),
    pdf: Type.Boolean({ default: true, description: 'print a PDF as well (Chromium)' }),
    purpose: Type.Optional(Type.String({ maxLength: 1000 })),
    requestedBy: Type.Optional(Type.String({ maxLength: 200, pattern: PLAIN_TEXT, description: 'recorded in the audit entry; the publisher is the authenticated caller' })),
  },
  { additionalProperties: false },
);

const BatchSchema = Type.Object({
  id: Type.Integer(),
  source: Type.String(),
  fileName: Type.String(),
  sha256: Type.String(),
  grade: Type.String(),
  scheme: Type.String(),
  sharingLevel: Type.String(),
  ownerAgency: Type.String(),
  sharedWith: Type.Array(Type.String()),
  synthetic: Type.Boolean(),
  createdAt: Type.String(),
});

const summaryFields = {
  id: Type.Integer(),
  reference: Type.String(),
  kind: Type.Union([Type.Literal('entity'), Type.Literal('region')]),
  title: Type.String(),
  entity: Type.Union([Type.String(), Type.Null()]),
  region: Type.Union([Type.String(), Type.Null()]),
  entities: Type.Array(Type.String()),
  framework: Type.Object({ id: Type.String(), version: Type.String() }),
  year: Type.Integer(),
  crimeAreas: Type.Array(Type.String(), { description: 'crime areas ranked a priority (classes 1-3) for a state covered' }),
  handling: Type.Object({ level: Type.String(), allowedAgencies: Type.Array(Type.String()) }),
  dataVersion: Type.String(),
  inputBatchIds: Type.Array(Type.Integer()),
  publishedAt: Type.String(),
  publishedBy: Type.String(),
  summary: Type.String({ description: 'the executive summary as text' }),
  documents: Type.Object({
    html: Type.Object({ sha256: Type.String(), bytes: Type.Integer() }),
    pdf: Type.Union([Type.Object({ sha256: Type.String(), bytes: Type.Integer() }), Type.Null()]),
  }),
};

const ReportSummarySchema = Type.Object({
  ...summaryFields,
  rank: Type.Optional(Type.Number({ description: 'full-text search: ts_rank_cd' })),
  headline: Type.Optional(Type.String({ description: 'full-text search: the summary with matches between << and >>' })),
});

const StoredReportSchema = Type.Object({
  ...summaryFields,
  paramsHash: Type.String(),
  assessmentId: Type.Union([Type.Integer(), Type.Null()]),
  codeVersion: Type.String(),
  rendererVersion: Type.String(),
  seed: Type.Union([Type.Integer(), Type.Null()]),
  runs: Type.Union([Type.Integer(), Type.Null()]),
  inputBatches: Type.Array(BatchSchema),
  inputsSha256: Type.String(),
  provenance: Type.Unknown(),
  purpose: Type.Union([Type.String(), Type.Null()]),
  publishedAgency: Type.Union([Type.String(), Type.Null()]),
  publishedRole: Type.Union([Type.String(), Type.Null()]),
});

const ListQuerySchema = Type.Object({
  entity: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$', description: 'a state the report covers' })),
  region: Type.Optional(Type.String({ maxLength: 100, pattern: PLAIN_TEXT })),
  crimeArea: Type.Optional(Type.String({ pattern: '^[a-z_]{1,40}$' })),
  year: Type.Optional(Type.Integer({ minimum: 1900, maximum: 2100 })),
  from: Type.Optional(Type.Integer({ minimum: 1900, maximum: 2100 })),
  to: Type.Optional(Type.Integer({ minimum: 1900, maximum: 2100 })),
  framework: Type.Optional(FrameworkId),
  handling: Type.Optional(Type.Union([Type.Literal('public'), Type.Literal('restricted'), Type.Literal('owner')])),
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 500, pattern: PLAIN_TEXT, description: 'full-text search, web-search syntax: words, "a phrase", -excluded, or' })),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
});

const READERS = { roles: ['viewer', 'analyst', 'data_scientist', 'oversight'] as const, sharing: true } as const;

export const reportRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const pdf = new PdfRenderer();
  app.addHook('onClose', async () => pdf.close());
  const db = app.store.db;

  app.post(
    '/v1/reports',
    {
      schema: {
        summary: 'Publish a threat assessment report (HTML and PDF) about one state or one region',
        description:
          'Builds the report from the API\'s own answers (a stored assessment, the framework scores of the trend window, the assistance ' +
          'priorities, the data-quality report, the latest anomaly flags), renders it as one self-contained HTML document and prints it ' +
          'to PDF with Chromium, and stores both with their inputs, immutably. Every number in the document names the API answer and ' +
          'path it comes from.',
        tags: ['reports'],
        body: PublishSchema,
        response: { 201: StoredReportSchema, ...problemResponses },
      },
      config: { access: { roles: ['analyst'], sharing: true, purpose: 'required' } },
    },
    async (request, reply) => {
      const body = request.body;
      if (body.pdf && !chromiumAvailable()) {
        throw new ThreatLensError('TL_RENDERER_UNAVAILABLE', 'Chromium is not installed on this server: ask for "pdf": false, or install Debian\'s chromium');
      }
      const framework = await builtinFramework(app.store, body.framework, app.readCache);
      const principal = request.principal!;
      const report = await publishReport(
        db,
        framework,
        {
          year: body.year,
          ...(body.entity !== undefined ? { entity: body.entity } : {}),
          ...(body.region !== undefined ? { region: body.region } : {}),
          ...(body.seed !== undefined ? { seed: body.seed } : {}),
          ...(body.runs !== undefined ? { runs: body.runs } : {}),
        },
        {
          by: principal.subject,
          agency: principal.agency,
          role: principal.role,
          purpose: request.purpose,
          auditDetails: { route: 'POST /v1/reports', ...(body.requestedBy !== undefined ? { statedRequester: body.requestedBy } : {}) },
        },
        { scope: request.dataScope, pdf: body.pdf ? pdf : null },
      );
      // publishReport wrote the audit entries (assessment.create, report.publish) with its batches.
      markAudited(request);
      return reply.code(201).header('location', `/v1/reports/${report.reference}`).send(report);
    },
  );

  app.get(
    '/v1/reports',
    {
      schema: {
        summary: 'List and search published reports',
        description: 'Filters: a state covered, region, priority crime area, year or years, framework, handling level; `q` searches the title, executive summary and text (English stemming, web-search syntax). Newest first, or by relevance with `q`.',
        tags: ['reports'],
        querystring: ListQuerySchema,
        response: { 200: Type.Object({ total: Type.Integer(), reports: Type.Array(ReportSummarySchema) }), ...problemResponses },
      },
      config: { access: READERS },
    },
    async (request) => {
      const q = request.query;
      if (q.from !== undefined && q.to !== undefined && q.from > q.to) throw new ThreatLensError('TL_BAD_OPTION', `from (${q.from}) is after to (${q.to})`);
      const result = await listReports(
        db,
        {
          ...(q.entity !== undefined ? { entity: q.entity } : {}),
          ...(q.region !== undefined ? { region: q.region } : {}),
          ...(q.crimeArea !== undefined ? { crimeArea: q.crimeArea } : {}),
          ...(q.year !== undefined ? { year: q.year } : {}),
          ...(q.from !== undefined ? { fromYear: q.from } : {}),
          ...(q.to !== undefined ? { toYear: q.to } : {}),
          ...(q.framework !== undefined ? { framework: q.framework } : {}),
          ...(q.handling !== undefined ? { handling: q.handling } : {}),
          ...(q.q !== undefined ? { text: q.q } : {}),
          limit: q.limit,
          offset: q.offset,
        },
        request.dataScope,
      );
      noteRead(request, { batches: result.reports.flatMap((r) => r.inputBatchIds), entities: result.reports.flatMap((r) => r.entities) });
      return result;
    },
  );

  const refParams = Type.Object({ ref: Ref });

  app.get(
    '/v1/reports/:ref',
    {
      schema: { summary: 'A published report: metadata, handling, input batches, provenance', tags: ['reports'], params: refParams, response: { 200: StoredReportSchema, ...problemResponses } },
      config: { access: READERS },
    },
    async (request) => {
      const report = await findReport(db, request.params.ref, request.dataScope);
      noteRead(request, { batches: report.inputBatchIds, entities: report.entities });
      return report;
    },
  );

  app.get(
    '/v1/reports/:ref/inputs',
    {
      schema: { summary: 'The inputs a published report was rendered from (JSON, byte for byte as stored)', tags: ['reports'], params: refParams, response: problemResponses },
      config: { access: READERS },
    },
    async (request, reply) => {
      const { report, json } = await publishedInputs(db, request.params.ref, request.dataScope);
      noteRead(request, { batches: report.inputBatchIds, entities: report.entities });
      return reply.type('application/json; charset=utf-8').header('x-report-inputs-sha256', report.inputsSha256).send(json);
    },
  );

  for (const format of ['html', 'pdf'] as const) {
    app.get(
      `/v1/reports/:ref/document.${format}`,
      {
        schema: { summary: `The published ${format.toUpperCase()} document, as published`, tags: ['reports'], params: refParams, response: problemResponses },
        config: { access: READERS },
      },
      async (request, reply) => {
        const report = await findReport(db, request.params.ref, request.dataScope);
        const doc = await getReportDocument(db, report.id, format, request.dataScope);
        if (!doc) throw new ThreatLensError('TL_NOT_FOUND', `report ${report.reference} was published without a ${format.toUpperCase()} document`);
        noteRead(request, { batches: report.inputBatchIds, entities: report.entities });
        return reply
          .type(format === 'html' ? 'text/html; charset=utf-8' : 'application/pdf')
          .header('content-disposition', `inline; filename="${report.reference}.${format}"`)
          .header('x-report-sha256', doc.sha256)
          .send(typeof doc.content === 'string' ? doc.content : Buffer.from(doc.content));
      },
    );
  }

  app.get(
    '/v1/reports/:ref/render',
    {
      schema: {
        summary: 'Render a published report again from its stored inputs',
        description: 'The answer is the re-rendered document; `x-report-identical: true` when it is byte for byte the published one (`x-report-sha256`, `x-report-published-sha256`).',
        tags: ['reports'],
        params: refParams,
        querystring: Type.Object({ format: Type.Union([Type.Literal('html'), Type.Literal('pdf')], { default: 'html' }) }),
        response: problemResponses,
      },
      config: { access: READERS },
    },
    async (request, reply) => {
      const { format } = request.query;
      if (format === 'pdf' && !chromiumAvailable()) throw new ThreatLensError('TL_RENDERER_UNAVAILABLE', 'Chromium is not installed on this server: ask for format=html');
      const result = await rerenderReport(db, request.params.ref, format, { scope: request.dataScope, pdf });
      const report = await findReport(db, request.params.ref, request.dataScope);
      noteRead(request, { batches: report.inputBatchIds, entities: report.entities });
      return reply
        .type(format === 'html' ? 'text/html; charset=utf-8' : 'application/pdf')
        .header('x-report-sha256', result.sha256)
        .header('x-report-published-sha256', result.publishedSha256 ?? '')
        .header('x-report-identical', String(result.identical))
        .header('x-report-renderer-version', result.rendererVersion)
        .send(typeof result.content === 'string' ? result.content : Buffer.from(result.content));
    },
  );

  app.get(
    '/v1/reports/:ref/compare',
    {
      schema: {
        summary: 'What changed since a report was published',
        description: 'The same framework, year, seed and Monte Carlo runs on the current data (computed, not stored): data version and batches, scores, ranks, bands and intervals, confidence, the threat matrix and the threat-resilience gap of each state covered.',
        tags: ['reports'],
        params: refParams,
        response: problemResponses,
      },
      config: { access: { roles: ['analyst'], sharing: true } },
    },
    async (request) => {
      const report = await findReport(db, request.params.ref, request.dataScope);
      const framework = await builtinFramework(app.store, report.framework.id, app.readCache);
      const comparison = await compareReport(db, report.id, framework, { scope: request.dataScope });
      noteRead(request, { batches: [...report.inputBatchIds, ...comparison.batches.added.map((b) => b.id)], entities: report.entities });
      return comparison;
    },
  );
};
