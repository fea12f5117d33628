/**
 * What the bot tells owners on its own: acknowledgement digests, the 72-hour reminder for an
 * open window its insurer has not acknowledged, and queued owner notices such as a refusal on a
 * call (DESIGN §7). Each is marked once told.
 */
import type { OwnerNotice } from "../../domain/model.js";
import {
  type OwnerNoticeRow,
  ownerNoticeFromRow,
  ownerNoticeToRow,
  type WindowRow,
  windowFromRow,
} from "../rows.js";
import type { AckNotice, Store } from "../store.js";
import type { SqliteContext } from "./context.js";
import { type Db, prepared, whenWritable } from "./db.js";
import { insertSql } from "./sql.js";

type NotificationPart = Pick<
  Store,
  | "pendingAckNotices"
  | "markAckNoticesSent"
  | "windowsAwaitingAckReminder"
  | "markAckReminderSent"
  | "pendingOwnerNotices"
  | "markOwnerNoticesSent"
>;

/** Queues owner notices; called inside the changeset transaction. */
export function insertOwnerNotices(db: Db, notices: readonly OwnerNotice[]): void {
  for (const notice of notices) {
    const row = ownerNoticeToRow(notice);
    prepared(db, insertSql("owner_notices", row)).run(row);
  }
}

interface AckNoticeRow {
  kind: AckNotice["kind"];
  id: string;
  owner_id: string;
  insurer_id: string;
  acknowledged_at: string;
}

/** Notification operations of the SQLite store. */
export function createNotificationPart({ db }: SqliteContext): NotificationPart {
  const pending = prepared(
    db,
    `SELECT 'window' AS kind, id, owner_id, insurer_id, acknowledged_at FROM windows
     WHERE acknowledged_at IS NOT NULL AND ack_notified_at IS NULL AND owner_id IS NOT NULL
     UNION ALL
     SELECT 'optout' AS kind, id, owner_id, insurer_id, acknowledged_at FROM opt_outs
     WHERE acknowledged_at IS NOT NULL AND ack_notified_at IS NULL AND owner_id IS NOT NULL
     ORDER BY acknowledged_at, id LIMIT ?`,
  );
  const markWindow = prepared(
    db,
    "UPDATE windows SET ack_notified_at = COALESCE(ack_notified_at, ?) WHERE id = ?",
  );
  const markOptOut = prepared(
    db,
    "UPDATE opt_outs SET ack_notified_at = COALESCE(ack_notified_at, ?) WHERE id = ?",
  );
  const mark = db.transaction((notices: readonly Pick<AckNotice, "kind" | "id">[], at: string) => {
    for (const { kind, id } of notices) (kind === "window" ? markWindow : markOptOut).run(at, id);
  });
  const awaiting = prepared(
    db,
    `SELECT * FROM windows
     WHERE acknowledged_at IS NULL AND ack_reminder_at IS NULL AND revoked_at IS NULL AND closed_at IS NULL
       AND opens_at <= @openedBefore AND closes_at > @now AND owner_id IS NOT NULL
     ORDER BY opens_at, id LIMIT @limit`,
  );
  const markReminder = prepared(
    db,
    "UPDATE windows SET ack_reminder_at = COALESCE(ack_reminder_at, ?) WHERE id = ?",
  );
  const pendingNotices = prepared(
    db,
    "SELECT * FROM owner_notices WHERE sent_at IS NULL ORDER BY created_at, id LIMIT ?",
  );
  const markNotice = prepared(db, "UPDATE owner_notices SET sent_at = COALESCE(sent_at, ?) WHERE id = ?");
  const markNotices = db.transaction((ids: readonly string[], at: string) => {
    for (const id of ids) markNotice.run(at, id);
  });

  // A transaction, so whenWritable can run it without blocking on the write lock.
  const markReminderTx = db.transaction(
    (at: string, windowId: string) => void markReminder.run(at, windowId),
  );

  return {
    async pendingAckNotices(limit) {
      return (pending.all(limit) as AckNoticeRow[]).map((row) => ({
        kind: row.kind,
        id: row.id,
        ownerId: row.owner_id,
        insurerId: row.insurer_id,
        acknowledgedAt: row.acknowledged_at,
      }));
    },
    async markAckNoticesSent(notices, at) {
      if (notices.length > 0) await whenWritable(db, mark, notices, at);
    },
    async windowsAwaitingAckReminder(openedBefore, now, limit) {
      return (awaiting.all({ openedBefore, now, limit }) as WindowRow[]).map(windowFromRow);
    },
    async markAckReminderSent(windowId, at) {
      await whenWritable(db, markReminderTx, at, windowId);
    },
    async pendingOwnerNotices(limit) {
      return (pendingNotices.all(limit) as OwnerNoticeRow[]).map(ownerNoticeFromRow);
    },
    async markOwnerNoticesSent(ids, at) {
      if (ids.length > 0) await whenWritable(db, markNotices, ids, at);
    },
  };
}
