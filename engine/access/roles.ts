/**
 * Who may do what: the five roles, the principal a request runs as, and the data scope a request
 * reads under. Pure: no I/O. The API's access plugin (api/auth/) and the store's read paths
 * (engine/store/visibility.ts) build on these.
 */

export const ROLES = ['viewer', 'analyst', 'data_scientist', 'oversight', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_DESCRIPTIONS: Readonly<Record<Role, string>> = {
  viewer: 'dashboards: published scores computed from public data only',
  analyst: 'assessments, and the data shared with its agency (with a stated purpose)',
  data_scientist: 'training, evaluation and the model registry, on the data shared with its agency (with a stated purpose)',
  oversight: 'the audit trail and the method documentation; never restricted data',
  admin: 'agencies and API keys',
};

/** Roles that may read data shared with their agency beyond public data, when they state a purpose. */
export const ROLES_WITH_AGENCY_DATA: readonly Role[] = ['analyst', 'data_scientist'];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Agency codes: lower-case letters, digits, `-`, `_`, `.`; 1-64 characters (also the JWT `agency` claim). */
export const AGENCY_CODE_PATTERN = '^[a-z0-9][a-z0-9._-]{0,63}$';
const AGENCY_CODE = new RegExp(AGENCY_CODE_PATTERN);

export function isAgencyCode(value: unknown): value is string {
  return typeof value === 'string' && AGENCY_CODE.test(value);
}

/** How a principal proved who it is. */
export type PrincipalSource = 'api_key' | 'jwt' | 'demo';

/** The identity a request runs as: a subject, its agency and its role. */
export interface Principal {
  /** `key:<id>` for an API key, `jwt:<sub>` for a bearer token, `demo` for demo access. */
  readonly subject: string;
  readonly agency: string;
  readonly role: Role;
  readonly source: PrincipalSource;
  /** The API key id, when authenticated with a key. */
  readonly keyId?: string;
  /** When the credential stops being valid (ISO 8601), when known. */
  readonly expiresAt?: string;
}

/**
 * The batches a read may use:
 * - `public`: public batches only (published scores; every principal without a stated purpose);
 * - `agency`: public batches, the agency's own batches and the restricted batches shared with it;
 * - `all`: every batch, for the operator (the command line and jobs the system runs for itself).
 */
export type DataScope =
  | { readonly kind: 'all' }
  | { readonly kind: 'public' }
  | { readonly kind: 'agency'; readonly agency: string };

export const ALL_DATA: DataScope = Object.freeze({ kind: 'all' });
export const PUBLIC_DATA: DataScope = Object.freeze({ kind: 'public' });

export function agencyScope(agency: string): DataScope {
  return { kind: 'agency', agency };
}

/**
 * The scope a principal reads under. Only analysts and data scientists go beyond public data,
 * and only with a stated purpose (issue 6: requests for restricted data carry a purpose); every
 * other role, and any request without a purpose, sees public data only.
 */
export function scopeFor(principal: Principal, purpose: string | null): DataScope {
  if (purpose !== null && ROLES_WITH_AGENCY_DATA.includes(principal.role)) return agencyScope(principal.agency);
  return PUBLIC_DATA;
}

/** For logs, headers and cache keys: `all`, `public` or `agency:<code>`. */
export function describeScope(scope: DataScope): string {
  return scope.kind === 'agency' ? `agency:${scope.agency}` : scope.kind;
}

/** Trims a stated purpose; null when absent or blank. Refuses one too short to say anything. */
export function normalisePurpose(text: string | null | undefined): string | null {
  if (text === undefined || text === null) return null;
  const trimmed = text.trim().replace(/\s+/g, ' ');
  return trimmed === '' ? null : trimmed;
}

export const PURPOSE_MIN_LENGTH = 3;
export const PURPOSE_MAX_LENGTH = 1000;
