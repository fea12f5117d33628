/**
 * "Notices were queued": a store wrapper that tells listeners after each committed changeset
 * that wrote outbox entries. `serve` wakes its dispatcher thread with it, so an opt-out goes
 * out as soon as it is filed (DESIGN §2, "at once") instead of at the next look
 * (DISPATCH_INTERVAL_MS). Only this process hears it; dispatchers elsewhere still find the
 * work at their next interval, which is what the interval is for.
 */
import type { Store } from "./store.js";

export interface OutboxSignal {
  /** Calls `listener` after each commit that queued notices; returns the unsubscribe. */
  subscribe(listener: () => void): () => void;
}

export function withOutboxSignal(store: Store): { store: Store; outboxWritten: OutboxSignal } {
  const listeners = new Set<() => void>();
  return {
    store: {
      ...store,
      async applyChangeset(changeset) {
        await store.applyChangeset(changeset);
        if (changeset.outbox.length === 0) return;
        for (const listener of listeners) listener();
      },
    },
    outboxWritten: {
      subscribe(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    },
  };
}
