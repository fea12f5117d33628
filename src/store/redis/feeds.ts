/**
 * What insurers read through the HTTP API (feeds, acknowledgements, attempts) and what
 * the bot tells owners on its own (digests, reminders, owner notices). Feeds are per-insurer
 * lexicographic sorted sets of `time id owner` (13-digit epoch ms, order-preserving encoded
 * ids: ids.ts), so keyset paging on (time, id) is a range query; cross-owner work lists are
 * sharded the same way and checked against the records they point at (stale members are
 * skipped and dropped).
 */
import type { ContactWindow, OptOut } from "../../domain/model.js";
import { hasOpened } from "../../domain/window-plan.js";
import {
  attemptFromRow,
  type OptOutRow,
  type OwnerNoticeRow,
  optOutFromRow,
  ownerNoticeFromRow,
  type WindowRow,
  windowFromRow,
} from "../rows.js";
import type { AckNotice, Store } from "../store.js";
import { acknowledge as acknowledgeIn, markOnce as markOnceIn } from "./apply.js";
import { CHUNKED_DEL, CHUNKED_RANGE } from "./chunked-sets.js";
import { unwrap } from "./commands.js";
import type { IndexOp, RedisContext } from "./context.js";
import type { OwnerDoc } from "./document.js";
import { decodeId, encodeId, sortableMs } from "./ids.js";
import { SHARDS, type ShardedList } from "./keys.js";
import { attemptField, member } from "./owners.js";

type FeedPart = Pick<
  Store,
  | "listWindowsForInsurer"
  | "acknowledgeWindow"
  | "listOptOutsForInsurer"
  | "getOptOuts"
  | "acknowledgeOptOut"
  | "getAttemptByIdempotencyKey"
  | "listAttempts"
  | "pendingAckNotices"
  | "markAckNoticesSent"
  | "windowsAwaitingAckReminder"
  | "markAckReminderSent"
  | "pendingOwnerNotices"
  | "markOwnerNoticesSent"
>;

/** Sorts above every owner id that can follow `time id ` in a member (ids are ASCII). */
const HIGH = "\u00ff";

/** A member `time id [rest…]` split at its first two spaces. */
function splitMember(member: string): { at: string; id: string; rest: string } {
  const first = member.indexOf(" ");
  const second = member.indexOf(" ", first + 1);
  if (second < 0) return { at: member.slice(0, first), id: member.slice(first + 1), rest: "" };
  return { at: member.slice(0, first), id: member.slice(first + 1, second), rest: member.slice(second + 1) };
}

/** Verdict on one member of a work list: keep it (a value), skip it for now, or drop it. */
type Verdict<T> = { keep: T } | "skip" | "drop";

type WindowStatusFilter = "open" | "closed" | "revoked";

function statusAt(row: WindowRow, now: string): WindowStatusFilter {
  if (row.revoked_at !== null && row.revoked_at !== undefined) return "revoked";
  if ((row.closed_at !== null && row.closed_at !== undefined) || row.closes_at <= now) return "closed";
  return "open";
}

