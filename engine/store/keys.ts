/**
 * API keys: `tlk_<id>_<secret>`, 12 hex characters of id (shown in lists, used to revoke) and 32
 * random bytes of secret (base64url). Only the SHA-256 of the whole key is stored, so a copy of
 * the database gives no usable key; a key is shown once, when it is created. SHA-256 without a
 * slow KDF is enough because the secret is 256 random bits, not a password. Every creation and
 * revocation is an audit entry in the same transaction.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { isAgencyCode, isRole, type Principal, type Role } from '../access/roles.ts';
import { ThreatLensError } from '../errors.ts';
import { appendAudit } from './audit.ts';
import type { Database } from './schema.ts';

export const API_KEY_PREFIX = 'tlk_';
const API_KEY_PATTERN = /^tlk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
export const DEFAULT_KEY_DAYS = 90;
export const MAX_KEY_DAYS = 3650;

/** Who makes a change, for the audit trail. */
export interface AuditActor {
  readonly actor: string;
  readonly agency?: string | null;
  readonly role?: string | null;
}

export interface ApiKeyRecord {
  readonly id: string;
  readonly name: string;
  readonly agency: string;
  readonly role: Role;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly revokedAt: string | null;
  readonly revokedBy: string | null;
  readonly status: 'active' | 'expired' | 'revoked';
}

export interface NewApiKey {
  readonly name: string;
  readonly agency: string;
  readonly role: Role;
  /** Days until the key expires (default 90, at most 3650). */
  readonly expiresInDays?: number;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Whether a credential looks like an API key (rather than a JWT). */
export function looksLikeApiKey(credential: string): boolean {
  return credential.startsWith(API_KEY_PREFIX);
}

function toRecord(row: {
  id: string; name: string; agency: string; role: string; created_by: string; created_at: Date; expires_at: Date; revoked_at: Date | null; revoked_by: string | null;
}, now = new Date()): ApiKeyRecord {
  const expiresAt = new Date(row.expires_at);
  return {
    id: row.id,
    name: row.name,
    agency: row.agency,
    role: row.role as Role,
    createdBy: row.created_by,
    createdAt: new Date(row.created_at).toISOString(),
    expiresAt: expiresAt.toISOString(),
    revokedAt: row.revoked_at ? new Date(row.revoked_at).toISOString() : null,
    revokedBy: row.revoked_by,
    status: row.revoked_at ? 'revoked' : expiresAt.getTime() <= now.getTime() ? 'expired' : 'active',
  };
}

/** Creates a key; returns its record and the key itself (the only time it exists in clear). */
export async function createApiKey(db: Kysely<Database>, spec: NewApiKey, by: AuditActor): Promise<ApiKeyRecord & { key: string }> {
  if (!isRole(spec.role)) throw new ThreatLensError('TL_BAD_OPTION', `role "${spec.role}" is not one of viewer, analyst, data_scientist, oversight, admin`);
  if (!isAgencyCode(spec.agency)) throw new ThreatLensError('TL_BAD_OPTION', `agency "${spec.agency}" is not an agency code (lower-case letters, digits, . _ -; up to 64)`);
  const name = spec.name.trim();
  if (name === '' || name.length > 200) throw new ThreatLensError('TL_BAD_OPTION', 'a key needs a name of 1 to 200 characters (who or what uses it)');
  const days = spec.expiresInDays ?? DEFAULT_KEY_DAYS;
  if (!Number.isFinite(days) || days <= 0 || days > MAX_KEY_DAYS) {
    throw new ThreatLensError('TL_BAD_OPTION', `expiry must be more than 0 and at most ${MAX_KEY_DAYS} days; got ${days}`);
  }
  const id = randomBytes(6).toString('hex');
  const key = `${API_KEY_PREFIX}${id}_${randomBytes(32).toString('base64url')}`;
  const expiresAt = new Date(Date.now() + days * 86_400_000);
  return db.transaction().execute(async (trx) => {
    const agency = await trx.selectFrom('agencies').select('code').where('code', '=', spec.agency).executeTakeFirst();
    if (!agency) throw new ThreatLensError('TL_NOT_FOUND', `agency "${spec.agency}" does not exist; create it first (threatlens agencies add, or POST /v1/agencies)`);
    const row = await trx
      .insertInto('api_keys')
      .values({ id, name, agency: spec.agency, role: spec.role, secret_hash: hashApiKey(key), created_by: by.actor, expires_at: expiresAt })
      .returningAll()
      .executeTakeFirstOrThrow();
    await appendAudit(trx, {
      actor: by.actor,
      agency: by.agency ?? null,
      role: by.role ?? null,
      action: 'key.create',
      details: { keyId: id, name, keyAgency: spec.agency, keyRole: spec.role, expiresAt: expiresAt.toISOString() },
      outcome: 'ok',
    });
    return { ...toRecord(row), key };
  });
}

export async function listApiKeys(db: Kysely<Database>, options: { includeInactive?: boolean } = {}): Promise<ApiKeyRecord[]> {
  const rows = await db
    .selectFrom('api_keys')
    .select(['id', 'name', 'agency', 'role', 'created_by', 'created_at', 'expires_at', 'revoked_at', 'revoked_by'])
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  const records = rows.map((r) => toRecord(r));
  return options.includeInactive ? records : records.filter((r) => r.status === 'active');
}

/** Revokes a key at once. Unknown id: TL_NOT_FOUND; already revoked: the record, unchanged. */
export async function revokeApiKey(db: Kysely<Database>, id: string, by: AuditActor): Promise<ApiKeyRecord> {
  return db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    if (!existing) throw new ThreatLensError('TL_NOT_FOUND', `no API key ${id}; \`threatlens keys list --all\` lists them`);
    if (existing.revoked_at) return toRecord(existing);
    const row = await trx
      .updateTable('api_keys')
      .set({ revoked_at: new Date(), revoked_by: by.actor })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await appendAudit(trx, {
      actor: by.actor,
      agency: by.agency ?? null,
      role: by.role ?? null,
      action: 'key.revoke',
      details: { keyId: id, name: row.name, keyAgency: row.agency, keyRole: row.role },
      outcome: 'ok',
    });
    return toRecord(row);
  });
}

