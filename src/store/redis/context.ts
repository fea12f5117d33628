/**
 * What every part of the Redis store shares, and the two-step write every owner (or insurer)
 * change goes through: mark → script → index ops → clear (see redis-store.ts).
 */
import { randomUUID } from "node:crypto";
import type { FieldCipher } from "../../crypto/field-cipher.js";
import type { MatchKeys } from "../../crypto/match-key.js";
import type { OutboxRow } from "../rows.js";
import {
  decodeId,
  decodeRow,
  decodeToken,
  encodeId,
  encodeRow,
  encodeTime,
  type RecordKind,
} from "./codec.js";
import { type Arg, type LuaScript, type RedisCall, type RedisCommands, unwrap } from "./commands.js";
import { idField, isListField, type Keys, phoneField, SHARDS } from "./keys.js";
import {
  CHUNKED_ADD,
  INDEX_DELETE_IF,
  MARK_DONE,
  MARK_ONCE,
  PHONE_ADD,
  QUEUE_INSERT,
  QUEUE_UNLINK,
} from "./scripts.js";

/**
 * An index operation, derived from what an aggregate script wrote and safe to apply any
 * number of times, in any order relative to a repeat of itself.
 */
export type IndexOp =
  | ["ix", field: string, value: string]
  | ["ixdel", field: string, value: string]
  | ["feedw" | "feedo", insurerId: string, member: string]
  | ["ack" | "rem" | "onot", id: string, member: string]
  | ["cons", ownerId: string]
  | ["ph", phoneHash: string, ownerId: string]
  | ["qins", insurerId: string, row: string]
  | ["qunlink", insurerId: string, entryRef: string]
  | ["del", key: string]
  | ["dir", insurerId: string];

/** Markers older than this belong to a crashed writer; younger ones may still be in flight. */
export const REPAIR_AFTER_MS = 30_000;

export interface RedisContext {
  redis: RedisCommands;
  keys: Keys;
  cipher: FieldCipher;
  /** Current instant, ISO 8601 UTC. */
  now: () => string;
  /**
   * Match keys, when the store may leave out the ones it can compute again: an opt-out's key
   * derived from its owner's current phone (see {@link RedisContext.decode}).
   */
  matchKey: MatchKeys | undefined;
  /**
   * A named stored row as its row shape (codec.ts decodeRow), and an opt-out without a stored
   * match key given the one of its owner's phone (`_pe`, the document's encrypted phone, which
   * the scripts put beside such rows). The store leaves a key out only when it equals that
   * one (owners.ts apply), and writes it back before the phone changes or goes (UPDATE_OWNER,
   * ERASE_OWNER), so a row without a key always means "the current phone's".
   */
  decode<T>(kind: RecordKind, named: Record<string, unknown>): T;
  /**
   * Runs an aggregate script under a repair marker and applies the index ops it recorded.
   * `tag` is the aggregate's hash tag (`o:<id>` or `i:<id>`); `ops` extracts the recorded ops
   * JSON from the script's reply.
   */
  write<T>(
    tag: string,
    script: LuaScript,
    keys: string[],
    args: (opId: string) => Arg[],
    ops: (reply: unknown) => string | undefined,
    map: (reply: unknown) => T,
  ): Promise<T>;
  /**
   * The owners the id index names for each field (`w:<ref>`, `p:<ref>`, `r:<ref>`, `n:<ref>`,
   * `t:<token>`, `g:<user>`, …): usually one, none when not indexed, more where digests collide.
   */
  ownersOf(fields: readonly string[]): Promise<string[][]>;
  /** Applies index ops (idempotent). */
  applyOps(ops: readonly IndexOp[]): Promise<void>;
  /** Replays what crashed writers left: pending ops of marked aggregates, finished-entry marks. */
  repair(options: { all: boolean }): Promise<void>;
  /**
   * Copies a delivered or skipped outbox entry (`mark`: the queue script's finished row JSON)
   * into its owner's document, sets a delivered window.opened's window deliveredAt, and drops
   * the mark — unless the owner still has index ops pending, which could insert the entry
   * again (the mark makes the queue refuse that; repair drops it later).
   */
  finishEntry(insurerId: string, entryRef: string, mark: string): Promise<void>;
  /** Test hook: when set, writers stop right after the aggregate script (a simulated crash). */
  faults: { crashAfterScript: boolean };
  /** Insurer ids this process has already put in the queue registry. */
  registered: Set<string>;
  /**
   * Entry ref → insurer of the entries this process has leased: completing one needs its
   * queue, and keeping no id → insurer index saves a field per entry. Entries leased elsewhere
   * are found by asking every queue.
   */
  leased: Map<string, string>;
}

