/**
 * POST /v1/ingest: a CSV file sent as the raw request body, ingested as one batch, as
 * `threatlens ingest` does (then rates derived and risk scores refreshed).
 *
 * The body is never held in memory: a content-type parser scoped to this plugin streams it to a
 * temporary file under THREATLENS_UPLOAD_DIR, counting bytes against THREATLENS_UPLOAD_LIMIT (its
 * own limit, apart from the 256 KiB JSON limit of every other route) and watching the free space
 * of the disk against THREATLENS_DISK_RESERVE. Refusals are problem+json: 413 TL_UPLOAD_TOO_LARGE,
 * 507 TL_DISK_FULL, and the ingest engine's own 4xx with file, line and field. The temporary file
 * is removed whatever happens; a refused upload stores nothing.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdir, open, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { ingestFile, type IngestOptions } from '../../datasets/ingest.ts';
import { BUILTIN_INDICATORS } from '../../datasets/reference/indicators.ts';
import { ThreatLensError } from '../../engine/errors.ts';
import { formatGrade } from '../../engine/ingest/grades.ts';
import { ratePlans } from '../../engine/ingest/rates.ts';
import { refreshRiskScores } from '../../engine/scoring/refresh.ts';
import { deriveStoredRates } from '../../engine/store/rates.ts';
import { SHARING_LEVELS } from '../../engine/types.ts';
import { noteRead } from '../auth/plugin.ts';
import { problemResponses } from '../schemas.ts';

export const DEFAULT_UPLOAD_LIMIT = 64 * 1024 * 1024;
export const DEFAULT_DISK_RESERVE = 512 * 1024 * 1024;
/**
 * The smallest V8 heap limit a server may ingest with. Measured 2026-11-22 with a 300 MB upload:
 * the server holds about 100 MB of heap when idle (TF.js alone 32 MB), an ingestion adds a working
 * set of about 20 MB whatever the file's size, and V8's limit is --max-old-space-size plus 48 MiB
 * of young generation. At --max-old-space-size=128 (limit 176 MiB) the process ran out of heap
 * and died, twice, and the PGlite store it was writing would not open again; at 144 (192 MiB) it
 * completed in 23 s, spending most of it collecting garbage; at 192 (240 MiB) in 7 to 11 s.
 */
export const DEFAULT_MIN_HEAP_LIMIT = 240 * 1024 * 1024;
/** JavaScript heap that must be free (limit minus in use, garbage included) to start an ingestion. */
export const DEFAULT_HEAP_HEADROOM = 64 * 1024 * 1024;
/** Free space is looked at again after each this many bytes written. */
const DISK_CHECK_INTERVAL = 16 * 1024 * 1024;
/** Issues shown in a summary (a strict ingestion that stores anything has none; kept for safety). */
const ISSUES_SHOWN = 20;
const DEFAULT_FILE_NAME = 'upload.csv';
const FILE_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._ -]{0,99}$';
const FILE_NAME = new RegExp(FILE_NAME_PATTERN);

export interface UploadOptions {
  /** Where uploads are written while they are ingested (default: the system's temporary directory). */
  readonly uploadDir: string;
  /** Largest upload in bytes. */
  readonly uploadLimit: number;
  /** Bytes that must stay free on the upload directory's disk. */
  readonly diskReserve: number;
  /** The smallest V8 heap limit (bytes) the process may ingest with (0: no check). */
  readonly minHeapLimit: number;
  /** Bytes of JavaScript heap that must be free to start an ingestion (0: no check). */
  readonly heapHeadroom: number;
}

function bytesFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`${name} must be a whole number of bytes >= ${min}; got "${text}"`);
  return value;
}

/**
 * THREATLENS_UPLOAD_DIR, THREATLENS_UPLOAD_LIMIT (bytes, default 64 MiB), THREATLENS_DISK_RESERVE
 * (bytes, default 512 MiB), THREATLENS_INGEST_MIN_HEAP (bytes of V8 heap limit, default 240 MiB),
 * THREATLENS_INGEST_HEAP_HEADROOM (bytes, default 64 MiB); 0 turns a check off.
 */
