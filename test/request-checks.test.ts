/**
 * The checks every request passes before its handler (api/auth/plugin.ts): text PostgreSQL cannot
 * store (NUL, a lone UTF-16 surrogate) and numbers that are not finite are refused with a 400 that
 * names where they are, at any depth of the query or the body.
 */
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../api/app.ts';
import type { Store } from '../engine/store/database.ts';
import { testKey } from './support/principals.ts';
import { openTestStore } from './support/stores.ts';

describe('request checks before a handler', () => {
  let store: Store;
  let app: App;
  let headers: Record<string, string>;

  beforeAll(async () => {
    store = await openTestStore('pglite');
    app = await buildApp({ store, access: { rateLimit: false } });
    headers = (await testKey(store, 'analyst', 'agency-a')).headers;
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  const detail = async (request: InjectOptions) => {
    const res = await app.inject(request);
    expect(res.statusCode, res.body).toBe(400);
    return res.json().detail as string;
  };

  it('names the query parameter holding NUL', async () => {
    expect(await detail({ url: '/v1/risk-scores?node=a%00b', headers })).toMatch(/^querystring\/node: text must not contain NUL/);
  });

  it('names the place in a nested body, array indices included', async () => {
    const payload = JSON.stringify({ framework: 'osce-threat-demo', options: { list: ['fine', 'fine', '\ud800'] } });
    expect(await detail({ method: 'POST', url: '/v1/assessments', headers: { ...headers, 'content-type': 'application/json' }, payload })).toMatch(/^body\/options\/list\[2\]: text must not/);
    const badKey = JSON.stringify({ framework: 'osce-threat-demo', options: { 'a\u0000': 1 } });
    expect(await detail({ method: 'POST', url: '/v1/assessments', headers: { ...headers, 'content-type': 'application/json' }, payload: badKey })).toMatch(/^body\/options\/<a key>: text must not/);
  });

  it('names a number that is not finite after validation', async () => {
    // Ajv coerces the text "1e400" to Infinity, and checks minimum/maximum only on finite numbers.
    expect(await detail({ url: '/v1/nowcasts?entity=ALB&indicator=homicide_rate&level=1e400', headers })).toBe('querystring/level must be a finite number');
  });

  it('lets well-formed text through, surrogate pairs included', async () => {
    // Past the checks, the handler answers: there is no data in this store yet.
    const res = await app.inject({ url: `/v1/risk-scores?node=${encodeURIComponent('🙂')}`, headers });
    expect(res.statusCode, res.body).toBe(404);
    expect(res.json().code).toBe('TL_NO_SCORES');
  });
});
