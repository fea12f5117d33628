/**
 * The owner aggregate: creation on first contact, profile, changesets, reads, and erasure.
 * Everything of one owner lives under the hash tag `{o:<ownerId>}`, so each change is one
 * script in one slot, version-checked.
 */
import { randomUUID } from "node:crypto";
import type { Changeset, ContactWindow, Owner, OwnerState } from "../../domain/model.js";
import {
  type AttemptRow,
  attemptToRow,
  type ConsentRow,
  consentFromRow,
  consentToRow,
  type OptOutRow,
  optOutFromRow,
  optOutToRow,
  outboxToRow,
  ownerNoticeToRow,
  type ReceiptRow,
  receiptFromRow,
  receiptToRow,
  type WindowRow,
  windowFromRow,
  windowToRow,
} from "../sqlite/rows.js";
import { DuplicateError, type OwnerProfilePatch, type Store } from "../store.js";
import { unwrap } from "./commands.js";
import { hashOf, type IndexOp, type RedisContext } from "./context.js";
import { SHARDS } from "./keys.js";
import { bySeq, ownerFromHash, parseRows, translate } from "./records.js";
import {
  APPLY_CHANGESET,
  CREATE_OWNER,
  ERASE_OWNER,
  INDEX_GET_OR_SET,
  INDEX_REPLACE,
  READ_OWNER,
  UPDATE_OWNER,
} from "./scripts.js";

/** Hash purpose for session keys (as in the SQLite store). */
export const SESSION_HASH = "session";

type OwnerPart = Pick<
  Store,
  | "ensureOwner"
  | "getOwner"
  | "getOwnerByTelegramId"
  | "updateOwnerProfile"
  | "getOwnerState"
  | "applyChangeset"
  | "findWindowByStopToken"
  | "getReceipt"
  | "getOptOut"
  | "getWindow"
  | "eraseOwner"
  | "listOwnerIdsWithConsent"
>;

/** Reads a record through the id index (`w:`, `p:`, `r:`): where it lives, then the record. */
export async function recordById<T>(
  ctx: RedisContext,
  kind: "w" | "p" | "r",
  id: string,
): Promise<T | undefined> {
  const field = `${kind}:${id}`;
  const ownerId = unwrap<string | null>(await ctx.redis.call("HGET", ctx.keys.idIndex(field), field));
  if (!ownerId) return undefined;
  const part = kind === "w" ? ":w" : kind === "p" ? ":p" : ":r";
  const json = unwrap<string | null>(await ctx.redis.call("HGET", ctx.keys.owner(ownerId, part), id));
  return json ? (JSON.parse(json) as T) : undefined;
}

/** Index operations that make a changeset's records findable from outside the owner. */
function changesetOps(cs: Changeset): IndexOp[] {
  const owner = cs.ownerId;
  const ops: IndexOp[] = [];
  if (cs.consent) ops.push(["cons", owner]);
  for (const r of cs.receipts) ops.push(["ix", `r:${r.id}`, owner]);
  for (const w of cs.windows) {
    const member = `${w.opensAt} ${w.id} ${owner}`;
    ops.push(["ix", `w:${w.id}`, owner], ["ix", `t:${w.stopToken}`, `${owner} ${w.id}`]);
    ops.push(["feedw", w.insurerId, member]);
    if (!w.acknowledgedAt && !w.revokedAt && !w.closedAt) ops.push(["rem", w.id, member]);
    if (w.acknowledgedAt) ops.push(["ack", w.id, `${w.acknowledgedAt} ${w.id} window ${owner}`]);
  }
  for (const o of cs.optOuts) {
    ops.push(["ix", `p:${o.id}`, owner], ["feedo", o.insurerId, `${o.effectiveAt} ${o.id} ${owner}`]);
    ops.push(["ph", o.phoneHash, owner]);
    if (o.acknowledgedAt) ops.push(["ack", o.id, `${o.acknowledgedAt} ${o.id} optout ${owner}`]);
  }
  for (const a of cs.attempts ?? [])
    ops.push(["ix", `a:${a.insurerId} ${a.idempotencyKey}`, `${owner} ${a.id}`]);
  for (const e of cs.outbox) {
    ops.push(["ix", `x:${e.id}`, e.insurerId], ["qins", e.insurerId, JSON.stringify(outboxToRow(e))]);
  }
  for (const n of cs.ownerNotices ?? []) {
    ops.push(["ix", `n:${n.id}`, owner], ["onot", n.id, `${n.createdAt} ${n.id} ${owner}`]);
  }
  return ops;
}

