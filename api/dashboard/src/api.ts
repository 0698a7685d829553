/**
 * Every request of the dashboard goes through `api()`: it sends the key the user entered (kept in
 * sessionStorage, so it is gone when the tab closes) as `Authorization: Bearer`, and turns the
 * answers a viewer may get into one result type. 401 and 403 mean "not visible to you", never a
 * zero; 404 means the route or the thing does not exist.
 */
import type { Problem } from './types.ts';

const KEY_STORAGE = 'threatlens.apiKey';
const PURPOSE_STORAGE = 'threatlens.purpose';

export type ApiResult<T> =
  | { readonly ok: true; readonly data: T; readonly status: number }
  | { readonly ok: false; readonly status: number; readonly problem: Problem | null; readonly notVisible: boolean; readonly notFound: boolean; readonly message: string };

export function apiKey(): string | null {
  try {
    return sessionStorage.getItem(KEY_STORAGE);
  } catch {
    return null; // storage disabled: run without a key
  }
}

export function setApiKey(key: string | null): void {
  try {
    if (key) sessionStorage.setItem(KEY_STORAGE, key);
    else sessionStorage.removeItem(KEY_STORAGE);
  } catch {
    // storage disabled: the key cannot be kept
  }
}

/** The stated purpose sent with every request (analysts then read the data shared with their agency; api/auth). */
export function purpose(): string | null {
  try {
    return sessionStorage.getItem(PURPOSE_STORAGE);
  } catch {
    return null;
  }
}

export function setPurpose(text: string | null): void {
  try {
    if (text) sessionStorage.setItem(PURPOSE_STORAGE, text);
    else sessionStorage.removeItem(PURPOSE_STORAGE);
  } catch {
    // storage disabled
  }
}

type Listener = (status: number, message: string) => void;
const refusals = new Set<Listener>();

/** Called on every 401 or 403, so the page can say what is not visible and ask for a key. */
export function onRefused(listener: Listener): void {
  refusals.add(listener);
}

export async function api<T>(path: string, init: RequestInit = {}): Promise<ApiResult<T>> {
  const headers = new Headers(init.headers);
  headers.set('accept', 'application/json');
  const key = apiKey();
  if (key) headers.set('authorization', `Bearer ${key}`);
  const stated = purpose();
  // Percent-encoded: a header carries ASCII only (the server decodes it).
  if (stated) headers.set('x-purpose', encodeURIComponent(stated));
  let response: Response;
  try {
    response = await fetch(path, { ...init, headers });
  } catch (error) {
    return { ok: false, status: 0, problem: null, notVisible: false, notFound: false, message: `the server did not answer (${String(error)})` };
  }
  const type = response.headers.get('content-type') ?? '';
  const body: unknown = type.includes('json') ? await response.json().catch(() => null) : null;
  if (response.ok) return { ok: true, data: body as T, status: response.status };
  const problem = body && typeof body === 'object' ? (body as Problem) : null;
  const notVisible = response.status === 401 || response.status === 403;
  const message = problem?.detail ?? problem?.title ?? `HTTP ${response.status}`;
  if (notVisible) for (const listener of refusals) listener(response.status, message);
  return { ok: false, status: response.status, problem, notVisible, notFound: response.status === 404, message };
}

/** Query string from defined values only. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  return q.toString();
}
