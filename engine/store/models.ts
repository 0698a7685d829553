/**
 * The model registry in the store: model versions (`models`) and their artifacts
 * (`model_artifacts`), promotion and rollback.
 *
 * - A version is registered with ALL its artifacts in one transaction (version = highest version
 *   of the name + 1, allocated under a per-name advisory lock), so that a crash leaves either
 *   nothing or a complete `candidate`. A registered version's artifacts never change.
 * - Promotion, in one transaction: the current production version (if any) becomes `retired` and
 *   the promoted version `production` (the partial unique index allows one production per name).
 *   A version that does not exist, or has no artifacts, is refused with a coded error.
 * - Rollback undoes the latest promotion still in effect: it re-promotes the version that was in
 *   production before it. The promotion history is read from the audit log (hash-chained,
 *   append-only), where every promotion and rollback is recorded: replaying it, a promotion pushes
 *   its version on a stack and a rollback pops one, so repeated rollbacks walk back through the
 *   history (v1 -> v2 -> v3, rollback: v2, rollback: v1) instead of toggling between two versions.
 * - Artifacts carry a SHA-256 of their content, checked on every load.
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import { ThreatLensError } from '../errors.ts';
import { appendAudit } from './audit.ts';
import type { Database, ModelStatus } from './schema.ts';

export interface ModelArtifactInput {
  /** `model.json`, `weights.bin`, `forest.json`, ...: unique within a version. */
  readonly kind: string;
  readonly contentType: string;
  readonly content: Uint8Array;
}

export interface StoredArtifact extends ModelArtifactInput {
  readonly sha256: string;
}

export interface ArtifactSummary {
  readonly kind: string;
  readonly contentType: string;
  readonly bytes: number;
  readonly sha256: string;
}

export interface NewModelVersion {
  readonly name: string;
  readonly type: string;
  readonly hyperparameters: Record<string, unknown>;
  readonly seed: number;
  readonly dataVersion: string;
  readonly codeVersion: string;
  readonly metrics: Record<string, unknown>;
  readonly modelCard: Record<string, unknown>;
  readonly trainedBy: string;
  readonly jobId?: number | null;
  readonly artifacts: readonly ModelArtifactInput[];
}

export interface ModelVersionInfo {
  readonly name: string;
  readonly version: number;
  readonly type: string;
  readonly hyperparameters: Record<string, unknown>;
  readonly seed: number;
  readonly dataVersion: string;
  readonly codeVersion: string;
  readonly metrics: Record<string, unknown>;
  readonly modelCard: Record<string, unknown>;
  readonly trainedBy: string;
  readonly status: ModelStatus;
  readonly jobId: number | null;
  readonly createdAt: string;
  readonly promotedAt: string | null;
  readonly artifacts: readonly ArtifactSummary[];
}

export interface PromotionResult {
  readonly name: string;
  /** The version now in production. */
  readonly version: number;
  /** The version that was in production before (now retired), or null. */
  readonly previous: number | null;
  /** False when the version was already in production (nothing changed, nothing audited). */
  readonly changed: boolean;
}

/** Fault injection for tests: runs inside the transaction after the model row, before its artifacts. */
export interface RegisterHooks {
  readonly afterModelRow?: (trx: Transaction<Database>, version: number) => Promise<void>;
}

type Db = Kysely<Database> | Transaction<Database>;

const MODEL_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/i;
/** Advisory-lock class of the model registry (the audit log uses 7331001). */
const REGISTRY_LOCK = 7331002;

