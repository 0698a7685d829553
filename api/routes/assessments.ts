/**
 * Assessments on request: POST computes one (scores, ranks with Monte Carlo intervals, confidence,
 * trends, drivers, threat matrix, narrative) and stores it with its provenance; GET reads it back.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ThreatLensError } from '../../engine/errors.ts';
import { createAssessment } from '../../engine/scoring/assessment-run.ts';
import { getAssessment } from '../../engine/store/assessments.ts';
import { builtinFramework } from '../frameworks.ts';
import { AssessmentRequestSchema, problemResponses, StoredAssessmentSchema } from '../schemas.ts';

export const assessmentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/assessments',
    {
      schema: {
        summary: 'Compute and store a threat assessment',
        description:
          'For a framework, a year and one participating state (or all 57): every root score with band, rank and its Monte Carlo ' +
          '5th-95th percentile interval, confidence with reasons, trend, top drivers, the change since the previous year by ' +
          'indicator, the crime-area threat matrix and a narrative. Stored with batch hashes, framework parameter hash, code ' +
          'version and seed: the same request on the same data gives the same result.',
        tags: ['scores'],
        body: AssessmentRequestSchema,
        response: { 201: StoredAssessmentSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { framework: id, ...rest } = request.body;
      const framework = await builtinFramework(app.store, id);
      const stored = await createAssessment(app.store.db, framework, rest);
      return reply.code(201).header('location', `/v1/assessments/${stored.id}`).send(stored);
    },
  );

  app.get(
    '/v1/assessments/:id',
    {
      schema: {
        summary: 'A stored assessment',
        tags: ['scores'],
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        response: { 200: StoredAssessmentSchema, ...problemResponses },
      },
    },
    async (request) => {
      const stored = await getAssessment(app.store.db, request.params.id);
      if (!stored) throw new ThreatLensError('TL_NOT_FOUND', `no assessment ${request.params.id}`);
      return stored;
    },
  );
};
