/**
 * The outbox, one queue per insurer under `{q:<insurerId>}`: entries, a claimable-by-time
 * sorted set (score = max(dueAt, nextAttemptAt, leaseUntil)), dead entries and counters.
 * Leasing is one script per insurer queue, so two processes can never both lease an entry.
 */
import type { OutboxEntry } from "../../domain/model.js";
import { type OutboxRow, outboxFromRow } from "../rows.js";
import type { Store } from "../store.js";
import { decodeId, decodeRow, encodeId, encodeTime, namedOf } from "./codec.js";
import { unwrap } from "./commands.js";
import { ms, parseOps, type RedisContext } from "./context.js";
import { readDoc } from "./owners.js";
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

type QueueRow = OutboxRow & { _qseq: number | null };

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

/**
 * A queue entry as its row. The queue names the insurer and the hash field the id; a pending
 * entry's next attempt is its due time until a retry sets one.
 */
export function queueRow(insurerId: string, named: Record<string, unknown>): QueueRow {
  const row = decodeRow<Omit<QueueRow, "id" | "insurer_id">>("q", named);
  return {
    ...row,
    id: decodeId(String(named.id)),
    insurer_id: insurerId,
    next_attempt_at: row.next_attempt_at ?? row.due_at,
  };
}

const parseQueueRows = (insurerId: string, reply: unknown) =>
  ((unwrap<string[]>(reply) ?? []) as string[]).map((json) =>
    queueRow(insurerId, JSON.parse(json) as Record<string, unknown>),
  );

/** HGETALL of a queue's entries as rows. */
function entriesOf(insurerId: string, reply: unknown): QueueRow[] {
  const list = (unwrap<string[]>(reply) ?? []) as string[];
  const out: QueueRow[] = [];
  for (let i = 0; i + 1 < list.length; i += 2) {
    out.push(queueRow(insurerId, { ...namedQueue(list[i + 1] as string), id: list[i] }));
  }
  return out;
}

/** A stored queue tuple as a named row. */
const namedQueue = (json: string) => namedOf("q", JSON.parse(json));

/** Every outbox entry in the store (for tests and the operator), by due time. */
export async function listAllOutbox(ctx: RedisContext): Promise<OutboxEntry[]> {
  const insurers = unwrap<string[]>(await ctx.redis.call("SMEMBERS", ctx.keys.queueRegistry())) ?? [];
  const replies = await ctx.redis.pipeline(
    insurers.map((id) => ({ args: ["HGETALL", ctx.keys.queue(id, ":e")] })),
  );
  return replies
    .flatMap((reply, i) => entriesOf(insurers[i] as string, reply))
    .sort((a, b) => (a.due_at < b.due_at ? -1 : a.due_at > b.due_at ? 1 : claimOrder(a, b)))
    .map(outboxFromRow);
}

