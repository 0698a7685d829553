/**
 * Access control and hardening for the whole API, applied in one place:
 * - every /v1 route must declare `config.access` (api/auth/types.ts), or the server refuses to start;
 * - onRequest: identify the caller (API key, JWT, or the demo principal), rate-limit per principal
 *   (per address when anonymous or failing), check the role: 401 / 403 as problem+json;
 * - preHandler: read the stated purpose, refuse without one where required, and set the data
 *   scope the handler must read under (`request.dataScope`);
 * - onSend: audit restricted reads and audited actions before the answer leaves: if the audit
 *   entry cannot be written, the answer is an error, never unaudited data;
 * - security headers: helmet's on pages (the dashboard, the API docs), taken once at start and
 *   sent with Fastify's own headers (@fastify/helmet rebuilt the middleware on every request,
 *   parsing the CSP each time: 12% of a dashboard read's CPU in a profile); OWASP's set for APIs
 *   on /v1 answers (`apiSecurityHeaders`); @fastify/cors (origins from the environment only),
 *   @fastify/rate-limit, @fastify/jwt.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from '@fastify/cors';
import helmet from 'helmet';
import jwt from '@fastify/jwt';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import {
  describeScope,
  isAgencyCode,
  isRole,
  normalisePurpose,
  PUBLIC_DATA,
  PURPOSE_MAX_LENGTH,
  PURPOSE_MIN_LENGTH,
  ROLES,
  scopeFor,
  type Principal,
  type Role,
} from '../../engine/access/roles.ts';
import { ThreatLensError } from '../../engine/errors.ts';
import { appendAudit } from '../../engine/store/audit.ts';
import type { Store } from '../../engine/store/database.ts';
import { looksLikeApiKey } from '../../engine/store/keys.ts';
import { nonPublicBatchIds, visibleBatchIds } from '../../engine/store/visibility.ts';
import { jwtOptionsFromEnv, KeyVerifier, MIN_JWT_SECRET_LENGTH, presentedCredential, principalFromClaims, unauthenticated, type JwtOptions } from './credentials.ts';
import type { AccessNotes, AccessRule, ProtectedRule } from './types.ts';

export interface AccessOptions {
  /**
   * Serve requests that carry no credential as this principal (`threatlens serve --demo-access`,
   * which `npm start` uses). Logged as a warning at start. Never on a server others can reach.
   */
  readonly demoAccess?: { readonly role: Role; readonly agency: string } | false;
  readonly jwt?: JwtOptions;
  /** Requests per principal (or per address when anonymous) and window; false: no limit. */
  readonly rateLimit?: { readonly max: number; readonly timeWindowMs: number } | false;
  /** Origins allowed to call the API from a browser (CORS); none by default (same origin only). */
  readonly corsOrigins?: readonly string[];
  /** How long a verified API key is remembered (default 10 s). */
  readonly keyCacheMs?: number;
}

export const DEMO_AGENCY = 'demo';
export const DEFAULT_RATE_LIMIT = { max: 600, timeWindowMs: 60_000 } as const;

/**
 * Access options from the environment: THREATLENS_JWT_* (credentials.ts),
 * THREATLENS_RATE_LIMIT (requests per minute per principal; 0 turns the limit off),
 * THREATLENS_CORS_ORIGINS (comma-separated origins), THREATLENS_KEY_CACHE_SECONDS.
 */
