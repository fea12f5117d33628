/**
 * The outbox, one queue per insurer under `{q:<insurerId>}`: entries, a claimable-by-time
 * chunked set, dead entries and counters (scripts.ts CLAIMABLE). Leasing is one script per
 * insurer queue, so two processes can never both lease an entry. A delivered or skipped entry
 * leaves its queue for its owner's document, one document write per owner for a whole batch.
 */
import type { OutboxEntry } from "../../domain/model.js";
import { type OutboxRow, outboxFromRow } from "../rows.js";
import type { Store } from "../store.js";
import { unwrap } from "./commands.js";
import { type FinishedMark, ms, parseOps, type RedisContext } from "./context.js";
import { encodeId } from "./ids.js";
import type { QueuePart } from "./keys.js";
import { QUEUE_COMPLETE, QUEUE_LEASE, QUEUE_PEEK } from "./scripts.js";

type OutboxPart = Pick<
  Store,
  | "claimDue"
  | "completeDelivery"
  | "completeDeliveries"
  | "listOutboxForOwner"
  | "outboxStats"
  | "listDeadDeliveries"
>;

type QueueRow = OutboxRow & { _qseq?: number };

/** Claim order: next attempt, then creation, then insertion. */
const claimOrder = (a: QueueRow, b: QueueRow) =>
  a.next_attempt_at < b.next_attempt_at
    ? -1
    : a.next_attempt_at > b.next_attempt_at
      ? 1
      : a.created_at < b.created_at
        ? -1
        : a.created_at > b.created_at
          ? 1
          : (a._qseq ?? 0) - (b._qseq ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** How many rounds claimDue retries entries another worker leased first. */
const CLAIM_ROUNDS = 5;

/** Leased entries this process remembers the insurer of (see RedisContext.leased). */
const MAX_LEASED = 100_000;

/** A queue row (JSON, scripts.ts CLAIMABLE) as its row; the queue names the insurer. */
export function queueRow(insurerId: string, json: string): QueueRow {
  const row = JSON.parse(json) as Partial<QueueRow> & { id: string; due_at: string };
  return {
    id: row.id,
    insurer_id: insurerId,
    owner_id: row.owner_id ?? null,
    type: row.type ?? "",
    subject_id: row.subject_id ?? "",
    webhook_id: row.webhook_id ?? "",
    due_at: row.due_at,
    created_at: row.created_at ?? "",
    attempts: row.attempts ?? 0,
    state: row.state ?? "pending",
    last_error: row.last_error ?? null,
    delivered_at: row.delivered_at ?? null,
    next_attempt_at: row.next_attempt_at ?? row.due_at,
    lease_until: row.lease_until ?? null,
    lease_worker: row.lease_worker ?? null,
    finished_at: row.finished_at ?? null,
    ...(row._qseq === undefined ? {} : { _qseq: row._qseq }),
  };
}

const rowsOf = (insurerId: string, reply: unknown) =>
  (unwrap<string[]>(reply) ?? []).map((json) => queueRow(insurerId, json));

/** Every outbox entry still queued (tests and the operator), by due time. */
export async function listAllOutbox(ctx: RedisContext): Promise<OutboxEntry[]> {
  const insurers = unwrap<string[]>(await ctx.redis.call("SMEMBERS", ctx.keys.queueRegistry())) ?? [];
  const replies = await ctx.redis.pipeline(
    insurers.map((id) => ({ args: ["HVALS", ctx.keys.queue(id, ":e")] })),
  );
  return replies
    .flatMap((reply, i) => rowsOf(insurers[i] as string, reply))
    .sort((a, b) => (a.due_at < b.due_at ? -1 : a.due_at > b.due_at ? 1 : claimOrder(a, b)))
    .map(outboxFromRow);
}

/** Outbox operations of the Redis store. */
export function createOutboxPart(ctx: RedisContext): OutboxPart {
  const { redis, keys } = ctx;
  const insurers = async () => unwrap<string[]>(await redis.call("SMEMBERS", keys.queueRegistry())) ?? [];
  const q = (insurerId: string, part: QueuePart) => keys.queue(insurerId, part);

  const remember = (rows: QueueRow[]) => {
    if (ctx.leased.size + rows.length > MAX_LEASED) ctx.leased.clear();
    if (ctx.subjects.size + rows.length > MAX_LEASED) ctx.subjects.clear();
    for (const row of rows) {
      ctx.leased.set(encodeId(row.id), row.insurer_id);
      if (row.owner_id) ctx.subjects.set(row.subject_id, encodeId(row.owner_id));
    }
  };

  /** The insurer whose queue holds each entry: remembered from the lease, else asked of every queue. */
  const insurersOf = async (refs: string[]): Promise<(string | undefined)[]> => {
    const unknown = refs.filter((ref) => !ctx.leased.has(ref));
    const found = new Map<string, string>();
    if (unknown.length > 0) {
      const ids = await insurers();
      const probes = unknown.flatMap((ref) => ids.map((id) => ({ ref, id })));
      const replies = await redis.pipeline(probes.map((p) => ({ args: ["HEXISTS", q(p.id, ":e"), p.ref] })));
      probes.forEach((p, i) => {
        if (Number(unwrap(replies[i])) === 1) found.set(p.ref, p.id);
      });
    }
    return refs.map((ref) => ctx.leased.get(ref) ?? found.get(ref));
  };

  type Item = Parameters<Store["completeDeliveries"]>[0][number];

  /**
   * Distinct entries completed together: one queue script per insurer for all of its entries.
   * Returns each one's flag and the marks of those that left their queue.
   */
  const completeAll = async (items: readonly Item[]): Promise<{ ok: boolean[]; marks: FinishedMark[] }> => {
    const refs = items.map((item) => encodeId(item.id));
    const owners = await insurersOf(refs);
    const byInsurer = new Map<string, number[]>();
    owners.forEach((insurerId, i) => {
      if (insurerId) byInsurer.set(insurerId, [...(byInsurer.get(insurerId) ?? []), i]);
    });
    const payloadOf = (item: Item, ref: string) => {
      const { result } = item;
      return {
        ref,
        worker: item.worker,
        state: result.state,
        at: result.at,
        finishedMs: String(ms(result.at)),
        ...(result.state === "retry"
          ? { next: result.nextAttemptAt, nextMs: String(ms(result.nextAttemptAt)), error: result.error }
          : {}),
        ...(result.state === "dead" ? { error: result.error } : {}),
        ...(result.state === "skipped" ? { error: result.reason } : {}),
      };
    };
    const groups = [...byInsurer.entries()];
    const parts = [":e", ":due", ":dead", ":st", ":pm", ":pmt"] as const;
    const replies = await redis.pipeline(
      groups.map(([insurerId, indexes]) => ({
        script: QUEUE_COMPLETE,
        keys: parts.map((part) => q(insurerId, part)),
        args: [JSON.stringify(indexes.map((i) => payloadOf(items[i] as Item, refs[i] as string)))],
      })),
    );
    const ok = items.map(() => false);
    const marks: FinishedMark[] = [];
    groups.forEach(([insurerId, indexes], n) => {
      const answers = unwrap<string[]>(replies[n]) ?? [];
      indexes.forEach((i, k) => {
        const answer = answers[k];
        if (!answer) return;
        ok[i] = true;
        const ref = refs[i] as string;
        if (items[i]?.result.state !== "retry") ctx.leased.delete(ref);
        if (answer !== "-") marks.push({ insurerId, ref, mark: answer });
      });
    });
    return { ok, marks };
  };

  const completeDeliveries: Store["completeDeliveries"] = async (items) => {
    // Repeats of one entry run in order, each seeing the one before: split into rounds of
    // distinct entries. The finished ones reach their owners' documents together.
    const ok: boolean[] = items.map(() => false);
    const marks: FinishedMark[] = [];
    let left = items.map((item, index) => ({ item, index }));
    while (left.length > 0) {
      const seen = new Set<string>();
      const round = left.filter(({ item }) => !seen.has(item.id) && seen.add(item.id) !== undefined);
      left = left.filter((x) => !round.includes(x));
      const done = await completeAll(round.map((r) => r.item));
      round.forEach((r, n) => {
        ok[r.index] = done.ok[n] ?? false;
      });
      marks.push(...done.marks);
    }
    if (marks.length > 0 && !ctx.faults.crashAfterScript) {
      // A delivered window.opened sets its window's deliveredAt before this answers (the port
      // says so). The rest reach their owners' documents a little later, many notices of an
      // owner in one write: until then their marks answer for them (listOutboxForOwner).
      const now = (m: FinishedMark) => JSON.parse(m.mark).type === "window.opened";
      const urgent = marks.filter(now);
      if (urgent.length > 0) await ctx.finishEntries(urgent);
      ctx.finishLater(marks.filter((m) => !now(m)));
    }
    return ok;
  };

  /** Queue inserts an owner's changesets recorded but nobody has applied yet, by entry ref. */
  const pendingEntries = async (ownerId: string) => {
    const out = new Set<string>();
    const values = unwrap<string[]>(await redis.call("HVALS", keys.owner(encodeId(ownerId), ":q"))) ?? [];
    for (const op of values.flatMap(parseOps)) if (op[0] === "qins") out.add(op[2]);
    return out;
  };

  return {
    async claimDue(query) {
      if (query.limit <= 0 || query.perInsurer <= 0) return [];
      // Work a crashed writer left half done becomes claimable here at the latest.
      await ctx.repair({ all: false });
      const nowMs = ms(query.now);
      const untilMs = nowMs + query.leaseMs;
      const until = new Date(untilMs).toISOString();
      const room = new Map((await insurers()).map((id) => [id, query.perInsurer]));
      const claimed: QueueRow[] = [];
      for (let round = 0; round < CLAIM_ROUNDS && claimed.length < query.limit; round++) {
        const need = query.limit - claimed.length;
        const open = [...room.entries()].filter(([, left]) => left > 0);
        const peeks = await redis.pipeline(
          open.map(([id, left]) => ({
            script: QUEUE_PEEK,
            keys: [q(id, ":e"), q(id, ":due")],
            args: [nowMs, Math.min(left, need)],
          })),
        );
        const candidates = peeks
          .flatMap((reply, i) => rowsOf(open[i]?.[0] as string, reply))
          .sort(claimOrder)
          .slice(0, need);
        if (candidates.length === 0) break;
        const byInsurer = new Map<string, string[]>();
        for (const row of candidates)
          byInsurer.set(row.insurer_id, [...(byInsurer.get(row.insurer_id) ?? []), encodeId(row.id)]);
        const groups = [...byInsurer.entries()];
        const leased = await redis.pipeline(
          groups.map(([id, refs]) => ({
            script: QUEUE_LEASE,
            keys: [q(id, ":e"), q(id, ":due")],
            args: [nowMs, untilMs, until, query.worker, ...refs],
          })),
        );
        let got = 0;
        groups.forEach(([id], i) => {
          const rows = rowsOf(id, leased[i]);
          got += rows.length;
          claimed.push(...rows);
          room.set(id, (room.get(id) ?? 0) - rows.length);
        });
        // Everything asked for was leased: either the batch is full or nothing more is due.
        if (got === candidates.length) break;
      }
      remember(claimed);
      return claimed.sort(claimOrder).map(outboxFromRow);
    },

    async completeDelivery(id, worker, result) {
      const [ok = false] = await completeDeliveries([{ id, worker, result }]);
      return ok;
    },
    completeDeliveries,

    async listOutboxForOwner(ownerId) {
      const doc = await ctx.readDoc(ownerId);
      const entries = (doc?.outbox ?? []).filter((e) => e.owner_id === ownerId);
      if (entries.length === 0) return [];
      // Finished entries are final in the document; pending ones live in their queue, or just
      // finished (a mark not yet copied), or are not yet queued (the owner's pending index ops).
      const open = entries.filter((e) => e.state === "pending");
      const live = await redis.pipeline(
        open.flatMap((e) => [
          { args: ["HGET", q(e.insurer_id, ":e"), encodeId(e.id)] },
          { args: ["HGET", q(e.insurer_id, ":pm"), encodeId(e.id)] },
        ]),
      );
      const found = new Map<string, QueueRow>();
      open.forEach((e, i) => {
        const json = unwrap<string | null>(live[2 * i]) ?? unwrap<string | null>(live[2 * i + 1]);
        if (json) found.set(e.id, queueRow(e.insurer_id, json));
      });
      const missing = open.filter((e) => !found.has(e.id));
      const waiting = missing.length > 0 ? await pendingEntries(ownerId) : new Set<string>();
      // An entry can finish between the document read and the queue read: it has then left its
      // queue and its mark, and only a fresh read of the document has it.
      const lost = missing.some((e) => !waiting.has(encodeId(e.id)));
      const again = lost ? ((await ctx.readDoc(ownerId))?.outbox ?? []) : [];
      const asRow = (e: (typeof entries)[number]): QueueRow => ({
        ...e,
        lease_until: null,
        lease_worker: null,
      });
      return entries
        .flatMap((e) => {
          if (e.state !== "pending") return [asRow(e)];
          const queued = found.get(e.id);
          if (queued) return [{ ...queued, owner_id: ownerId }];
          if (waiting.has(encodeId(e.id))) return [asRow(e)];
          const finished = again.find((x) => x.id === e.id && x.state !== "pending");
          return finished ? [asRow(finished)] : [];
        })
        .sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0))
        .map(outboxFromRow);
    },

    async outboxStats() {
      const ids = await insurers();
      const replies = await redis.pipeline(
        ids.map((id) => ({ args: ["HMGET", q(id, ":st"), "pending", "retrying", "dead"] })),
      );
      const stats = { pending: 0, retrying: 0, dead: 0 };
      for (const reply of replies) {
        const [pending, retrying, dead] = unwrap<(string | null)[]>(reply) ?? [];
        stats.pending += Number(pending ?? 0);
        stats.retrying += Number(retrying ?? 0);
        stats.dead += Number(dead ?? 0);
      }
      return stats;
    },

    async listDeadDeliveries(limit) {
      if (limit <= 0) return [];
      const ids = await insurers();
      const lists = await redis.pipeline(
        ids.map((id) => ({ args: ["ZREVRANGE", q(id, ":dead"), 0, limit - 1] })),
      );
      const refs = ids.flatMap((insurerId, i) =>
        (unwrap<string[]>(lists[i]) ?? []).map((ref) => ({ insurerId, ref })),
      );
      const rows = await redis.pipeline(refs.map((r) => ({ args: ["HGET", q(r.insurerId, ":e"), r.ref] })));
      return refs
        .flatMap((r, i) => {
          const json = unwrap<string | null>(rows[i]);
          return json ? [queueRow(r.insurerId, json)] : [];
        })
        .filter((row) => row.state === "dead")
        .sort((a, b) => {
          const fa = a.finished_at ?? "";
          const fb = b.finished_at ?? "";
          return fa < fb ? 1 : fa > fb ? -1 : (b._qseq ?? 0) - (a._qseq ?? 0);
        })
        .slice(0, limit)
        .map(outboxFromRow);
    },
  };
}
