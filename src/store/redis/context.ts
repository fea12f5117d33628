/**
 * What every part of the Redis store shares: reading owner documents, the two-step write every
 * owner (or insurer) change goes through — mark → script → index ops → clear (redis-store.ts) —
 * and the repair that finishes what a crashed writer left. (Over 400 lines because these three
 * share the write path's internals — the marker, the pending ops, the finished marks — and
 * are safe only together.)
 */
import { randomUUID } from "node:crypto";
import type { FieldCipher } from "../../crypto/field-cipher.js";
import type { OutboxRow } from "../rows.js";
import { ConflictError } from "../store.js";
import { finishEntries } from "./apply.js";
import { CHUNKED_ADD } from "./chunked-sets.js";
import {
  type Arg,
  type LuaScript,
  type RedisCall,
  type RedisCommands,
  replyCode,
  unwrap,
} from "./commands.js";
import {
  assertWritable,
  decodeDoc,
  encodeDoc,
  NewerSchemaError,
  type OwnerDoc,
  SCHEMA_VERSION,
} from "./document.js";
import { decodeId, encodeId } from "./ids.js";
import { idField, isListField, type Keys, phoneField, SHARDS } from "./keys.js";
import { INDEX_DELETE_IF, LIST_ADD_MANY, PHONE_ADD, QUEUE_FILE, QUEUE_UNLINK, WRITE_DOC } from "./scripts.js";

/**
 * An index operation, derived from what a write changed and safe to apply any number of times,
 * in any order relative to a repeat of itself.
 */
export type IndexOp =
  | ["ix", field: string, value: string]
  | ["ixdel", field: string, value: string]
  | ["feedw" | "feedo", insurerId: string, member: string]
  | ["ack" | "rem" | "onot", id: string, member: string]
  | ["cons", ownerRef: string]
  | ["ph", phoneHash: string, ownerRef: string]
  | ["qins", insurerId: string, entryRef: string, row: string]
  | ["qunlink", insurerId: string, entryRef: string]
  | ["del", key: string]
  | ["dir", insurerId: string];

/** Markers older than this belong to a crashed writer; younger ones may still be in flight. */
export const REPAIR_AFTER_MS = 30_000;

/** How long finished entries wait to be copied into their owners' documents, at most. */
export const FINISH_AFTER_MS = 500;

/** How often a change that lost a race with another writer is computed again. */
const TRIES = 8;

/** A queue's finished entry waiting to be copied into its owner's document. */
export interface FinishedMark {
  insurerId: string;
  ref: string;
  /** The queue row as JSON (scripts.ts QUEUE_COMPLETE). */
  mark: string;
}

