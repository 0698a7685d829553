/**
 * Hearing about data changes made by any process: the triggers of migration 0006 send
 * `NOTIFY threatlens_data_changed, '<table>'` at commit; this subscribes a callback to them.
 *
 * PostgreSQL: a dedicated connection (LISTEN cannot share a pooled one) that reconnects with
 * back-off when the server goes away. While it is down, notifications may be missed, so the
 * callback is also called on every (re)connection with `table: null`: "anything may have
 * changed". PGlite: its in-process `listen` (one process owns a PGlite directory).
 */
import pg from 'pg';
import { DATA_CHANGED_CHANNEL } from './migrations/0006_change_notifications.ts';
import type { Store } from './database.ts';

export { DATA_CHANGED_CHANNEL };

/** `table` names the table that changed, or is null when notifications may have been missed. */
export type DataChangeListener = (table: string | null) => void;

export interface DataChangeSubscription {
  /** True while notifications are being received (PostgreSQL: the listening connection is up). */
  readonly connected: boolean;
  close(): Promise<void>;
}

const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5_000;

export async function listenForDataChanges(store: Store, onChange: DataChangeListener, log: (line: string) => void = () => undefined): Promise<DataChangeSubscription> {
  if (store.pglite) {
    const unlisten = await store.pglite.listen(DATA_CHANGED_CHANNEL, (payload) => onChange(payload || null));
    return { connected: true, close: () => unlisten() };
  }
  if (!store.pool) throw new Error('listenForDataChanges: the store has neither a PGlite client nor a pg pool');
  const connection = store.pool.options;
  let client: pg.Client | undefined;
  let connected = false;
  let closed = false;
  let delay = RECONNECT_MIN_MS;
  let timer: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    if (closed) return;
    const next = new pg.Client({ ...connection, application_name: 'threatlens-listen' });
    const lost = (reason: string) => {
      if (client !== next) return;
      client = undefined;
      if (connected) log(`data-change notifications lost (${reason}); reconnecting`);
      connected = false;
      next.removeAllListeners();
      next.on('error', () => undefined);
      void next.end().catch(() => undefined);
      onChange(null);
      schedule();
    };
    client = next;
    next.on('error', (error) => lost(error.message));
    next.on('end', () => lost('connection ended'));
    next.on('notification', (message) => onChange(message.payload || null));
    try {
      await next.connect();
      await next.query(`listen ${DATA_CHANGED_CHANNEL}`);
      if (client !== next || closed) {
        await next.end().catch(() => undefined);
        return;
      }
      connected = true;
      delay = RECONNECT_MIN_MS;
      // Whatever changed while we were not listening is unknown.
      onChange(null);
    } catch (error) {
      lost(error instanceof Error ? error.message : String(error));
    }
  };
  const schedule = () => {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, delay);
    timer.unref();
    delay = Math.min(delay * 2, RECONNECT_MAX_MS);
  };

  await connect();
  return {
    get connected() {
      return connected;
    },
    close: async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      const current = client;
      client = undefined;
      connected = false;
      if (current) {
        current.removeAllListeners();
        current.on('error', () => undefined);
        await current.end().catch(() => undefined);
      }
    },
  };
}
