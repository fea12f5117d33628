/** The embedded default store: one SQLite file, personal fields encrypted with the cipher. */
import type { FieldCipher } from "../../crypto/field-cipher.js";
import type { Store } from "../store.js";
import { createChangesetPart } from "./changesets.js";
import type { SqliteContext } from "./context.js";
import { openDatabase, writesSettled } from "./db.js";
import { createFeedPart } from "./feeds.js";
import { createInsurerPart } from "./insurers.js";
import { createNotificationPart } from "./notifications.js";
import { createOutboxPart } from "./outbox.js";
import { createOwnerPart } from "./owners.js";
import { createQuotaPart } from "./quotas.js";
import { createScrubPart } from "./scrub.js";
import { createSessionPart } from "./sessions.js";

export interface SqliteStoreOptions {
  /** Path of the database file; its directory is created if missing. */
  file: string;
  cipher: FieldCipher;
  /** Clock for the timestamps the store sets itself (createdAt, updatedAt). */
  now?: () => Date;
}

/**
 * Opens the SQLite store (WAL mode, so several processes may share the file), migrating the
 * schema. Nothing is read or written before this call.
 */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  const db = openDatabase(options.file);
  const clock = options.now ?? (() => new Date());
  const context: SqliteContext = { db, cipher: options.cipher, now: () => clock().toISOString() };
  const ping = db.prepare("SELECT 1").pluck();
  const { commitPending, ...changesets } = createChangesetPart(context);

  return {
    ...createInsurerPart(context),
    ...createOwnerPart(context),
    ...changesets,
    ...createFeedPart(context),
    ...createScrubPart(context),
    ...createQuotaPart(context),
    ...createOutboxPart(context),
    ...createNotificationPart(context),
    ...createSessionPart(context),
    async ping() {
      try {
        return ping.get() === 1;
      } catch {
        return false;
      }
    },
    async close() {
      // Writes already asked for are made (their callers are waiting), not dropped: first those
      // waiting for the write lock, then the changesets handed over.
      await writesSettled(db);
      commitPending(true);
      if (db.open) db.close();
    },
  };
}
