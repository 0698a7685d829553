/**
 * The command line of access control, run as a user runs it (child processes on a PGlite data
 * directory): agencies, `keys create|list|revoke`, `token`, and `serve` with and without
 * `--demo-access` (the warning, and what an anonymous request gets).
 */
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './support/fixtures.ts';

const run = promisify(execFile);
const JWT_SECRET = 'cli-secret-cli-secret-cli-secret-0123456789';

async function threatlens(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/threatlens.mjs', ...args], { env: { ...process.env, DATABASE_URL: '', ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Starts `threatlens serve`, waits until it listens, runs `work`, then stops it with SIGTERM. */
async function withServer(env: NodeJS.ProcessEnv, args: string[], work: (url: string, log: () => string) => Promise<void>): Promise<void> {
  const port = await freePort();
  const child = spawn(process.execPath, ['bin/threatlens.mjs', 'serve', '--no-demo', '--port', String(port), ...args], { env: { ...process.env, DATABASE_URL: '', ...env } });
  let log = '';
  child.stderr.on('data', (chunk) => (log += chunk));
  child.stdout.on('data', (chunk) => (log += chunk));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start:\n${log}`)), 90_000);
      const check = () => (log.includes('ThreatLens API on') ? (clearTimeout(timer), resolve()) : undefined);
      child.stderr.on('data', check);
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${log}`)));
    });
    await work(`http://127.0.0.1:${port}`, () => log);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

describe('threatlens keys, agencies, token and serve', () => {
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    env = { THREATLENS_DATA_DIR: `${await tempDir()}/store`, THREATLENS_JWT_SECRET: JWT_SECRET, USER: 'cli-tester' };
  });

  it('creates an agency and a key (shown once), lists keys without secrets, revokes; all audited', async () => {
    const missing = await threatlens(env, 'keys', 'create', '--agency', 'no-such', '--role', 'analyst', '--name', 'x');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/TL_NOT_FOUND: agency "no-such" does not exist; create it first/);
    const agency = await threatlens(env, 'agencies', 'add', '--code', 'agency-a', '--name', 'Agency A');
    expect(agency.code, agency.stderr).toBe(0);
    const created = await threatlens(env, 'keys', 'create', '--agency', 'agency-a', '--role', 'oversight', '--name', 'ombudsman desk', '--expires-in-days', '7');
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toMatch(/Store it now: it is not shown again/);
    const key = JSON.parse(created.stdout);
    expect(key).toMatchObject({ agency: 'agency-a', role: 'oversight', name: 'ombudsman desk', status: 'active', createdBy: 'cli:cli-tester' });
    expect(key.key).toMatch(/^tlk_[0-9a-f]{12}_/);

    const listed = await threatlens(env, 'keys', 'list');
    expect(JSON.parse(listed.stdout).map((k: { id: string }) => k.id)).toEqual([key.id]);
    expect(listed.stdout).not.toContain(key.key.slice(17));
    const revoked = await threatlens(env, 'keys', 'revoke', key.id);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ id: key.id, status: 'revoked', revokedBy: 'cli:cli-tester' });
    expect(JSON.parse((await threatlens(env, 'keys', 'list', '--all')).stdout).map((k: { status: string }) => k.status)).toEqual(['revoked']);

    const audit = await threatlens(env, 'audit', 'export');
    const actions = audit.stdout.trim().split('\n').map((l) => JSON.parse(l)).map((e: { action: string; actor: string }) => `${e.action} ${e.actor}`);
    expect(actions).toEqual(['agency.create cli:cli-tester', 'key.create cli:cli-tester', 'key.revoke cli:cli-tester']);
    const verified = await threatlens(env, 'audit', 'verify');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^OK: 3 entries \(ids 1-3\), head [0-9a-f]{64}/);
  }, 400_000);

  it('serve answers only /health and the docs without a key; with --demo-access, anonymous requests are the demo analyst, with a warning', async () => {
    const admin = JSON.parse((await threatlens(env, 'keys', 'create', '--agency', 'agency-a', '--role', 'admin', '--name', 'admin')).stdout).key as string;
    await withServer(env, [], async (url, log) => {
      expect(log()).not.toMatch(/WARNING/);
      expect((await fetch(`${url}/health`)).status).toBe(200);
      expect((await fetch(`${url}/docs/json`)).status).toBe(200);
      const anonymous = await fetch(`${url}/v1/indicators`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('content-type')).toMatch(/problem\+json/);
      const me = await fetch(`${url}/v1/me`, { headers: { authorization: `Bearer ${admin}` } });
      expect(await me.json()).toMatchObject({ role: 'admin', agency: 'agency-a' });
      const token = (await threatlens(env, 'token', '--subject', 'alice', '--agency', 'agency-a', '--role', 'viewer', '--expires-in', '300')).stdout.trim();
      const asJwt = await fetch(`${url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(await asJwt.json()).toMatchObject({ subject: 'jwt:alice', role: 'viewer', source: 'jwt' });
      expect(asJwt.headers.get('x-content-type-options')).toBe('nosniff');
    });
    await withServer(env, ['--demo-access'], async (url, log) => {
      expect(log()).toMatch(/WARNING: demo access is on: requests without a credential are served as role analyst of agency "demo"/);
      expect(await (await fetch(`${url}/v1/me`)).json()).toMatchObject({ subject: 'demo', role: 'analyst', source: 'demo' });
      expect((await fetch(`${url}/v1/audit`)).status).toBe(403);
    });
    const bad = await threatlens(env, 'serve', '--demo-access', 'root', '--no-demo');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--demo-access: "root" is not one of viewer, analyst/);
  }, 400_000);
});
