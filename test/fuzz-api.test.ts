/**
 * Fuzzing the API: at least 10,000 malformed requests per store kind, generated with fast-check
 * (seeded) from the OpenAPI document at /docs/json, across every documented operation and random
 * paths: bad and odd credentials, path parameters, query values of the wrong type or range,
 * repeated and unknown parameters, broken JSON, wrong content types, oversized and deeply nested
 * bodies, odd purposes and headers. Nothing may answer 5xx, every error must be problem+json with
 * type, title, status, detail and code, and none may show a stack trace or SQL.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../api/app.ts';
import { signJwt } from '../api/auth/tokens.ts';
import { ingestFile } from '../datasets/ingest.ts';
import { OSCE_PARTICIPATING_ISO3 } from '../datasets/reference/osce.ts';
import { ROLES, type Role } from '../engine/access/roles.ts';
import { refreshRiskScores } from '../engine/scoring/refresh.ts';
import type { Store } from '../engine/store/database.ts';
import { tempDir, writeFixture } from './support/fixtures.ts';
import { testKey } from './support/principals.ts';
import { openTestStore, STORE_KINDS } from './support/stores.ts';

const REQUESTS = 10_000;
/** FUZZ_SEED=n explores other requests; the suite uses the fixed seed. */
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 20261122;
const JWT_SECRET = 'fuzz-secret-fuzz-secret-fuzz-secret-0123456789';

interface Operation {
  readonly method: string;
  readonly path: string;
  readonly query: readonly { name: string; schema: Record<string, unknown>; required: boolean }[];
  readonly pathParams: readonly { name: string; schema: Record<string, unknown> }[];
  readonly bodyProperties: readonly string[];
}

interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
  label: string;
}

/** Operations of the OpenAPI document (3.1, as @fastify/swagger writes it). */
function operationsOf(doc: any): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(item)) {
      if (!['get', 'post', 'put', 'delete', 'patch'].includes(method)) continue;
      const params: any[] = op.parameters ?? [];
      let body = op.requestBody?.content?.['application/json']?.schema ?? {};
      if (body.$ref) body = doc.components?.schemas?.[String(body.$ref).split('/').pop()!] ?? {};
      ops.push({
        method: method.toUpperCase(),
        path,
        query: params.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema ?? {}, required: p.required === true })),
        pathParams: params.filter((p) => p.in === 'path').map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        bodyProperties: Object.keys(body.properties ?? {}),
      });
    }
  }
  return ops;
}

const weird = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('', ' ', '-1', '0', '1e400', '-1e400', 'NaN', 'Infinity', 'null', 'true', '[]', '{}', '../../etc/passwd', '%00', '%', '%zz', '\u0000',
    "' or 1=1 --", '"; drop table audit_log; --', '<script>alert(1)</script>', '9'.repeat(40), '2147483648', '-2147483649', '1.5', '0x10', 'ALB', 'osce-threat-demo',
    'node:risk', 'area:homicide', 'indicator:homicide_rate', 'a'.repeat(5000), 'é', '\uD800', '🙂', '2022-13-45T99:99:99Z', '2026-11-22T10:00:00Z'),
  fc.integer().map(String),
  fc.double().map(String),
);

/** A value for a schema: mostly wrong (type, range, pattern), sometimes conforming but bounded. */
function valueFor(schema: Record<string, unknown>): fc.Arbitrary<string> {
  const conforming: fc.Arbitrary<string>[] = [];
  if (schema.type === 'integer' || schema.type === 'number') {
    const min = typeof schema.minimum === 'number' ? Math.ceil(schema.minimum) : -1000;
    const max = typeof schema.maximum === 'number' ? Math.floor(schema.maximum) : 1000;
    // Bounded so that a valid request stays cheap (Monte Carlo runs, limits): the point is malformed input.
    const lo = Math.max(min, -1e9);
    conforming.push(fc.integer({ min: lo, max: Math.max(lo, Math.min(max, lo + 200)) }).map(String));
    conforming.push(fc.constantFrom(String(min), String(max), String(max + 1), String(min - 1)));
  } else if (schema.type === 'boolean') {
    conforming.push(fc.constantFrom('true', 'false', '1', '0', 'yes'));
  } else if (typeof schema.pattern === 'string') {
    conforming.push(fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length < 300));
  }
  const literals = [schema.const, ...((schema.enum as unknown[]) ?? []), ...((schema.anyOf as { const?: unknown }[]) ?? []).map((s) => s.const)].filter((x) => x !== undefined).map(String);
  if (literals.length > 0) conforming.push(fc.constantFrom(...literals));
  return conforming.length > 0 ? fc.oneof({ arbitrary: weird, weight: 3 }, { arbitrary: fc.oneof(...conforming), weight: 2 }) : weird;
}

const enc = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return escape(s); // lone surrogates: encodeURIComponent refuses them
  }
};