/** Outbox operations of the Redis store. */
export function createOutboxPart(ctx: RedisContext): OutboxPart {
  const { redis, keys } = ctx;
  const insurers = async () => unwrap<string[]>(await redis.call("SMEMBERS", keys.queueRegistry())) ?? [];

  const remember = (rows: QueueRow[]) => {
    if (ctx.leased.size + rows.length > MAX_LEASED) ctx.leased.clear();
    for (const row of rows) ctx.leased.set(encodeId(row.id), row.insurer_id);
  };

  /** The insurer whose queue holds the entry: remembered from the lease, else asked of every queue. */
  const insurerOf = async (ref: string): Promise<string | undefined> => {
    const known = ctx.leased.get(ref);
    if (known) return known;
    const ids = await insurers();
    const found = await redis.pipeline(ids.map((id) => ({ args: ["HEXISTS", keys.queue(id, ":e"), ref] })));
    return ids.find((_, i) => Number(unwrap(found[i])) === 1);
  };

  const part: OutboxPart = {
    async claimDue(query) {
      if (query.limit <= 0 || query.perInsurer <= 0) return [];
      // Work a crashed writer left half done becomes claimable here at the latest.
      await ctx.repair({ all: false });
      const nowMs = ms(query.now);
      const untilMs = nowMs + query.leaseMs;
      const room = new Map((await insurers()).map((id) => [id, query.perInsurer]));
      const claimed: QueueRow[] = [];
      for (let round = 0; round < CLAIM_ROUNDS && claimed.length < query.limit; round++) {
        const need = query.limit - claimed.length;
        const open = [...room.entries()].filter(([, left]) => left > 0);
        const peeks = await redis.pipeline(
          open.map(([id, left]) => ({
            script: QUEUE_PEEK,
            keys: [keys.queue(id, ":e"), keys.queue(id, ":due")],
            args: [nowMs, Math.min(left, need)],
          })),
        );
        const candidates = peeks
          .flatMap((reply, i) => parseQueueRows(open[i]?.[0] as string, reply))
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
            keys: [keys.queue(id, ":e"), keys.queue(id, ":due")],
            args: [nowMs, untilMs, query.worker, ...refs],
          })),
        );
        let got = 0;
        groups.forEach(([id], i) => {
          const rows = parseQueueRows(id, leased[i]);
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
      const ref = encodeId(id);
      const insurerId = await insurerOf(ref);
      if (!insurerId) return false;
      const q = (part: ":e" | ":due" | ":dead" | ":st" | ":pm") => keys.queue(insurerId, part);
      const payload = {
        state: result.state,
        at: encodeTime(result.at),
        finishedMs: String(ms(result.at)),
        ...(result.state === "retry"
          ? {
              next: encodeTime(result.nextAttemptAt),
              nextMs: String(ms(result.nextAttemptAt)),
              error: result.error,
            }
          : {}),
        ...(result.state === "dead" ? { error: result.error } : {}),
        ...(result.state === "skipped" ? { error: result.reason } : {}),
      };
      const reply = await redis.eval(
        QUEUE_COMPLETE,
        [q(":e"), q(":due"), q(":dead"), q(":st"), q(":pm")],
        [ref, worker, JSON.stringify(payload)],
      );
      if (!Array.isArray(reply)) return false;
      if (result.state !== "retry") ctx.leased.delete(ref);
      const mark = reply[1] as string | undefined;
      if (mark && !ctx.faults.crashAfterScript) await ctx.finishEntry(insurerId, ref, mark);
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
      const owner = encodeId(ownerId);
      const doc = await readDoc(ctx, owner);
      const refs = doc?.records.x ?? [];
      if (refs.length === 0) return [];
      // Finished entries are in the document; the others in their queue, or just finished (a
      // mark not yet copied), or not yet queued (the owner's pending index operations).
      const open = refs.filter((r) => r.state === undefined);
      const live = await redis.pipeline(
        open.flatMap((r) => [
          { args: ["HGET", keys.queue(String(r.insurer_id), ":e"), String(r.id)] },
          { args: ["HGET", keys.queue(String(r.insurer_id), ":pm"), String(r.id)] },
        ]),
      );
      const found = new Map<string, Record<string, unknown>>();
      open.forEach((r, i) => {
        const json = unwrap<string | null>(live[2 * i]) ?? unwrap<string | null>(live[2 * i + 1]);
        if (!json) return;
        const parsed: unknown = JSON.parse(json);
        found.set(
          String(r.id),
          Array.isArray(parsed) ? namedQueue(json) : (parsed as Record<string, unknown>),
        );
      });
      const waiting = open.some((r) => !found.has(String(r.id))) ? await pendingEntries(owner) : new Map();
      // An entry can finish between the document read and the queue read: it has then left its
      // queue and its mark, and only a fresh read of the document has it.
      const lost = open.some((r) => !found.has(String(r.id)) && !waiting.has(String(r.id)));
      const finishedRow = (r: Record<string, unknown>) => ({
        ...decodeRow<QueueRow>("x", r),
        owner_id: ownerId,
        lease_until: null,
        lease_worker: null,
      });
      const finished = new Map(
        (lost ? ((await readDoc(ctx, owner))?.records.x ?? []) : [])
          .filter((r) => r.state !== undefined)
          .map((r) => [String(r.id), r] as const),
      );
      return refs
        .flatMap((r) => {
          const insurerId = String(r.insurer_id);
          if (r.state !== undefined) return [finishedRow(r)];
          const named = found.get(String(r.id)) ?? waiting.get(String(r.id));
          if (named) return [queueRow(insurerId, { ...named, id: r.id })];
          const done = finished.get(String(r.id));
          return done ? [finishedRow(done)] : [];
        })
        .sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0))
        .map(outboxFromRow);
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
        (unwrap<string[]>(lists[i]) ?? []).map((ref) => ({ insurerId, ref })),
      );
      const rows = await redis.pipeline(
        refs.map((r) => ({ args: ["HGET", keys.queue(r.insurerId, ":e"), r.ref] })),
      );
      return refs
        .flatMap((r, i) => {
          const json = unwrap<string | null>(rows[i]);
          return json ? [queueRow(r.insurerId, { ...namedQueue(json), id: r.ref })] : [];
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

  /** Queue inserts an owner's changesets recorded but nobody has applied yet, by entry ref. */
  const pendingEntries = async (owner: string) => {
    const out = new Map<string, Record<string, unknown>>();
    const values = unwrap<string[]>(await redis.call("HVALS", keys.owner(owner, ":q"))) ?? [];
    for (const op of values.flatMap(parseOps)) {
      if (op[0] !== "qins") continue;
      const named = JSON.parse(op[2]) as Record<string, unknown>;
      out.set(String(named.id), named);
    }
    return out;
  };

  return part;
}