export function sha256Hex(content: Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

function checkName(name: string): void {
  if (typeof name !== 'string' || !MODEL_NAME.test(name)) {
    throw new ThreatLensError(
      'TL_BAD_OPTION',
      `model name ${JSON.stringify(name)} is not valid: use 1-64 letters, digits, dots, dashes or underscores, starting with a letter or digit`,
    );
  }
}

function checkVersion(version: number): void {
  if (!Number.isInteger(version) || version < 1) {
    throw new ThreatLensError('TL_BAD_OPTION', `model version must be a positive integer; got ${JSON.stringify(version)}`);
  }
}

/** Runs `work` in the caller's transaction, or in a new one. */
async function inTransaction<T>(db: Db, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  if (db.isTransaction) return work(db as Transaction<Database>);
  return db.transaction().execute(work);
}

async function lockName(trx: Transaction<Database>, name: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(${REGISTRY_LOCK}, hashtext(${name}))`.execute(trx);
}

/** pg returns bytea as a Buffer (possibly a view of a shared pool), PGlite as a Uint8Array: copy to a plain Uint8Array. */
function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  throw new Error(`expected bytea content, got ${typeof value}`);
}

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

/**
 * Writes artifacts for an existing model row. Refuses duplicate or empty kinds and a version that
 * already has an artifact of the same kind (registered artifacts never change).
 */
export async function insertArtifacts(
  db: Db,
  name: string,
  version: number,
  artifacts: readonly ModelArtifactInput[],
): Promise<StoredArtifact[]> {
  const kinds = new Set<string>();
  for (const a of artifacts) {
    if (!a.kind || typeof a.kind !== 'string') throw new ThreatLensError('TL_BAD_OPTION', `model ${name} v${version}: an artifact has no kind`);
    if (kinds.has(a.kind)) throw new ThreatLensError('TL_BAD_OPTION', `model ${name} v${version}: artifact kind "${a.kind}" given twice`);
    if (!(a.content instanceof Uint8Array)) {
      throw new ThreatLensError('TL_BAD_OPTION', `model ${name} v${version}: artifact "${a.kind}" content must be a Uint8Array`);
    }
    kinds.add(a.kind);
  }
  return inTransaction(db, async (trx) => {
    const existing = await trx
      .selectFrom('model_artifacts')
      .select('kind')
      .where('model_name', '=', name)
      .where('model_version', '=', version)
      .where('kind', 'in', [...kinds])
      .execute();
    if (existing.length > 0) {
      throw new ThreatLensError(
        'TL_BAD_OPTION',
        `model ${name} v${version} already has artifact(s) ${existing.map((e) => e.kind).join(', ')}; a registered version's artifacts never change`,
      );
    }
    const stored = artifacts.map((a) => ({ ...a, sha256: sha256Hex(a.content) }));
    for (const a of stored) {
      await trx
        .insertInto('model_artifacts')
        .values({ model_name: name, model_version: version, kind: a.kind, content_type: a.contentType, content: a.content, sha256: a.sha256 })
        .execute();
    }
    return stored;
  });
}

/**
 * Registers a new version of `model.name` with all its artifacts, in one transaction (the caller's
 * when `db` is a transaction). Returns the version: 1 for a new name, else the highest + 1. The
 * version starts as a `candidate`.
 */
export async function registerModelVersion(db: Db, model: NewModelVersion, hooks: RegisterHooks = {}): Promise<number> {
  checkName(model.name);
  if (!Number.isInteger(model.seed)) throw new ThreatLensError('TL_BAD_OPTION', `model ${model.name}: seed must be an integer; got ${model.seed}`);
  if (model.artifacts.length === 0) {
    throw new ThreatLensError('TL_BAD_OPTION', `model ${model.name}: a version needs at least one artifact`);
  }
  for (const field of ['type', 'dataVersion', 'codeVersion', 'trainedBy'] as const) {
    if (!model[field]) throw new ThreatLensError('TL_BAD_OPTION', `model ${model.name}: ${field} is required`);
  }
  return inTransaction(db, async (trx) => {
    await lockName(trx, model.name);
    const top = await trx
      .selectFrom('models')
      .select((eb) => eb.fn.max('version').as('version'))
      .where('name', '=', model.name)
      .executeTakeFirst();
    const version = (top?.version ?? 0) + 1;
    await trx
      .insertInto('models')
      .values({
        name: model.name,
        version,
        type: model.type,
        hyperparameters: JSON.stringify(model.hyperparameters),
        seed: model.seed,
        data_version: model.dataVersion,
        code_version: model.codeVersion,
        metrics: JSON.stringify(model.metrics),
        model_card: JSON.stringify(model.modelCard),
        trained_by: model.trainedBy,
        status: 'candidate',
        job_id: model.jobId ?? null,
      })
      .execute();
    await hooks.afterModelRow?.(trx, version);
    await insertArtifacts(trx, model.name, version, model.artifacts);
    return version;
  });
}

async function artifactSummaries(db: Db, name?: string, version?: number): Promise<Map<string, ArtifactSummary[]>> {
  let query = db
    .selectFrom('model_artifacts')
    .select(['model_name', 'model_version', 'kind', 'content_type', 'sha256', sql<number>`octet_length(content)`.as('bytes')])
    .orderBy('model_name')
    .orderBy('model_version')
    .orderBy('kind');
  if (name !== undefined) query = query.where('model_name', '=', name);
  if (version !== undefined) query = query.where('model_version', '=', version);
  const byVersion = new Map<string, ArtifactSummary[]>();
  for (const row of await query.execute()) {
    const key = `${row.model_name}\u0000${row.model_version}`;
    const list = byVersion.get(key) ?? [];
    list.push({ kind: row.kind, contentType: row.content_type, bytes: Number(row.bytes), sha256: row.sha256 });
    byVersion.set(key, list);
  }
  return byVersion;
}

type ModelRow = Awaited<ReturnType<typeof selectModels>>[number];

