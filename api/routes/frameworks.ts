/** GET /v1/frameworks: the built-in frameworks, with their node ids and indicators. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { BUILTIN_FRAMEWORKS, loadFramework } from '../../datasets/frameworks/index.ts';
import { ROLES } from '../../engine/access/roles.ts';
import { frameworkIndicators, frameworkNodeIds } from '../../engine/scoring/framework-scores.ts';
import { listIndicators } from '../../engine/store/catalogue.ts';
import { problemResponses } from '../schemas.ts';

const FrameworkSummary = Type.Object({
  id: Type.String(),
  version: Type.String(),
  title: Type.String(),
  normalisation: Type.String(),
  nodes: Type.Array(Type.String(), { description: 'node ids in tree order; the first of each root is scored' }),
  indicators: Type.Array(Type.String()),
});

export const frameworkRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/frameworks',
    {
      schema: {
        summary: 'Built-in scoring frameworks',
        tags: ['scores'],
        response: { 200: Type.Object({ frameworks: Type.Array(FrameworkSummary) }), ...problemResponses },
      },
      config: { access: { roles: ROLES } },
    },
    async () => {
      const known = new Set((await listIndicators(app.store.db)).map((i) => i.code));
      const frameworks = await Promise.all(BUILTIN_FRAMEWORKS.map((id) => loadFramework(id, known)));
      return {
        frameworks: frameworks.map((f) => ({
          id: f.id,
          version: f.version,
          title: f.title,
          normalisation: f.normalisation.method,
          nodes: frameworkNodeIds(f),
          indicators: frameworkIndicators(f),
        })),
      };
    },
  );
};
