/**
 * The outbox: notices written in the same transaction as what they announce, then leased to
 * dispatchers. A lease is a (worker, until) pair on the row; claiming runs under the write lock,
 * so dispatchers in several processes sharing the file never hold the same entry at once.
 */

import type { OutboxEntry } from "../../domain/model.js";
import { type OutboxRow, outboxFromRow, outboxToRow } from "../rows.js";
import type { DeliveryResult, Store } from "../store.js";
import type { SqliteContext } from "./context.js";
import type { Db } from "./db.js";
import { prepared, whenWritable } from "./db.js";
import { insertSql } from "./sql.js";

type OutboxPart = Pick<
  Store,
  | "claimDue"
  | "completeDelivery"
  | "completeDeliveries"
  | "listOutboxForOwner"
  | "outboxStats"
  | "listDeadDeliveries"
>;

type ClaimQuery = Parameters<Store["claimDue"]>[0];

/** An entry's row with `ready_at`: when it may next be claimed (see migration 8). */
function queueRow(entry: OutboxEntry): OutboxRow & { ready_at: string } {
  const row = outboxToRow(entry);
  const lease = row.lease_until;
  return { ...row, ready_at: lease !== null && lease > row.next_attempt_at ? lease : row.next_attempt_at };
}

/** Inserts entries; call inside the caller's transaction. */
export function insertOutbox(db: Db, entries: readonly OutboxEntry[]): void {
  if (entries.length === 0) return;
  const insert = prepared(db, insertSql("outbox", queueRow(entries[0]!)));
  for (const entry of entries) insert.run(queueRow(entry));
}