export function accessOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): AccessOptions {
  const perMinute = env.THREATLENS_RATE_LIMIT === undefined || env.THREATLENS_RATE_LIMIT === '' ? DEFAULT_RATE_LIMIT.max : Number(env.THREATLENS_RATE_LIMIT);
  if (!Number.isInteger(perMinute) || perMinute < 0) throw new Error(`THREATLENS_RATE_LIMIT must be a whole number of requests per minute (0: no limit); got "${env.THREATLENS_RATE_LIMIT}"`);
  const cacheSeconds = env.THREATLENS_KEY_CACHE_SECONDS === undefined || env.THREATLENS_KEY_CACHE_SECONDS === '' ? 10 : Number(env.THREATLENS_KEY_CACHE_SECONDS);
  if (!Number.isFinite(cacheSeconds) || cacheSeconds < 0) throw new Error(`THREATLENS_KEY_CACHE_SECONDS must be a number of seconds >= 0; got "${env.THREATLENS_KEY_CACHE_SECONDS}"`);
  const jwtOptions = jwtOptionsFromEnv(env);
  return {
    ...(jwtOptions ? { jwt: jwtOptions } : {}),
    rateLimit: perMinute === 0 ? false : { max: perMinute, timeWindowMs: 60_000 },
    corsOrigins: (env.THREATLENS_CORS_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    keyCacheMs: cacheSeconds * 1000,
  };
}

/**
 * The rule of the route a request matched, or null when anyone may call it (a public route, the
 * documentation, the dashboard's files, the not-found handler).
 */
function protectedRule(request: FastifyRequest): ProtectedRule | null {
  const rule = request.routeOptions.config?.access;
  return rule === undefined || 'public' in rule ? null : rule;
}

const PROBLEM_REF = { $ref: 'Problem' };

/** Checks a route's declaration and writes it into the route's OpenAPI entry. */
function declareRoute(route: RouteOptions): void {
  const url = route.url;
  const rule = route.config?.access;
  const methods = Array.isArray(route.method) ? route.method.join(',') : route.method;
  if (url.startsWith('/v1')) {
    if (!rule) {
      throw new Error(
        `route ${methods} ${url} declares no access rule: add config: { access: { roles: [...], sharing?: true } } ` +
          '(or { public: true }); see .tmp/readme/access-control.md',
      );
    }
  }
  if (!rule) return;
  if ('public' in rule) {
    if (rule.public !== true) throw new Error(`route ${methods} ${url}: access.public must be true`);
    return;
  }
  if (!Array.isArray(rule.roles) || rule.roles.length === 0 || !rule.roles.every(isRole)) {
    throw new Error(`route ${methods} ${url}: access.roles must list roles among ${ROLES.join(', ')}`);
  }
  const schema = (route.schema ??= {}) as Record<string, unknown>;
  if (schema.hide === true) return;
  const notes = [
    `Roles: ${rule.roles.join(', ')}.`,
    rule.sharing ? 'Sharing rules apply: public data only, unless an analyst or data scientist states a purpose (`purpose` parameter or `x-purpose` header), then the data shared with its agency; the answer says which in `x-data-scope`.' : '',
    rule.purpose === 'required' ? 'A stated purpose is required.' : '',
  ].filter(Boolean);
  schema.description = [schema.description, notes.join(' ')].filter(Boolean).join('\n\n');
  schema.security = [{ bearer: [] }, { apiKey: [] }];
  const response = (schema.response ??= {}) as Record<string, unknown>;
  for (const status of [401, 403, 429]) response[status] ??= PROBLEM_REF;
  const method = methods.toUpperCase();
  if (rule.sharing && (method.includes('GET') || method.includes('DELETE'))) {
    // The stated purpose as a documented, validated query parameter (a copy: schemas are shared).
    const query = (schema.querystring as Record<string, unknown> | undefined) ?? { type: 'object', properties: {} };
    schema.querystring = {
      ...query,
      properties: {
        ...(query.properties as Record<string, unknown> | undefined),
        purpose: { type: 'string', minLength: PURPOSE_MIN_LENGTH, maxLength: PURPOSE_MAX_LENGTH, description: 'why the data is needed (recorded in the audit trail); needed for restricted data' },
      },
    };
  }
}

function readPurpose(request: FastifyRequest): string | null {
  const body = request.body as { purpose?: unknown } | undefined | null;
  const query = request.query as { purpose?: unknown } | undefined | null;
  let text: unknown = body && typeof body === 'object' ? body.purpose : undefined;
  if (text === undefined && query && typeof query === 'object') text = query.purpose;
  if (text === undefined) {
    const header = request.headers['x-purpose'];
    if (Array.isArray(header)) throw new ThreatLensError('TL_BAD_OPTION', 'send one x-purpose header');
    if (header !== undefined) {
      try {
        text = decodeURIComponent(header);
      } catch {
        text = header;
      }
    }
  }
  if (text === undefined || text === null) return null;
  if (typeof text !== 'string') throw new ThreatLensError('TL_BAD_OPTION', 'purpose must be text');
  const purpose = normalisePurpose(text);
  if (purpose !== null && (purpose.length < PURPOSE_MIN_LENGTH || purpose.length > PURPOSE_MAX_LENGTH)) {
    throw new ThreatLensError('TL_BAD_OPTION', `purpose must say why, in ${PURPOSE_MIN_LENGTH} to ${PURPOSE_MAX_LENGTH} characters`);
  }
  return purpose;
}

/** PostgreSQL text cannot hold NUL, and a lone UTF-16 surrogate has no UTF-8 form. */
const storableText = (text: string): boolean => text.isWellFormed() && !text.includes('\u0000');

/**
 * Where in `value` (a query, parameters or a body) the first leaf that `isBad` refuses is, as a path
 * like `/name` or `[2]` ('' for `value` itself), or null. `isBadKey` refuses object keys (`/<a key>`).
 * It runs on every request: a path is built only on the way back from a bad leaf.
 */
function findBadLeaf(value: unknown, isBad: (leaf: unknown) => boolean, isBadKey?: (key: string) => boolean, depth = 0): string | null {
  if (value === null || typeof value !== 'object') return isBad(value) ? '' : null;
  if (depth > 32) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findBadLeaf(value[i], isBad, isBadKey, depth + 1);
      if (found !== null) return `[${i}]${found}`;
    }
    return null;
  }
  for (const key of Object.keys(value)) {
    if (isBadKey?.(key)) return '/<a key>';
    const found = findBadLeaf((value as Record<string, unknown>)[key], isBad, isBadKey, depth + 1);
    if (found !== null) return `/${key}${found}`;
  }
  return null;
}
const unstorableLeaf = (leaf: unknown): boolean => typeof leaf === 'string' && !storableText(leaf);
const unstorableKey = (key: string): boolean => !storableText(key);
const nonFiniteLeaf = (leaf: unknown): boolean => typeof leaf === 'number' && !Number.isFinite(leaf);

