/**
 * Built-in frameworks for the API: only ids of the shipped frameworks are accepted (never a path:
 * the API must not read files named by a client), parsed once per catalogue state.
 */
import { BUILTIN_FRAMEWORKS, loadFramework } from '../datasets/frameworks/index.ts';
import { ThreatLensError } from '../engine/errors.ts';
import type { Framework } from '../engine/scoring/framework.ts';
import type { Store } from '../engine/store/database.ts';

/** Parsed frameworks by id and catalogue; reading and validating the file took 6 ms a request. */
const parsed = new Map<string, Promise<Framework>>();
const PARSED_CACHE_SIZE = 32;

export async function builtinFramework(store: Store, id: string): Promise<Framework> {
  if (!(BUILTIN_FRAMEWORKS as readonly string[]).includes(id)) {
    throw new ThreatLensError('TL_NOT_FOUND', `framework "${id}" is not built in; choose one of ${BUILTIN_FRAMEWORKS.join(', ')} (GET /v1/frameworks)`);
  }
  // Codes only: the full catalogue rows (descriptions, units) cost 6 ms a read on PGlite.
  const codes = (await store.db.selectFrom('indicators').select('code').orderBy('code').execute()).map((i) => i.code);
  const key = `${id}\u0000${codes.join('\u0000')}`;
  let framework = parsed.get(key);
  if (!framework) {
    framework = loadFramework(id, new Set(codes));
    framework.catch(() => parsed.delete(key));
    parsed.set(key, framework);
    if (parsed.size > PARSED_CACHE_SIZE) parsed.delete(parsed.keys().next().value!);
  }
  return framework;
}
