/**
 * Who may call what, through the API (PGlite, and PostgreSQL when DATABASE_URL is set): every
 * route declared, the route x role matrix (401 without a credential, 403 for a role not allowed,
 * both problem+json), credentials (API keys by Authorization or x-api-key, revoked and expired
 * keys, JWTs good and bad), demo access, the stated purpose, key administration, and hardening:
 * security headers, CORS, body limit, rate limit per principal, errors without internals.
 */
import { createServer, type ServerResponse } from 'node:http';
import helmet from 'helmet';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../api/app.ts';
import { apiSecurityHeaders, securityHeaders } from '../api/auth/plugin.ts';
import { signJwt } from '../api/auth/tokens.ts';
import type { AccessRule } from '../api/auth/types.ts';
import { ingestFile } from '../datasets/ingest.ts';
import { OSCE_PARTICIPATING_ISO3 } from '../datasets/reference/osce.ts';
import { ROLES, type Role } from '../engine/access/roles.ts';
import { refreshRiskScores } from '../engine/scoring/refresh.ts';
import type { Store } from '../engine/store/database.ts';
import { tempDir, writeFixture } from './support/fixtures.ts';
import { testKey, type TestCredential } from './support/principals.ts';
import { openTestStore, STORE_KINDS } from './support/stores.ts';

const JWT_SECRET = 'test-secret-for-threatlens-jwt-0123456789abcdef';

/** The spec of issue 6 as a table: who may call each route ThreatLens itself defines. */
const EXPECTED_ROLES: Record<string, readonly Role[] | 'public'> = {
  'GET /health': 'public',
  'GET /v1/me': ROLES,
  'GET /v1/entities': ROLES,
  'GET /v1/indicators': ROLES,
  'GET /v1/frameworks': ROLES,
  'GET /v1/risk-scores': ROLES,
  'GET /v1/observations': ['analyst', 'data_scientist'],
  'GET /v1/quality': ['analyst', 'data_scientist'],
  'POST /v1/assessments': ['analyst'],
  'POST /v1/ingest': ['analyst', 'admin'],
  'GET /v1/assessments/:id': ['analyst', 'oversight'],
  'GET /v1/audit': ['oversight'],
  'GET /v1/audit/export': ['oversight'],
  'GET /v1/audit/verify': ['oversight', 'admin'],
  'GET /v1/agencies': ['admin'],
  'POST /v1/agencies': ['admin'],
  'GET /v1/keys': ['admin'],
  'POST /v1/keys': ['admin'],
  'DELETE /v1/keys/:id': ['admin'],
};

function panelCsv(): string {
  const lines = ['entity,period,indicator,value'];
  OSCE_PARTICIPATING_ISO3.forEach((iso3, i) => lines.push(`${iso3},2020,homicide_rate,${(i + 1) / 10}`, `${iso3},2020,robbery_rate,${60 - i}`));
  return `${lines.join('\n')}\n`;
}

function problemOf(res: { statusCode: number; headers: Record<string, unknown>; json(): any }, status: number, code: string, what: string) {
  expect(res.statusCode, what).toBe(status);
  expect(String(res.headers['content-type']), what).toMatch(/^application\/problem\+json/);
  const body = res.json();
  expect(body, what).toMatchObject({ status, code, type: `https://threatlens.dev/problems/${code}` });
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  return body;
}