/** A found path for an error message: the part itself when the value is the part. */
const located = (path: string): string => path || ' (value)';

/** The request's route, parameters and query for an audit entry (the purpose has its own column). */
function requestFacts(request: FastifyRequest, status: number): Record<string, unknown> {
  const { purpose: _purpose, ...query } = (request.query ?? {}) as Record<string, unknown>;
  return {
    method: request.method,
    route: request.routeOptions.url ?? request.url.split('?')[0],
    ...(request.params && Object.keys(request.params as object).length > 0 ? { params: request.params } : {}),
    ...(Object.keys(query).length > 0 ? { query } : {}),
    status,
  };
}

function notesDetails(notes: AccessNotes | null): Record<string, unknown> {
  if (!notes) return {};
  return {
    ...(notes.entities.size > 0 ? { entities: [...notes.entities].sort() } : {}),
    ...(notes.indicators.size > 0 ? { indicators: [...notes.indicators].sort() } : {}),
  };
}

/**
 * helmet's security headers, for pages (the dashboard, the API docs), taken once. With these
 * options (no per-request CSP nonce) they are the same for every response; helmet's middleware set
 * them on Node's response one by one, and then Node validated each header twice (setHeader, then
 * writeHead): 8% of a dashboard read. Given to Fastify, they are written with its own headers,
 * validated once.
 */
export function securityHeaders(): Record<string, string> {
  return { ...helmetHeaders };
}

/**
 * What OWASP's REST Security Cheat Sheet asks of every API response ("Security Headers"; the
 * Content-Type is each route's), and CORP against cross-origin no-cors reads. /v1 answers are JSON,
 * CSV or PDF, never pages: helmet's other headers (referrer, COOP, origin-agent-cluster, DNS
 * prefetch, X-XSS-Protection, ...) act on HTML documents only, and every header costs each
 * dashboard read its validation and bytes. `no-store` unless the route says otherwise (those that
 * send an ETag: no-cache, so that a poll can be answered 304).
 */
export function apiSecurityHeaders(): Record<string, string> {
  return {
    'cache-control': 'no-store',
    'content-security-policy': "frame-ancestors 'none'",
    'cross-origin-resource-policy': 'same-origin',
    'strict-transport-security': helmetHeaders['strict-transport-security']!,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
  };
}

function takeHelmetHeaders(): Record<string, string> {
  const taken: Record<string, string> = {};
  const middleware = helmet({
    // ThreatLens serves plain HTTP by default (a TLS proxy in front adds HTTPS): upgrading would break it.
    contentSecurityPolicy: { useDefaults: true, directives: { upgradeInsecureRequests: null } },
  });
  const response = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      taken[name.toLowerCase()] = String(value);
    },
    removeHeader: () => undefined,
    getHeader: () => undefined,
  };
  let failure: unknown;
  middleware({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    failure = error;
  });
  if (failure) throw failure;
  return taken;
}
const helmetHeaders = takeHelmetHeaders();

