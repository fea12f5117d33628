import type { StorageAdapter } from "grammy";
import type { Store } from "../store/store.js";
import type { SessionData } from "./context.js";

/**
 * grammY session storage on our store. The store encrypts the blob at rest (a session holds
 * the owner's free text); JSON that fails to parse or has an old version starts afresh.
 *
 * grammY writes the session back after every update that read it, and most updates (/status,
 * a question, a report) change nothing in it. A session whose JSON is the very text it was read
 * from is not written again: no encryption, no write transaction (≈ 40–110 µs an update on
 * SQLite). Compared in plaintext, before encrypting — each encryption has a fresh nonce, so
 * ciphertexts never match. Keyed on the object read (a WeakMap: nothing outlives the update),
 * so a session replaced or started afresh is always written, and a changed one always is too.
 */
export function storeSessionAdapter(store: Store): StorageAdapter<SessionData> {
  /** The key and stored JSON each session object was read as (or last written as). */
  const stored = new WeakMap<SessionData, { key: string; json: string }>();
  return {
    async read(key) {
      const raw = await store.readSession(key);
      if (raw === undefined) return undefined;
      try {
        const value = JSON.parse(raw) as SessionData;
        if (value?.v !== 1) return undefined;
        stored.set(value, { key, json: raw });
        return value;
      } catch {
        return undefined;
      }
    },
    async write(key, value) {
      const json = JSON.stringify(value);
      const before = stored.get(value);
      if (before?.key === key && before.json === json) return;
      await store.writeSession(key, json);
      stored.set(value, { key, json });
    },
    delete: (key) => store.deleteSession(key),
  };
}