/** All entries, optionally of one state, by due time then insertion order. */
export function listOutbox(db: Db, state?: OutboxEntry["state"]): OutboxEntry[] {
  const rows =
    state === undefined
      ? prepared(db, "SELECT * FROM outbox ORDER BY due_at, seq").all()
      : prepared(db, "SELECT * FROM outbox WHERE state = ? ORDER BY due_at, seq").all(state);
  return (rows as OutboxRow[]).map(outboxFromRow);
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

type Candidate = OutboxRow & { seq: number; ready_at: string };

/** Dispatcher operations of the SQLite store. */
export function createOutboxPart({ db }: SqliteContext): OutboxPart {
  // A loose index scan over outbox_claim (pending rows only): the distinct insurers with
  // pending entries, one index seek each, however long the backlog.
  const pendingInsurers = prepared(
    db,
    `WITH RECURSIVE ins (id) AS (
       SELECT (SELECT MIN(insurer_id) FROM outbox WHERE state = 'pending')
       UNION ALL
       SELECT (SELECT MIN(insurer_id) FROM outbox WHERE state = 'pending' AND insurer_id > ins.id)
       FROM ins WHERE ins.id IS NOT NULL
     )
     SELECT id FROM ins WHERE id IS NOT NULL`,
  ).pluck();
  // A leased row's ready_at is its lease's end, so the range scan never meets rows other claims
  // hold; the lease test stays as a guard.
  const dueOfInsurer = prepared(
    db,
    `SELECT * FROM outbox
     WHERE state = 'pending' AND insurer_id = @insurer AND ready_at <= @now AND due_at <= @now
       AND (lease_until IS NULL OR lease_until <= @now)
     ORDER BY ready_at, next_attempt_at, seq LIMIT @per`,
  );
  // One statement leases the whole batch (seqs as a JSON array), not one UPDATE per entry.
  const lease = prepared(
    db,
    `UPDATE outbox SET lease_until = @until, lease_worker = @worker, ready_at = @until
     WHERE seq IN (SELECT value FROM json_each(@seqs))`,
  );

  const claim = db.transaction((query: ClaimQuery): OutboxEntry[] => {
    if (query.limit <= 0 || query.perInsurer <= 0) return [];
    const until = new Date(Date.parse(query.now) + query.leaseMs).toISOString();
    const candidates: Candidate[] = [];
    for (const insurer of pendingInsurers.all() as string[]) {
      candidates.push(
        ...(dueOfInsurer.all({ insurer, now: query.now, per: query.perInsurer }) as Candidate[]),
      );
    }
    candidates.sort(
      (a, b) =>
        compareText(a.ready_at, b.ready_at) ||
        compareText(a.next_attempt_at, b.next_attempt_at) ||
        a.seq - b.seq,
    );
    const chosen = candidates.slice(0, query.limit);
    if (chosen.length === 0) return [];
    lease.run({ seqs: JSON.stringify(chosen.map((c) => c.seq)), until, worker: query.worker });
    return chosen.map(({ seq: _seq, ...row }) =>
      outboxFromRow({ ...row, lease_until: until, lease_worker: query.worker }),
    );
  });

  /** One statement per way a delivery ends; each only touches a row this worker still holds. */
  const ending = (set: string) =>
    prepared(
      db,
      `UPDATE outbox SET ${set}, lease_until = NULL, lease_worker = NULL
       WHERE id = @id AND lease_worker = @worker AND state = 'pending'
       RETURNING type, subject_id`,
    );
  const endings = {
    delivered: ending("state = 'delivered', attempts = attempts + 1, delivered_at = @at, finished_at = @at"),
    retry: ending("attempts = attempts + 1, next_attempt_at = @next, ready_at = @next, last_error = @error"),
    dead: ending("state = 'dead', attempts = attempts + 1, last_error = @error, finished_at = @at"),
    skipped: ending("state = 'skipped', last_error = @error, finished_at = @at"),
  };
  const paramsOf = (result: DeliveryResult): Record<string, string> => {
    switch (result.state) {
      case "delivered":
        return { at: result.at };
      case "retry":
        return { next: result.nextAttemptAt, error: result.error };
      case "dead":
        return { at: result.at, error: result.error };
      case "skipped":
        return { at: result.at, error: result.reason };
    }
  };
  const markWindowDelivered = prepared(
    db,
    "UPDATE windows SET delivered_at = COALESCE(delivered_at, ?) WHERE id = ?",
  );

  const complete = db.transaction((id: string, worker: string, result: DeliveryResult): boolean => {
    const ended = endings[result.state].get({ ...paramsOf(result), id, worker }) as
      | Pick<OutboxRow, "type" | "subject_id">
      | undefined;
    if (ended === undefined) return false;
    if (result.state === "delivered" && ended.type === "window.opened") {
      markWindowDelivered.run(result.at, ended.subject_id);
    }
    return true;
  });

  // The common ending, a batch of deliveries by one worker, is one statement for the batch.
  const deliverMany = prepared(
    db,
    `UPDATE outbox SET state = 'delivered', attempts = attempts + 1, delivered_at = d.at, finished_at = d.at,
       lease_until = NULL, lease_worker = NULL
     FROM (SELECT value ->> 0 AS id, value ->> 1 AS at FROM json_each(@items)) AS d
     WHERE outbox.id = d.id AND outbox.lease_worker = @worker AND outbox.state = 'pending'
     RETURNING outbox.id, outbox.type, outbox.subject_id, outbox.delivered_at`,
  );

  type Item = { id: string; worker: string; result: DeliveryResult };
  const completeMany = db.transaction((items: readonly Item[]): boolean[] => {
    const ok: boolean[] = new Array(items.length).fill(false);
    // Deliveries grouped by worker; an id twice in one call takes the one-by-one path from its
    // second time on, after the group, so it sees what the first did.
    const groups = new Map<string, Map<string, number>>();
    const seen = new Set<string>();
    const single: number[] = [];
    for (const [i, { id, worker, result }] of items.entries()) {
      if (result.state === "delivered" && !seen.has(id)) {
        let group = groups.get(worker);
        if (!group) {
          group = new Map();
          groups.set(worker, group);
        }
        group.set(id, i);
      } else single.push(i);
      seen.add(id);
    }
    for (const [worker, group] of groups) {
      const pairs = [...group.values()].map((i) => [items[i]!.id, items[i]!.result.at]);
      const ended = deliverMany.all({ items: JSON.stringify(pairs), worker }) as Pick<
        OutboxRow,
        "id" | "type" | "subject_id" | "delivered_at"
      >[];
      for (const row of ended) {
        ok[group.get(row.id)!] = true;
        if (row.type === "window.opened") markWindowDelivered.run(row.delivered_at, row.subject_id);
      }
    }
    for (const i of single) {
      const { id, worker, result } = items[i]!;
      ok[i] = complete(id, worker, result);
    }
    return ok;
  });

  const forOwner = prepared(db, "SELECT * FROM outbox WHERE owner_id = ? ORDER BY created_at, seq");
  const stats = prepared(
    db,
    `SELECT
       (SELECT COUNT(*) FROM outbox WHERE state = 'pending') AS pending,
       (SELECT COUNT(*) FROM outbox WHERE state = 'pending' AND attempts > 0) AS retrying,
       (SELECT COUNT(*) FROM outbox WHERE state = 'dead') AS dead`,
  );
  const dead = prepared(
    db,
    "SELECT * FROM outbox WHERE state = 'dead' ORDER BY finished_at DESC, seq DESC LIMIT ?",
  );

  return {
    claimDue: (query) => whenWritable(db, claim, query),
    completeDelivery: (id, worker, result) => whenWritable(db, complete, id, worker, result),
    async completeDeliveries(items) {
      if (items.length === 0) return [];
      return whenWritable(db, completeMany, items);
    },
    async listOutboxForOwner(ownerId) {
      return (forOwner.all(ownerId) as OutboxRow[]).map(outboxFromRow);
    },
    async outboxStats() {
      return stats.get() as { pending: number; retrying: number; dead: number };
    },
    async listDeadDeliveries(limit) {
      return (dead.all(limit) as OutboxRow[]).map(outboxFromRow);
    },
  };
}