export function parseOps(json: string | undefined | null): IndexOp[] {
  if (!json) return [];
  const parsed: unknown = JSON.parse(json);
  return Array.isArray(parsed) ? (parsed as IndexOp[]) : [];
}

/** Score of an ISO instant (ms since epoch); queue scores and hit times use it. */
export const ms = (iso: string): number => Date.parse(iso);

export function createContext(
  redis: RedisCommands,
  keys: Keys,
  cipher: FieldCipher,
  now: () => string,
  matchKey?: MatchKeys,
): RedisContext {
  const registered = new Set<string>();
  const faults = { crashAfterScript: false };

  const callsFor = (op: IndexOp): RedisCall[] => {
    switch (op[0]) {
      case "ix":
        return isListField(op[1])
          ? [{ script: PHONE_ADD, keys: [keys.idIndex(op[1])], args: [idField(op[1]), op[2]] }]
          : [{ args: ["HSET", keys.idIndex(op[1]), op[1], op[2]] }];
      case "ixdel":
        return [{ script: INDEX_DELETE_IF, keys: [keys.idIndex(op[1])], args: [op[1], op[2]] }];
      case "feedw":
        return [{ script: CHUNKED_ADD, keys: [keys.windowFeed(op[1])], args: [op[2]] }];
      case "feedo":
        return [{ script: CHUNKED_ADD, keys: [keys.optOutFeed(op[1])], args: [op[2]] }];
      case "ack":
      case "rem":
      case "onot":
        return [{ script: CHUNKED_ADD, keys: [keys.shardOf(op[0], op[1])], args: [op[2]] }];
      case "cons":
        return [{ script: CHUNKED_ADD, keys: [keys.shardOf("cons", op[1])], args: [op[1]] }];
      case "ph":
        return [{ script: PHONE_ADD, keys: [keys.phoneIndex(op[1])], args: [phoneField(op[1]), op[2]] }];
      case "qins": {
        const row = decodeRow<{ due_at: string; next_attempt_at: string | null; finished_at: string | null }>(
          "q",
          JSON.parse(op[2]) as Record<string, unknown>,
        );
        const score = Math.max(ms(row.due_at), ms(row.next_attempt_at ?? row.due_at));
        const finished = row.finished_at ? ms(row.finished_at) : 0;
        const q = (part: ":e" | ":due" | ":dead" | ":st" | ":pm") => keys.queue(op[1], part);
        return [
          {
            script: QUEUE_INSERT,
            keys: [q(":e"), q(":due"), q(":dead"), q(":st"), q(":pm")],
            args: [op[2], String(score), String(finished)],
          },
        ];
      }
      case "qunlink":
        return [{ script: QUEUE_UNLINK, keys: [keys.queue(op[1], ":e")], args: [op[2]] }];
      case "del":
        return [{ args: ["DEL", op[1]] }];
      case "dir":
        return [{ args: ["SADD", keys.directory(), op[1]] }];
    }
  };

  const run = async (calls: RedisCall[]) => {
    for (const result of await redis.pipeline(calls)) unwrap(result);
  };

  const applyOps = async (ops: readonly IndexOp[]) => {
    if (ops.length === 0) return;
    // The queue registry first: an entry in a queue nobody knows of would never be claimed.
    const insurers = [...new Set(ops.filter((op) => op[0] === "qins").map((op) => op[1]))].filter(
      (id) => !registered.has(id),
    );
    if (insurers.length > 0) {
      await redis.call("SADD", keys.queueRegistry(), ...insurers);
      for (const id of insurers) registered.add(id);
    }
    // The id index first: feed members name no owner, readers find it there. Queue inserts
    // last: an entry is claimable only once everything it refers to is findable.
    // The records of one changeset share their id-index entry (keys.ts idField): add it once.
    const entries = new Set<string>();
    const indexOps = ops.filter((op) => {
      if (op[0] !== "ix") return false;
      const entry = `${idField(op[1])} ${op[2]}`;
      return !entries.has(entry) && entries.add(entry) !== undefined;
    });
    await run(indexOps.flatMap(callsFor));
    await run(ops.filter((op) => op[0] !== "qins" && op[0] !== "ix").flatMap(callsFor));
    await run(ops.filter((op) => op[0] === "qins").flatMap(callsFor));
  };

  const pendingKey = (tag: string) => `${keys.prefix}{${tag}}:q`;

  const write: RedisContext["write"] = async (tag, script, scriptKeys, args, opsOf, map) => {
    const opId = randomUUID();
    const marker = `${tag} ${opId}`;
    const markerKey = keys.shardOf("dirty", tag);
    await redis.call("ZADD", markerKey, ms(now()), marker);
    let reply: unknown;
    try {
      reply = await redis.eval(script, scriptKeys, args(opId));
    } catch (error) {
      await redis.call("ZREM", markerKey, marker).catch(() => undefined);
      throw error;
    }
    if (faults.crashAfterScript) return map(reply);
    // The change is committed: a failure from here on is left to repair (the marker stays),
    // never reported as a failed change that the caller might plan again.
    try {
      const ops = parseOps(opsOf(reply));
      if (ops.length > 0) {
        await applyOps(ops);
        await redis.call("HDEL", pendingKey(tag), opId);
      }
      await redis.call("ZREM", markerKey, marker);
    } catch {
      // repair() replays the ops recorded under the marker.
    }
    return map(reply);
  };

  const repair: RedisContext["repair"] = async ({ all }) => {
    const cutoff = ms(now()) - REPAIR_AFTER_MS;
    const shards = Array.from({ length: SHARDS }, (_, n) => keys.shard("dirty", n));
    const marked = await redis.pipeline(
      shards.map((key) => ({
        args: ["ZRANGEBYSCORE", key, "-inf", all ? "+inf" : String(cutoff), "WITHSCORES"],
      })),
    );
    const stale: { key: string; member: string }[] = [];
    const tags = new Set<string>();
    marked.forEach((reply, index) => {
      const list = unwrap<string[]>(reply) ?? [];
      for (let i = 0; i + 1 < list.length; i += 2) {
        const member = list[i] as string;
        tags.add(member.slice(0, member.lastIndexOf(" ")));
        if (Number(list[i + 1]) <= cutoff) stale.push({ key: shards[index] as string, member });
      }
    });
    for (const tag of tags) {
      const pending = unwrap<string[]>(await redis.call("HGETALL", pendingKey(tag))) ?? [];
      for (let i = 0; i + 1 < pending.length; i += 2) {
        // Its writer may have applied and removed it since the read above (a start-up repair
        // also sees live writers' ops): replaying it then could queue again an entry that was
        // delivered and has left its queue since. Read it again right before replaying.
        const still = unwrap<string | null>(await redis.call("HGET", pendingKey(tag), pending[i] as string));
        if (still === null || still === undefined) continue;
        await applyOps(parseOps(still));
        await redis.call("HDEL", pendingKey(tag), pending[i] as string);
      }
    }
    if (stale.length > 0) await run(stale.map(({ key, member }) => ({ args: ["ZREM", key, member] })));

    // Finished entries whose copy into the owner's document did not run (or had to wait).
    const insurers = unwrap<string[]>(await redis.call("SMEMBERS", keys.queueRegistry())) ?? [];
    const marks = await redis.pipeline(insurers.map((id) => ({ args: ["HGETALL", keys.queue(id, ":pm")] })));
    for (const [index, reply] of marks.entries()) {
      const list = unwrap<string[]>(reply) ?? [];
      for (let i = 0; i + 1 < list.length; i += 2) {
        await finishEntry(insurers[index] as string, list[i] as string, list[i + 1] as string);
      }
    }
  };

  const ownersOf: RedisContext["ownersOf"] = async (fields) => {
    if (fields.length === 0) return [];
    const replies = await redis.pipeline(
      fields.map((field) => ({ args: ["HGET", keys.idIndex(field), idField(field)] })),
    );
    return replies.map((reply) => (unwrap<string | null>(reply) ?? "").split(" ").filter(Boolean));
  };

  /** Sets a window's deliveredAt (once) through the id index: for entries no owner holds. */
  const markWindowDelivered = async (windowRef: string, at: string) => {
    const [owners = []] = await ownersOf([`w:${windowRef}`]);
    for (const ownerRef of owners) {
      await redis.eval(MARK_ONCE, [keys.owner(ownerRef)], ["w", windowRef, "delivered_at", encodeTime(at)]);
    }
  };

  const finishEntry: RedisContext["finishEntry"] = async (insurerId, entryRef, mark) => {
    const named: Record<string, unknown> = { ...(JSON.parse(mark) as Record<string, unknown>), id: entryRef };
    const row = { ...decodeRow<OutboxRow>("q", named), id: decodeId(entryRef), insurer_id: insurerId };
    const delivered = row.state === "delivered" && row.delivered_at !== null;
    const windowRef = delivered && row.type === "window.opened" ? encodeId(row.subject_id) : "";
    const ownerRef = typeof named.owner_id === "string" ? named.owner_id : undefined;
    if (ownerRef) {
      const x = JSON.stringify(encodeRow("x", row));
      const at = row.delivered_at ? encodeTime(row.delivered_at) : "";
      await redis.eval(MARK_DONE, [keys.owner(ownerRef)], [x, windowRef, at]);
      const waiting = Number(unwrap(await redis.call("HLEN", keys.owner(ownerRef, ":q"))));
      if (waiting > 0) return;
    } else if (windowRef && row.delivered_at) {
      await markWindowDelivered(windowRef, row.delivered_at);
    }
    await redis.call("HDEL", keys.queue(insurerId, ":pm"), entryRef);
  };

  // The last phone decrypted for decode: a batch of opt-outs is mostly one owner's.
  let lastPhone: { token: string; phone: string } | undefined;
  const phoneOf = (token: string) => {
    if (lastPhone?.token !== token) lastPhone = { token, phone: cipher.decrypt(decodeToken(token)) };
    return lastPhone.phone;
  };
  const decode = <T>(kind: RecordKind, named: Record<string, unknown>): T => {
    const row = decodeRow<T>(kind, named) as T & { match_key?: string | null; insurer_id?: string };
    if (kind === "p" && row.match_key === null) {
      const phone = typeof named._pe === "string" ? phoneOf(named._pe) : undefined;
      if (!matchKey || phone === undefined || !row.insurer_id) {
        throw new Error("an opt-out without a stored match key, and no phone to compute it from");
      }
      row.match_key = matchKey(row.insurer_id, phone);
    }
    return row;
  };

  return {
    redis,
    keys,
    cipher,
    now,
    matchKey,
    decode,
    write,
    ownersOf,
    applyOps,
    repair,
    finishEntry,
    faults,
    registered,
    leased: new Map(),
  };
}

/** HGETALL's flat [field, value, …] list as an object. */
export function hashOf(reply: unknown): Record<string, string> {
  const list = (reply ?? []) as string[];
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i] as string] = list[i + 1] as string;
  return out;
}
