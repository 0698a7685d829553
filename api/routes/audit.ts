/**
 * The audit trail for oversight: GET /v1/audit pages it, GET /v1/audit/export streams all of it
 * (JSON lines, with the hashes, so that anyone can recompute the chain; or CSV for reading), and
 * GET /v1/audit/verify walks the chain and says which entries were altered, removed or reordered.
 */
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ThreatLensError } from '../../engine/errors.ts';
import { auditEntries, listAudit, verifyAuditChain, type StoredAuditEntry } from '../../engine/store/audit.ts';
import { problemResponses } from '../schemas.ts';

const AuditEntrySchema = Type.Object({
  id: Type.Integer(),
  at: Type.String({ description: 'ISO 8601, UTC' }),
  actor: Type.String({ description: 'key:<id>, jwt:<sub>, demo, cli:<user>, or the component that acted' }),
  agency: Type.Union([Type.String(), Type.Null()]),
  role: Type.Union([Type.String(), Type.Null()]),
  action: Type.String({ description: 'ingest, assessment.create, read.restricted, key.create, key.revoke, access.refused, ...' }),
  details: Type.Unknown({ description: 'route, entities, indicators and batches touched, ...' }),
  purpose: Type.Union([Type.String(), Type.Null()]),
  outcome: Type.String({ description: 'ok, refused or failed' }),
  prevHash: Type.String(),
  hash: Type.String({ description: 'sha256(prevHash + "\\n" + canonical JSON of at, actor, agency, role, action, details, purpose, outcome)' }),
});

const Text = (maxLength: number) => Type.String({ minLength: 1, maxLength });

const AuditQuerySchema = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    cursor: Type.Optional(Type.Integer({ minimum: 0, maximum: 2147483647, description: 'nextCursor of the previous page: entries after this id' })),
    action: Type.Optional(Text(100)),
    actor: Type.Optional(Text(300)),
    agency: Type.Optional(Text(64)),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'entries at or after (ISO 8601 with time zone)' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'entries at or before' })),
  },
  { additionalProperties: false },
);

const ProblemSchema = Type.Object({
  kind: Type.Union([Type.Literal('altered'), Type.Literal('removed'), Type.Literal('reordered'), Type.Literal('anchor_missing')]),
  id: Type.Union([Type.Integer(), Type.Null()]),
  afterId: Type.Union([Type.Integer(), Type.Null()]),
  message: Type.String(),
});

const VerificationSchema = Type.Object({
  ok: Type.Boolean(),
  entries: Type.Integer(),
  firstId: Type.Union([Type.Integer(), Type.Null()]),
  lastId: Type.Union([Type.Integer(), Type.Null()]),
  head: Type.Union([Type.String(), Type.Null()], { description: 'hash of the last entry: keep it and pass it as anchor later' }),
  anchor: Type.Union([Type.Object({ hash: Type.String(), foundAt: Type.Union([Type.Integer(), Type.Null()]) }), Type.Null()]),
  problems: Type.Array(ProblemSchema),
  truncated: Type.Boolean(),
});

function csvCell(value: unknown): string {
  let text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  // A cell a spreadsheet would run as a formula is prefixed (the JSON lines export keeps the exact text).
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const CSV_COLUMNS = ['id', 'at', 'actor', 'agency', 'role', 'action', 'details', 'purpose', 'outcome', 'prevHash', 'hash'] as const;

async function* exportLines(entries: AsyncIterable<StoredAuditEntry>, format: 'jsonl' | 'csv'): AsyncGenerator<string> {
  if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\n`;
  for await (const e of entries) {
    yield format === 'jsonl' ? `${JSON.stringify(e)}\n` : `${CSV_COLUMNS.map((c) => csvCell(e[c])).join(',')}\n`;
  }
}

export const auditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/audit',
    {
      schema: {
        summary: 'The audit trail, a page at a time, oldest first',
        description: 'Who (actor, agency, role), when, what (route, entities, indicators, batches), purpose and outcome of every ingestion, assessment, restricted read, refusal and key change. Follow nextCursor.',
        tags: ['audit'],
        querystring: AuditQuerySchema,
        response: { 200: Type.Object({ entries: Type.Array(AuditEntrySchema), nextCursor: Type.Union([Type.Integer(), Type.Null()]) }), ...problemResponses },
      },
      config: { access: { roles: ['oversight'] } },
    },
    async (request) => {
      const q = request.query;
      if (q.from !== undefined && q.to !== undefined && Date.parse(q.from) > Date.parse(q.to)) {
        throw new ThreatLensError('TL_BAD_OPTION', `from (${q.from}) is after to (${q.to})`);
      }
      return listAudit(app.store.db, {
        limit: q.limit,
        ...(q.cursor !== undefined ? { after: q.cursor } : {}),
        ...(q.action !== undefined ? { action: q.action } : {}),
        ...(q.actor !== undefined ? { actor: q.actor } : {}),
        ...(q.agency !== undefined ? { agency: q.agency } : {}),
        ...(q.from !== undefined ? { from: q.from } : {}),
        ...(q.to !== undefined ? { to: q.to } : {}),
      });
    },
  );

  app.get(
    '/v1/audit/export',
    {
      schema: {
        summary: 'The whole audit trail as a download',
        description:
          '`jsonl` (default): one entry per line with prevHash and hash, exactly as stored, for recomputing the chain independently. ' +
          '`csv`: for reading in a spreadsheet (cells that a spreadsheet would run as formulas are prefixed with \', so recompute from jsonl).',
        tags: ['audit'],
        querystring: Type.Object({ format: Type.Union([Type.Literal('jsonl'), Type.Literal('csv')], { default: 'jsonl' }) }, { additionalProperties: false }),
        response: { ...problemResponses },
      },
      config: { access: { roles: ['oversight'], audit: 'audit.export' } },
    },
    async (request, reply) => {
      const format = request.query.format;
      reply
        .type(format === 'jsonl' ? 'application/x-ndjson; charset=utf-8' : 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="threatlens-audit.${format}"`)
        .header('cache-control', 'no-store');
      return reply.send(Readable.from(exportLines(auditEntries(app.store.db), format)));
    },
  );

  app.get(
    '/v1/audit/verify',
    {
      schema: {
        summary: 'Verify the hash chain of the audit trail',
        description:
          'Recomputes every entry\'s hash and checks every link. Reports entries whose content was altered, breaks where entries were ' +
          'removed, and entries that were reordered, each with its id. Removal of the last entries leaves no break: pass `anchor`, a ' +
          '`head` noted earlier, to check that it is still in the chain.',
        tags: ['audit'],
        querystring: Type.Object({ anchor: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$', description: 'a head hash noted earlier' })) }, { additionalProperties: false }),
        response: { 200: VerificationSchema, ...problemResponses },
      },
      config: { access: { roles: ['oversight', 'admin'] } },
    },
    async (request) => verifyAuditChain(app.store.db, request.query.anchor !== undefined ? { anchor: request.query.anchor } : {}),
  );
};
