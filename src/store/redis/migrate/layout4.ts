/**
 * The migration from key layout 4 (positional, dittoed owner documents, written by Lua) to
 * layout 5 (document.ts). Run once by the first layout-5 process that opens a layout-4 store,
 * with every older process stopped (docs/operations.md, Upgrades), under a lock so that two new
 * processes do not both run it. Every step can run again: a crash part-way leaves layout 4
 * recorded, and the next start finishes the work (converted values are recognised and kept).
 *
 * What changes: owner documents; queue rows and finished-entry marks (positional → JSON);
 * pending index ops that insert queue rows; the feeds, which move into their insurer's queue
 * slot. What stays: insurers, work lists, the phone index and quotas, whose forms did not
 * change. The id index and the feeds are rebuilt from the documents (docIndexOps); old id-index
 * entries stay beside the new ones, and readers check them against the records.
 */
import type { FieldCipher } from "../../../crypto/field-cipher.js";
import type { MatchKeys } from "../../../crypto/match-key.js";
import type { OutboxRow } from "../../rows.js";
import { entryRecord } from "../apply.js";
import { unwrap } from "../commands.js";
import type { IndexOp, RedisContext } from "../context.js";
import { encodeDoc, type OwnerDoc, OwnerDocument, SCHEMA_VERSION } from "../document.js";
import { decodeId } from "../ids.js";
import { docIndexOps, queueRowJson } from "../owners.js";
import { decodeProfile, decodeRow, decodeToken, namedOf, parseDoc } from "./layout4-codec.js";

type Named = Record<string, unknown>;
type QueueParts = ":e" | ":pm";

/** A layout-4 queue row (named, encoded values: namedOf of the stored tuple) as its row. */
function oldQueueRow(insurerId: string, ref: string, named: Named): OutboxRow & { _s?: number | null } {
  const row = decodeRow<OutboxRow & { _qseq: number | null; _s: number | null }>("q", { ...named, id: ref });
  return { ...row, id: decodeId(ref), insurer_id: insurerId };
}

/** A layout-4 finished mark (named, encoded values) as its row. */
function oldMarkRow(insurerId: string, ref: string, raw: string): OutboxRow {
  const named = { ...(JSON.parse(raw) as Named), id: ref };
  return { ...decodeRow<OutboxRow>("q", named), id: decodeId(ref), insurer_id: insurerId };
}

/** The layout-5 queue row of a converted entry: its due score from its times or its lease. */
function newQueueRow(row: OutboxRow & { _qseq?: number | null; _s?: number | null }): string {
  const base = JSON.parse(queueRowJson(row)) as Named;
  const lease = row.lease_until ? Date.parse(row.lease_until) : undefined;
  if (lease !== undefined) Object.assign(base, { _s: lease, _lu: lease });
  else if (typeof row._s === "number") base._s = row._s;
  if (typeof row._qseq === "number") base._qseq = row._qseq;
  if (row.state !== "pending") delete base._s;
  return JSON.stringify(base);
}

/** A layout-4 owner document as a layout-5 one. */
function convertDoc(
  json: string,
  ref: string,
  cipher: FieldCipher,
  matchKey: MatchKeys | undefined,
  entryOf: (insurerId: string, ref: string) => OutboxRow | undefined,
): OwnerDoc {
  const old = parseDoc(json, ref);
  if (!old) throw new Error(`owner ${ref}: no document`);
  const id = decodeId(ref);
  const p = decodeProfile(old.o);
  const text = (v: unknown) => (v === undefined || v === null ? null : String(v));
  const int = (v: unknown) => (v === undefined || v === null ? null : Number(v));
  const phone = typeof old.o.pe === "string" ? cipher.decrypt(decodeToken(old.o.pe)) : undefined;
  const rows = <T>(kind: "c" | "r" | "w" | "n" | "a") => old.records[kind].map((n) => decodeRow<T>(kind, n));
  const optOuts = old.records.p.map((named) => {
    const row = decodeRow<Named & { insurer_id: string; match_key: string | null }>("p", named);
    if (row.match_key === null) {
      // Layout 4 left out the keys its owner's phone gives (it computed them on read).
      if (!matchKey || phone === undefined)
        throw new Error(`owner ${ref}: an opt-out's match key needs MatchKeys`);
      row.match_key = matchKey(row.insurer_id, phone);
    }
    return row;
  });
  const outbox = old.records.x.flatMap((named) => {
    if (named.state !== undefined) return [{ ...decodeRow<OutboxRow>("x", named), owner_id: id }];
    // Still queued: the queue (or its finished mark, or a pending insert) holds the entry.
    const entry = entryOf(String(named.insurer_id), String(named.id));
    return entry ? [{ ...entry, owner_id: entry.owner_id ?? id, state: "pending" }] : [];
  });
  return OwnerDocument.parse({
    schema: SCHEMA_VERSION,
    owner: {
      id,
      telegram_user_id: int(p.telegram_user_id),
      chat_id: int(p.chat_id ?? p.telegram_user_id),
      language: text(p.language) ?? "en",
      phone_enc: text(p.phone_enc),
      phone_hash: text(p.phone_hash),
      phone_verified: Number(p.phone_verified ?? 0),
      country: text(p.country),
      timezone: text(p.timezone) ?? "",
      jurisdiction: text(p.jurisdiction) ?? "",
      name_enc: text(p.name_enc),
      vehicle_enc: text(p.vehicle_enc),
      sandbox: Number(p.sandbox ?? 0),
      created_at: text(p.created_at) ?? "",
      updated_at: text(p.updated_at) ?? "",
      version: Number(p.version ?? 0),
      renewed_at: text(p.renewed_at),
      deleted_at: text(p.deleted_at),
    },
    consents: rows("c"),
    receipts: rows("r"),
    windows: rows("w"),
    optOuts,
    attempts: rows("a"),
    notices: rows("n"),
    outbox: outbox.map((e) => entryRecord({ ...e, lease_until: null, lease_worker: null })),
  });
}

