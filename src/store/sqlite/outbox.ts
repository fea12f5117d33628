/**
 * The outbox: notices written in the same transaction as what they announce. The dispatcher
 * adds its claim and lease queries here.
 */

import type { OutboxEntry } from "../../domain/model.js";
import type { Db } from "./db.js";
import { prepared } from "./db.js";
import { insertSql, type OutboxRow, outboxFromRow, outboxToRow } from "./rows.js";

/** Inserts entries; call inside the caller's transaction. */
export function insertOutbox(db: Db, entries: readonly OutboxEntry[]): void {
  for (const entry of entries) {
    const row = outboxToRow(entry);
    prepared(db, insertSql("outbox", row)).run(row);
  }
}

/** All entries, optionally of one state, by due time then insertion order. */
export function listOutbox(db: Db, state?: OutboxEntry["state"]): OutboxEntry[] {
  const rows =
    state === undefined
      ? prepared(db, "SELECT * FROM outbox ORDER BY due_at, rowid").all()
      : prepared(db, "SELECT * FROM outbox WHERE state = ? ORDER BY due_at, rowid").all(state);
  return (rows as OutboxRow[]).map(outboxFromRow);
}