export interface RedisContext {
  redis: RedisCommands;
  keys: Keys;
  cipher: FieldCipher;
  /** Current instant, ISO 8601 UTC. */
  now: () => string;
  /** The owner documents of these owner ids (undefined where none). */
  readDocs(ownerIds: readonly string[]): Promise<(OwnerDoc | undefined)[]>;
  readDoc(ownerId: string): Promise<OwnerDoc | undefined>;
  /**
   * Writes `doc` over the version `expected` (undefined: the document must not exist yet),
   * with the index ops it implies. Throws ConflictError when another writer came first, and
   * {@link NewerSchemaError} when the stored document is of a schema newer than this build's.
   */
  writeDoc(doc: OwnerDoc, expected: number | undefined, ops: readonly IndexOp[]): Promise<number>;
  /**
   * Read → change → write of one owner's document, computed again when another writer came
   * first. `change` returns undefined for "nothing to write"; its result's `value` is returned.
   */
  changeDoc<T>(
    ownerId: string,
    change: (doc: OwnerDoc | undefined) => { doc?: OwnerDoc; ops?: IndexOp[]; value: T },
  ): Promise<T>;
  /**
   * Runs an aggregate script under a repair marker and applies the index ops it recorded.
   * `tag` is the aggregate's hash tag; `ops` extracts the recorded ops JSON from the reply.
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
   * The owners (encoded ids) the id index names for each field (`w:<ref>`, `p:<ref>`, …):
   * usually one, none when not indexed, more where digests collide.
   */
  ownersOf(fields: readonly string[]): Promise<string[][]>;
  /** Applies index ops (idempotent). */
  applyOps(ops: readonly IndexOp[]): Promise<void>;
  /** Replays what crashed writers left: pending ops of marked aggregates, finished-entry marks. */
  repair(options: { all: boolean }): Promise<void>;
  /**
   * Copies delivered or skipped outbox entries into their owners' documents (one write per
   * owner), and drops their marks — unless the owner still has index ops pending, which could
   * insert the entry again (the mark makes the queue refuse that; repair drops it later).
   */
  finishEntries(marks: readonly FinishedMark[]): Promise<void>;
  /**
   * {@link RedisContext.finishEntries} within {@link FINISH_AFTER_MS}, together with the other
   * marks this process finishes by then (one document write per owner instead of one per
   * batch of completions); {@link RedisContext.flushFinishes} does it at once (closing).
   */
  finishLater(marks: readonly FinishedMark[]): void;
  flushFinishes(): Promise<void>;
  /** Test hook: when set, writers stop right after the aggregate script (a simulated crash). */
  faults: { crashAfterScript: boolean };
  /**
   * Entry ref → insurer of the entries this process has leased: completing one needs its
   * queue. Entries leased elsewhere are found by asking every queue.
   */
  leased: Map<string, string>;
  /**
   * Subject (window or opt-out id) → owner ref of the entries this process leased: the
   * dispatcher reads a claimed batch's opt-outs next, and so needs no id-index look-up for them.
   */
  subjects: Map<string, string>;
}

export function parseOps(json: string | undefined | null): IndexOp[] {
  if (!json) return [];
  const parsed: unknown = JSON.parse(json);
  return Array.isArray(parsed) ? (parsed as IndexOp[]) : [];
}

/** Score of an ISO instant (ms since epoch); queue scores and hit times use it. */
export const ms = (iso: string): number => Date.parse(iso);

/** A finished queue row (QUEUE_COMPLETE's mark) as its row. */
export function markRow(insurerId: string, ref: string, mark: string): OutboxRow {
  const row = JSON.parse(mark) as OutboxRow & Record<string, unknown>;
  return { ...row, id: decodeId(ref), insurer_id: insurerId, lease_until: null, lease_worker: null };
}

