/** Owners: creation on first contact, encrypted profile fields, and erasure (/delete). */

import { uuidv7 } from "../../crypto/uuid-v7.js";
import type { Owner } from "../../domain/model.js";
import { type OwnerRow, ownerFromRow, profileColumns } from "../rows.js";
import type { NewOwner, OwnerProfilePatch, Store } from "../store.js";
import { SESSION_HASH, type SqliteContext } from "./context.js";
import { prepared, whenWritable } from "./db.js";

type OwnerPart = Pick<
  Store,
  | "ensureOwner"
  | "getOwner"
  | "getOwnerByTelegramId"
  | "updateOwnerProfile"
  | "eraseOwner"
  | "listOwnerIdsWithConsent"
>;

/** Owner operations of the SQLite store. */
export function createOwnerPart({ db, cipher, now }: SqliteContext): OwnerPart {
  const byId = prepared(db, "SELECT * FROM owners WHERE id = ?");
  const byTelegram = prepared(db, "SELECT * FROM owners WHERE telegram_user_id = ?");
  // The UNIQUE telegram_user_id makes first contact race-free across processes.
  const insert = prepared(
    db,
    `INSERT INTO owners (id, telegram_user_id, chat_id, language, timezone, jurisdiction, sandbox,
       created_at, updated_at, version)
     VALUES (@id, @telegram_user_id, @chat_id, @language, @timezone, @jurisdiction, @sandbox,
       @created_at, @created_at, 0)
     ON CONFLICT (telegram_user_id) DO NOTHING`,
  );

  const read = (id: string): Owner | undefined => {
    const row = byId.get(id) as OwnerRow | undefined;
    return row ? ownerFromRow(row, cipher) : undefined;
  };

  const update = db.transaction((id: string, patch: OwnerProfilePatch): Owner => {
    if (!byId.get(id)) throw new Error(`unknown owner ${id}`);
    const set = profileColumns(patch, cipher);
    set.updated_at = now();
    const assignments = Object.keys(set).map((column) => `${column} = @${column}`);
    prepared(db, `UPDATE owners SET ${assignments.join(", ")}, version = version + 1 WHERE id = @id`).run({
      ...set,
      id,
    });
    const owner = read(id);
    if (!owner) throw new Error(`unknown owner ${id}`);
    return owner;
  });

  const erase = db.transaction((ownerId: string, at: string) => {
    const row = byId.get(ownerId) as OwnerRow | undefined;
    if (!row) throw new Error(`unknown owner ${ownerId}`);
    if (row.chat_id !== null) {
      prepared(db, "DELETE FROM sessions WHERE key_hash = ?").run(
        cipher.hash(String(row.chat_id), SESSION_HASH),
      );
    }
    // The Telegram ids go too: what remains is no longer linked to a person, and the same
    // user coming back starts as a new owner.
    prepared(
      db,
      `UPDATE owners SET telegram_user_id = NULL, chat_id = NULL, phone_enc = NULL, phone_hash = NULL,
         phone_verified = 0, country = NULL, name_enc = NULL, vehicle_enc = NULL,
         deleted_at = COALESCE(deleted_at, @at), updated_at = @at, version = version + 1
       WHERE id = @id`,
    ).run({ id: ownerId, at });
    prepared(db, "UPDATE consents SET preferences = NULL WHERE owner_id = ?").run(ownerId);
    prepared(
      db,
      "UPDATE receipts SET owner_id = NULL, consent_id = NULL, jws = NULL, name_enc = NULL, vehicle_enc = NULL WHERE owner_id = ?",
    ).run(ownerId);
    prepared(db, "UPDATE windows SET owner_id = NULL WHERE owner_id = ?").run(ownerId);
    prepared(db, "UPDATE opt_outs SET owner_id = NULL WHERE owner_id = ?").run(ownerId);
    prepared(db, "UPDATE outbox SET owner_id = NULL WHERE owner_id = ?").run(ownerId);
    // The scrub audit exists for the owner to see; with the owner gone it is not kept.
    prepared(db, "DELETE FROM scrub_hits WHERE owner_id = ?").run(ownerId);
    // Messages to the owner: with nobody left to tell, neither sent nor pending ones are kept.
    prepared(db, "DELETE FROM owner_notices WHERE owner_id = ?").run(ownerId);
  });

  const withConsent = prepared(
    db,
    `SELECT id FROM owners o
     WHERE deleted_at IS NULL AND id > @after
       AND EXISTS (SELECT 1 FROM consents c
                   WHERE c.owner_id = o.id AND c.superseded_at IS NULL AND c.preferences IS NOT NULL)
     ORDER BY id LIMIT @limit`,
  ).pluck();

  // A transaction, so whenWritable can run it without blocking on the write lock.
  const insertOwner = db.transaction((params: Record<string, unknown>) => void insert.run(params));

  return {
    async ensureOwner(input: NewOwner) {
      // Every update but an owner's first finds them: a read, not a write transaction that
      // inserts nothing (ON CONFLICT DO NOTHING never changes a known owner either).
      const known = byTelegram.get(input.telegramUserId) as OwnerRow | undefined;
      if (known) return ownerFromRow(known, cipher);
      await whenWritable(db, insertOwner, {
        // Time-ordered, like every record id: an owner usually agrees minutes after starting,
        // so the owner-keyed indexes of an agreement's rows (five tables) take their entries
        // near the end of each B-tree, on pages other agreements just wrote, instead of on five
        // random pages. An agreement's WAL bytes fell by a sixth (104 → 87 KiB). The id never
        // leaves the service, so its timestamp tells nobody anything.
        id: uuidv7(),
        telegram_user_id: input.telegramUserId,
        chat_id: input.chatId,
        language: input.language,
        timezone: input.timezone,
        jurisdiction: input.jurisdiction,
        sandbox: input.sandbox ? 1 : 0,
        created_at: now(),
      });
      const row = byTelegram.get(input.telegramUserId) as OwnerRow | undefined;
      if (!row) throw new Error("owner vanished after insert");
      return ownerFromRow(row, cipher);
    },
    async getOwner(id) {
      return read(id);
    },
    async getOwnerByTelegramId(telegramUserId) {
      const row = byTelegram.get(telegramUserId) as OwnerRow | undefined;
      return row ? ownerFromRow(row, cipher) : undefined;
    },
    async updateOwnerProfile(id, patch) {
      return whenWritable(db, update, id, patch);
    },
    async eraseOwner(ownerId, at) {
      await whenWritable(db, erase, ownerId, at);
    },
    async listOwnerIdsWithConsent(after, limit) {
      return withConsent.all({ after: after ?? "", limit }) as string[];
    },
  };
}
