/**
 * Errors as application/problem+json (RFC 9457). 5xx bodies never carry stack traces or SQL.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, ThreatLensError } from '../engine/errors.ts';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  issues?: readonly { file?: string; line?: number; field?: string; message: string }[];
}

const PROBLEM_BASE = 'https://threatlens.dev/problems/';

const HTTP_TITLES: Record<number, string> = {
  400: 'Request is not valid',
  404: 'Not found',
  405: 'Method not allowed',
  406: 'Not acceptable',
  413: 'Request body too large',
  414: 'URI too long',
  415: 'Unsupported media type',
  431: 'Request headers too large',
};

/** Connection failures that mean "the database is not there right now": answer 503, not 500. */
const STORE_DOWN_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006']);

export function isStoreUnavailable(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  const message = (error as { message?: string } | null)?.message ?? '';
  return (code !== undefined && STORE_DOWN_CODES.has(code)) || /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect/i.test(message);
}

/**
 * For Fastify's `frameworkErrors` option: errors raised before routing (a URL whose
 * percent-encoding does not decode), answered as problem+json like every other error.
 */
export function frameworkErrorHandler(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  const problem: Problem = {
    type: `${PROBLEM_BASE}TL_HTTP_${status}`,
    title: HTTP_TITLES[status] ?? 'Request refused',
    status,
    detail: error.code === 'FST_ERR_BAD_URL' ? 'the URL is not valid: a percent-encoded part does not decode to UTF-8' : 'the request could not be routed',
    code: `TL_HTTP_${status}`,
  };
  reply.code(status).type('application/problem+json').send(problem);
}

export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    let problem: Problem;
    if (error instanceof ThreatLensError) {
      problem = {
        type: PROBLEM_BASE + error.code,
        title: error.title,
        status: error.status,
        detail: error.message,
        code: error.code,
        ...(error.issues.length > 0 ? { issues: error.issues.slice(0, 100) } : {}),
      };
    } else if (error.validation) {
      problem = {
        type: `${PROBLEM_BASE}TL_VALIDATION`,
        title: 'Request is not valid',
        status: 400,
        detail: `${error.validationContext ?? 'request'}${error.message.replace(/^(querystring|body|params|headers)/, '')}`,
        code: 'TL_VALIDATION',
      };
    } else if (isStoreUnavailable(error)) {
      reply.header('retry-after', '5');
      problem = {
        type: `${PROBLEM_BASE}TL_STORE_UNAVAILABLE`,
        title: ERROR_CODES.TL_STORE_UNAVAILABLE.title,
        status: 503,
        detail: 'The database is not reachable right now; retry in a few seconds.',
        code: 'TL_STORE_UNAVAILABLE',
      };
    } else if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      // Fastify's own refusals (body too large, bad JSON, unsupported media type...): one code per status.
      problem = {
        type: `${PROBLEM_BASE}TL_HTTP_${error.statusCode}`,
        title: HTTP_TITLES[error.statusCode] ?? 'Request refused',
        status: error.statusCode,
        detail: error.message,
        code: `TL_HTTP_${error.statusCode}`,
      };
    } else {
      request.log.error({ err: error }, 'unhandled error');
      problem = {
        type: `${PROBLEM_BASE}TL_INTERNAL`,
        title: 'Internal error',
        status: 500,
        detail: `An internal error occurred; it has been logged with request id ${request.id}.`,
        code: 'TL_INTERNAL',
      };
    }
    problem.instance = request.url;
    return reply.status(problem.status).type('application/problem+json').send(problem);
  });

  app.setNotFoundHandler((request, reply) => {
    const problem: Problem = {
      type: `${PROBLEM_BASE}TL_NOT_FOUND`,
      title: 'Not found',
      status: 404,
      detail: `No route ${request.method} ${request.url.split('?')[0]}; see /docs for the API.`,
      code: 'TL_NOT_FOUND',
      instance: request.url,
    };
    return reply.status(404).type('application/problem+json').send(problem);
  });
}