/**
 * Registers access control on the root instance: call it before any route is registered (the
 * declaration check and the OpenAPI notes run as routes are added).
 */
export async function registerAccessControl(app: FastifyInstance, store: Store, options: AccessOptions = {}): Promise<void> {
  const db = store.db;
  const keys = new KeyVerifier(db, options.keyCacheMs ?? 10_000);
  app.decorate('forgetVerifiedKeys', () => keys.forget());

  const demo: Principal | null = options.demoAccess
    ? { subject: 'demo', agency: options.demoAccess.agency, role: options.demoAccess.role, source: 'demo' }
    : null;
  if (demo && (!isRole(demo.role) || !isAgencyCode(demo.agency))) throw new Error(`demo access needs a role and an agency code; got ${demo.role} of ${demo.agency}`);

  const jwtOptions = options.jwt;
  if (jwtOptions?.secret !== undefined && jwtOptions.secret.length < MIN_JWT_SECRET_LENGTH) {
    throw new Error(`THREATLENS_JWT_SECRET must be at least ${MIN_JWT_SECRET_LENGTH} characters (a random secret, e.g. openssl rand -base64 48)`);
  }
  if (jwtOptions?.secret || jwtOptions?.publicKey) {
    await app.register(jwt, {
      secret: jwtOptions.publicKey ? { public: jwtOptions.publicKey } : jwtOptions.secret!,
      verify: {
        requiredClaims: ['sub', 'exp'],
        ...(jwtOptions.publicKey ? { algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'ES512', 'EdDSA'] } : { algorithms: ['HS256', 'HS384', 'HS512'] }),
        ...(jwtOptions.issuer ? { allowedIss: jwtOptions.issuer } : {}),
        ...(jwtOptions.audience ? { allowedAud: jwtOptions.audience } : {}),
      },
    });
  }
  const verifyJwt = (token: string): Principal => {
    if (!app.hasDecorator('jwt')) {
      throw unauthenticated('this server accepts API keys only (no THREATLENS_JWT_SECRET or THREATLENS_JWT_PUBLIC_KEY is set); a key starts with tlk_');
    }
    let claims: Record<string, unknown>;
    try {
      claims = app.jwt.verify<Record<string, unknown>>(token);
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      throw unauthenticated(
        code === 'FAST_JWT_EXPIRED' ? 'the token has expired'
          : code === 'FAST_JWT_MISSING_REQUIRED_CLAIM' ? 'the token lacks a required claim (sub, exp)'
          : code === 'FAST_JWT_INVALID_SIGNATURE' ? 'the token\'s signature is not valid'
          : 'the token is not valid',
      );
    }
    return principalFromClaims(claims);
  };

  const pageHeaders = securityHeaders();
  const apiHeaders = apiSecurityHeaders();
  // Without configured origins CORS sends nothing; the plugin would still cost 7% of a dashboard read.
  if (options.corsOrigins && options.corsOrigins.length > 0) await app.register(cors, {
    origin: [...options.corsOrigins],
    methods: ['GET', 'HEAD', 'POST', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'x-api-key', 'x-purpose', 'if-none-match'],
    exposedHeaders: ['etag', 'location', 'x-data-scope', 'retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'],
    maxAge: 600,
  });

  type Limiter = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  let limitByAddress: Limiter = async () => undefined;
  let limitByPrincipal: Limiter = async () => undefined;
  if (options.rateLimit !== false) {
    const { max, timeWindowMs } = options.rateLimit ?? DEFAULT_RATE_LIMIT;
    await app.register(rateLimit, {
      global: false,
      max,
      timeWindow: timeWindowMs,
      errorResponseBuilder: (_request, context) =>
        new ThreatLensError('TL_RATE_LIMITED', `more than ${context.max} requests in ${Math.round(timeWindowMs / 1000)} s from this caller; retry in ${context.after}`),
    });
    limitByAddress = app.rateLimit({ keyGenerator: (request: FastifyRequest) => `ip:${request.ip}` }) as unknown as Limiter;
    limitByPrincipal = app.rateLimit({ keyGenerator: (request: FastifyRequest) => `principal:${request.principal?.subject ?? request.ip}` }) as unknown as Limiter;
  }

  app.decorateRequest('principal', null);
  app.decorateRequest('dataScope', null as never);
  app.decorateRequest('purpose', null);
  app.decorateRequest('accessNotes', null);
  app.decorateRequest('accessRule', null);

  const declared: DeclaredRoute[] = [];
  app.decorate('accessRules', declared);
  app.addHook('onRoute', (route) => {
    declareRoute(route);
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
      declared.push({ method: method.toUpperCase(), url: route.url, rule: route.config?.access ?? null });
    }
  });

  const rateLimited = options.rateLimit !== false;
  /**
   * The common case without a promise: no rate limit to consult, and a principal known at once
   * (demo access, or an API key checked in the last seconds) whose role the route allows. True
   * when the request is authenticated; false sends it through `authenticate`, which also owns
   * every refusal (401, 403 and their audit entries).
   */
  const authenticateAtOnce = (request: FastifyRequest): boolean => {
    if (rateLimited) return false;
    request.dataScope = PUBLIC_DATA;
    const rule = request.accessRule;
    if (!rule) return true;
    let credential: string | null;
    try {
      credential = presentedCredential(request);
    } catch {
      return false;
    }
    const principal = credential === null ? demo : looksLikeApiKey(credential) ? keys.peek(credential) : undefined;
    if (!principal || !rule.roles.includes(principal.role)) return false;
    admit(request, principal);
    return true;
  };

  /** The request runs as `principal`, which the route's roles allow. */
  const admit = (request: FastifyRequest, principal: Principal): void => {
    request.principal = principal;
    request.accessNotes = { batches: new Set(), entities: new Set(), indicators: new Set(), audited: false, noted: false };
  };

  app.addHook('onRequest', (request, reply, done) => {
    // Every answer carries them, refusals included.
    reply.headers(request.url.startsWith('/v1/') ? apiHeaders : pageHeaders);
    // Looked up once: request.routeOptions builds a new object on every read.
    request.accessRule = protectedRule(request);
    if (authenticateAtOnce(request)) return done();
    authenticate(request, reply).then(() => done(), (error: Error) => done(error));
  });

  const authenticate = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    request.dataScope = PUBLIC_DATA;
    const rule = request.accessRule;
    if (!rule) {
      await limitByAddress(request, reply);
      return;
    }
    let principal: Principal;
    try {
      const credential = presentedCredential(request);
      if (credential === null) {
        if (!demo) throw unauthenticated('this route needs a credential: "Authorization: Bearer <API key or token>" or "x-api-key: <API key>" (an admin creates keys: threatlens keys create)');
        principal = demo;
      } else {
        principal = looksLikeApiKey(credential) ? await keys.verify(credential) : verifyJwt(credential);
      }
    } catch (error) {
      if (error instanceof ThreatLensError && error.code === 'TL_UNAUTHENTICATED') {
        // Failed attempts count against the address they come from.
        await limitByAddress(request, reply);
        reply.header('www-authenticate', 'Bearer realm="threatlens"');
      }
      throw error;
    }
    request.principal = principal;
    await limitByPrincipal(request, reply);
    if (!rule.roles.includes(principal.role)) {
      await appendAudit(db, {
        actor: principal.subject,
        agency: principal.agency,
        role: principal.role,
        action: 'access.refused',
        details: { method: request.method, route: request.routeOptions.url ?? '', allowedRoles: [...rule.roles] },
        outcome: 'refused',
      });
      throw new ThreatLensError('TL_FORBIDDEN', `role ${principal.role} may not ${request.method} ${request.routeOptions.url}; allowed: ${rule.roles.join(', ')}`);
    }
    admit(request, principal);
  };

  // PostgreSQL text cannot hold NUL, and lone UTF-16 surrogates cannot be stored as UTF-8: refuse
  // them in any parameter before a handler passes them to a query (they would fail there as 500s).
  // The checks below are synchronous hooks (callback style): on a dashboard read, every promise counts.
  const unstorableIn = (part: string, value: unknown): ThreatLensError | null => {
    const bad = findBadLeaf(value, unstorableLeaf, unstorableKey);
    return bad === null ? null : new ThreatLensError('TL_BAD_OPTION', `${part}${located(bad)}: text must not contain NUL characters or unpaired UTF-16 surrogates`);
  };
  app.addHook('preValidation', (request, _reply, done) => {
    done(unstorableIn('querystring', request.query) ?? unstorableIn('params', request.params) ?? unstorableIn('body', request.body) ?? undefined);
  });

  const nonFiniteIn = (part: string, value: unknown): ThreatLensError | null => {
    const bad = findBadLeaf(value, nonFiniteLeaf);
    return bad === null ? null : new ThreatLensError('TL_BAD_OPTION', `${part}${located(bad)} must be a finite number`);
  };
  app.addHook('preHandler', (request, reply, done) => {
    // Ajv coerces "1e400" to Infinity and then skips minimum/maximum (it checks them only on finite
    // numbers), and JSON.parse reads 1e400 as Infinity: refuse non-finite numbers after validation.
    const nonFinite = nonFiniteIn('querystring', request.query) ?? nonFiniteIn('params', request.params) ?? nonFiniteIn('body', request.body);
    if (nonFinite !== null) return done(nonFinite);
    const rule = request.accessRule;
    if (!rule || !request.principal) return done();
    let purpose: string | null;
    try {
      purpose = readPurpose(request);
    } catch (error) {
      return done(error as Error);
    }
    if (rule.purpose === 'required' && purpose === null) {
      return done(new ThreatLensError('TL_PURPOSE_REQUIRED', `${request.method} ${request.routeOptions.url} needs a stated purpose: why is it needed (body or query "purpose", or the x-purpose header)`));
    }
    request.purpose = purpose;
    if (rule.sharing) {
      request.dataScope = scopeFor(request.principal, purpose);
      reply.header('x-data-scope', describeScope(request.dataScope));
    }
    done();
  });

  app.addHook('onSend', (request, reply, payload, done) => {
    const rule = request.accessRule;
    const principal = request.principal;
    if (!rule || !principal || !request.accessNotes) return done(null, payload);
    const status = reply.statusCode;
    const notes = request.accessNotes;
    const needsAudit = rule.audit && !notes.audited;
    const mayBeRestrictedRead = rule.sharing && request.dataScope.kind === 'agency' && status < 400 && !notes.audited;
    // Most reads (public data) write nothing: answer them without a promise.
    if (!needsAudit && !mayBeRestrictedRead) return done(null, payload);
    const who = { actor: principal.subject, agency: principal.agency, role: principal.role, purpose: request.purpose };
    const audit = async () => {
      if (needsAudit) {
        await appendAudit(db, {
          ...who,
          action: rule.audit!,
          details: { ...requestFacts(request, status), ...notesDetails(notes), ...(notes.batches.size > 0 ? { batches: [...notes.batches].sort((a, b) => a - b) } : {}) },
          outcome: status < 400 ? 'ok' : status === 401 || status === 403 ? 'refused' : 'failed',
        });
        return;
      }
      const read = notes.noted ? [...notes.batches] : await visibleBatchIds(db, request.dataScope);
      const restricted = await nonPublicBatchIds(db, read);
      if (restricted.length > 0) {
        await appendAudit(db, { ...who, action: 'read.restricted', details: { ...requestFacts(request, status), ...notesDetails(notes), batches: restricted }, outcome: 'ok' });
      }
    };
    audit().then(() => done(null, payload), (error: Error) => done(error));
  });
}

/**
 * For handlers: report what was read (batches, entities, indicators), so that the audit entry of
 * a restricted read names exactly that; without a report every visible restricted batch is named.
 */
export function noteRead(request: FastifyRequest, read: { batches?: Iterable<number>; entities?: Iterable<string>; indicators?: Iterable<string> }): void {
  const notes = request.accessNotes;
  if (!notes) return;
  notes.noted = true;
  for (const b of read.batches ?? []) notes.batches.add(b);
  for (const e of read.entities ?? []) notes.entities.add(e);
  for (const i of read.indicators ?? []) notes.indicators.add(i);
}

/** For handlers that write their own audit entry for the request (in the same transaction as their work). */
export function markAudited(request: FastifyRequest): void {
  if (request.accessNotes) request.accessNotes.audited = true;
}

/** A route and its access declaration (null: none, so public outside /v1). */
export interface DeclaredRoute {
  readonly method: string;
  readonly url: string;
  readonly rule: AccessRule | null;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Drops remembered API key checks (after a revocation through the API). */
    forgetVerifiedKeys(): void;
    /** Every route with its access declaration, in registration order (tests, documentation). */
    readonly accessRules: readonly DeclaredRoute[];
  }
}
