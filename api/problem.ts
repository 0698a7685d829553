/**
 * Errors as application/problem+json (RFC 9457). 5xx bodies never carry stack traces or SQL.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, ThreatLensError } from '../engine/errors.ts';
import { describeStoreError, isStoreUnavailable } from '../engine/store/availability.ts';

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

export { isStoreUnavailable };

/** Seconds a client is told to wait (Retry-After) when the database is away; THREATLENS_RETRY_AFTER_SECONDS. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

/**
 * The 503 answer for a database outage, with its Retry-After. `cause` (a pg error) is named by its
 * code only: never a host, port or SQL in a public answer.
 */
export function sendStoreUnavailable(reply: FastifyReply, retryAfterSeconds: number, instance: string, cause?: unknown, note?: string): FastifyReply {
  const problem: Problem = {
    type: `${PROBLEM_BASE}TL_STORE_UNAVAILABLE`,
    title: ERROR_CODES.TL_STORE_UNAVAILABLE.title,
    status: 503,
    detail: `the database is not reachable${cause === undefined ? '' : ` (${describeStoreError(cause)})`}${note ? `, ${note}` : ''}; retry in ${retryAfterSeconds} s`,
    code: 'TL_STORE_UNAVAILABLE',
    instance,
  };
  return reply.status(503).header('retry-after', String(retryAfterSeconds)).type('application/problem+json').send(problem);
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

export function registerProblemHandlers(app: FastifyInstance, options: { retryAfterSeconds?: number } = {}): void {
  const retryAfterSeconds = options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
  app.setErrorHandler((error: FastifyError, request, reply) => {
    let problem: Problem;
    // A database outage, whatever route met it (a query failing between two health checks).
    if (isStoreUnavailable(error) || (error instanceof ThreatLensError && error.code === 'TL_STORE_UNAVAILABLE')) {
      request.log.info({ err: error }, 'database not reachable: answered 503');
      return error instanceof ThreatLensError
        ? sendStoreUnavailable(reply, retryAfterSeconds, request.url, undefined, error.message)
        : sendStoreUnavailable(reply, retryAfterSeconds, request.url, error);
    }
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