export function uploadOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): UploadOptions {
  return {
    uploadDir: env.THREATLENS_UPLOAD_DIR || tmpdir(),
    uploadLimit: bytesFromEnv(env, 'THREATLENS_UPLOAD_LIMIT', DEFAULT_UPLOAD_LIMIT, 1),
    diskReserve: bytesFromEnv(env, 'THREATLENS_DISK_RESERVE', DEFAULT_DISK_RESERVE, 0),
    minHeapLimit: bytesFromEnv(env, 'THREATLENS_INGEST_MIN_HEAP', DEFAULT_MIN_HEAP_LIMIT, 0),
    heapHeadroom: bytesFromEnv(env, 'THREATLENS_INGEST_HEAP_HEADROOM', DEFAULT_HEAP_HEADROOM, 0),
  };
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

function tooLarge(limit: number, declared?: number): ThreatLensError {
  return new ThreatLensError(
    'TL_UPLOAD_TOO_LARGE',
    `the upload is larger than the limit of ${limit} bytes (${mib(limit)})` +
      (declared !== undefined ? `: Content-Length says ${declared} bytes` : '') +
      '; nothing was stored. Split the file, or raise the limit with THREATLENS_UPLOAD_LIMIT (bytes) on the server.',
  );
}

function diskFull(dir: string, free: number, reserve: number, needed: number): ThreatLensError {
  return new ThreatLensError(
    'TL_DISK_FULL',
    `not enough free disk space for the upload: ${free} bytes (${mib(free)}) free in ${dir}` +
      (needed > 0 ? `, the upload declares ${needed} bytes` : '') +
      `, and ${reserve} bytes (${mib(reserve)}) must stay free (THREATLENS_DISK_RESERVE); nothing was stored. ` +
      'Free space on that disk, or point THREATLENS_UPLOAD_DIR at a larger one.',
  );
}

/** Refuses when writing `needed` more bytes would leave less than the reserve free. */
async function checkFreeSpace(options: UploadOptions, needed: number): Promise<void> {
  const stats = await statfs(options.uploadDir);
  const free = Number(stats.bavail) * Number(stats.bsize);
  if (free - needed < options.diskReserve) throw diskFull(options.uploadDir, free, options.diskReserve, needed);
}

/**
 * Refuses (503) an ingestion the heap cannot hold, rather than letting V8 kill the process in the
 * middle of it: a heap limit under the minimum always (restart with a larger one), and too little
 * free heap now (retry later). "In use" counts garbage not yet collected: it errs towards refusing.
 */
function checkHeap(options: UploadOptions): void {
  const { heap_size_limit: limit, used_heap_size: used } = getHeapStatistics();
  const raise = 'restart the server with a larger heap (NODE_OPTIONS=--max-old-space-size=MB, e.g. 512)';
  if (options.minHeapLimit > 0 && limit < options.minHeapLimit) {
    throw new ThreatLensError(
      'TL_INSUFFICIENT_MEMORY',
      `this server's JavaScript heap limit is ${mib(limit)}; ingesting a file through the API needs at least ${mib(options.minHeapLimit)} ` +
        `(THREATLENS_INGEST_MIN_HEAP; the limit is --max-old-space-size plus V8's young generation); nothing was stored. ` +
        `Use \`threatlens ingest\` on the server's machine, or ${raise}.`,
    );
  }
  if (options.heapHeadroom > 0 && limit - used < options.heapHeadroom) {
    throw retryLater(new ThreatLensError(
      'TL_INSUFFICIENT_MEMORY',
      `this server has ${mib(limit - used)} of JavaScript heap free (limit ${mib(limit)}, in use ${mib(used)}); ` +
        `an ingestion needs ${mib(options.heapHeadroom)} free (THREATLENS_INGEST_HEAP_HEADROOM); nothing was stored. ` +
        `Retry later, or ${raise}.`,
    ));
  }
}

/** Refusals that may pass on their own: answered with Retry-After. */
const passing = new WeakSet<object>();
function retryLater(error: ThreatLensError): ThreatLensError {
  passing.add(error);
  return error;
}

/** Ingestions run one at a time in a process: two at once would need twice the heap. */
let ingestQueue: Promise<unknown> = Promise.resolve();
function oneAtATime<T>(work: () => Promise<T>): Promise<T> {
  const run = ingestQueue.then(work);
  ingestQueue = run.catch(() => undefined);
  return run;
}

/** An upload written to disk: its own directory (so that the file keeps the name messages show). */
export class UploadedFile {
  constructor(
    readonly dir: string,
    readonly path: string,
    readonly bytes: number,
  ) {}

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

function declaredLength(request: FastifyRequest): number | undefined {
  const header = request.headers['content-length'];
  if (header === undefined || Array.isArray(header) || !/^\d+$/.test(header)) return undefined;
  return Number(header);
}

/** The file name given in the query, when well-formed (the query is validated after parsing; a bad one is refused then). */
function requestedFileName(request: FastifyRequest): string {
  const name = (request.query as { fileName?: unknown } | undefined)?.fileName;
  return typeof name === 'string' && FILE_NAME.test(name) && name !== '.' && name !== '..' ? name : DEFAULT_FILE_NAME;
}

/**
 * Requests sent with `Expect: 100-continue` (curl does for bodies over 1 MiB) get their
 * `100 Continue` only when the body is about to be read: a refusal before that (401, 403, 413 by
 * Content-Length, 503, 507) reaches the client before it sends a byte of the body. Node's server
 * would otherwise say `100 Continue` at once, and a client still sending a large body when the
 * server answers and closes may see the connection reset instead of the answer.
 */
const awaitingContinue = new WeakMap<IncomingMessage, ServerResponse>();

function sendContinue(request: FastifyRequest): void {
  const res = awaitingContinue.get(request.raw);
  if (!res) return;
  awaitingContinue.delete(request.raw);
  res.writeContinue();
}

/**
 * Streams the request body to a new file, counting bytes; refuses before reading when
 * Content-Length is over the limit or the disk too full, and stops reading (deleting what was
 * written) as soon as the body passes the limit or the disk its reserve.
 */
async function receiveUpload(request: FastifyRequest, body: Readable, options: UploadOptions): Promise<UploadedFile> {
  const declared = declaredLength(request);
  if (declared !== undefined && declared > options.uploadLimit) throw tooLarge(options.uploadLimit, declared);
  checkHeap(options);
  await mkdir(options.uploadDir, { recursive: true });
  await checkFreeSpace(options, declared ?? 0);
  const dir = join(options.uploadDir, `threatlens-upload-${randomUUID()}`);
  await mkdir(dir, { mode: 0o700 });
  const path = join(dir, requestedFileName(request));
  let bytes = 0;
  try {
    const file = await open(path, 'wx', 0o600);
    sendContinue(request);
    try {
      let checkedAt = 0;
      // destroyOnReturn false: stopping early must not destroy the request's socket before the 413 is sent.
      for await (const chunk of body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        if (bytes > options.uploadLimit) throw tooLarge(options.uploadLimit);
        // One write may take part of a chunk (a disk nearly full): loop, and a write of nothing is a full disk.
        for (let offset = 0; offset < chunk.length; ) {
          const { bytesWritten } = await file.write(chunk, offset, chunk.length - offset);
          if (bytesWritten === 0) throw Object.assign(new Error('no space left on the device'), { code: 'ENOSPC' });
          offset += bytesWritten;
        }
        if (bytes - checkedAt >= DISK_CHECK_INTERVAL) {
          checkedAt = bytes;
          await checkFreeSpace(options, 0);
        }
      }
    } finally {
      await file.close();
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    const code = (error as { code?: string }).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      throw new ThreatLensError(
        'TL_DISK_FULL',
        `the disk of ${options.uploadDir} filled up while the upload was written (${code}, after ${bytes} bytes); nothing was stored. ` +
          'Free space on that disk, point THREATLENS_UPLOAD_DIR at a larger one, or raise THREATLENS_DISK_RESERVE so that uploads stop before the disk is full.',
        { cause: error },
      );
    }
    throw error;
  }
  return new UploadedFile(dir, path, bytes);
}

const FORMATS = ['auto', 'long', 'wide', 'goci', 'owid', 'wgi', 'eurostat', 'unodc-cts', 'wdi', 'mps-borough', 'unodc-glotip', 'unodc-seizures'] as const;
const AGENCY = '[a-z0-9][a-z0-9._-]{0,63}';
const PLAIN_TEXT = '^[^\\u0000-\\u001f\\u007f]*$';

export const IngestQuerySchema = Type.Object(
  {
    format: Type.Union(FORMATS.map((f) => Type.Literal(f)), { default: 'auto', description: 'table layout, as `threatlens ingest --format` (auto: from the header)' }),
    period: Type.Optional(Type.String({ minLength: 4, maxLength: 20, pattern: PLAIN_TEXT, description: 'period of every value, for files of one period (a GOCI edition year)' })),
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: PLAIN_TEXT, description: 'publisher or dataset name (default: the file name)' })),
    fileName: Type.Optional(Type.String({ pattern: FILE_NAME_PATTERN, description: `the file's name, recorded with the batch and named in error messages (default ${DEFAULT_FILE_NAME})` })),
    sharing: Type.Union(SHARING_LEVELS.map((s) => Type.Literal(s)), { default: 'public', description: 'who may read the batch; the owner is the caller\'s agency' }),
    sharedWith: Type.Optional(Type.String({ pattern: `^${AGENCY}(,${AGENCY}){0,49}$`, description: 'comma-separated agencies a restricted batch is shared with' })),
    grade: Type.Optional(Type.String({ minLength: 2, maxLength: 20, pattern: '^[A-Za-z0-9:_-]+$', description: 'grade of source and information: Admiralty (B2) or Europol 4x4 (europol:A1); default: the connector\'s' })),
    deriveRates: Type.Boolean({ default: true, description: 'derive rates per 100,000 from stored counts and population afterwards' }),
    rescore: Type.Boolean({ default: true, description: 'recompute the published risk scores afterwards' }),
  },
  { additionalProperties: false },
);

