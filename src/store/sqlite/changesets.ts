/** Applying planned changesets atomically, and reading an owner's records back. */

import type { Changeset, ContactWindow, OwnerState } from "../../domain/model.js";
import {
  attemptToRow,
  type ConsentRow,
  consentFromRow,
  consentToRow,
  type OptOutRow,
  type OwnerRow,
  optOutFromRow,
  optOutToRow,
  ownerFromRow,
  profileColumns,
  type ReceiptRow,
  receiptFromRow,
  receiptToRow,
  type WindowRow,
  windowFromRow,
  windowToRow,
} from "../rows.js";
import { ConflictError, DuplicateError, type Store } from "../store.js";
import { isSqliteCode, type SqliteContext } from "./context.js";
import { pollingTooLong, prepared, tryWrite } from "./db.js";
import { insertOwnerNotices } from "./notifications.js";
import { insertOutbox } from "./outbox.js";
import { insertSql } from "./sql.js";

/**
 * Under concurrent load, how long a commit waits for more changesets to join it. Each commit
 * writes every page it dirtied to the WAL, and an agreement dirties a page per insurer in the
 * feed and claim indexes, so the fewer commits, the fewer pages: at 16 agreements at a time,
 * 4 ms took commits from ~8 to ~15 agreements each and cut the CPU of an agreement by a third
 * (bench/fanout.ts and an agree-only run). It adds at most 4 ms to an agreement's reply.
 */
const GATHER_MS = 4;

type ChangesetPart = Pick<
  Store,
  "applyChangeset" | "getOwnerState" | "findWindowByStopToken" | "getReceipt" | "getOptOut" | "getOptOuts"
>;

