/** Encrypted bot sessions, plain operator metadata, and claimed Telegram update ids. */
import type { Store } from "../store.js";
import { SESSION_HASH, type SqliteContext } from "./context.js";
import { whenWritable } from "./db.js";

type SessionPart = Pick<
  Store,
  "readSession" | "writeSession" | "deleteSession" | "getMeta" | "setMeta" | "claimUpdate"
>;

/** Expired update claims are purged at most this often (per connection). */
const PURGE_EVERY_MS = 60_000;

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
  // Inserts the claim, or takes over an expired one; `changes` is 0 when a live claim exists.
  const claim = db.prepare(
    `INSERT INTO telegram_updates (update_id, expires_at) VALUES (?, ?)
     ON CONFLICT (update_id) DO UPDATE SET expires_at = excluded.expires_at
     WHERE telegram_updates.expires_at <= ?`,
  );
  const purge = db.prepare("DELETE FROM telegram_updates WHERE expires_at <= ?");
  let purgedAt = 0;
  // Each write as a transaction, so whenWritable can run it without blocking on the lock.
  const writeTx = db.transaction(
    (hash: string, value: string, at: string) => void write.run(hash, value, at),
  );
  const removeTx = db.transaction((hash: string) => void remove.run(hash));
  const setMetaTx = db.transaction((key: string, value: string) => void setMeta.run(key, value));
  const claimTx = db.transaction((updateId: number, at: number, ttlMs: number, purgeFirst: boolean) => {
    if (purgeFirst) purge.run(at);
    return claim.run(updateId, at + ttlMs, at).changes === 1;
  });

  return {
    async readSession(key) {
      const value = read.get(keyHash(key)) as string | undefined;
      return value === undefined ? undefined : cipher.decrypt(value);
    },
    async writeSession(key, value) {
      await whenWritable(db, writeTx, keyHash(key), cipher.encrypt(value), now());
    },
    async deleteSession(key) {
      await whenWritable(db, removeTx, keyHash(key));
    },
    async getMeta(key) {
      return getMeta.get(key) as string | undefined;
    },
    async setMeta(key, value) {
      await whenWritable(db, setMetaTx, key, value);
    },
    async claimUpdate(updateId, ttlMs) {
      const at = Date.parse(now());
      const purgeFirst = at - purgedAt >= PURGE_EVERY_MS;
      if (purgeFirst) purgedAt = at;
      return whenWritable(db, claimTx, updateId, at, ttlMs, purgeFirst);
    },
  };
}
