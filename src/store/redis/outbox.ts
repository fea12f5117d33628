/**
 * The outbox, one queue per insurer under `{q:<insurerId>}`: entries, a claimable-by-time
 * sorted set (score = max(dueAt, nextAttemptAt, leaseUntil)), dead entries and counters.
 * Leasing is one script per insurer queue, so two processes can never both lease an entry.
 */
import type { OutboxEntry } from "../../domain/model.js";
import { type OutboxRow, outboxFromRow } from "../sqlite/rows.js";
import type { Store } from "../store.js";
import { unwrap } from "./commands.js";
import { ms, type RedisContext } from "./context.js";
import { parseRows } from "./records.js";
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

type QueueRow = OutboxRow & { _qseq?: number; _seq?: number };

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

/** Every outbox entry in the store (for tests and the operator), by due time. */
export async function listAllOutbox(ctx: RedisContext): Promise<OutboxEntry[]> {
  const insurers = unwrap<string[]>(await ctx.redis.call("SMEMBERS", ctx.keys.queueRegistry())) ?? [];
  const replies = await ctx.redis.pipeline(
    insurers.map((id) => ({ args: ["HVALS", ctx.keys.queue(id, ":e")] })),
  );
  return replies
    .flatMap((reply) => parseRows<OutboxRow & { _qseq?: number }>(unwrap(reply)))
    .sort((a, b) => (a.due_at < b.due_at ? -1 : a.due_at > b.due_at ? 1 : claimOrder(a, b)))
    .map(outboxFromRow);
}

/** Outbox operations of the Redis store. */
export function createOutboxPart(ctx: RedisContext): OutboxPart {
  const { redis, keys } = ctx;
  const insurers = async () => unwrap<string[]>(await redis.call("SMEMBERS", keys.queueRegistry())) ?? [];

  const part: OutboxPart = {
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
            keys: [keys.queue(id, ":e"), keys.queue(id, ":due")],
            args: [nowMs, query.now, Math.min(left, need)],
          })),
        );
        const candidates = peeks
          .flatMap((reply) => parseRows<QueueRow>(unwrap(reply)))
          .sort(claimOrder)
          .slice(0, need);
        if (candidates.length === 0) break;
        const byInsurer = new Map<string, string[]>();
        for (const row of candidates)
          byInsurer.set(row.insurer_id, [...(byInsurer.get(row.insurer_id) ?? []), row.id]);
        const groups = [...byInsurer.entries()];
        const leased = await redis.pipeline(
          groups.map(([id, ids]) => ({
            script: QUEUE_LEASE,
            keys: [keys.queue(id, ":e"), keys.queue(id, ":due")],
            args: [query.now, until, untilMs, query.worker, ...ids],
          })),
        );
        let got = 0;
        groups.forEach(([id], i) => {
          const rows = parseRows<QueueRow>(unwrap(leased[i]));
          got += rows.length;
          claimed.push(...rows);
          room.set(id, (room.get(id) ?? 0) - rows.length);
        });
        // Everything asked for was leased: either the batch is full or nothing more is due.
        if (got === candidates.length) break;
      }
      return claimed.sort(claimOrder).map(outboxFromRow);
    },

    async completeDelivery(id, worker, result) {
      const field = `x:${id}`;
      const insurerId = unwrap<string | null>(await redis.call("HGET", keys.idIndex(field), field));
      if (!insurerId) return false;
      const q = (part: ":e" | ":due" | ":dead" | ":st" | ":pm") => keys.queue(insurerId, part);
      const payload = {
        state: result.state,
        at: result.at,
        finishedMs: String(ms(result.at)),
        ...(result.state === "retry"
          ? { next: result.nextAttemptAt, nextMs: String(ms(result.nextAttemptAt)), error: result.error }
          : {}),
        ...(result.state === "dead" ? { error: result.error } : {}),
        ...(result.state === "skipped" ? { error: result.reason } : {}),
      };
      const reply = await redis.eval(
        QUEUE_COMPLETE,
        [q(":e"), q(":due"), q(":dead"), q(":st"), q(":pm")],
        [id, worker, JSON.stringify(payload)],
      );
      if (!Array.isArray(reply)) return false;
      const mark = reply[1] as string | undefined;
      if (mark && !ctx.faults.crashAfterScript) {
        const [windowId, at] = JSON.parse(mark) as [string, string];
        await ctx.markWindowDelivered(windowId, at);
        await redis.call("HDEL", q(":pm"), id);
      }
      return true;
    },

    async completeDeliveries(items) {
      // Each item is its own script (entries live in different insurer slots); distinct entries
      // run concurrently, repeats of one entry in order, so every item sees the one before it.
      const last = new Map<string, Promise<boolean>>();
      return Promise.all(
        items.map(({ id, worker, result }) => {
          const before = last.get(id) ?? Promise.resolve(false);
          const done = before.catch(() => false).then(() => part.completeDelivery(id, worker, result));
          last.set(id, done);
          return done;
        }),
      );
    },

    async listOutboxForOwner(ownerId) {
      const copies = parseRows<QueueRow>(await redis.call("HVALS", keys.owner(ownerId, ":x")));
      copies.sort((a, b) =>
        a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : (a._seq ?? 0) - (b._seq ?? 0),
      );
      const live = await redis.pipeline(
        copies.map((row) => ({ args: ["HGET", keys.queue(row.insurer_id, ":e"), row.id] })),
      );
      // The queue's copy is the current one; the owner's copy stands in until it is queued.
      return copies.map((copy, i) => {
        const json = unwrap<string | null>(live[i]);
        return outboxFromRow(json ? (JSON.parse(json) as OutboxRow) : copy);
      });
    },

    async outboxStats() {
      const ids = await insurers();
      const replies = await redis.pipeline(
        ids.map((id) => ({ args: ["HMGET", keys.queue(id, ":st"), "pending", "retrying", "dead"] })),
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
        ids.map((id) => ({ args: ["ZREVRANGE", keys.queue(id, ":dead"), 0, limit - 1] })),
      );
      const refs = ids.flatMap((insurerId, i) =>
        (unwrap<string[]>(lists[i]) ?? []).map((id) => ({ insurerId, id })),
      );
      const rows = await redis.pipeline(
        refs.map((r) => ({ args: ["HGET", keys.queue(r.insurerId, ":e"), r.id] })),
      );
      return rows
        .map((reply) => unwrap<string | null>(reply))
        .filter((json): json is string => json !== null)
        .map((json) => JSON.parse(json) as QueueRow)
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
  return part;
}
