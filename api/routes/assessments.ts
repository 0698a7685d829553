/**
 * Assessments on request: POST computes one (scores, ranks with Monte Carlo intervals, confidence,
 * trends, drivers, threat matrix, narrative) and stores it with its provenance; GET reads it back.
 * Both under the sharing rules: an assessment is computed from the data its requester may see,
 * and read only by those who may see every batch it was computed from.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ThreatLensError } from '../../engine/errors.ts';
import { createAssessment } from '../../engine/scoring/assessment-run.ts';
import { getAssessment, type StoredAssessment } from '../../engine/store/assessments.ts';
import { markAudited, noteRead } from '../auth/plugin.ts';
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
      config: { access: { roles: ['analyst'], sharing: true, purpose: 'required' } },
    },
    async (request, reply) => {
      const principal = request.principal!;
      const { framework: id, requestedBy, purpose: _purpose, ...rest } = request.body;
      const framework = await builtinFramework(app.store, id, app.readCache);
      const stored = await createAssessment(
        app.store.db,
        framework,
        {
          ...rest,
          requestedBy: principal.subject,
          requestedAgency: principal.agency,
          requestedRole: principal.role,
          purpose: request.purpose,
          auditDetails: { route: 'POST /v1/assessments', ...(requestedBy !== undefined ? { statedRequester: requestedBy } : {}) },
        },
        request.dataScope,
        app.assessmentComputer,
      );
      // createAssessment wrote the audit entry (assessment.create, with its batches) with the assessment.
      markAudited(request);
      reply.code(201).header('location', `/v1/assessments/${stored.id}`);
      const body = storedAssessmentJson(stored);
      return body === undefined ? reply.send(stored) : reply.type('application/json; charset=utf-8').send(body);
    },
  );

  app.get(
    '/v1/assessments/:id',
    {
      schema: {
        summary: 'A stored assessment',
        description: 'Only for callers who may see every batch the assessment was computed from; to anyone else it does not exist.',
        tags: ['scores'],
        params: Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647 }) }),
        response: { 200: StoredAssessmentSchema, ...problemResponses },
      },
      config: { access: { roles: ['analyst', 'oversight'], sharing: true } },
    },
    async (request) => {
      const stored = await getAssessment(app.store.db, request.params.id, request.dataScope);
      if (!stored) {
        const hint = request.dataScope.kind === 'public' ? ' (an assessment computed from restricted data needs a stated purpose, and is shown only to agencies that may see all its data)' : '';
        throw new ThreatLensError('TL_NOT_FOUND', `no assessment ${request.params.id}${hint}`);
      }
      noteRead(request, { batches: stored.inputBatches ?? [], ...(stored.entity ? { entities: [stored.entity] } : {}) });
      return stored;
    },
  );
};

const STORED_ASSESSMENT_FIELDS = Object.keys(StoredAssessmentSchema.properties);

/**
 * POST /v1/assessments's answer as JSON text: the fields of StoredAssessmentSchema in its order, the
 * result spliced in as it was stored (written once per computed result and flags:
 * engine/scoring/assessment-run.ts). The schema's serialiser would write the 15 kB result again.
 * Undefined when there is no stored text, or a field is missing: then the serialiser answers.
 */
export function storedAssessmentJson(stored: StoredAssessment): string | undefined {
  if (stored.resultJson === undefined) return undefined;
  const fields: string[] = [];
  for (const key of STORED_ASSESSMENT_FIELDS) {
    const value = key === 'result' ? stored.resultJson : JSON.stringify((stored as unknown as Record<string, unknown>)[key]);
    if (value === undefined) return undefined;
    fields.push(`${JSON.stringify(key)}:${value}`);
  }
  return `{${fields.join(',')}}`;
}