/** What the migration did (the store logs nothing; tests and the operator read this). */
export interface MigrationReport {
  owners: number;
  queued: number;
  marks: number;
}

/**
 * Converts a layout-4 store under `ctx.keys.prefix` in place. `matchKey` is needed when any
 * opt-out stored none (layout 4 left out the keys the owner's phone gives).
 */
export async function migrateLayout4(
  ctx: RedisContext,
  matchKey: MatchKeys | undefined,
): Promise<MigrationReport> {
  const { redis, keys, cipher } = ctx;
  const q = (insurerId: string, part: QueueParts) => keys.queue(insurerId, part);
  const insurers = unwrap<string[]>(await redis.call("SMEMBERS", keys.queueRegistry())) ?? [];

  // 1. Every queued entry and finished mark, read once (documents refer to them).
  const entries = new Map<string, OutboxRow & { _qseq?: number | null; _s?: number | null }>();
  const marks = new Map<string, OutboxRow>();
  const queued = await redis.pipeline(insurers.map((id) => ({ args: ["HGETALL", q(id, ":e")] })));
  const marked = await redis.pipeline(insurers.map((id) => ({ args: ["HGETALL", q(id, ":pm")] })));
  insurers.forEach((insurerId, i) => {
    const pairs = (list: unknown, fn: (ref: string, raw: string) => void) => {
      const flat = unwrap<string[]>(list) ?? [];
      for (let n = 0; n + 1 < flat.length; n += 2) fn(flat[n] as string, flat[n + 1] as string);
    };
    pairs(queued[i], (ref, raw) => {
      if (raw.startsWith("["))
        entries.set(`${insurerId} ${ref}`, oldQueueRow(insurerId, ref, namedOf("q", JSON.parse(raw))));
    });
    pairs(marked[i], (ref, raw) => {
      if (typeof (JSON.parse(raw) as Named).due_at !== "string")
        marks.set(`${insurerId} ${ref}`, oldMarkRow(insurerId, ref, raw));
    });
  });

  // 2. Pending index ops (a crashed layout-4 writer's): their queue inserts carry old rows.
  const pendingKeys = (await redis.scan(`${keys.prefix}{[oi]:*}:q`)).filter((k) => k.endsWith("}:q"));
  const inserts = new Map<string, OutboxRow>();
  for (const key of pendingKeys) {
    const flat = unwrap<string[]>(await redis.call("HGETALL", key)) ?? [];
    for (let n = 0; n + 1 < flat.length; n += 2) {
      const ops = JSON.parse(flat[n + 1] as string) as unknown[][];
      let changed = false;
      const next = ops.map((op) => {
        if (op[0] !== "qins" || op.length !== 3) return op;
        changed = true;
        const named = JSON.parse(String(op[2])) as Named;
        const ref = String(named.id);
        const row = oldQueueRow(String(op[1]), ref, named);
        inserts.set(`${op[1]} ${ref}`, row);
        return ["qins", op[1], ref, newQueueRow(row)] as IndexOp;
      });
      if (changed) await redis.call("HSET", key, flat[n] as string, JSON.stringify(next));
    }
  }

  // 3. Owner documents, each converted and its index entries rebuilt.
  const entryOf = (insurerId: string, ref: string) => {
    const key = `${insurerId} ${ref}`;
    return entries.get(key) ?? marks.get(key) ?? inserts.get(key);
  };
  const docKeys = (await redis.scan(`${keys.prefix}{o:*}`)).filter((k) => k.endsWith("}"));
  let owners = 0;
  for (let i = 0; i < docKeys.length; i += 100) {
    const batch = docKeys.slice(i, i + 100);
    const values = await redis.pipeline(batch.map((key) => ({ args: ["GET", key] })));
    for (const [n, key] of batch.entries()) {
      const json = unwrap<string | null>(values[n]);
      // Converted already (a migration that stopped part-way): a layout-5 header.
      if (!json || /^\d+:\d+:/.test(json)) continue;
      const ref = key.slice(key.indexOf("{o:") + 3, -1);
      const doc = convertDoc(json, ref, cipher, matchKey, entryOf);
      await ctx.applyOps(docIndexOps(doc));
      // The migration runs alone (the lock, and older processes stopped): a plain SET.
      await redis.call("SET", key, encodeDoc(doc, redis.binary ? "z1" : "b1"));
      owners++;
    }
  }

  // 4. Queues last: until now their rows were what documents were converted from.
  for (const [key, row] of entries) {
    const insurerId = key.slice(0, key.indexOf(" "));
    await redis.call("HSET", q(insurerId, ":e"), key.slice(key.indexOf(" ") + 1), newQueueRow(row));
  }
  for (const [key, row] of marks) {
    const insurerId = key.slice(0, key.indexOf(" "));
    const { lease_until: _l, lease_worker: _w, insurer_id: _i, seq: _q, ...mark } = row;
    await redis.call("HSET", q(insurerId, ":pm"), key.slice(key.indexOf(" ") + 1), JSON.stringify(mark));
  }
  // 5. Layout 4's feeds stood in slots of their own; layout 5's are in their insurer's queue
  // slot, rebuilt above from the documents.
  const oldFeeds = await redis.scan(`${keys.prefix}{f[wo]:*`);
  for (let i = 0; i < oldFeeds.length; i += 500) {
    await redis.pipeline(oldFeeds.slice(i, i + 500).map((key) => ({ args: ["UNLINK", key] })));
  }
  return { owners, queued: entries.size, marks: marks.size };
}