describe.each(STORE_KINDS)('access control on %s', (kind) => {
  let store: Store;
  let app: App;
  const keys = {} as Record<Role, TestCredential>;

  beforeAll(async () => {
    store = await openTestStore(kind);
    await ingestFile(store, await writeFixture(await tempDir(), 'panel.csv', panelCsv()), { grade: 'B2' });
    await refreshRiskScores(store.db);
    app = await buildApp({ store, access: { rateLimit: false, jwt: { secret: JWT_SECRET } } });
    for (const role of ROLES) keys[role] = await testKey(store, role, 'agency-a');
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  const routes = () => app.accessRules.filter((r) => r.method !== 'OPTIONS' && (r.url.startsWith('/v1') || r.url === '/health'));

  it('every /v1 route declares access, and ThreatLens\'s own routes declare what the spec says', () => {
    const declared = new Map(routes().filter((r) => r.method !== 'HEAD').map((r) => [`${r.method} ${r.url}`, r.rule]));
    for (const [route, rule] of declared) if (route.includes(' /v1')) expect(rule, route).not.toBeNull();
    for (const [route, expected] of Object.entries(EXPECTED_ROLES)) {
      const rule = declared.get(route) as AccessRule | undefined;
      expect(rule, `${route} is registered`).toBeDefined();
      if (expected === 'public') expect(rule).toEqual({ public: true });
      else expect(rule && 'roles' in rule ? [...rule.roles].sort() : null, route).toEqual([...expected].sort());
    }
  });

  it('route x role: 401 without a credential, 403 for a role not allowed, never either for one allowed', async () => {
    const observed: string[] = [];
    for (const { method, url, rule } of routes()) {
      const path = url.replace(':id', url.startsWith('/v1/keys') ? '000000000000' : '1');
      const send = (headers: Record<string, string>) =>
        app.inject({ method: method as 'GET', url: path, headers: { ...headers, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) }, ...(method === 'POST' ? { payload: '{}' } : {}) });
      const isPublic = rule === null || 'public' in rule;
      const anonymous = await send({});
      if (isPublic) expect(anonymous.statusCode, `${method} ${url} anonymous`).not.toBe(401);
      else if (method === 'HEAD') expect(anonymous.statusCode, `${method} ${url} anonymous`).toBe(401);
      else {
        problemOf(anonymous, 401, 'TL_UNAUTHENTICATED', `${method} ${url} anonymous`);
        expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="threatlens"');
      }
      for (const role of ROLES) {
        const res = await send(keys[role].headers);
        const allowed = isPublic || (rule as { roles: readonly Role[] }).roles.includes(role);
        if (allowed) expect([401, 403], `${method} ${url} as ${role}: ${res.body.slice(0, 200)}`).not.toContain(res.statusCode);
        else if (method === 'HEAD') expect(res.statusCode, `${method} ${url} as ${role}`).toBe(403);
        else {
          const body = problemOf(res, 403, 'TL_FORBIDDEN', `${method} ${url} as ${role}`);
          expect(body.detail).toMatch(new RegExp(`role ${role} may not ${method}`));
        }
        observed.push(`${method} ${url} ${role} ${allowed ? 'allowed' : 'refused'}`);
      }
    }
    expect(observed.length).toBeGreaterThanOrEqual(Object.keys(EXPECTED_ROLES).length * ROLES.length - ROLES.length);
    // A refusal of an authenticated caller is in the audit trail.
    const refused = await store.db.selectFrom('audit_log').select(['actor', 'details']).where('action', '=', 'access.refused').execute();
    expect(refused.some((r) => r.actor === `key:${keys.viewer.id}` && (r.details as { route: string }).route === '/v1/observations')).toBe(true);
  });

  it('API keys work as a bearer token or an x-api-key header; anything else is 401 with a reason', async () => {
    const analyst = keys.analyst;
    expect((await app.inject({ url: '/v1/me', headers: { 'x-api-key': analyst.key } })).json()).toMatchObject({ subject: `key:${analyst.id}`, agency: 'agency-a', role: 'analyst', source: 'api_key' });
    const cases: [Record<string, string>, RegExp][] = [
      [{ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }, /must be "Bearer/],
      [{ authorization: `Bearer ${analyst.key}`, 'x-api-key': keys.viewer.key }, /send one credential/],
      [{ authorization: 'Bearer tlk_0123456789ab_' + 'A'.repeat(43) }, /the API key is not valid/],
      [{ 'x-api-key': 'tlk_short' }, /not well-formed/],
      [{ authorization: `Bearer ${analyst.key.slice(0, -1)}x` }, /the API key is not valid/],
    ];
    for (const [headers, reason] of cases) {
      const body = problemOf(await app.inject({ url: '/v1/indicators', headers }), 401, 'TL_UNAUTHENTICATED', JSON.stringify(headers));
      expect(body.detail).toMatch(reason);
    }
  });

  it('an admin creates agencies and keys; a new key works at once, a revoked one stops at once, an expired one is refused', async () => {
    const admin = keys.admin.headers;
    const agency = await app.inject({ method: 'POST', url: '/v1/agencies', headers: admin, payload: { code: 'nl-police', name: 'Netherlands Police' } });
    expect(agency.statusCode).toBe(201);
    problemOf(await app.inject({ method: 'POST', url: '/v1/agencies', headers: admin, payload: { code: 'nl-police', name: 'again' } }), 409, 'TL_CONFLICT', 'duplicate agency');
    const created = await app.inject({ method: 'POST', url: '/v1/keys', headers: admin, payload: { name: 'dashboard', agency: 'nl-police', role: 'viewer', expiresInDays: 30 } });
    expect(created.statusCode).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const key = created.json();
    expect(key).toMatchObject({ agency: 'nl-police', role: 'viewer', status: 'active' });
    expect(key.key).toMatch(/^tlk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect((Date.parse(key.expiresAt) - Date.now()) / 86_400_000).toBeCloseTo(30, 1);
    const viewer = { authorization: `Bearer ${key.key}` };
    expect((await app.inject({ url: '/v1/me', headers: viewer })).json()).toMatchObject({ agency: 'nl-police', role: 'viewer' });

    const listed = (await app.inject({ url: '/v1/keys', headers: admin })).json().keys;
    expect(listed.find((k: { id: string }) => k.id === key.id)).toMatchObject({ name: 'dashboard', status: 'active' });
    expect(JSON.stringify(listed)).not.toContain(key.key.slice(17));
    const stored = await store.db.selectFrom('api_keys').selectAll().where('id', '=', key.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(stored)).not.toContain(key.key.slice(17));

    const revoked = await app.inject({ method: 'DELETE', url: `/v1/keys/${key.id}`, headers: admin });
    expect(revoked.json()).toMatchObject({ id: key.id, status: 'revoked', revokedBy: `key:${keys.admin.id}` });
    expect(problemOf(await app.inject({ url: '/v1/me', headers: viewer }), 401, 'TL_UNAUTHENTICATED', 'revoked').detail).toMatch(new RegExp(`API key ${key.id} was revoked`));
    const all = (await app.inject({ url: '/v1/keys?all=true', headers: admin })).json().keys;
    expect(all.find((k: { id: string }) => k.id === key.id).status).toBe('revoked');

    const old = await testKey(store, 'analyst', 'nl-police');
    await store.db.updateTable('api_keys').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', old.id).execute();
    expect(problemOf(await app.inject({ url: '/v1/me', headers: old.headers }), 401, 'TL_UNAUTHENTICATED', 'expired').detail).toMatch(/expired on/);

    const actions = (await store.db.selectFrom('audit_log').select('action').where('actor', '=', `key:${keys.admin.id}`).execute()).map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['agency.create', 'key.create', 'key.revoke']));
  });

  it('accepts JWTs with sub, agency, role and exp signed with the configured secret, and nothing else', async () => {
    const good = signJwt({ sub: 'alice', agency: 'agency-b', role: 'data_scientist' }, JWT_SECRET, 600);
    expect((await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${good}` } })).json()).toMatchObject({ subject: 'jwt:alice', agency: 'agency-b', role: 'data_scientist', source: 'jwt' });
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'x', agency: 'agency-a', role: 'admin', exp: 9e9 })).toString('base64url')}.`;
    const cases: [string, RegExp][] = [
      [signJwt({ sub: 'alice', agency: 'agency-b', role: 'analyst' }, JWT_SECRET, -10), /expired/],
      [signJwt({ sub: 'alice', agency: 'agency-b', role: 'analyst' }, 'another-secret-another-secret-another-secret', 600), /signature/],
      [signJwt({ sub: 'alice', agency: 'agency-b', role: 'superuser' }, JWT_SECRET, 600), /"role" claim/],
      [signJwt({ sub: 'alice', role: 'analyst' }, JWT_SECRET, 600), /"agency" claim/],
      [none, /not valid/],
      ['not.a.token', /not valid/],
    ];
    for (const [token, reason] of cases) {
      expect(problemOf(await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${token}` } }), 401, 'TL_UNAUTHENTICATED', token).detail).toMatch(reason);
    }
    const keysOnly = await buildApp({ store, access: { rateLimit: false } });
    try {
      expect(problemOf(await keysOnly.inject({ url: '/v1/me', headers: { authorization: `Bearer ${good}` } }), 401, 'TL_UNAUTHENTICATED', 'no jwt').detail).toMatch(/accepts API keys only/);
    } finally {
      await keysOnly.close();
    }
    await expect(buildApp({ store, access: { jwt: { secret: 'short' } } })).rejects.toThrow(/at least 32 characters/);
  });

  it('with demo access, requests without a credential are the demo analyst; credentials still count', async () => {
    const demo = await buildApp({ store, access: { rateLimit: false, demoAccess: { role: 'analyst', agency: 'demo' } } });
    try {
      expect((await demo.inject('/v1/me')).json()).toMatchObject({ subject: 'demo', role: 'analyst', agency: 'demo', source: 'demo' });
      expect((await demo.inject('/v1/risk-scores?year=2020')).statusCode).toBe(200);
      problemOf(await demo.inject('/v1/audit'), 403, 'TL_FORBIDDEN', 'demo reading the audit trail');
      expect((await demo.inject({ url: '/v1/audit', headers: keys.oversight.headers })).statusCode).toBe(200);
    } finally {
      await demo.close();
    }
  });

  it('refuses to start with a /v1 route that declares no access', async () => {
    const other = await buildApp({ store });
    try {
      expect(() => other.get('/v1/unguarded', async () => ({ secret: true }))).toThrow(/route GET \/v1\/unguarded declares no access rule/);
      expect(() => other.get('/v1/bad-role', { config: { access: { roles: ['superuser' as Role] } } }, async () => ({}))).toThrow(/access.roles must list roles/);
    } finally {
      await other.close();
    }
  });

  it('analysts state a purpose for assessments and for data beyond public data', async () => {
    const analyst = keys.analyst.headers;
    const body = { framework: 'osce-threat', year: 2020, entity: 'DEU', runs: 10 };
    problemOf(await app.inject({ method: 'POST', url: '/v1/assessments', headers: analyst, payload: body }), 400, 'TL_PURPOSE_REQUIRED', 'no purpose');
    problemOf(await app.inject({ method: 'POST', url: '/v1/assessments', headers: analyst, payload: { ...body, purpose: '  ' } }), 400, 'TL_PURPOSE_REQUIRED', 'blank purpose');
    problemOf(await app.inject({ method: 'POST', url: '/v1/assessments', headers: analyst, payload: { ...body, purpose: 'ab' } }), 400, 'TL_BAD_OPTION', 'too short');
    const scoped = async (headers: Record<string, string>, query = '') => (await app.inject({ url: `/v1/observations?limit=1${query}`, headers })).headers['x-data-scope'];
    expect(await scoped(analyst)).toBe('public');
    expect(await scoped(analyst, '&purpose=trafficking%20case%2042')).toBe('agency:agency-a');
    expect(await scoped({ ...analyst, 'x-purpose': 'trafficking case 42' })).toBe('agency:agency-a');
    expect(await scoped({ ...keys.data_scientist.headers, 'x-purpose': 'model training' })).toBe('agency:agency-a');
    expect((await app.inject({ url: '/v1/risk-scores?year=2020&purpose=oversight%20review', headers: keys.oversight.headers })).headers['x-data-scope']).toBe('public');
    const doc = (await app.inject('/docs/json')).json();
    expect(doc.paths['/v1/observations'].get.parameters.map((p: { name: string }) => p.name)).toContain('purpose');
    expect(doc.paths['/v1/observations'].get.security).toEqual([{ bearer: [] }, { apiKey: [] }]);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('sends security headers; allows only configured origins; limits bodies; hides internals of errors', async () => {
    // API answers: OWASP's set for APIs (REST Security Cheat Sheet), a refusal too.
    const res = await app.inject({ url: '/v1/indicators', headers: keys.viewer.headers });
    const refused = await app.inject({ url: '/v1/indicators', headers: { authorization: 'Bearer tl_nope' } });
    expect(refused.statusCode).toBe(401);
    expect(apiSecurityHeaders()).toMatchObject({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'content-security-policy': "frame-ancestors 'none'", 'cache-control': 'no-store' });
    for (const answer of [res, refused]) {
      for (const [name, value] of Object.entries(apiSecurityHeaders())) expect(answer.headers[name], name).toBe(value);
      // helmet's headers for HTML documents are left off data.
      expect(answer.headers['referrer-policy']).toBeUndefined();
    }
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    // A route that sends an ETag says how it may be cached: revalidated, not stored blindly.
    const scores = await app.inject({ url: '/v1/risk-scores?year=2020', headers: keys.viewer.headers });
    expect(scores.headers['cache-control']).toBe('private, no-cache');
    // Pages: exactly the headers helmet's middleware sets on a real Node response, taken once.
    const live = await helmetOnRealResponse();
    expect(securityHeaders()).toEqual(live);
    expect(Object.keys(live).length).toBeGreaterThanOrEqual(10);
    expect(live['content-security-policy']).toMatch(/default-src 'self'/);
    expect(live['content-security-policy']).not.toMatch(/upgrade-insecure-requests/);
    const page = await app.inject({ url: '/docs' });
    for (const [name, value] of Object.entries(live)) expect(page.headers[name], name).toBe(value);

    const withCors = await buildApp({ store, access: { rateLimit: false, corsOrigins: ['https://dashboard.example'] } });
    try {
      const preflight = (origin: string) =>
        withCors.inject({ method: 'OPTIONS', url: '/v1/risk-scores', headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
      const allowed = await preflight('https://dashboard.example');
      expect(allowed.statusCode).toBe(204);
      expect(allowed.headers['access-control-allow-origin']).toBe('https://dashboard.example');
      expect(allowed.headers['access-control-allow-headers']).toMatch(/authorization/);
      expect((await preflight('https://evil.example')).headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await withCors.close();
    }

    const big = await app.inject({ method: 'POST', url: '/v1/assessments', headers: { ...keys.analyst.headers, 'content-type': 'application/json' }, payload: JSON.stringify({ purpose: 'x'.repeat(300_000) }) });
    expect(problemOf(big, 413, 'TL_HTTP_413', 'a 300 kB body').title).toBe('Request body too large');

    const nul = await app.inject({ url: '/v1/observations?indicator=%00abc', headers: keys.analyst.headers });
    expect(problemOf(nul, 400, 'TL_BAD_OPTION', 'NUL in a query').detail).toMatch(/querystring\/indicator: text must not contain NUL/);

    const broken = await buildApp({ store, access: { rateLimit: false } });
    try {
      broken.get('/v1/broken', { config: { access: { roles: ROLES } } }, async () => sql`select secret_column from no_such_table`.execute(store.db));
      const res500 = await broken.inject({ url: '/v1/broken', headers: keys.viewer.headers });
      const body = problemOf(res500, 500, 'TL_INTERNAL', 'a failing query');
      expect(res500.body).not.toMatch(/no_such_table|secret_column|select|at .*\.ts/i);
      expect(body.detail).toMatch(/internal error occurred; it has been logged with request id/);
    } finally {
      await broken.close();
    }
  });

  it('limits requests per principal, and per address when the credential fails', async () => {
    const limited = await buildApp({ store, access: { rateLimit: { max: 3, timeWindowMs: 60_000 } } });
    try {
      const call = (headers: Record<string, string>) => limited.inject({ url: '/v1/indicators', headers });
      for (let i = 0; i < 3; i++) expect((await call(keys.viewer.headers)).statusCode).toBe(200);
      const over = await call(keys.viewer.headers);
      expect(problemOf(over, 429, 'TL_RATE_LIMITED', '4th request').detail).toMatch(/more than 3 requests in 60 s/);
      expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
      // Another principal from the same address has its own allowance.
      expect((await call(keys.analyst.headers)).statusCode).toBe(200);
      const wrong = { authorization: `Bearer tlk_0123456789ab_${'B'.repeat(43)}` };
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await call(wrong)).statusCode);
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
    } finally {
      await limited.close();
    }
  });
});

/** What helmet's middleware, with ThreatLens's options, sets on a real response of Node's HTTP server. */
async function helmetOnRealResponse(): Promise<Record<string, string>> {
  const middleware = helmet({ contentSecurityPolicy: { useDefaults: true, directives: { upgradeInsecureRequests: null } } });
  const server = createServer((req, res: ServerResponse) => {
    middleware(req, res, () => {
      const headers = Object.fromEntries(Object.entries(res.getHeaders()).map(([k, v]) => [k, String(v)]));
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(headers));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as { port: number };
    return (await (await fetch(`http://127.0.0.1:${port}/`)).json()) as Record<string, string>;
  } finally {
    server.close();
  }
}
