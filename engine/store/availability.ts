/**
 * "Is this error the database being away?" An outage is answered 503 with Retry-After by the API
 * and retried by the job runner; any other error is a bug (500). The shapes below were observed
 * with node-postgres 8 while a PostgreSQL 15 server was stopped (`pg_ctl stop -m fast`) and started
 * again under load (test/faults-database.test.ts collects them):
 *
 * - queries in flight when the server stops: 57P01 "terminating connection due to administrator
 *   command", "Connection terminated unexpectedly", "read ECONNRESET";
 * - connections opened while it shuts down or starts: 57P03 "the database system is shutting
 *   down" / "... is starting up";
 * - connections opened while it is stopped: ECONNREFUSED (an AggregateError with that code and an
 *   empty message when the host name resolves to several addresses);
 * - a dedicated client reused after its connection broke: "Client has encountered a connection
 *   error and is not queryable";
 * - a pool with connectionTimeoutMillis: "timeout exceeded when trying to connect",
 *   "Connection terminated due to connection timeout".
 */

/** SQLSTATEs and socket error codes that mean the server is not reachable right now. */
const UNAVAILABLE_CODES = new Set([
  // sockets and name resolution
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  // SQLSTATE class 08: connection exception
  '08000', '08001', '08003', '08004', '08006', '08007', '08P01',
  // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 57P05 idle_session_timeout
  '57P01', '57P02', '57P03', '57P05',
  // 53300 too_many_connections: the server is there but cannot take us now
  '53300',
]);

const UNAVAILABLE_MESSAGES =
  /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|Client has encountered a connection error and is not queryable|the database system is (shutting down|starting up|in recovery mode)/i;

/** True when `error` (or an error in its `cause` chain or `errors` list) says the database is away. */
export function isStoreUnavailable(error: unknown, depth = 0): boolean {
  if (error === null || typeof error !== 'object' || depth > 4) return false;
  const { code, message, cause, errors } = error as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message)) return true;
  if (cause !== undefined && isStoreUnavailable(cause, depth + 1)) return true;
  return Array.isArray(errors) && errors.some((inner) => isStoreUnavailable(inner, depth + 1));
}

/** A short, safe label for an outage error in logs and problem details: its code, else its message. */
export function describeStoreError(error: unknown): string {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && code) return code;
  // A wrapped outage (e.g. "Store migration failed: ..."): the code of what it wraps.
  for (let cause = (error as { cause?: unknown } | null)?.cause, depth = 0; cause && depth < 4; cause = (cause as { cause?: unknown }).cause, depth++) {
    const inner = (cause as { code?: unknown }).code;
    if (typeof inner === 'string' && inner) return inner;
  }
  if (typeof message === 'string' && message) return message.slice(0, 120);
  return String(error).slice(0, 120);
}