/** Feed, scrub and notification operations of the Redis store. */
export function createFeedPart(ctx: RedisContext): FeedPart {
  const { redis, keys } = ctx;

  /** The document list each record kind lives in. */
  const LIST = { w: "windows", p: "optOuts", n: "notices" } as const;
  const find = (doc: OwnerDoc | undefined, kind: "w" | "p" | "n", id: string) =>
    doc ? (doc[LIST[kind]] as { id: string }[]).find((r) => r.id === id) : undefined;

  /**
   * Reads many records at once (encoded record ids) through the id index: the first owner
   * listed for each id that holds it.
   */
  const recordsAt = async <T>(kind: "w" | "p" | "n", refs: string[]): Promise<(T | undefined)[]> => {
    // The subjects of entries this process just leased need no look-up (RedisContext.subjects).
    const known = refs.map((ref) => ctx.subjects.get(decodeId(ref)));
    const unknown = refs.filter((_, i) => known[i] === undefined);
    const looked = await ctx.ownersOf(unknown.map((ref) => `${kind}:${ref}`));
    let next = 0;
    const owners = known.map((owner) => (owner === undefined ? (looked[next++] ?? []) : [owner]));
    const probes = refs.flatMap((ref, i) =>
      (owners[i] ?? []).map((owner) => ({ i, owner, id: decodeId(ref) })),
    );
    const unique = [...new Set(probes.map((p) => p.owner))];
    const docs = new Map(unique.map((o, n) => [o, n]));
    const read = await ctx.readDocs(unique.map(decodeId));
    const out: (T | undefined)[] = refs.map(() => undefined);
    for (const p of probes) {
      const row = find(read[docs.get(p.owner) ?? -1], kind, p.id);
      if (row && out[p.i] === undefined) out[p.i] = row as T;
    }
    return out;
  };

  /** Reads many records of known owners at once (refs: encoded owner and record ids). */
  const rowsAt = async <T>(refs: { owner: string; kind: "w" | "p" | "n"; id: string }[]) => {
    const read = await ctx.readDocs(refs.map((r) => decodeId(r.owner)));
    return refs.map((r, i) => find(read[i], r.kind, decodeId(r.id)) as T | undefined);
  };

  /** Walks a lexicographic feed from `min` to `max`, keeping what `accept` returns, up to `limit`. */
  const walkFeed = async <T>(
    key: string,
    kind: "w" | "p",
    min: string,
    max: string,
    limit: number,
    accept: (row: WindowRow & OptOutRow) => T | undefined,
  ): Promise<T[]> => {
    const out: T[] = [];
    const chunk = Math.max(limit * 2, 50);
    let from = min;
    while (out.length < limit) {
      const members = unwrap<string[]>(await redis.eval(CHUNKED_RANGE, [key], [from, max, chunk])) ?? [];
      if (members.length === 0) break;
      const rows = await recordsAt<WindowRow & OptOutRow>(
        kind,
        members.map((m) => splitMember(m).id),
      );
      for (const row of rows) {
        const value = row ? accept(row) : undefined;
        if (value !== undefined) out.push(value);
        if (out.length === limit) break;
      }
      from = `(${members[members.length - 1]}`;
      if (members.length < chunk) break;
    }
    return out;
  };

  /**
   * Reads a sharded work list in member order, judging each member; dropped members are
   * removed. Returns up to `limit` kept values, merged across shards in member order.
   */
  const scanShards = async <T>(
    list: ShardedList,
    limit: number,
    max: string,
    judge: (members: string[]) => Promise<Verdict<T>[]>,
  ): Promise<T[]> => {
    if (limit <= 0) return [];
    const perShard = await Promise.all(
      Array.from({ length: SHARDS }, async (_, n) => {
        const key = keys.shard(list, n);
        const kept: { member: string; value: T }[] = [];
        let from = "-";
        const chunk = Math.max(limit, 20);
        while (kept.length < limit) {
          const members = unwrap<string[]>(await redis.eval(CHUNKED_RANGE, [key], [from, max, chunk])) ?? [];
          if (members.length === 0) break;
          const verdicts = await judge(members);
          const dropped: string[] = [];
          verdicts.forEach((verdict, i) => {
            const member = members[i] as string;
            if (verdict === "drop") dropped.push(member);
            else if (verdict !== "skip" && kept.length < limit) kept.push({ member, value: verdict.keep });
          });
          if (dropped.length > 0) await redis.eval(CHUNKED_DEL, [key], dropped);
          from = `(${members[members.length - 1]}`;
          if (members.length < chunk) break;
        }
        return kept;
      }),
    );
    // One member can stand in two shards (layout 4 sharded acknowledgements by encoded id):
    // it is one item.
    return perShard
      .flat()
      .sort((a, b) => (a.member < b.member ? -1 : a.member > b.member ? 1 : 0))
      .filter((k, i, all) => i === 0 || all[i - 1]?.member !== k.member)
      .slice(0, limit)
      .map((k) => k.value);
  };

  /** The docs of the owners the id index names for `field`, parsed (missing ones left out). */
  const docsOf = async (field: string) => {
    const [owners = []] = await ctx.ownersOf([field]);
    return (await ctx.readDocs(owners.map(decodeId))).filter((doc) => doc !== undefined);
  };

  const acknowledge = async <T>(kind: "w" | "p", insurerId: string, id: string, at: string) => {
    const list = kind === "w" ? "windows" : "optOuts";
    const [owners = []] = await ctx.ownersOf([`${kind}:${encodeId(id)}`]);
    for (const owner of owners) {
      const row = await ctx.changeDoc(decodeId(owner), (doc) => {
        const result = doc ? acknowledgeIn(doc, list, id, insurerId, at) : { found: false as const };
        if (!result.found) return { value: undefined };
        const next = result.doc;
        const row = find(next ?? doc, kind, id) as
          | (WindowRow & OptOutRow & { ack_notified_at: string | null })
          | undefined;
        const ops: IndexOp[] = [];
        // The owner's digest tells of it (pendingAckNotices).
        if (next && row && !row.ack_notified_at && row.owner_id) {
          ops.push(["ack", id, member(at, id, kind, owner)]);
        }
        return { ...(next ? { doc: next } : {}), ops, value: row as T | undefined };
      });
      if (row) return row;
    }
    return undefined;
  };

  /** Sets a time field of records once, through the id index; unknown ids are ignored. */
  const markOnce = async (items: { kind: "w" | "p" | "n"; id: string }[], field: string, at: string) => {
    if (items.length === 0) return;
    const owners = await ctx.ownersOf(items.map(({ kind, id }) => `${kind}:${encodeId(id)}`));
    const byOwner = new Map<string, typeof items>();
    items.forEach((item, i) => {
      for (const owner of owners[i] ?? []) byOwner.set(owner, [...(byOwner.get(owner) ?? []), item]);
    });
    await Promise.all(
      [...byOwner.entries()].map(([owner, list]) =>
        ctx.changeDoc(decodeId(owner), (doc) => {
          let next = doc;
          for (const { kind, id } of list)
            if (next) next = markOnceIn(next, LIST[kind], id, field, at) ?? next;
          return { ...(next !== doc && next ? { doc: next } : {}), value: undefined };
        }),
      ),
    );
  };

  return {
    async getOptOuts(ids) {
      // Two round trips for the batch (id index, then the records), not two per id.
      const rows = await recordsAt<OptOutRow>("p", ids.map(encodeId));
      return rows.map((row) => (row ? optOutFromRow(row) : undefined));
    },
    async listWindowsForInsurer(insurerId, { now, status, after, limit }): Promise<ContactWindow[]> {
      if (limit <= 0) return [];
      const min = after ? `(${sortableMs(after.at)} ${encodeId(after.id)} ${HIGH}` : "-";
      const at = new Date(now);
      return walkFeed(
        ctx.keys.windowFeed(insurerId),
        "w",
        min,
        `[${sortableMs(now)} ${HIGH}`,
        limit,
        (row) => {
          if (row.insurer_id !== insurerId || (status && statusAt(row, now) !== status)) return undefined;
          const window = windowFromRow(row);
          return hasOpened(window, at) ? window : undefined;
        },
      );
    },
    async acknowledgeWindow(insurerId, windowId, at) {
      const row = await acknowledge<WindowRow>("w", insurerId, windowId, at);
      return row ? windowFromRow(row) : undefined;
    },
    async listOptOutsForInsurer(insurerId, { after, limit }): Promise<OptOut[]> {
      if (limit <= 0) return [];
      const min = after ? `(${sortableMs(after.at)} ${encodeId(after.id)} ${HIGH}` : "-";
      return walkFeed(ctx.keys.optOutFeed(insurerId), "p", min, "+", limit, (row) =>
        row.insurer_id === insurerId ? optOutFromRow(row) : undefined,
      );
    },
    async acknowledgeOptOut(insurerId, optOutId, at) {
      const row = await acknowledge<OptOutRow>("p", insurerId, optOutId, at);
      return row ? optOutFromRow(row) : undefined;
    },
    async getAttemptByIdempotencyKey(insurerId, idempotencyKey) {
      const docs = await docsOf(attemptField(insurerId, idempotencyKey));
      const row = docs
        .flatMap((doc) => doc.attempts)
        .find((a) => a.insurer_id === insurerId && a.idempotency_key === idempotencyKey);
      return row ? attemptFromRow(row) : undefined;
    },
    async listAttempts(windowId) {
      const docs = await docsOf(`w:${encodeId(windowId)}`);
      // Records are kept in creation order, so a stable sort by time breaks ties by creation.
      return docs
        .flatMap((doc) => doc.attempts)
        .filter((row) => row.window_id === windowId)
        .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
        .map(attemptFromRow);
    },

    async pendingAckNotices(limit) {
      return scanShards<AckNotice>("ack", limit, "+", async (members) => {
        const parsed = members.map((m) => {
          const { id, rest } = splitMember(m);
          const [kind = "", owner = ""] = rest.split(" ");
          return { id, kind: kind === "w" ? ("w" as const) : ("p" as const), owner };
        });
        const rows = await rowsAt<WindowRow & { ack_notified_at: string | null }>(parsed);
        return rows.map((row, i): Verdict<AckNotice> => {
          const p = parsed[i];
          if (!row || !p || !row.acknowledged_at || row.ack_notified_at || !row.owner_id) return "drop";
          return {
            keep: {
              kind: p.kind === "w" ? "window" : "optout",
              id: row.id,
              ownerId: row.owner_id,
              insurerId: row.insurer_id,
              acknowledgedAt: row.acknowledged_at,
            },
          };
        });
      });
    },
    async markAckNoticesSent(notices, at) {
      const items = notices.map(({ kind, id }) => ({
        kind: kind === "window" ? ("w" as const) : ("p" as const),
        id,
      }));
      await markOnce(items, "ack_notified_at", at);
    },
    async windowsAwaitingAckReminder(openedBefore, now, limit) {
      return scanShards<ContactWindow>(
        "rem",
        limit,
        `[${sortableMs(openedBefore)} ${HIGH}`,
        async (members) => {
          const rows = await recordsAt<WindowRow & { ack_reminder_at: string | null }>(
            "w",
            members.map((m) => splitMember(m).id),
          );
          return rows.map((row): Verdict<ContactWindow> => {
            if (!row || row.acknowledged_at || row.ack_reminder_at || row.revoked_at || row.closed_at)
              return "drop";
            if (!row.owner_id) return "drop";
            if (row.opens_at > openedBefore || row.closes_at <= now) return "skip";
            return { keep: windowFromRow(row) };
          });
        },
      );
    },
    async markAckReminderSent(windowId, at) {
      await markOnce([{ kind: "w", id: windowId }], "ack_reminder_at", at);
    },
    async pendingOwnerNotices(limit) {
      return scanShards("onot", limit, "+", async (members) => {
        const parsed = members.map(splitMember);
        const rows = await rowsAt<OwnerNoticeRow>(
          parsed.map((p) => ({ owner: p.rest, kind: "n", id: p.id })),
        );
        return rows.map((row) => (row && !row.sent_at ? { keep: ownerNoticeFromRow(row) } : "drop"));
      });
    },
    async markOwnerNoticesSent(ids, at) {
      await markOnce(
        ids.map((id) => ({ kind: "n", id })),
        "sent_at",
        at,
      );
    },
  };
}