/** Changeset and owner-state operations of the SQLite store; `commitPending` runs on close. */
export function createChangesetPart({ db, cipher, now }: SqliteContext): ChangesetPart & {
  commitPending(block?: boolean): void;
} {
  const ownerVersion = prepared(db, "SELECT version FROM owners WHERE id = ?").pluck();
  const bumpOwner = prepared(
    db,
    "UPDATE owners SET version = version + 1, updated_at = @at WHERE id = @id AND version = @expected",
  );

  /**
   * Runs `sql` for one target row of this owner. COALESCE keeps the first timestamp, so
   * re-applying a revoke or close is harmless; a target that is not this owner's is a
   * planning bug and aborts the whole changeset.
   */
  const touch = (table: string, sql: string, params: Record<string, string>) => {
    const result = prepared(db, sql).run(params);
    if (result.changes !== 1) throw new Error(`${table} ${params.id} is not a record of this owner`);
  };

  const apply = db.transaction((cs: Changeset) => {
    const version = ownerVersion.get(cs.ownerId) as number | undefined;
    if (version === undefined) throw new Error(`unknown owner ${cs.ownerId}`);
    if (version !== cs.expectedVersion) throw new ConflictError();
    const owner = { owner: cs.ownerId };

    if (cs.consent) {
      if (cs.consent.ownerId !== cs.ownerId) throw new Error("consent belongs to another owner");
      const row = consentToRow(cs.consent);
      prepared(db, insertSql("consents", row)).run(row);
    }
    for (const { id, at } of cs.supersedeConsents) {
      touch(
        "consent",
        "UPDATE consents SET superseded_at = COALESCE(superseded_at, @at) WHERE id = @id AND owner_id = @owner",
        { ...owner, id, at },
      );
    }
    for (const receipt of cs.receipts) {
      const row = receiptToRow({ ...receipt, ownerId: receipt.ownerId ?? cs.ownerId }, cipher);
      prepared(db, insertSql("receipts", row)).run(row);
    }
    for (const window of cs.windows) {
      if (window.ownerId !== cs.ownerId) throw new Error("window belongs to another owner");
      const row = windowToRow(window);
      prepared(db, insertSql("windows", row)).run(row);
    }
    for (const { id, at, reason } of cs.revokeWindows) {
      touch(
        "window",
        `UPDATE windows SET revoked_at = COALESCE(revoked_at, @at), revoke_reason = COALESCE(revoke_reason, @reason)
         WHERE id = @id AND owner_id = @owner`,
        { ...owner, id, at, reason },
      );
    }
    for (const { id, at } of cs.closeWindows) {
      touch(
        "window",
        "UPDATE windows SET closed_at = COALESCE(closed_at, @at) WHERE id = @id AND owner_id = @owner",
        { ...owner, id, at },
      );
    }
    for (const { id, at, reason } of cs.revokeReceipts) {
      touch(
        "receipt",
        `UPDATE receipts SET revoked_at = COALESCE(revoked_at, @at), revoke_reason = COALESCE(revoke_reason, @reason)
         WHERE id = @id AND owner_id = @owner`,
        { ...owner, id, at, reason },
      );
    }
    for (const optOut of cs.optOuts) {
      const row = optOutToRow({ ...optOut, ownerId: optOut.ownerId ?? cs.ownerId });
      prepared(db, insertSql("opt_outs", row)).run(row);
    }
    for (const { id, at } of cs.withdrawOptOuts) {
      touch(
        "opt-out",
        "UPDATE opt_outs SET withdrawn_at = COALESCE(withdrawn_at, @at) WHERE id = @id AND owner_id = @owner",
        { ...owner, id, at },
      );
    }
    for (const attempt of cs.attempts ?? []) {
      const row = attemptToRow(attempt);
      try {
        prepared(db, insertSql("attempts", row)).run(row);
      } catch (error) {
        if (
          isSqliteCode(error, "SQLITE_CONSTRAINT_UNIQUE") ||
          isSqliteCode(error, "SQLITE_CONSTRAINT_PRIMARYKEY")
        ) {
          throw new DuplicateError(`attempt ${attempt.idempotencyKey} already recorded`);
        }
        throw error;
      }
      touch(
        "window",
        `UPDATE windows SET attempts_used = attempts_used + 1
         WHERE id = @id AND owner_id = @owner AND insurer_id = @insurer`,
        { ...owner, id: attempt.windowId, insurer: attempt.insurerId },
      );
    }
    insertOutbox(db, cs.outbox);
    for (const notice of cs.ownerNotices ?? []) {
      if (notice.ownerId !== cs.ownerId) throw new Error("owner notice belongs to another owner");
    }
    insertOwnerNotices(db, cs.ownerNotices ?? []);
    if (cs.owner && "renewedAt" in cs.owner) {
      prepared(db, "UPDATE owners SET renewed_at = ? WHERE id = ?").run(
        cs.owner.renewedAt ?? null,
        cs.ownerId,
      );
    }
    if (cs.owner?.phone) {
      const set = profileColumns(cs.owner.phone, cipher);
      const assignments = Object.keys(set).map((column) => `${column} = @${column}`);
      prepared(db, `UPDATE owners SET ${assignments.join(", ")} WHERE id = @id`).run({
        ...set,
        id: cs.ownerId,
      });
    }
    bumpOwner.run({ id: cs.ownerId, at: now(), expected: cs.expectedVersion });
  });

  /**
   * Group commit. Changesets that arrive while a commit is pending share one write transaction,
   * each in its own savepoint (a nested better-sqlite3 transaction), so one that conflicts or
   * fails rolls back alone and only its caller sees the error. Why: each "I agree" dirties a
   * page per insurer in the feed and claim indexes (20 insurers → ~60 pages, ~250 KB of WAL);
   * N agreements in one commit write those shared pages once. Callers still resolve only after
   * the commit, so nothing is acknowledged before it is durable.
   */
  const applyAll = db.transaction((batch: readonly Changeset[]): unknown[] =>
    batch.map((cs) => {
      try {
        apply(cs);
        return undefined;
      } catch (error) {
        // Some errors (disk full, I/O) roll back the whole transaction, not just the savepoint:
        // then nothing of the batch may go on (each later changeset would commit on its own),
        // so the batch fails as one and every caller re-plans.
        if (!db.inTransaction) throw error;
        return error ?? new Error("changeset failed");
      }
    }),
  );
  let pending: { cs: Changeset; resolve: () => void; reject: (error: unknown) => void }[] = [];
  /**
   * How many changesets the last commit carried. More than one means changesets are arriving
   * concurrently (many chats agreeing at once): the next commit then waits GATHER_MS for more
   * to join it. A lone changeset — a quiet bot, a test, the CLI — is committed at once.
   */
  let lastBatchSize = 0;
  /** When the waiting batch first found the write lock taken (another thread or process). */
  let busySince: number | undefined;
  /**
   * Commits what is pending. While another connection holds the write lock, the batch stays
   * pending (and keeps growing) and this tries again in a millisecond instead of sleeping in
   * SQLite's busy handler, so the event loop goes on serving; after a while (db.ts
   * POLL_FOR_MS), or when `block` (closing), it waits for the lock.
   */
  const commitPending = (block = false) => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    if (!db.open) {
      for (const p of batch) p.reject(new Error("the store is closed"));
      return;
    }
    let outcomes: unknown[];
    try {
      // IMMEDIATE takes the write lock before the version checks, so two processes cannot
      // both read the same version and both commit.
      const changesets = batch.map((p) => p.cs);
      if (block || (busySince !== undefined && pollingTooLong(busySince))) {
        outcomes = applyAll.immediate(changesets);
      } else {
        const tried = tryWrite(db, applyAll, changesets);
        if (tried.busy) {
          busySince ??= Date.now();
          pending = batch.concat(pending);
          setTimeout(commitPending, 1);
          return;
        }
        outcomes = tried.value;
      }
    } catch (error) {
      busySince = undefined;
      for (const p of batch) p.reject(error);
      return;
    }
    busySince = undefined;
    lastBatchSize = batch.length;
    batch.forEach((p, i) => {
      const error = outcomes[i];
      if (error === undefined) p.resolve();
      else p.reject(error);
    });
  };
  const groupCommit = (cs: Changeset): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (!db.open) {
        reject(new Error("the store is closed"));
        return;
      }
      if (pending.length === 0) {
        if (lastBatchSize > 1) setTimeout(commitPending, GATHER_MS);
        else setImmediate(commitPending);
      }
      pending.push({ cs, resolve, reject });
    });

  const readState = db.transaction((ownerId: string): OwnerState => {
    const ownerRow = prepared(db, "SELECT * FROM owners WHERE id = ?").get(ownerId) as OwnerRow | undefined;
    if (!ownerRow) throw new Error(`unknown owner ${ownerId}`);
    // Insertion order is creation order: rowids only grow, as nothing here is ever deleted.
    const consentRow = prepared(
      db,
      `SELECT * FROM consents WHERE owner_id = ? AND superseded_at IS NULL AND preferences IS NOT NULL
       ORDER BY rowid DESC LIMIT 1`,
    ).get(ownerId) as ConsentRow | undefined;
    const all = <T>(table: string) =>
      prepared(db, `SELECT * FROM ${table} WHERE owner_id = ? ORDER BY rowid`).all(ownerId) as T[];
    const consent = consentRow ? consentFromRow(consentRow) : undefined;
    return {
      owner: ownerFromRow(ownerRow, cipher),
      ...(consent ? { consent } : {}),
      windows: all<WindowRow>("windows").map(windowFromRow),
      optOuts: all<OptOutRow>("opt_outs").map(optOutFromRow),
      receipts: all<ReceiptRow>("receipts").map((row) => receiptFromRow(row, cipher)),
    };
  });

  const byStopToken = prepared(db, "SELECT * FROM windows WHERE stop_token = ?");
  const receiptById = prepared(db, "SELECT * FROM receipts WHERE id = ?");
  const optOutById = prepared(db, "SELECT * FROM opt_outs WHERE id = ?");
  const optOutsByIds = prepared(db, "SELECT * FROM opt_outs WHERE id IN (SELECT value FROM json_each(?))");

  return {
    applyChangeset: groupCommit,
    commitPending,
    async getOwnerState(ownerId) {
      // A read transaction gives one consistent snapshot across the five queries.
      return readState.deferred(ownerId);
    },
    async findWindowByStopToken(token): Promise<ContactWindow | undefined> {
      const row = byStopToken.get(token) as WindowRow | undefined;
      return row ? windowFromRow(row) : undefined;
    },
    async getReceipt(id) {
      const row = receiptById.get(id) as ReceiptRow | undefined;
      return row ? receiptFromRow(row, cipher) : undefined;
    },
    async getOptOut(id) {
      const row = optOutById.get(id) as OptOutRow | undefined;
      return row ? optOutFromRow(row) : undefined;
    },
    async getOptOuts(ids) {
      if (ids.length === 0) return [];
      const byId = new Map<string, OptOutRow>();
      for (const row of optOutsByIds.all(JSON.stringify(ids)) as OptOutRow[]) byId.set(row.id, row);
      return ids.map((id) => {
        const row = byId.get(id);
        return row ? optOutFromRow(row) : undefined;
      });
    },
  };
}