function selectModels(db: Db, name?: string, version?: number) {
  let query = db.selectFrom('models').selectAll().orderBy('name').orderBy('version');
  if (name !== undefined) query = query.where('name', '=', name);
  if (version !== undefined) query = query.where('version', '=', version);
  return query.execute();
}

function toInfo(row: ModelRow, artifacts: Map<string, ArtifactSummary[]>): ModelVersionInfo {
  return {
    name: row.name,
    version: row.version,
    type: row.type,
    hyperparameters: row.hyperparameters,
    seed: Number(row.seed),
    dataVersion: row.data_version,
    codeVersion: row.code_version,
    metrics: row.metrics,
    modelCard: row.model_card,
    trainedBy: row.trained_by,
    status: row.status,
    jobId: row.job_id,
    createdAt: iso(row.created_at)!,
    promotedAt: iso(row.promoted_at),
    artifacts: artifacts.get(`${row.name}\u0000${row.version}`) ?? [],
  };
}

/** Every version (of one name, or of all), by name then version, with artifact summaries (no content). */
export async function listModels(db: Db, name?: string): Promise<ModelVersionInfo[]> {
  const [rows, artifacts] = await Promise.all([selectModels(db, name), artifactSummaries(db, name)]);
  return rows.map((row) => toInfo(row, artifacts));
}

/** One version, or undefined when it does not exist. */
export async function getModel(db: Db, name: string, version: number): Promise<ModelVersionInfo | undefined> {
  const [rows, artifacts] = await Promise.all([selectModels(db, name, version), artifactSummaries(db, name, version)]);
  return rows[0] ? toInfo(rows[0], artifacts) : undefined;
}

/** The version in production for the name, or null. */
export async function productionVersion(db: Db, name: string): Promise<number | null> {
  const row = await db
    .selectFrom('models')
    .select('version')
    .where('name', '=', name)
    .where('status', '=', 'production')
    .executeTakeFirst();
  return row?.version ?? null;
}

/** The artifacts of a version with their content, each checked against its SHA-256. */
export async function loadArtifacts(db: Db, name: string, version: number): Promise<StoredArtifact[]> {
  const rows = await db
    .selectFrom('model_artifacts')
    .select(['kind', 'content_type', 'content', 'sha256'])
    .where('model_name', '=', name)
    .where('model_version', '=', version)
    .orderBy('kind')
    .execute();
  if (rows.length === 0) {
    const exists = await db.selectFrom('models').select('version').where('name', '=', name).where('version', '=', version).executeTakeFirst();
    if (!exists) throw new ThreatLensError('TL_NOT_FOUND', `no model ${name} version ${version}`);
    throw new ThreatLensError('TL_MODEL_INCOMPLETE', `model ${name} v${version} has no artifacts`);
  }
  return rows.map((row) => {
    const content = toBytes(row.content);
    const actual = sha256Hex(content);
    if (actual !== row.sha256) {
      throw new ThreatLensError(
        'TL_MODEL_CORRUPT',
        `model ${name} v${version}: artifact "${row.kind}" has SHA-256 ${actual}, but ${row.sha256} was recorded when it was stored`,
      );
    }
    return { kind: row.kind, contentType: row.content_type, content, sha256: row.sha256 };
  });
}

/**
 * The production history of a name as a stack, oldest first, replayed from the audit log:
 * a promotion pushes its version (unless it is already on top), a rollback pops.
 */
export async function productionHistory(db: Db, name: string): Promise<number[]> {
  const entries = await db
    .selectFrom('audit_log')
    .select(['action', 'details'])
    .where('action', 'in', ['model.promote', 'model.rollback'])
    .where('outcome', '=', 'ok')
    .where(sql<string>`details->>'name'`, '=', name)
    .orderBy('id')
    .execute();
  const stack: number[] = [];
  for (const entry of entries) {
    const details = (typeof entry.details === 'string' ? JSON.parse(entry.details) : entry.details) as { version?: number };
    if (entry.action === 'model.promote') {
      if (stack.at(-1) !== details.version) stack.push(Number(details.version));
    } else {
      stack.pop();
    }
  }
  return stack;
}

export interface AuditContext {
  readonly purpose?: string | null;
  readonly agency?: string | null;
  readonly role?: string | null;
}

/** Makes `version` production within `trx`: the current production (if another) is retired first. */
async function setProduction(trx: Transaction<Database>, name: string, version: number): Promise<number | null> {
  const current = await trx
    .selectFrom('models')
    .select('version')
    .where('name', '=', name)
    .where('status', '=', 'production')
    .executeTakeFirst();
  if (current) await trx.updateTable('models').set({ status: 'retired' }).where('name', '=', name).where('version', '=', current.version).execute();
  await trx
    .updateTable('models')
    .set({ status: 'production', promoted_at: sql`now()` })
    .where('name', '=', name)
    .where('version', '=', version)
    .execute();
  return current?.version ?? null;
}

