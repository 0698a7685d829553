/** GET /v1/quality: the data-quality report (engine/quality/) per indicator and per batch. */
import type { Static } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ThreatLensError } from '../../engine/errors.ts';
import { buildQualityReport } from '../../engine/quality/report.ts';
import { loadQualityInput } from '../../engine/store/quality.ts';
import { noteRead } from '../auth/plugin.ts';
import { problemResponses, QualityQuerySchema, QualityReportSchema } from '../schemas.ts';

/** The schema's type with readonly arrays and properties, as the engine builds its report. */
type DeepReadonly<T> = T extends (infer U)[] ? readonly DeepReadonly<U>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

export const qualityRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/quality',
    {
      schema: {
        summary: 'Data-quality report: coverage of the 57 participating states, missingness, recency, ranges, duplicates, level shifts, grades',
        description:
          'Per indicator: participating states with data by year, a missingness pattern per state (# value, < censored, . missing), latest ' +
          'year per state, values outside the catalogue\'s plausible range, entity-periods held by several batches with different values, ' +
          'year-on-year level shifts (|log change - median| > 4 x 1.4826 MAD of the series) marked when the row source changes at the same ' +
          'point, censored values, and a grade A-E (the worst of coverage, recency, out-of-range share and break share). Overall: the ' +
          'median indicator grade. Per batch: counts and the Admiralty grade.',
        tags: ['quality'],
        querystring: QualityQuerySchema,
        response: { 200: QualityReportSchema, ...problemResponses },
      },
      config: { access: { roles: ['analyst', 'data_scientist'], sharing: true } },
    },
    async (request) => {
      const q = request.query;
      if (q.from !== undefined && q.to !== undefined && q.from > q.to) {
        throw new ThreatLensError('TL_BAD_OPTION', `from (${q.from}) is after to (${q.to})`);
      }
      const input = await loadQualityInput(app.store.db, {
        ...(q.batch !== undefined ? { batch: q.batch } : {}),
        ...(q.indicator !== undefined ? { indicator: q.indicator } : {}),
        ...(q.from !== undefined ? { fromYear: q.from } : {}),
        ...(q.to !== undefined ? { toYear: q.to } : {}),
        scope: request.dataScope,
      });
      // The report describes every visible batch (source, file, grade), not only those with rows in scope.
      noteRead(request, { batches: input.batches.map((b) => b.id), ...(q.indicator !== undefined ? { indicators: [q.indicator] } : {}) });
      // Typed against the schema: the engine's report must be what the schema documents.
      const report: DeepReadonly<Static<typeof QualityReportSchema>> = buildQualityReport(input);
      return report;
    },
  );
};
