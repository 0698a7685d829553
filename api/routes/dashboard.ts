/**
 * The crime-map dashboard at `/`: the page and its assets from api/dashboard/dist, built first
 * when missing or stale (api/dashboard/build.ts, esbuild: well under a second). Public: the page
 * holds no data; every value comes from the /v1 routes with the caller's key.
 */
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { DIST_DIR, ensureDashboardBuilt } from '../dashboard/build.ts';

export const dashboardRoutes: FastifyPluginAsync = async (app) => {
  const info = await ensureDashboardBuilt();
  if (info.rebuilt) app.log.info({ hash: info.hash, ms: info.buildMs }, 'dashboard built');
  await app.register(fastifyStatic, {
    root: DIST_DIR,
    prefix: '/',
    // Routes for the built files only: nothing else on the server is shadowed by a wildcard.
    wildcard: false,
    index: ['index.html'],
    preCompressed: true,
    decorateReply: false,
    globIgnore: ['**/*.gz', '**/*.br', '**/build-info.json'],
    // Assets are named with the build hash in the page's query strings; the page itself is revalidated.
    cacheControl: true,
    maxAge: 0,
    setHeaders: (response, path) => {
      if (path.endsWith('.html')) response.setHeader('cache-control', 'no-cache');
    },
  });
};
