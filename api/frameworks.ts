/**
 * Built-in frameworks for the API: only ids of the shipped frameworks are accepted (never a path:
 * the API must not read files named by a client), parsed once per catalogue state.
 */
import { BUILTIN_FRAMEWORKS, loadFramework } from '../datasets/frameworks/index.ts';
import { ThreatLensError } from '../engine/errors.ts';
import type { Framework } from '../engine/scoring/framework.ts';
import type { Store } from '../engine/store/database.ts';
import type { ReadCache } from './read-cache.ts';

/**
 * Parsed frameworks by catalogue (the indicator codes, joined) and id; reading and validating the
 * file took 6 ms a request. Two levels, so that a lookup hashes the remembered catalogue key, not
 * a new string of every code.
 */
const parsed = new Map<string, Map<string, Promise<Framework>>>();
const PARSED_CATALOGUES = 8;
const catalogueKeys = new WeakMap<readonly string[], string>();

/** The indicator catalogue's codes, sorted. */
async function readIndicatorCodes(store: Store): Promise<readonly string[]> {
  // Codes only: the full catalogue rows (descriptions, units) cost 6 ms a read on PGlite.
  return (await store.db.selectFrom('indicators').select('code').orderBy('code').execute()).map((i) => i.code);
}

/**
 * The built-in framework `id`, checked against the indicator catalogue. With `cache`, the
 * catalogue's codes are remembered as a data version is (a change to the catalogue by any process
 * notifies: migration 0010), instead of read on every request (an assessment's one query outside
 * its group commit).
 */
export async function builtinFramework(store: Store, id: string, cache?: ReadCache): Promise<Framework> {
  if (!(BUILTIN_FRAMEWORKS as readonly string[]).includes(id)) {
    throw new ThreatLensError('TL_NOT_FOUND', `framework "${id}" is not built in; choose one of ${BUILTIN_FRAMEWORKS.join(', ')} (GET /v1/frameworks)`);
  }
  const codes = await (cache ? cache.remember('indicator-codes', () => readIndicatorCodes(store)) : readIndicatorCodes(store));
  let catalogueKey = catalogueKeys.get(codes);
  if (catalogueKey === undefined) {
    catalogueKey = codes.join('\u0000');
    catalogueKeys.set(codes, catalogueKey);
  }
  let byId = parsed.get(catalogueKey);
  if (!byId) {
    byId = new Map();
    parsed.set(catalogueKey, byId);
    if (parsed.size > PARSED_CATALOGUES) parsed.delete(parsed.keys().next().value!);
  }
  let framework = byId.get(id);
  if (!framework) {
    framework = loadFramework(id, new Set(codes));
    const failed = framework;
    framework.catch(() => {
      if (byId.get(id) === failed) byId.delete(id);
    });
    byId.set(id, framework);
  }
  return framework;
}