export type KeyCheck = { readonly ok: true; readonly principal: Principal } | { readonly ok: false; readonly reason: string };

/** Checks a presented key: well-formed, known, hash equal (constant time), not revoked, not expired. */
export async function verifyApiKey(db: Kysely<Database>, key: string, now = new Date()): Promise<KeyCheck> {
  const match = API_KEY_PATTERN.exec(key);
  if (!match) return { ok: false, reason: 'the API key is not well-formed (tlk_<12 hex>_<43 characters>)' };
  const id = match[1]!;
  const row = await db
    .selectFrom('api_keys')
    .select(['id', 'agency', 'role', 'secret_hash', 'expires_at', 'revoked_at'])
    .where('id', '=', id)
    .executeTakeFirst();
  const presented = Buffer.from(hashApiKey(key), 'hex');
  // Compare against a hash even for an unknown id, so that timing says nothing about which ids exist.
  const stored = Buffer.from(row?.secret_hash ?? hashApiKey(`${key}:unknown`), 'hex');
  const equal = stored.length === presented.length && timingSafeEqual(stored, presented);
  if (!row || !equal) return { ok: false, reason: 'the API key is not valid' };
  if (row.revoked_at) return { ok: false, reason: `API key ${id} was revoked` };
  const expiresAt = new Date(row.expires_at);
  if (expiresAt.getTime() <= now.getTime()) return { ok: false, reason: `API key ${id} expired on ${expiresAt.toISOString()}` };
  if (!isRole(row.role)) return { ok: false, reason: `API key ${id} has an unknown role` };
  return {
    ok: true,
    principal: { subject: `key:${id}`, agency: row.agency, role: row.role, source: 'api_key', keyId: id, expiresAt: expiresAt.toISOString() },
  };
}

/** Agencies, for the admin routes and the CLI. */
export async function listAgencies(db: Kysely<Database>) {
  const rows = await db.selectFrom('agencies').select(['code', 'name', 'created_at']).orderBy('code').execute();
  return rows.map((r) => ({ code: r.code, name: r.name, createdAt: new Date(r.created_at).toISOString() }));
}

/** Creates an agency; an existing code is TL_CONFLICT. */
export async function createAgency(db: Kysely<Database>, code: string, name: string, by: AuditActor) {
  if (!isAgencyCode(code)) throw new ThreatLensError('TL_BAD_OPTION', `agency "${code}" is not an agency code (lower-case letters, digits, . _ -; up to 64)`);
  const cleanName = name.trim();
  if (cleanName === '' || cleanName.length > 200) throw new ThreatLensError('TL_BAD_OPTION', 'an agency needs a name of 1 to 200 characters');
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('agencies')
      .values({ code, name: cleanName })
      .onConflict((oc) => oc.column('code').doNothing())
      .returning(['code', 'name', 'created_at'])
      .executeTakeFirst();
    if (!row) throw new ThreatLensError('TL_CONFLICT', `agency "${code}" already exists`);
    await appendAudit(trx, { actor: by.actor, agency: by.agency ?? null, role: by.role ?? null, action: 'agency.create', details: { code, name: cleanName }, outcome: 'ok' });
    return { code: row.code, name: row.name, createdAt: new Date(row.created_at).toISOString() };
  });
}
