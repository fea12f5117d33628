import type { FieldCipher } from "../../crypto/field-cipher.js";
import type { Db } from "./db.js";

/** What each part of the SQLite store shares. */
export interface SqliteContext {
  db: Db;
  cipher: FieldCipher;
  /** Current instant, ISO 8601 UTC. */
  now: () => string;
}

/** Hash purpose for session keys (distinct from phone hashes). */
export const SESSION_HASH = "session";

export function isSqliteCode(error: unknown, prefix: string): boolean {
  if (typeof error !== "object" || error === null) return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && code.startsWith(prefix);
}
