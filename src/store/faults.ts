/**
 * Whether an error means the store cannot take writes right now — a full or read-only disk,
 * an I/O error, a Redis out of memory, refusing writes after a failed save, a replica, a
 * cluster or server that is down or unreachable — rather than a fault in our code or in the
 * request. Callers answer such errors as temporary (HTTP 503 `storage_unavailable` with
 * Retry-After, a "try again shortly" in the chat) and keep what the owner had on screen;
 * nothing is lost, because a failed write changed nothing. Pure: looks at codes and messages
 * only, along the `cause` chain.
 */

/** SQLite result codes (better-sqlite3's `SqliteError.code`) of a store that cannot write. */
const SQLITE = /^SQLITE_(?:FULL|IOERR|READONLY|CANTOPEN|BUSY|LOCKED|PROTOCOL|NOLFS)/;

/** errno codes of a full or read-only disk, or of a store server out of reach. */
const ERRNO = new Set([
  "ENOSPC",
  "EDQUOT",
  "EROFS",
  "EIO",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
]);

/**
 * Redis error replies and client errors of a server that refuses writes or cannot be reached
 * (ioredis, and @upstash/redis's REST replies, including its request quota).
 */
const REDIS =
  /^(?:OOM|MISCONF|READONLY|LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|NOREPLICAS|BUSY)\b|Connection is closed|Stream isn't writeable|max retries per request|All command retries|max (?:daily )?requests? limit|fetch failed/i;

export function isStorageUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if (typeof e !== "object") return false;
    const { code, message, name, cause } = e as {
      code?: unknown;
      message?: unknown;
      name?: unknown;
      cause?: unknown;
    };
    if (typeof code === "string" && (SQLITE.test(code) || ERRNO.has(code))) return true;
    if (name === "MaxRetriesPerRequestError") return true;
    if (typeof message === "string" && REDIS.test(message)) return true;
    e = cause;
  }
  return false;
}
