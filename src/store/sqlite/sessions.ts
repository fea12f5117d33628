/** Encrypted bot sessions and plain operator metadata. */
import type { Store } from "../store.js";
import { SESSION_HASH, type SqliteContext } from "./context.js";

type SessionPart = Pick<Store, "readSession" | "writeSession" | "deleteSession" | "getMeta" | "setMeta">;

/**
 * Session and meta operations of the SQLite store. Session keys are stored as keyed hashes;
 * /delete removes the session keyed by the owner's chat id (grammY's default key).
 */
export function createSessionPart({ db, cipher, now }: SqliteContext): SessionPart {
  const read = db.prepare("SELECT value_enc FROM sessions WHERE key_hash = ?").pluck();
  const write = db.prepare(
    `INSERT INTO sessions (key_hash, value_enc, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (key_hash) DO UPDATE SET value_enc = excluded.value_enc, updated_at = excluded.updated_at`,
  );
  const remove = db.prepare("DELETE FROM sessions WHERE key_hash = ?");
  const getMeta = db.prepare("SELECT value FROM meta WHERE key = ?").pluck();
  const setMeta = db.prepare(
    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  );
  const keyHash = (key: string) => cipher.hash(key, SESSION_HASH);

  return {
    async readSession(key) {
      const value = read.get(keyHash(key)) as string | undefined;
      return value === undefined ? undefined : cipher.decrypt(value);
    },
    async writeSession(key, value) {
      write.run(keyHash(key), cipher.encrypt(value), now());
    },
    async deleteSession(key) {
      remove.run(keyHash(key));
    },
    async getMeta(key) {
      return getMeta.get(key) as string | undefined;
    },
    async setMeta(key, value) {
      setMeta.run(key, value);
    },
  };
}
