import type { StorageAdapter } from "grammy";
import type { Store } from "../store/store.js";
import type { SessionData } from "./context.js";

/**
 * grammY session storage on our store. The store encrypts the blob at rest (a session holds
 * the owner's free text); JSON that fails to parse or has an old version starts afresh.
 */
export function storeSessionAdapter(store: Store): StorageAdapter<SessionData> {
  return {
    async read(key) {
      const raw = await store.readSession(key);
      if (raw === undefined) return undefined;
      try {
        const value = JSON.parse(raw) as SessionData;
        return value?.v === 1 ? value : undefined;
      } catch {
        return undefined;
      }
    },
    write: (key, value) => store.writeSession(key, JSON.stringify(value)),
    delete: (key) => store.deleteSession(key),
  };
}
