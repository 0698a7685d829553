/**
 * KeyVerifier remembers a key's check for a while, but never past the key's expiry: a key that
 * expires while remembered is refused from that moment, by peek (the fast path) and by verify.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { KeyVerifier } from '../api/auth/credentials.ts';
import { ensureAgency } from '../engine/store/catalogue.ts';
import type { Store } from '../engine/store/database.ts';
import { createApiKey } from '../engine/store/keys.ts';
import { openTestStore } from './support/stores.ts';

describe('KeyVerifier', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore('pglite');
    await ensureAgency(store.db, 'agency-k');
  });
  afterAll(async () => {
    await store?.close();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('refuses a remembered key from the moment it expires, though it is remembered for a minute', async () => {
    const created = await createApiKey(store.db, { name: 'short-lived', agency: 'agency-k', role: 'analyst', expiresInDays: 10 / 86_400 }, { actor: 'test' });
    const expiresAt = Date.parse(created.expiresAt);
    const verifier = new KeyVerifier(store.db, 60_000);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(expiresAt - 5_000);
    expect((await verifier.verify(created.key)).agency).toBe('agency-k');
    expect(verifier.peek(created.key)?.role).toBe('analyst');
    vi.setSystemTime(expiresAt - 1);
    expect(verifier.peek(created.key)?.role).toBe('analyst');
    vi.setSystemTime(expiresAt);
    expect(verifier.peek(created.key)).toBeUndefined();
    await expect(verifier.verify(created.key)).rejects.toThrow(/expired on/);
  });

  it('remembers a check for its time to live, then asks the database again', async () => {
    const created = await createApiKey(store.db, { name: 'long-lived', agency: 'agency-k', role: 'viewer' }, { actor: 'test' });
    const verifier = new KeyVerifier(store.db, 1_000);
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.now();
    expect(verifier.peek(created.key)).toBeUndefined();
    await verifier.verify(created.key);
    expect(verifier.peek(created.key)?.role).toBe('viewer');
    vi.setSystemTime(start + 1_000);
    expect(verifier.peek(created.key)).toBeUndefined();
    await expect(verifier.verify('tl_notakey')).rejects.toThrow(/not an API key|API key/);
  });
});