const IssueSchema = Type.Object({
  file: Type.Optional(Type.String()),
  line: Type.Optional(Type.Integer()),
  field: Type.Optional(Type.String()),
  message: Type.String(),
  value: Type.Optional(Type.String()),
});

export const IngestSummarySchema = Type.Object(
  {
    batchId: Type.Union([Type.Integer(), Type.Null()], { description: 'the new batch; null when the file was already stored' }),
    file: Type.String(),
    bytes: Type.Integer({ description: 'bytes received' }),
    sha256: Type.String(),
    format: Type.String(),
    accepted: Type.Integer(),
    rejected: Type.Integer(),
    missing: Type.Integer(),
    droppedAggregates: Type.Integer(),
    droppedBreakdowns: Type.Optional(Type.Integer()),
    sheets: Type.Optional(Type.Array(Type.String())),
    skippedAsDuplicate: Type.Boolean(),
    duplicateOf: Type.Optional(Type.Integer({ description: 'the batch that already holds this exact file' })),
    owner: Type.String(),
    sharing: Type.String(),
    grade: Type.Optional(Type.Object({ code: Type.String(), isDefault: Type.Boolean(), reason: Type.String() })),
    derivedRates: Type.Optional(Type.Object({ batchId: Type.Union([Type.Integer(), Type.Null()]), derived: Type.Integer() })),
    riskScores: Type.Optional(Type.Object({ dataVersion: Type.String(), years: Type.Array(Type.Integer()) })),
    issues: Type.Array(IssueSchema, { description: `the first ${ISSUES_SHOWN} issues` }),
    issueCount: Type.Integer({ description: 'issues reported by the ingestion (up to 100)' }),
  },
  { $id: 'IngestSummary' },
);
export type IngestSummaryView = Static<typeof IngestSummarySchema>;

