/**
 * The model lifecycle for data scientists: the registry (versions, metrics, model cards),
 * training as a job (POST answers 202 at once; GET /v1/jobs/:id shows state, percent and metrics
 * so far), promotion of a version to production, and rollback to the previous one.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ThreatLensError } from '../../engine/errors.ts';
import { getJob, jobView, listJobs, requestJobCancel } from '../../engine/store/jobs.ts';
import { getModel, listModels, promoteModel, rollbackModel } from '../../engine/store/models.ts';
import { modelCardMarkdown, isModelCard } from '../../models/model-card.ts';
import { MODEL_TYPES } from '../../models/registry.ts';
import { queueTraining } from '../../models/training-job.ts';
import { markAudited } from '../auth/plugin.ts';
import { problemResponses } from '../schemas.ts';

const ModelName = Type.String({ pattern: '^[a-z][a-z0-9-]{1,62}$', description: 'registry name, e.g. autoencoder or isolation-forest' });
const Version = Type.Integer({ minimum: 1, maximum: 2147483647 });

const JobSchema = Type.Object(
  {
    id: Type.Integer(),
    kind: Type.String(),
    model: Type.Union([Type.String(), Type.Null()]),
    state: Type.Union(['queued', 'running', 'succeeded', 'failed', 'cancelled'].map((s) => Type.Literal(s))),
    percent: Type.Number(),
    message: Type.Union([Type.String(), Type.Null()]),
    progress: Type.Unknown({ description: 'metrics so far (epoch, losses, evaluation)' }),
    params: Type.Unknown(),
    result: Type.Unknown({ description: 'on success: the registered version, its evaluation and model card' }),
    error: Type.Union([Type.String(), Type.Null()]),
    requestedBy: Type.String(),
    createdAt: Type.String(),
    startedAt: Type.Union([Type.String(), Type.Null()]),
    finishedAt: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'Job' },
);

const ModelVersionSchema = Type.Object(
  {
    name: Type.String(),
    version: Type.Integer(),
    type: Type.String(),
    status: Type.Union([Type.Literal('candidate'), Type.Literal('production'), Type.Literal('retired')]),
    hyperparameters: Type.Unknown(),
    seed: Type.Integer(),
    dataVersion: Type.String(),
    codeVersion: Type.String(),
    metrics: Type.Unknown(),
    modelCard: Type.Unknown(),
    trainedBy: Type.String(),
    jobId: Type.Union([Type.Integer(), Type.Null()]),
    createdAt: Type.String(),
    promotedAt: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'ModelVersion' },
);

const PromotionSchema = Type.Object({
  name: Type.String(),
  version: Type.Integer(),
  previous: Type.Union([Type.Integer(), Type.Null()]),
  changed: Type.Boolean(),
});

type ModelRow = Awaited<ReturnType<typeof listModels>>[number];
const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
const modelView = (m: ModelRow) => ({ ...m, createdAt: iso(m.createdAt)!, promotedAt: iso(m.promotedAt) });

export const modelRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addSchema(JobSchema);
  app.addSchema(ModelVersionSchema);
  const dataScientist = { roles: ['data_scientist'] } as const;

  app.get(
    '/v1/models',
    {
      schema: {
        summary: 'Every registered model version',
        description: 'Trainable types: ' + Object.keys(MODEL_TYPES).join(', ') + '. Newest first per name.',
        tags: ['models'],
        querystring: Type.Object({ name: Type.Optional(ModelName) }),
        response: { 200: Type.Object({ models: Type.Array(Type.Ref('ModelVersion')) }), ...problemResponses },
      },
      config: { access: dataScientist },
    },
    async (request) => ({ models: (await listModels(app.store.db, request.query.name)).map(modelView) }),
  );

  app.get(
    '/v1/models/:name/versions/:version',
    {
      schema: {
        summary: 'One model version with its metrics and model card',
        description: 'With `Accept: text/markdown`, the model card as Markdown.',
        tags: ['models'],
        params: Type.Object({ name: ModelName, version: Version }),
        response: { 200: Type.Ref('ModelVersion'), ...problemResponses },
      },
      config: { access: dataScientist },
    },
    async (request, reply) => {
      const { name, version } = request.params;
      const model = await getModel(app.store.db, name, version);
      if (!model) throw new ThreatLensError('TL_NOT_FOUND', `no model ${name} version ${version}`);
      if ((request.headers.accept ?? '').includes('text/markdown') && isModelCard(model.modelCard)) {
        return reply.type('text/markdown; charset=utf-8').serializer((s: string) => s).send(modelCardMarkdown(model.modelCard, { version, status: model.status }));
      }
      return modelView(model);
    },
  );

  app.post(
    '/v1/models/:name/train',
    {
      schema: {
        summary: 'Train a new version (a job)',
        description:
          'Queues training on the current data and answers 202 with the job at once; follow it at `GET /v1/jobs/:id`. ' +
          'Training runs in a worker thread, off the request path. On success the version is registered as a candidate ' +
          '(with its evaluation on injected anomalies and its model card); a failed or cancelled job registers nothing.',
        tags: ['models'],
        params: Type.Object({ name: ModelName }),
        body: Type.Object(
          {
            type: Type.Optional(Type.String({ description: 'model type; defaults to the name\'s earlier versions, or the name' })),
            hyperparameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
            seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2147483647 })),
          },
          { additionalProperties: false },
        ),
        response: { 202: Type.Ref('Job'), ...problemResponses },
      },
      config: { access: { ...dataScientist, audit: 'model.train' } },
    },
    async (request, reply) => {
      const job = await queueTraining(app.store, {
        name: request.params.name,
        ...(request.body.type !== undefined ? { type: request.body.type } : {}),
        ...(request.body.hyperparameters !== undefined ? { hyperparameters: request.body.hyperparameters } : {}),
        ...(request.body.seed !== undefined ? { seed: request.body.seed } : {}),
        requestedBy: request.principal!.subject,
      });
      app.jobRunner?.poke();
      return reply.code(202).header('location', `/v1/jobs/${job.id}`).send(jobView(job));
    },
  );

  app.post(
    '/v1/models/:name/promote',
    {
      schema: {
        summary: 'Make a version the production model',
        description: 'The current production version is retired; dashboards and the anomaly run use the new one from the next request. Audited.',
        tags: ['models'],
        params: Type.Object({ name: ModelName }),
        body: Type.Object({ version: Version, purpose: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false }),
        response: { 200: PromotionSchema, ...problemResponses },
      },
      config: { access: dataScientist },
    },
    async (request) => {
      const principal = request.principal!;
      const result = await promoteModel(app.store.db, request.params.name, request.body.version, principal.subject, {
        agency: principal.agency,
        role: principal.role,
        ...(request.purpose ? { purpose: request.purpose } : {}),
      });
      markAudited(request);
      return result;
    },
  );

  app.post(
    '/v1/models/:name/rollback',
    {
      schema: {
        summary: 'Put the previous production version back',
        tags: ['models'],
        params: Type.Object({ name: ModelName }),
        body: Type.Optional(Type.Object({ purpose: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false })),
        response: { 200: PromotionSchema, ...problemResponses },
      },
      config: { access: dataScientist },
    },
    async (request) => {
      const principal = request.principal!;
      const result = await rollbackModel(app.store.db, request.params.name, principal.subject, {
        agency: principal.agency,
        role: principal.role,
        ...(request.purpose ? { purpose: request.purpose } : {}),
      });
      markAudited(request);
      return result;
    },
  );

  app.get(
    '/v1/jobs',
    {
      schema: {
        summary: 'Recent jobs, newest first',
        tags: ['models'],
        querystring: Type.Object({
          state: Type.Optional(Type.Union(['queued', 'running', 'succeeded', 'failed', 'cancelled'].map((s) => Type.Literal(s)))),
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
        }),
        response: { 200: Type.Object({ jobs: Type.Array(Type.Ref('Job')) }), ...problemResponses },
      },
      config: { access: dataScientist },
    },
    async (request) => ({
      jobs: (await listJobs(app.store.db, { limit: request.query.limit, ...(request.query.state ? { state: request.query.state } : {}) })).map(jobView),
    }),
  );

  app.get(
    '/v1/jobs/:id',
    {
      schema: {
        summary: 'A job: state, percent done, metrics so far, result or error',
        tags: ['models'],
        params: Type.Object({ id: Version }),
        response: { 200: Type.Ref('Job'), ...problemResponses },
      },
      config: { access: dataScientist },
    },
    async (request) => jobView(await getJob(app.store.db, request.params.id)),
  );

  app.post(
    '/v1/jobs/:id/cancel',
    {
      schema: {
        summary: 'Cancel a job',
        description: 'A queued job is cancelled at once; a running one stops within a second or so. Nothing is registered.',
        tags: ['models'],
        params: Type.Object({ id: Version }),
        response: { 200: Type.Ref('Job'), ...problemResponses },
      },
      config: { access: { ...dataScientist, audit: 'job.cancel' } },
    },
    async (request) => jobView(await requestJobCancel(app.store.db, request.params.id)),
  );
};
