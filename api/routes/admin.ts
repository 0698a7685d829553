/**
 * Identity and administration: GET /v1/me (who the credential is), agencies and API keys (admin).
 * A key is shown once, in the answer that creates it; every change is an audit entry.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AGENCY_CODE_PATTERN, ROLE_DESCRIPTIONS, ROLES, scopeFor, describeScope, type Principal } from '../../engine/access/roles.ts';
import { createAgency, createApiKey, DEFAULT_KEY_DAYS, listAgencies, listApiKeys, MAX_KEY_DAYS, revokeApiKey, type AuditActor } from '../../engine/store/keys.ts';
import { markAudited } from '../auth/plugin.ts';
import { problemResponses } from '../schemas.ts';

const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)));

const KeySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  agency: Type.String(),
  role: Type.String(),
  createdBy: Type.String(),
  createdAt: Type.String(),
  expiresAt: Type.String(),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
  revokedBy: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')]),
});

const AgencySchema = Type.Object({ code: Type.String(), name: Type.String(), createdAt: Type.String() });

function actorOf(principal: Principal): AuditActor {
  return { actor: principal.subject, agency: principal.agency, role: principal.role };
}

export const adminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/me',
    {
      schema: {
        summary: 'Who the credential is: subject, agency, role, and what the role may do',
        tags: ['access'],
        response: {
          200: Type.Object({
            subject: Type.String(),
            agency: Type.String(),
            role: Type.String(),
            source: Type.String({ description: 'api_key, jwt or demo' }),
            expiresAt: Type.Union([Type.String(), Type.Null()]),
            may: Type.String(),
            dataScopeWithPurpose: Type.String({ description: 'what this principal reads when it states a purpose' }),
          }),
          ...problemResponses,
        },
      },
      config: { access: { roles: ROLES } },
    },
    async (request) => {
      const p = request.principal!;
      return {
        subject: p.subject,
        agency: p.agency,
        role: p.role,
        source: p.source,
        expiresAt: p.expiresAt ?? null,
        may: ROLE_DESCRIPTIONS[p.role],
        dataScopeWithPurpose: describeScope(scopeFor(p, 'stated')),
      };
    },
  );

  app.get(
    '/v1/agencies',
    {
      schema: { summary: 'Agencies', tags: ['access'], response: { 200: Type.Object({ agencies: Type.Array(AgencySchema) }), ...problemResponses } },
      config: { access: { roles: ['admin'] } },
    },
    async () => ({ agencies: await listAgencies(app.store.db) }),
  );

  app.post(
    '/v1/agencies',
    {
      schema: {
        summary: 'Create an agency',
        tags: ['access'],
        body: Type.Object(
          { code: Type.String({ pattern: AGENCY_CODE_PATTERN, description: 'lower-case code, e.g. nl-police' }), name: Type.String({ minLength: 1, maxLength: 200 }) },
          { additionalProperties: false },
        ),
        response: { 201: AgencySchema, 409: Type.Ref('Problem'), ...problemResponses },
      },
      config: { access: { roles: ['admin'] } },
    },
    async (request, reply) => {
      const agency = await createAgency(app.store.db, request.body.code, request.body.name, actorOf(request.principal!));
      markAudited(request);
      return reply.code(201).send(agency);
    },
  );

  app.get(
    '/v1/keys',
    {
      schema: {
        summary: 'API keys (never the keys themselves)',
        tags: ['access'],
        querystring: Type.Object({ all: Type.Boolean({ default: false, description: 'include revoked and expired keys' }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ keys: Type.Array(KeySchema) }), ...problemResponses },
      },
      config: { access: { roles: ['admin'] } },
    },
    async (request) => ({ keys: await listApiKeys(app.store.db, { includeInactive: request.query.all }) }),
  );

  app.post(
    '/v1/keys',
    {
      schema: {
        summary: 'Create an API key: the answer holds the key, shown this once',
        tags: ['access'],
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200, description: 'who or what uses it' }),
            agency: Type.String({ pattern: AGENCY_CODE_PATTERN }),
            role: RoleSchema,
            expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_KEY_DAYS, default: DEFAULT_KEY_DAYS })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Intersect([KeySchema, Type.Object({ key: Type.String({ description: 'the API key: store it now, it is not shown again' }) })]), ...problemResponses },
      },
      config: { access: { roles: ['admin'] } },
    },
    async (request, reply) => {
      const created = await createApiKey(app.store.db, request.body, actorOf(request.principal!));
      markAudited(request);
      return reply.code(201).header('cache-control', 'no-store').send(created);
    },
  );

  app.delete(
    '/v1/keys/:id',
    {
      schema: {
        summary: 'Revoke an API key, at once',
        tags: ['access'],
        params: Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{12}$' }) }),
        response: { 200: KeySchema, ...problemResponses },
      },
      config: { access: { roles: ['admin'] } },
    },
    async (request) => {
      const revoked = await revokeApiKey(app.store.db, request.params.id, actorOf(request.principal!));
      app.forgetVerifiedKeys();
      markAudited(request);
      return revoked;
    },
  );
};
