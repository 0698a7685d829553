/**
 * Signing HS256 tokens for `threatlens token` and the tests. In production an identity provider
 * signs them; the server only verifies (@fastify/jwt). Kept to HS256 on purpose: the one
 * algorithm a shared secret from THREATLENS_JWT_SECRET can sign.
 */
import { createHmac } from 'node:crypto';

function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

/** A compact JWS (RFC 7515) with `iat` and `exp` added; `expiresInSeconds` from now. */
export function signJwt(claims: Record<string, unknown>, secret: string, expiresInSeconds: number, now = Date.now()): string {
  const iat = Math.floor(now / 1000);
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = base64url(JSON.stringify({ ...claims, iat, exp: iat + expiresInSeconds }));
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}