/** Refuses a version that does not exist or has no artifacts. */
async function checkPromotable(trx: Transaction<Database>, name: string, version: number): Promise<void> {
  const row = await trx.selectFrom('models').select('status').where('name', '=', name).where('version', '=', version).executeTakeFirst();
  if (!row) {
    const known = await trx.selectFrom('models').select('version').where('name', '=', name).orderBy('version').execute();
    throw new ThreatLensError(
      'TL_NOT_FOUND',
      known.length === 0
        ? `no model named ${name}`
        : `model ${name} has no version ${version} (versions: ${known.map((k) => k.version).join(', ')})`,
    );
  }
  const artifacts = await trx
    .selectFrom('model_artifacts')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('model_name', '=', name)
    .where('model_version', '=', version)
    .executeTakeFirst();
  if (Number(artifacts?.n ?? 0) === 0) {
    throw new ThreatLensError('TL_MODEL_INCOMPLETE', `model ${name} v${version} has no artifacts, so it cannot be put into production`);
  }
}

/** Records a refused action in its own transaction (the refused one rolled back), then rethrows. */
async function auditRefusal(db: Kysely<Database>, actor: string, action: string, details: Record<string, unknown>, context: AuditContext, error: unknown): Promise<never> {
  if (error instanceof ThreatLensError && !db.isTransaction) {
    await appendAudit(db, {
      actor,
      action,
      details: { ...details, error: error.code, detail: error.message },
      purpose: context.purpose ?? null,
      agency: context.agency ?? null,
      role: context.role ?? null,
      outcome: 'refused',
    });
  }
  throw error;
}

/**
 * Puts `version` into production and retires the one before, in one transaction with its audit
 * entry. Promoting the version already in production changes nothing. Refuses (TL_NOT_FOUND,
 * TL_MODEL_INCOMPLETE) versions that do not exist or have no artifacts, and audits the refusal.
 */
export async function promoteModel(
  db: Kysely<Database>,
  name: string,
  version: number,
  actor: string,
  context: AuditContext = {},
): Promise<PromotionResult> {
  checkName(name);
  checkVersion(version);
  try {
    return await db.transaction().execute(async (trx) => {
      await lockName(trx, name);
      await checkPromotable(trx, name, version);
      const current = await productionVersion(trx, name);
      if (current === version) return { name, version, previous: current, changed: false };
      const previous = await setProduction(trx, name, version);
      await appendAudit(trx, {
        actor,
        action: 'model.promote',
        details: { name, version, previous },
        purpose: context.purpose ?? null,
        agency: context.agency ?? null,
        role: context.role ?? null,
        outcome: 'ok',
      });
      return { name, version, previous, changed: true };
    });
  } catch (error) {
    return auditRefusal(db, actor, 'model.promote', { name, version }, context, error);
  }
}

/**
 * Undoes the latest promotion still in effect: the production version is retired and the version
 * that was in production before it is re-promoted (see the module comment for the history rule).
 * Refuses (TL_MODEL_NO_ROLLBACK) when nothing is in production or there is no earlier version.
 */
export async function rollbackModel(db: Kysely<Database>, name: string, actor: string, context: AuditContext = {}): Promise<PromotionResult> {
  checkName(name);
  try {
    return await db.transaction().execute(async (trx) => {
      await lockName(trx, name);
      const current = await productionVersion(trx, name);
      if (current === null) throw new ThreatLensError('TL_MODEL_NO_ROLLBACK', `model ${name} has no production version to roll back`);
      const history = await productionHistory(trx, name);
      if (history.at(-1) !== current) {
        throw new ThreatLensError(
          'TL_MODEL_NO_ROLLBACK',
          `model ${name}: production is v${current}, but the audited promotion history ends at ${history.length ? `v${history.at(-1)}` : 'nothing'}; promote a version explicitly`,
        );
      }
      const target = history.at(-2);
      if (target === undefined) {
        throw new ThreatLensError('TL_MODEL_NO_ROLLBACK', `model ${name}: v${current} is the first production version; there is nothing earlier to roll back to`);
      }
      await checkPromotable(trx, name, target);
      await setProduction(trx, name, target);
      await appendAudit(trx, {
        actor,
        action: 'model.rollback',
        details: { name, version: target, previous: current },
        purpose: context.purpose ?? null,
        agency: context.agency ?? null,
        role: context.role ?? null,
        outcome: 'ok',
      });
      return { name, version: target, previous: current, changed: true };
    });
  } catch (error) {
    return auditRefusal(db, actor, 'model.rollback', { name }, context, error);
  }
}
