/**
 * Credentials for API tests: an agency and an API key of a given role, as headers for app.inject.
 * Keys go through the same path as real ones (engine/store/keys.ts), so tests exercise it.
 */
import type { Role } from '../../engine/access/roles.ts';
import type { Store } from '../../engine/store/database.ts';
import { ensureAgency } from '../../engine/store/catalogue.ts';
import { createApiKey } from '../../engine/store/keys.ts';

export interface TestCredential {
  readonly key: string;
  readonly id: string;
  readonly role: Role;
  readonly agency: string;
  /** `{ authorization: 'Bearer <key>' }` */
  readonly headers: Record<string, string>;
}

/** Creates the agency if needed and a key of `role` for it. */
export async function testKey(store: Store, role: Role, agency = 'test-agency'): Promise<TestCredential> {
  await ensureAgency(store.db, agency);
  const created = await createApiKey(store.db, { name: `test ${role} of ${agency}`, agency, role }, { actor: 'test-setup' });
  return { key: created.key, id: created.id, role, agency, headers: { authorization: `Bearer ${created.key}` } };
}
