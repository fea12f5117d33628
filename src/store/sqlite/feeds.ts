/**
 * What an insurer reads and acknowledges through the HTTP API: its windows (visible once opened),
 * its opt-outs, and the contact attempts it recorded. Every query is scoped by insurer id.
 */
import type { ContactWindow, OptOut } from "../../domain/model.js";
import {
  type AttemptRow,
  attemptFromRow,
  type OptOutRow,
  optOutFromRow,
  type WindowRow,
  windowFromRow,
} from "../rows.js";
import type { PageAfter, Store } from "../store.js";
import type { SqliteContext } from "./context.js";
import { prepared, whenWritable } from "./db.js";

type FeedPart = Pick<
  Store,
  | "getWindow"
  | "listWindowsForInsurer"
  | "acknowledgeWindow"
  | "listOptOutsForInsurer"
  | "acknowledgeOptOut"
  | "getAttemptByIdempotencyKey"
  | "listAttempts"
>;

type WindowStatusFilter = "open" | "closed" | "revoked";

/** A window's state at @now, in SQL (exhausted windows count as open). */
const STATUS_SQL: Record<WindowStatusFilter, string> = {
  open: "revoked_at IS NULL AND closed_at IS NULL AND closes_at > @now",
  closed: "revoked_at IS NULL AND (closed_at IS NOT NULL OR closes_at <= @now)",
  revoked: "revoked_at IS NOT NULL",
};

/**
 * The domain's `hasOpened` at @now, in SQL: opened, not empty, and neither revoked nor closed
 * at or before its opening. Times are canonical ISO 8601 UTC (`toISOString`), so text order is
 * time order.
 */
const OPENED_SQL = `opens_at <= @now AND opens_at < closes_at
  AND (revoked_at IS NULL OR revoked_at > opens_at)
  AND (closed_at IS NULL OR closed_at > opens_at)`;

const keyset = (column: string, after: PageAfter | undefined) =>
  after ? `AND (${column}, id) > (@after_at, @after_id)` : "";

const afterParams = (after: PageAfter | undefined) =>
  after ? { after_at: after.at, after_id: after.id } : {};

/** Feed operations of the SQLite store. */
export function createFeedPart({ db }: SqliteContext): FeedPart {
  const windowById = prepared(db, "SELECT * FROM windows WHERE id = ?");
  const optOutById = prepared(db, "SELECT * FROM opt_outs WHERE id = ?");

  /** Sets acknowledged_at once, then reads the record back; undefined if not the insurer's. */
  const acknowledge = <Row>(table: "windows" | "opt_outs") =>
    db.transaction((insurerId: string, id: string, at: string): Row | undefined => {
      const result = prepared(
        db,
        `UPDATE ${table} SET acknowledged_at = COALESCE(acknowledged_at, @at) WHERE id = @id AND insurer_id = @insurer`,
      ).run({ id, at, insurer: insurerId });
      if (result.changes !== 1) return undefined;
      return (table === "windows" ? windowById : optOutById).get(id) as Row;
    });
  const ackWindow = acknowledge<WindowRow>("windows");
  const ackOptOut = acknowledge<OptOutRow>("opt_outs");

  const attemptByKey = prepared(db, "SELECT * FROM attempts WHERE insurer_id = ? AND idempotency_key = ?");
  const attemptsOf = prepared(db, "SELECT * FROM attempts WHERE window_id = ? ORDER BY at, rowid");

  return {
    async getWindow(id) {
      const row = windowById.get(id) as WindowRow | undefined;
      return row ? windowFromRow(row) : undefined;
    },
    async listWindowsForInsurer(insurerId, { now, status, after, limit }): Promise<ContactWindow[]> {
      const rows = prepared(
        db,
        `SELECT * FROM windows
         WHERE insurer_id = @insurer AND ${OPENED_SQL} ${status ? `AND ${STATUS_SQL[status]}` : ""}
           ${keyset("opens_at", after)}
         ORDER BY opens_at, id LIMIT @limit`,
      ).all({ insurer: insurerId, now, limit, ...afterParams(after) }) as WindowRow[];
      return rows.map(windowFromRow);
    },
    async acknowledgeWindow(insurerId, windowId, at) {
      const row = await whenWritable(db, ackWindow, insurerId, windowId, at);
      return row ? windowFromRow(row) : undefined;
    },
    async listOptOutsForInsurer(insurerId, { after, limit }): Promise<OptOut[]> {
      const rows = prepared(
        db,
        `SELECT * FROM opt_outs WHERE insurer_id = @insurer ${keyset("effective_at", after)}
         ORDER BY effective_at, id LIMIT @limit`,
      ).all({ insurer: insurerId, limit, ...afterParams(after) }) as OptOutRow[];
      return rows.map(optOutFromRow);
    },
    async acknowledgeOptOut(insurerId, optOutId, at) {
      const row = await whenWritable(db, ackOptOut, insurerId, optOutId, at);
      return row ? optOutFromRow(row) : undefined;
    },
    async getAttemptByIdempotencyKey(insurerId, idempotencyKey) {
      const row = attemptByKey.get(insurerId, idempotencyKey) as AttemptRow | undefined;
      return row ? attemptFromRow(row) : undefined;
    },
    async listAttempts(windowId) {
      return (attemptsOf.all(windowId) as AttemptRow[]).map(attemptFromRow);
    },
  };
}