/** Owner operations of the Redis store. */
export function createOwnerPart(ctx: RedisContext): OwnerPart {
  const { redis, keys, cipher, now } = ctx;

  const read = async (id: string): Promise<Owner | undefined> =>
    ownerFromHash(hashOf(await redis.call("HGETALL", keys.owner(id))), cipher);

  const readState = async (ownerId: string): Promise<OwnerState> => {
    const parts = keys.ownerKeys(ownerId);
    const [ownerHash, consents, receipts, windows, optOuts] = (await redis.eval(
      READ_OWNER,
      parts.slice(0, 5),
      [],
    )) as unknown[];
    const owner = ownerFromHash(hashOf(ownerHash), cipher);
    if (!owner) throw new Error(`unknown owner ${ownerId}`);
    const mine = <T extends { owner_id: string | null }>(rows: (T & { _seq?: number })[]) =>
      rows.filter((row) => row.owner_id === ownerId).sort(bySeq);
    const current = parseRows<ConsentRow>(consents)
      .filter((row) => row.owner_id === ownerId && row.superseded_at === null && row.preferences !== null)
      .sort(bySeq)
      .pop();
    const consent = current ? consentFromRow(current) : undefined;
    return {
      owner,
      ...(consent ? { consent } : {}),
      windows: mine(parseRows<WindowRow>(windows)).map(windowFromRow),
      optOuts: mine(parseRows<OptOutRow>(optOuts)).map(optOutFromRow),
      receipts: mine(parseRows<ReceiptRow>(receipts)).map(receiptFromRow),
    };
  };

  const apply = async (cs: Changeset) => {
    if (cs.consent && cs.consent.ownerId !== cs.ownerId) throw new Error("consent belongs to another owner");
    for (const w of cs.windows)
      if (w.ownerId !== cs.ownerId) throw new Error("window belongs to another owner");
    for (const n of cs.ownerNotices ?? []) {
      if (n.ownerId !== cs.ownerId) throw new Error("owner notice belongs to another owner");
    }
    // An Idempotency-Key is unique per insurer across owners; within the owner the script checks.
    const attempts = cs.attempts ?? [];
    if (attempts.length > 0) {
      const fields = attempts.map((a) => `a:${a.insurerId} ${a.idempotencyKey}`);
      const found = await redis.pipeline(fields.map((f) => ({ args: ["HGET", keys.idIndex(f), f] })));
      found.forEach((value, i) => {
        const hit = unwrap<string | null>(value);
        if (hit && !hit.startsWith(`${cs.ownerId} `)) {
          throw new DuplicateError(`attempt ${attempts[i]?.idempotencyKey} already recorded`);
        }
      });
    }
    const payload = {
      ownerId: cs.ownerId,
      expected: cs.expectedVersion,
      now: now(),
      consent: cs.consent ? consentToRow(cs.consent) : null,
      supersede: cs.supersedeConsents,
      receipts: cs.receipts.map((r) => receiptToRow({ ...r, ownerId: r.ownerId ?? cs.ownerId })),
      windows: cs.windows.map(windowToRow),
      revokeWindows: cs.revokeWindows,
      closeWindows: cs.closeWindows,
      revokeReceipts: cs.revokeReceipts,
      optOuts: cs.optOuts.map((o) => optOutToRow({ ...o, ownerId: o.ownerId ?? cs.ownerId })),
      withdraw: cs.withdrawOptOuts,
      attempts: attempts.map((a): AttemptRow => attemptToRow(a)),
      outbox: cs.outbox.map(outboxToRow),
      notices: (cs.ownerNotices ?? []).map(ownerNoticeToRow),
      renewed: cs.owner && "renewedAt" in cs.owner ? { v: cs.owner.renewedAt ?? null } : null,
    };
    const ops = JSON.stringify(changesetOps(cs));
    await ctx.write(
      `o:${cs.ownerId}`,
      APPLY_CHANGESET,
      keys.ownerKeys(cs.ownerId),
      (opId) => [JSON.stringify({ ...payload, opId }), ops],
      () => ops,
      () => undefined,
    );
  };

  const update = async (id: string, patch: OwnerProfilePatch): Promise<Owner> => {
    const set: Record<string, string> = {};
    const del: string[] = [];
    const ops: IndexOp[] = [];
    const field = (name: string, value: string | null) => {
      if (value === null) del.push(name);
      else set[name] = value;
    };
    if (patch.language !== undefined) set.language = patch.language;
    if (patch.phone !== undefined) {
      if (patch.phone === null) del.push("phone_enc", "phone_hash");
      else {
        const hash = cipher.hash(patch.phone, "phone");
        set.phone_enc = cipher.encrypt(patch.phone);
        set.phone_hash = hash;
        ops.push(["ph", hash, id]);
      }
    }
    if (patch.phoneVerified !== undefined) set.phone_verified = patch.phoneVerified ? "1" : "0";
    if (patch.country !== undefined) field("country", patch.country);
    if (patch.timezone !== undefined) set.timezone = patch.timezone;
    if (patch.jurisdiction !== undefined) set.jurisdiction = patch.jurisdiction;
    if (patch.name !== undefined) field("name_enc", patch.name === null ? null : cipher.encrypt(patch.name));
    if (patch.vehicle !== undefined) {
      field("vehicle_enc", patch.vehicle === null ? null : cipher.encrypt(patch.vehicle));
    }
    const opsJson = JSON.stringify(ops);
    const owner = await ctx.write(
      `o:${id}`,
      UPDATE_OWNER,
      [keys.owner(id), keys.owner(id, ":q")],
      (opId) => [JSON.stringify({ set, del, now: now(), opId }), opsJson],
      () => opsJson,
      (reply) => ownerFromHash(hashOf(reply), cipher),
    );
    if (!owner) throw new Error(`unknown owner ${id}`);
    return owner;
  };

  const erase = async (ownerId: string, at: string) => {
    const h = hashOf(await redis.call("HGETALL", keys.owner(ownerId)));
    if (h.id === undefined) throw new Error(`unknown owner ${ownerId}`);
    const ops: IndexOp[] = [
      ["del", keys.hits(ownerId)],
      ["del", keys.hits(ownerId, ":n")],
    ];
    if (h.telegram_user_id !== undefined) ops.push(["ixdel", `g:${h.telegram_user_id}`, ownerId]);
    if (h.chat_id !== undefined) ops.push(["del", keys.session(cipher.hash(h.chat_id, SESSION_HASH))]);
    await ctx.write(
      `o:${ownerId}`,
      ERASE_OWNER,
      keys.ownerKeys(ownerId),
      (opId) => [JSON.stringify({ at, opId, ownerId }), JSON.stringify(ops)],
      (reply) => reply as string,
      () => undefined,
    );
  };

  const ensure: Store["ensureOwner"] = async (input) => {
    const field = `g:${input.telegramUserId}`;
    const bucket = keys.idIndex(field);
    for (let attempt = 0; attempt < 5; attempt++) {
      const id = (await redis.eval(INDEX_GET_OR_SET, [bucket], [field, randomUUID()])) as string;
      let owner = await read(id);
      if (!owner) {
        const at = now();
        await redis.eval(
          CREATE_OWNER,
          [keys.owner(id)],
          [
            ...["id", id, "telegram_user_id", String(input.telegramUserId), "chat_id", String(input.chatId)],
            ...["language", input.language, "timezone", input.timezone, "jurisdiction", input.jurisdiction],
            ...["sandbox", input.sandbox ? "1" : "0", "phone_verified", "0", "version", "0"],
            ...["created_at", at, "updated_at", at],
          ],
        );
        owner = await read(id);
      }
      if (owner && owner.telegramUserId === input.telegramUserId && owner.deletedAt === undefined)
        return owner;
      // The index still points at an erased owner: a returning user starts afresh.
      await redis.eval(INDEX_REPLACE, [bucket], [field, id, randomUUID()]);
    }
    throw new Error("could not create the owner");
  };

  const withConsent = async (after: string | undefined, limit: number): Promise<string[]> => {
    const out: string[] = [];
    let cursor = after;
    const shards = Array.from({ length: SHARDS }, (_, n) => keys.shard("cons", n));
    while (out.length < limit) {
      const need = limit - out.length;
      const lists = await redis.pipeline(
        shards.map((key) => ({
          args: ["ZRANGEBYLEX", key, cursor === undefined ? "-" : `(${cursor}`, "+", "LIMIT", 0, need],
        })),
      );
      const candidates = [...new Set(lists.flatMap((l) => unwrap<string[]>(l) ?? []))].sort().slice(0, need);
      if (candidates.length === 0) break;
      const states = await redis.pipeline(
        candidates.map((id) => ({ args: ["HMGET", keys.owner(id), "cur", "deleted_at"] })),
      );
      candidates.forEach((id, i) => {
        const [cur, deleted] = unwrap<(string | null)[]>(states[i]) ?? [];
        if (cur === "1" && !deleted) out.push(id);
      });
      cursor = candidates[candidates.length - 1];
      if (candidates.length < need) break;
    }
    return out;
  };

  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw translate(error);
    }
  };

  return {
    ensureOwner: (input) => call(() => ensure(input)),
    getOwner: read,
    async getOwnerByTelegramId(telegramUserId) {
      const field = `g:${telegramUserId}`;
      const id = unwrap<string | null>(await redis.call("HGET", keys.idIndex(field), field));
      if (!id) return undefined;
      const owner = await read(id);
      return owner && owner.telegramUserId === telegramUserId && !owner.deletedAt ? owner : undefined;
    },
    updateOwnerProfile: (id, patch) => call(() => update(id, patch)),
    getOwnerState: readState,
    applyChangeset: (cs) => call(() => apply(cs)),
    async findWindowByStopToken(token): Promise<ContactWindow | undefined> {
      const field = `t:${token}`;
      const where = unwrap<string | null>(await redis.call("HGET", keys.idIndex(field), field));
      if (!where) return undefined;
      const [ownerId = "", windowId = ""] = where.split(" ");
      const json = unwrap<string | null>(await redis.call("HGET", keys.owner(ownerId, ":w"), windowId));
      const row = json ? (JSON.parse(json) as WindowRow) : undefined;
      return row && row.stop_token === token ? windowFromRow(row) : undefined;
    },
    async getReceipt(id) {
      const row = await recordById<ReceiptRow>(ctx, "r", id);
      return row ? receiptFromRow(row) : undefined;
    },
    async getOptOut(id) {
      const row = await recordById<OptOutRow>(ctx, "p", id);
      return row ? optOutFromRow(row) : undefined;
    },
    async getWindow(id) {
      const row = await recordById<WindowRow>(ctx, "w", id);
      return row ? windowFromRow(row) : undefined;
    },
    eraseOwner: (ownerId, at) => call(() => erase(ownerId, at)),
    listOwnerIdsWithConsent: withConsent,
  };
}
