/**
 * Credentials: an API key (`Authorization: Bearer tlk_...` or `x-api-key: tlk_...`) or a JWT
 * (`Authorization: Bearer eyJ...`, verified by @fastify/jwt with a secret or public key from the
 * environment). Both map to a principal: subject, agency, role.
 */
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { isAgencyCode, isRole, type Principal } from '../../engine/access/roles.ts';
import { ThreatLensError } from '../../engine/errors.ts';
import { looksLikeApiKey, verifyApiKey, type KeyCheck } from '../../engine/store/keys.ts';
import type { Database } from '../../engine/store/schema.ts';

export interface JwtOptions {
  /** HS256 shared secret (at least 32 characters). */
  readonly secret?: string;
  /** PEM public key of an identity provider (RS256, ES256, EdDSA...). */
  readonly publicKey?: string;
  readonly issuer?: string;
  readonly audience?: string;
}

/** Reads THREATLENS_JWT_SECRET, THREATLENS_JWT_PUBLIC_KEY, THREATLENS_JWT_ISSUER, THREATLENS_JWT_AUDIENCE. */
export function jwtOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): JwtOptions | undefined {
  const secret = env.THREATLENS_JWT_SECRET || undefined;
  const publicKey = env.THREATLENS_JWT_PUBLIC_KEY || undefined;
  if (!secret && !publicKey) return undefined;
  return {
    ...(secret ? { secret } : {}),
    ...(publicKey ? { publicKey: publicKey.replace(/\\n/g, '\n') } : {}),
    ...(env.THREATLENS_JWT_ISSUER ? { issuer: env.THREATLENS_JWT_ISSUER } : {}),
    ...(env.THREATLENS_JWT_AUDIENCE ? { audience: env.THREATLENS_JWT_AUDIENCE } : {}),
  };
}

export const MIN_JWT_SECRET_LENGTH = 32;

export function unauthenticated(detail: string): ThreatLensError {
  return new ThreatLensError('TL_UNAUTHENTICATED', detail);
}

/** The one credential a request presents, or null. Two different ones are refused. */
export function presentedCredential(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  let bearer: string | null = null;
  if (header !== undefined) {
    const match = /^Bearer[ ]+([^ ]+)[ ]*$/i.exec(header);
    if (!match) throw unauthenticated('the Authorization header must be "Bearer <API key or token>"');
    bearer = match[1]!;
  }
  const apiKeyHeader = request.headers['x-api-key'];
  if (Array.isArray(apiKeyHeader)) throw unauthenticated('send one x-api-key header');
  const apiKey = apiKeyHeader === undefined ? null : apiKeyHeader.trim();
  if (bearer !== null && apiKey !== null && bearer !== apiKey) throw unauthenticated('send one credential: Authorization or x-api-key, not both');
  const credential = bearer ?? apiKey;
  if (credential === '') throw unauthenticated('the credential is empty');
  return credential;
}

/** A principal from verified JWT claims: `sub`, `agency`, `role` and `exp` are required. */
export function principalFromClaims(claims: Record<string, unknown>): Principal {
  const { sub, agency, role, exp } = claims;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 200) throw unauthenticated('the token has no valid "sub" claim');
  if (!isAgencyCode(agency)) throw unauthenticated('the token has no valid "agency" claim (an agency code)');
  if (!isRole(role)) throw unauthenticated('the token\'s "role" claim is not one of viewer, analyst, data_scientist, oversight, admin');
  return {
    subject: `jwt:${sub}`,
    agency,
    role,
    source: 'jwt',
    ...(typeof exp === 'number' ? { expiresAt: new Date(exp * 1000).toISOString() } : {}),
  };
}

/**
 * API key checks, remembered for a few seconds so that a busy dashboard does not cost a query per
 * request. A key revoked through the API is forgotten at once (`forget`); one revoked from the
 * command line, in another process, stops working within `ttlMs`.
 */
export class KeyVerifier {
  /** `until`: when the check must be made again; never later than the key's expiry. */
  private readonly cache = new Map<string, { check: KeyCheck; until: number }>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  async verify(key: string): Promise<Principal> {
    if (!looksLikeApiKey(key)) throw unauthenticated('not an API key');
    const now = Date.now();
    // Keyed by the key itself, which this process sees on every request anyway: hashing it per
    // request cost 4% of a dashboard read. The database only ever holds the hash.
    let entry = this.cache.get(key);
    if (!entry || entry.until <= now) {
      // The database check refuses expired keys; a remembered check ends when the key expires.
      const check = await verifyApiKey(this.db, key);
      const expiresAt = check.ok && check.principal.expiresAt ? Date.parse(check.principal.expiresAt) : Infinity;
      entry = { check, until: Math.min(now + this.ttlMs, expiresAt) };
      if (entry.until > now) {
        if (this.cache.size >= this.maxEntries) this.cache.clear();
        this.cache.set(key, entry);
      }
    }
    const { check } = entry;
    if (!check.ok) throw unauthenticated(check.reason);
    return check.principal;
  }

  /** The principal of a key checked recently and still valid, without waiting; undefined otherwise. */
  peek(key: string): Principal | undefined {
    const entry = this.cache.get(key);
    if (!entry || entry.until <= Date.now() || !entry.check.ok) return undefined;
    return entry.check.principal;
  }

  forget(): void {
    this.cache.clear();
  }
}