export function createContext(
  redis: RedisCommands,
  keys: Keys,
  cipher: FieldCipher,
  now: () => string,
): RedisContext {
  const registered = new Set<string>();
  const faults = { crashAfterScript: false };
  const encoding = redis.binary ? "z1" : "b1";

  /** One insurer's feed members and queued entries as one QUEUE_FILE call. */
  const fileFor = (insurerId: string, what: { w?: string[]; o?: string[]; q?: Arg[][] }): RedisCall => {
    const parts = [":e", ":due", ":dead", ":st", ":pm"] as const;
    return {
      script: QUEUE_FILE,
      keys: [
        ...parts.map((part) => keys.queue(insurerId, part)),
        keys.windowFeed(insurerId),
        keys.optOutFeed(insurerId),
      ],
      args: [JSON.stringify(what)],
    };
  };
  const queued = (op: IndexOp): Arg[] => {
    const row = JSON.parse(String(op[3])) as { finished_at?: string | null };
    return [String(op[2]), String(op[3]), row.finished_at ? ms(row.finished_at) : 0];
  };

  const callsFor = (op: IndexOp): RedisCall[] => {
    switch (op[0]) {
      case "ix":
        return isListField(op[1])
          ? [{ script: PHONE_ADD, keys: [keys.idIndex(op[1])], args: [idField(op[1]), op[2]] }]
          : [{ args: ["HSET", keys.idIndex(op[1]), op[1], op[2]] }];
      case "ixdel":
        return [{ script: INDEX_DELETE_IF, keys: [keys.idIndex(op[1])], args: [op[1], op[2]] }];
      case "feedw":
      case "feedo":
        return [fileFor(op[1], { [op[0] === "feedw" ? "w" : "o"]: [op[2]] })];
      case "ack":
      case "rem":
      case "onot":
        return [{ script: CHUNKED_ADD, keys: [keys.shardOf(op[0], op[1])], args: [op[2]] }];
      case "cons":
        return [{ script: CHUNKED_ADD, keys: [keys.shardOf("cons", op[1])], args: [op[1]] }];
      case "ph":
        return [{ script: PHONE_ADD, keys: [keys.phoneIndex(op[1])], args: [phoneField(op[1]), op[2]] }];
      case "qins":
        return [fileFor(op[1], { q: [queued(op)] })];
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

  const applyOps = async (all: readonly IndexOp[]) => {
    if (all.length === 0) return;
    // An agreement files every opt-out under the same phone hash: one phone-index op, not 19.
    const seen = new Set<string>();
    const ops = all.filter((op) => {
      const key = JSON.stringify(op);
      return !seen.has(key) && seen.add(key) !== undefined;
    });
    // The queue registry first: an entry in a queue nobody knows of would never be claimed.
    const insurers = [...new Set(ops.filter((op) => op[0] === "qins").map((op) => op[1]))].filter(
      (id) => !registered.has(id),
    );
    if (insurers.length > 0) {
      await redis.call("SADD", keys.queueRegistry(), ...insurers);
      for (const id of insurers) registered.add(id);
    }
    // Id-index list entries of one bucket (a change's records share one: keys.ts idBucket) in
    // one call. Queue inserts last: an entry is claimable only once everything it refers to
    // is findable (the dispatcher reads the opt-outs a notice is about through the id index).
    const buckets = new Map<string, Arg[]>();
    for (const op of ops) {
      if (op[0] !== "ix" || !isListField(op[1])) continue;
      const key = keys.idIndex(op[1]);
      buckets.set(key, [...(buckets.get(key) ?? []), idField(op[1]), op[2]]);
    }
    const listed: RedisCall[] = [...buckets.entries()].map(([key, args]) => ({
      script: LIST_ADD_MANY,
      keys: [key],
      args,
    }));
    const filed = (op: IndexOp) => op[0] === "qins" || op[0] === "feedw" || op[0] === "feedo";
    const rest = ops.filter((op) => !filed(op) && !(op[0] === "ix" && isListField(op[1])));
    await run([...listed, ...rest.flatMap(callsFor)]);
    // Then each insurer's feed members and entries together, one call per insurer.
    const byInsurer = new Map<string, { w: string[]; o: string[]; q: Arg[][] }>();
    for (const op of ops) {
      if (!filed(op)) continue;
      const what = byInsurer.get(op[1]) ?? { w: [], o: [], q: [] };
      if (op[0] === "feedw") what.w.push(op[2]);
      else if (op[0] === "feedo") what.o.push(op[2]);
      else if (op[0] === "qins") what.q.push(queued(op));
      byInsurer.set(op[1], what);
    }
    await run([...byInsurer.entries()].map(([id, what]) => fileFor(id, what)));
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

  /**
   * The documents read last, with the bytes they were read from: a document read again
   * unchanged (the dispatcher reads an owner's for each batch of its notices) is not inflated
   * and parsed again. Safe because nothing changes a decoded document in place (apply.ts
   * copies before changing).
   */
  const decoded = new Map<string, { bytes: Buffer; doc: OwnerDoc }>();
  const DECODED = 2_000;
  const decodeOnce = (key: string, bytes: Buffer | null) => {
    if (bytes === null) return undefined;
    const known = decoded.get(key);
    if (known?.bytes.equals(bytes)) return known.doc;
    const doc = decodeDoc(bytes);
    if (!doc) return undefined;
    if (decoded.size >= DECODED) decoded.delete(decoded.keys().next().value as string);
    decoded.set(key, { bytes, doc });
    return doc;
  };
  const readDocs: RedisContext["readDocs"] = async (ownerIds) => {
    const docKeys = ownerIds.map((id) => keys.owner(encodeId(id)));
    const stored = await redis.getBuffers(docKeys);
    return stored.map((bytes, i) => decodeOnce(docKeys[i] as string, bytes));
  };
  const readDoc = async (ownerId: string) => (await readDocs([ownerId]))[0];

  const writeDoc: RedisContext["writeDoc"] = async (doc, expected, ops) => {
    assertWritable(doc);
    const ref = encodeId(doc.owner.id);
    const opsJson = JSON.stringify(ops);
    const value = encodeDoc(doc, encoding);
    try {
      // With no index ops there is nothing to repair: no marker, one round trip.
      if (ops.length === 0) {
        const pending = await redis.eval(
          WRITE_DOC,
          [keys.owner(ref), keys.owner(ref, ":q")],
          [expected ?? "", SCHEMA_VERSION, value, "", "[]"],
        );
        return Number(pending);
      }
      // Once written, this change's own ops are applied (or left to repair).
      return await ctx.write(
        `o:${ref}`,
        WRITE_DOC,
        [keys.owner(ref), keys.owner(ref, ":q")],
        (opId) => [expected ?? "", SCHEMA_VERSION, value, opId, opsJson],
        () => opsJson,
        (reply) => Number(reply) - 1,
      );
    } catch (error) {
      const code = replyCode(error);
      if (code === "OW_CONFLICT") throw new ConflictError();
      if (code === "OW_SCHEMA")
        throw new NewerSchemaError(Number(/OW_SCHEMA (\d+)/.exec(String(error))?.[1]));
      throw error;
    }
  };

  const changeDoc: RedisContext["changeDoc"] = async (ownerId, change) => {
    for (let n = 1; ; n++) {
      const current = await readDoc(ownerId);
      const result = change(current);
      if (!result.doc) return result.value;
      try {
        await writeDoc(result.doc, current?.owner.version, result.ops ?? []);
        return result.value;
      } catch (error) {
        if (n >= TRIES || !(error instanceof ConflictError)) throw error;
      }
    }
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

    // Finished entries whose copy into the owner's document did not run (or had to wait):
    // all of them at opening, else those finished before the cutoff (younger ones are a live
    // process's, waiting to be copied with others: finishLater).
    const insurers = unwrap<string[]>(await redis.call("SMEMBERS", keys.queueRegistry())) ?? [];
    const found: FinishedMark[] = [];
    if (all) {
      const marks = await redis.pipeline(
        insurers.map((id) => ({ args: ["HGETALL", keys.queue(id, ":pm")] })),
      );
      for (const [index, reply] of marks.entries()) {
        const list = unwrap<string[]>(reply) ?? [];
        for (let i = 0; i + 1 < list.length; i += 2) {
          found.push({
            insurerId: insurers[index] as string,
            ref: list[i] as string,
            mark: list[i + 1] as string,
          });
        }
      }
    } else {
      const old = await redis.pipeline(
        insurers.map((id) => ({ args: ["ZRANGEBYSCORE", keys.queue(id, ":pmt"), "-inf", cutoff] })),
      );
      const asked = insurers.flatMap((id, i) => {
        const refs = unwrap<string[]>(old[i]) ?? [];
        return refs.length > 0 ? [{ id, refs }] : [];
      });
      const marks = await redis.pipeline(
        asked.map(({ id, refs }) => ({ args: ["HMGET", keys.queue(id, ":pm"), ...refs] })),
      );
      asked.forEach(({ id, refs }, i) => {
        const values = unwrap<(string | null)[]>(marks[i]) ?? [];
        refs.forEach((ref, n) => {
          const mark = values[n];
          if (mark) found.push({ insurerId: id, ref, mark });
        });
      });
    }
    if (found.length > 0) await finish(found);
  };

  const ownersOf: RedisContext["ownersOf"] = async (fields) => {
    if (fields.length === 0) return [];
    const replies = await redis.pipeline(
      fields.map((field) => ({ args: ["HGET", keys.idIndex(field), idField(field)] })),
    );
    return replies.map((reply) => (unwrap<string | null>(reply) ?? "").split(" ").filter(Boolean));
  };

  const finish: RedisContext["finishEntries"] = async (marks) => {
    const byOwner = new Map<string, { mark: FinishedMark; row: OutboxRow }[]>();
    const ownerless: { mark: FinishedMark; row: OutboxRow }[] = [];
    for (const mark of marks) {
      const row = markRow(mark.insurerId, mark.ref, mark.mark);
      if (row.owner_id) byOwner.set(row.owner_id, [...(byOwner.get(row.owner_id) ?? []), { mark, row }]);
      else ownerless.push({ mark, row });
    }
    const done: FinishedMark[] = [];
    /** Copies the entries in; how many index ops the owner has pending. */
    const copy = async (ownerId: string, rows: OutboxRow[]): Promise<number> => {
      for (let n = 1; ; n++) {
        const doc = await readDoc(ownerId);
        const next = doc && finishEntries(doc, rows);
        if (!next) return Number(unwrap(await redis.call("HLEN", keys.owner(encodeId(ownerId), ":q"))));
        try {
          return await writeDoc(next, doc.owner.version, []);
        } catch (error) {
          if (n >= TRIES || !(error instanceof ConflictError)) throw error;
        }
      }
    };
    await Promise.all(
      [...byOwner.entries()].map(async ([ownerId, items]) => {
        const waiting = await copy(
          ownerId,
          items.map((i) => i.row),
        );
        if (waiting === 0) done.push(...items.map((i) => i.mark));
      }),
    );
    // An entry whose owner was erased: a delivered window.opened still marks its window.
    for (const { mark, row } of ownerless) {
      if (row.state === "delivered" && row.type === "window.opened" && row.delivered_at) {
        const [owners = []] = await ownersOf([`w:${encodeId(row.subject_id)}`]);
        for (const ownerRef of owners) {
          await changeDoc(decodeId(ownerRef), (doc) => ({ doc: doc && finishEntries(doc, [row]), value: 0 }));
        }
      }
      done.push(mark);
    }
    const byQueue = new Map<string, string[]>();
    for (const m of done) byQueue.set(m.insurerId, [...(byQueue.get(m.insurerId) ?? []), m.ref]);
    await run(
      [...byQueue.entries()].flatMap(([id, refs]) => [
        { args: ["HDEL", keys.queue(id, ":pm"), ...refs] },
        { args: ["ZREM", keys.queue(id, ":pmt"), ...refs] },
      ]),
    );
  };

  let later: FinishedMark[] = [];
  let laterTimer: ReturnType<typeof setTimeout> | undefined;
  const flushFinishes = async () => {
    if (laterTimer !== undefined) clearTimeout(laterTimer);
    laterTimer = undefined;
    const marks = later;
    later = [];
    // A failure leaves the marks for repair, which copies them once they are old.
    if (marks.length > 0) await finish(marks).catch(() => undefined);
  };
  const finishLater = (marks: readonly FinishedMark[]) => {
    if (marks.length === 0) return;
    later.push(...marks);
    // Not keeping the process up for it: marks left at exit are copied by the next repair.
    laterTimer ??= setTimeout(() => void flushFinishes(), FINISH_AFTER_MS);
    laterTimer.unref?.();
  };

  const ctx: RedisContext = {
    redis,
    keys,
    cipher,
    now,
    readDocs,
    readDoc,
    writeDoc,
    changeDoc,
    write,
    ownersOf,
    applyOps,
    repair,
    finishEntries: finish,
    finishLater,
    flushFinishes,
    faults,
    leased: new Map(),
    subjects: new Map(),
  };
  return ctx;
}

/** HGETALL's flat [field, value, …] list as an object. */
export function hashOf(reply: unknown): Record<string, string> {
  const list = (reply ?? []) as string[];
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i] as string] = list[i + 1] as string;
  return out;
}