function bodyArbitrary(op: Operation): fc.Arbitrary<{ payload: string; contentType: string | null }> {
  const json = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    op.bodyProperties.length > 0
      ? fc.dictionary(fc.constantFrom(...op.bodyProperties, 'extra', '__proto__', 'constructor'), fc.oneof(fc.jsonValue({ maxDepth: 2 }), weird), { maxKeys: op.bodyProperties.length + 2 })
      : fc.object(),
  );
  return fc.oneof(
    { arbitrary: json.map((v) => ({ payload: JSON.stringify(v) ?? 'null', contentType: 'application/json' })), weight: 6 },
    { arbitrary: fc.string().map((s) => ({ payload: `{"framework": ${s}`, contentType: 'application/json' })), weight: 1 },
    { arbitrary: fc.constantFrom('', '{', '[1,2', '{"a":1}}', 'null', '"text"', '{"purpose":"\\u0000"}', '{"purpose":"\\ud800"}', '{"a":' + '['.repeat(2000) + ']'.repeat(2000) + '}').map((p) => ({ payload: p, contentType: 'application/json' })), weight: 1 },
    {
      arbitrary: fc
        .tuple(fc.jsonValue(), fc.constantFrom('text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'application/json-patch+json'))
        .map(([v, contentType]) => ({ payload: JSON.stringify(v) ?? '', contentType })),
      weight: 1,
    },
    { arbitrary: fc.constant({ payload: JSON.stringify({ purpose: 'x'.repeat(400_000) }), contentType: 'application/json' }), weight: 1 },
    { arbitrary: fc.constant({ payload: '{}', contentType: null }), weight: 1 },
  );
}

describe.each(STORE_KINDS)('fuzzing the API on %s', (kind) => {
  let store: Store;
  let app: App;
  let operations: Operation[];
  const credentials: Record<string, Record<string, string>> = {};

  beforeAll(async () => {
    store = await openTestStore(kind);
    const lines = ['entity,period,indicator,value'];
    OSCE_PARTICIPATING_ISO3.forEach((iso3, i) => lines.push(`${iso3},2021,homicide_rate,${(i + 1) / 10}`, `${iso3},2022,homicide_rate,${(i + 2) / 10}`, `${iso3},2022,wgi_rule_of_law,${(i % 5) - 2}`));
    const dir = await tempDir();
    await ingestFile(store, await writeFixture(dir, 'public.csv', `${lines.join('\n')}\n`), { grade: 'B2' });
    await ingestFile(store, await writeFixture(dir, 'restricted.csv', 'entity,period,indicator,value\nALB,2022,homicide_rate,55\n'), { grade: 'B2', owner: 'agency-a', sharing: 'restricted', sharedWith: ['agency-b'] });
    await refreshRiskScores(store.db);
    app = await buildApp({ store, access: { rateLimit: false, jwt: { secret: JWT_SECRET } } });
    for (const role of ROLES) credentials[role] = (await testKey(store, role, 'agency-a')).headers;
    operations = operationsOf((await app.inject('/docs/json')).json());
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it(`answers ${REQUESTS.toLocaleString('en')} malformed requests without a 5xx, each error well-formed`, async () => {
    expect(operations.length).toBeGreaterThanOrEqual(17);
    // Mostly a role the operation allows, so that most requests reach validation and the handler.
    const allowedRoles = (op: Operation): Role[] => {
      const route = app.accessRules.find((r) => r.method === op.method && r.url === op.path.replace(/\{(\w+)\}/g, ':$1'));
      const rule = route?.rule;
      return rule && 'roles' in rule ? [...rule.roles] : [...ROLES];
    };
    const authFor = (op: Operation) => fc.oneof(
      { arbitrary: fc.constantFrom(...allowedRoles(op)).map((role) => credentials[role]!), weight: 24 },
      { arbitrary: auth, weight: 6 },
    );
    const auth = fc.oneof(
      { arbitrary: fc.constantFrom(...ROLES).map((role) => credentials[role]!), weight: 2 },
      { arbitrary: fc.constant({}), weight: 2 },
      { arbitrary: weird.map((s) => ({ authorization: `Bearer ${s.replace(/[^\t\x20-\x7e]/g, '')}` })), weight: 1 },
      { arbitrary: weird.map((s) => ({ authorization: s.replace(/[^\t\x20-\x7e]/g, '') })), weight: 1 },
      { arbitrary: fc.stringMatching(/^tlk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/).map((k) => ({ 'x-api-key': k })), weight: 1 },
      { arbitrary: fc.record({ sub: weird, agency: weird, role: fc.constantFrom(...ROLES, 'root', ''), exp: fc.integer({ min: -100, max: 1000 }) }).map((c) => ({ authorization: `Bearer ${signJwt(c, JWT_SECRET, c.exp)}` })), weight: 1 },
      { arbitrary: fc.constant({ authorization: `Bearer ${signJwt({ sub: 'x', agency: 'agency-a', role: 'analyst' }, 'wrong-secret-wrong-secret-wrong-secret-00', 60)}` }), weight: 1 },
    );
    const extraHeaders = fc.record(
      {
        'x-purpose': weird.map((s) => s.replace(/[^\t\x20-\x7e]/g, '')),
        'if-none-match': weird.map((s) => s.replace(/[^\t\x20-\x7e]/g, '')),
        accept: fc.constantFrom('*/*', 'text/html', 'application/xml', 'application/json', ''),
        origin: fc.constantFrom('https://evil.example', 'null'),
      },
      { requiredKeys: [] },
    );
    const forOperation = (op: Operation): fc.Arbitrary<FuzzRequest> =>
      fc
        .record({
          auth: authFor(op),
          extra: extraHeaders,
          pathValues: fc.tuple(...op.pathParams.map((p) => valueFor(p.schema)), fc.constant('')),
          query: fc.tuple(...op.query.map((q) => fc.option(fc.oneof({ arbitrary: valueFor(q.schema).map((v) => [v]), weight: 5 }, { arbitrary: fc.array(valueFor(q.schema), { minLength: 2, maxLength: 3 }), weight: 1 }))), fc.constant(null)),
          unknown: fc.option(fc.tuple(weird, weird)),
          body: bodyArbitrary(op),
        })
        .map(({ auth: a, extra, pathValues, query, unknown, body }) => {
          let path = op.path;
          op.pathParams.forEach((p, i) => (path = path.replace(`{${p.name}}`, enc(pathValues[i] as string))));
          const parts: string[] = [];
          op.query.forEach((q, i) => {
            for (const v of (query[i] as string[] | null) ?? []) parts.push(`${enc(q.name)}=${enc(v)}`);
          });
          if (unknown) parts.push(`${enc(unknown[0])}=${enc(unknown[1])}`);
          const headers: Record<string, string> = { ...a, ...extra };
          const withBody = op.method === 'POST' || op.method === 'PUT' || op.method === 'PATCH';
          if (withBody && body.contentType) headers['content-type'] = body.contentType;
          return { method: op.method, url: `${path}${parts.length ? `?${parts.join('&')}` : ''}`, headers, ...(withBody ? { payload: body.payload } : {}), label: `${op.method} ${op.path}` };
        });
    const randomPath: fc.Arbitrary<FuzzRequest> = fc
      .record({
        method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
        segments: fc.array(weird, { maxLength: 4 }),
        prefix: fc.constantFrom('/v1/', '/', '/docs/', '/v1/keys/', '/v1/assessments/', '/v1/audit/'),
        auth,
      })
      .map(({ method, segments, prefix, auth: a }) => ({ method, url: prefix + segments.map(enc).join('/'), headers: { ...a }, label: `${method} (random path)` }));
    const request = fc.oneof({ arbitrary: fc.oneof(...operations.map(forOperation)), weight: 9 }, { arbitrary: randomPath, weight: 1 });

    let sent = 0;
    const statuses = new Map<number, number>();
    const perOperation = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        const res = await app.inject({ method: req.method as 'GET', url: req.url, headers: req.headers, ...(req.payload !== undefined ? { payload: req.payload } : {}) });
        sent++;
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        perOperation.set(req.label, (perOperation.get(req.label) ?? 0) + 1);
        const where = `${req.method} ${req.url.slice(0, 200)} -> ${res.statusCode} ${res.body.slice(0, 300)}`;
        if (res.statusCode >= 500) throw new Error(`5xx: ${where}`);
        if (res.statusCode >= 400 && req.method !== 'HEAD') {
          if (!/^application\/problem\+json/.test(String(res.headers['content-type']))) throw new Error(`not problem+json: ${where}`);
          const p = JSON.parse(res.body);
          const wellFormed = typeof p.type === 'string' && p.type.startsWith('https://threatlens.dev/problems/') && typeof p.title === 'string' && p.status === res.statusCode && typeof p.detail === 'string' && typeof p.code === 'string';
          if (!wellFormed) throw new Error(`malformed problem: ${where}`);
          if (/\n\s+at |\.ts:\d+|node_modules|\bselect\b.+\bfrom\b|syntax error at|relation "|violates .* constraint/i.test(res.body)) throw new Error(`internals in an error: ${where}`);
        }
      }),
      { numRuns: REQUESTS, seed: SEED, endOnFailure: true },
    );
    expect(sent).toBeGreaterThanOrEqual(REQUESTS);
    for (const op of operations) expect(perOperation.get(`${op.method} ${op.path}`) ?? 0, `${op.method} ${op.path}`).toBeGreaterThan(50);
    console.log(`fuzz on ${kind}: ${sent} requests over ${operations.length} operations; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
  }, 900_000);
});
