/**
 * How a route declares who may call it, and what the access plugin puts on each request.
 *
 * Every /v1 route declares `config: { access: ... }`; the server refuses to start if one does
 * not (api/auth/plugin.ts). See .tmp/readme/access-control.md.
 */
import type { DataScope, Principal, Role } from '../../engine/access/roles.ts';

export type AccessRule =
  /** Anyone, without a key (health, documentation, the dashboard's files). */
  | { readonly public: true }
  | {
      /** The roles allowed; any other role gets 403. Without a credential: 401. */
      readonly roles: readonly Role[];
      /**
       * The route reads data under the sharing rules: `request.dataScope` is the principal's
       * agency scope when an analyst or data scientist states a purpose, public data otherwise.
       * Every read path of the handler must be given `request.dataScope`. Reads that touch
       * restricted batches are audited (`read.restricted`) before the answer leaves.
       */
      readonly sharing?: boolean;
      /** `required`: refuse (400 TL_PURPOSE_REQUIRED) without a stated purpose. */
      readonly purpose?: 'required';
      /** Audit every answered call as this action (with outcome), e.g. `audit.export`. */
      readonly audit?: string;
    };

/** A rule that needs a principal: every rule but `public`. */
export type ProtectedRule = Exclude<AccessRule, { readonly public: true }>;

/** What a handler reports it read, for the audit entry of a restricted read. */
export interface AccessNotes {
  readonly batches: Set<number>;
  readonly entities: Set<string>;
  readonly indicators: Set<string>;
  /** The handler wrote its own audit entry (e.g. assessment.create): no separate read entry. */
  audited: boolean;
  /** The handler reported what it read (otherwise every visible restricted batch is assumed). */
  noted: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: AccessRule;
  }
  interface FastifyRequest {
    /** Who is calling; null on public routes. */
    principal: Principal | null;
    /** The batches this request may read (engine/store/visibility.ts applies it). */
    dataScope: DataScope;
    /** The stated purpose (body `purpose`, query `purpose` or header `x-purpose`), or null. */
    purpose: string | null;
    accessNotes: AccessNotes | null;
    /** The matched route's access rule, null when anyone may call it (set first thing in onRequest). */
    accessRule: ProtectedRule | null;
  }
}
