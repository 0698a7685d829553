/**
 * Built-in frameworks for the API: only ids of the shipped frameworks are accepted (never a path:
 * the API must not read files named by a client), parsed once per catalogue state.
 */
import { BUILTIN_FRAMEWORKS, loadFramework } from '../datasets/frameworks/index.ts';
import { ThreatLensError } from '../engine/errors.ts';
import type { Framework } from '../engine/scoring/framework.ts';
import { listIndicators } from '../engine/store/catalogue.ts';
import type { Store } from '../engine/store/database.ts';

export async function builtinFramework(store: Store, id: string): Promise<Framework> {
  if (!(BUILTIN_FRAMEWORKS as readonly string[]).includes(id)) {
    throw new ThreatLensError('TL_NOT_FOUND', `framework "${id}" is not built in; choose one of ${BUILTIN_FRAMEWORKS.join(', ')} (GET /v1/frameworks)`);
  }
  const known = new Set((await listIndicators(store.db)).map((i) => i.code));
  return loadFramework(id, known);
}