const problem = Type.Ref('Problem');

export const ingestRoutes: FastifyPluginAsyncTypebox<Partial<UploadOptions>> = async (app, pluginOptions) => {
  const options: UploadOptions = { ...uploadOptionsFromEnv(), ...pluginOptions };
  // Scoped to this plugin: every other route keeps the JSON parser and its 256 KiB limit.
  app.addContentTypeParser(['text/csv', 'application/octet-stream'], (request: FastifyRequest, body: Readable) => receiveUpload(request, body, options));
  app.addSchema(IngestSummarySchema);
  app.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'POST' && (req.url ?? '').split('?')[0] === '/v1/ingest') awaitingContinue.set(req, res);
    else res.writeContinue(); // what Node does for every other route
    app.server.emit('request', req, res);
  });
  // A refusal after parsing (query validation) leaves no file behind: removed before the error
  // answer is sent, and once more after any answer (an aborted request has none).
  const removeUpload = async (request: FastifyRequest) => {
    if (request.body instanceof UploadedFile) await request.body.remove();
  };
  app.addHook('onError', async (request, reply, error) => {
    if (passing.has(error)) reply.header('retry-after', '30');
    await removeUpload(request);
  });
  app.addHook('onResponse', removeUpload);

  /** Whether a batch holds counts or populations that rates per 100,000 derive from (else deriving reads everything for nothing). */
  const rateInputs = new Set(ratePlans(BUILTIN_INDICATORS).flatMap((plan) => [plan.count, plan.denominator]));
  const holdsRateInputs = async (batchId: number): Promise<boolean> => {
    const rows = await app.store.db.selectFrom('observations').select('indicator_code').distinct().where('batch_id', '=', batchId).execute();
    return rows.some((row) => rateInputs.has(row.indicator_code));
  };

  app.post(
    '/v1/ingest',
    {
      schema: {
        summary: 'Ingest a CSV file as one batch',
        description:
          'The file is the raw request body (`content-type: text/csv`, or `application/octet-stream` for a workbook), ' +
          `up to THREATLENS_UPLOAD_LIMIT bytes (default ${mib(DEFAULT_UPLOAD_LIMIT)}); it is streamed to disk, never held in memory. ` +
          'Options mirror `threatlens ingest`; the batch belongs to the caller\'s agency. The whole file is stored in one transaction or nothing is: ' +
          'invalid rows answer 422 naming file, line and field. The same file again answers 200 with `skippedAsDuplicate`. ' +
          'Afterwards rates per 100,000 are derived and the published risk scores refreshed. 413 over the upload limit, ' +
          '507 when the upload disk would have less than THREATLENS_DISK_RESERVE bytes free, 503 (Retry-After) when the server\'s heap ' +
          'has less than THREATLENS_INGEST_HEAP_HEADROOM free. Ingestions run one at a time. Audited as `ingest.upload`.',
        tags: ['data'],
        consumes: ['text/csv', 'application/octet-stream'],
        body: Type.Unsafe<unknown>({ description: 'the CSV file, as it is on disk' }),
        querystring: IngestQuerySchema,
        response: { 200: Type.Ref('IngestSummary'), 201: Type.Ref('IngestSummary'), 413: problem, 415: problem, 422: problem, 507: problem, ...problemResponses },
      },
      config: { access: { roles: ['analyst', 'admin'], audit: 'ingest.upload' } },
    },
    async (request, reply) => {
      const upload = request.body;
      if (!(upload instanceof UploadedFile)) {
        const type = request.headers['content-type'];
        throw new ThreatLensError(
          'TL_INPUT_NOT_CSV',
          `send the file as the raw request body with content-type text/csv (or application/octet-stream); got ${type === undefined ? 'no content-type' : `content-type ${String(type).slice(0, 100)}`}`,
        );
      }
      const q = request.query;
      let view: IngestSummaryView;
      // The file is removed before the answer leaves: a client that sees the answer sees no file left.
      try {
        const principal = request.principal!;
        const ingestOptions: IngestOptions = {
          format: q.format,
          owner: principal.agency,
          sharing: q.sharing,
          actor: principal.subject,
          ...(q.period !== undefined ? { period: q.period } : {}),
          ...(q.source !== undefined ? { source: q.source } : {}),
          ...(q.grade !== undefined ? { grade: q.grade } : {}),
          ...(q.sharedWith !== undefined ? { sharedWith: q.sharedWith.split(',') } : {}),
        };
        const { summary, derived, rescored } = await oneAtATime(async () => {
          checkHeap(options);
          const summary = await ingestFile(app.store, upload.path, ingestOptions);
          const stored = !summary.skippedAsDuplicate;
          // As the CLI: a new count or population batch may allow rates the sources did not publish.
          const derived = stored && q.deriveRates && (await holdsRateInputs(summary.batchId!)) ? await deriveStoredRates(app.store, ratePlans(BUILTIN_INDICATORS), { actor: principal.subject }) : undefined;
          // The published scores are computed from public batches only: another agency's batch leaves them as they are.
          const rescored = stored && q.rescore && q.sharing === 'public' ? await refreshRiskScores(app.store.db) : undefined;
          return { summary, derived, rescored };
        });
        const batch = summary.batchId ?? summary.duplicateOf;
        // The request's audit entry (ingest.upload) names the batch.
        if (batch !== undefined && batch !== null) noteRead(request, { batches: [batch, ...(derived?.batchId ? [derived.batchId] : [])] });
        view = {
          batchId: summary.batchId,
          file: summary.file,
          bytes: upload.bytes,
          sha256: summary.sha256,
          format: summary.format,
          accepted: summary.accepted,
          rejected: summary.rejected,
          missing: summary.missing,
          droppedAggregates: summary.droppedAggregates,
          ...(summary.droppedBreakdowns !== undefined ? { droppedBreakdowns: summary.droppedBreakdowns } : {}),
          ...(summary.sheets ? { sheets: [...summary.sheets] } : {}),
          skippedAsDuplicate: summary.skippedAsDuplicate,
          ...(summary.duplicateOf !== undefined ? { duplicateOf: summary.duplicateOf } : {}),
          owner: principal.agency,
          sharing: q.sharing,
          ...(summary.grade ? { grade: { code: formatGrade(summary.grade), isDefault: summary.grade.isDefault, reason: summary.grade.reason } } : {}),
          ...(derived ? { derivedRates: { batchId: derived.batchId, derived: derived.derived } } : {}),
          ...(rescored ? { riskScores: rescored } : {}),
          issues: summary.issues.slice(0, ISSUES_SHOWN).map((i) => ({ ...i })),
          issueCount: summary.issues.length,
        };
        if (batch !== undefined && batch !== null) reply.header('location', `/v1/quality?batch=${batch}`);
      } finally {
        await upload.remove();
      }
      return reply.code(view.skippedAsDuplicate ? 200 : 201).send(view);
    },
  );
};
