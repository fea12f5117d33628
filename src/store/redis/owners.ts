/**
 * The owner aggregate: creation on first contact, profile, changesets, reads, and erasure.
 * Everything of one owner is one document under the hash tag `{o:<ref>}` (ref: the encoded
 * owner id); each change is computed in TypeScript (apply.ts) and written back only over the
 * version it was computed from (context.ts writeDoc).
 */
import { createHash } from "node:crypto";
import { uuidv7 } from "../../crypto/uuid-v7.js";
import type { Changeset, ContactWindow, OwnerState } from "../../domain/model.js";
import {
  consentFromRow,
  optOutFromRow,
  outboxToRow,
  ownerFromRow,
  receiptFromRow,
  windowFromRow,
} from "../rows.js";
import { DuplicateError, type Store } from "../store.js";
import { apply, erase, updateProfile } from "./apply.js";
import { CHUNKED_RANGE } from "./chunked-sets.js";
import { unwrap } from "./commands.js";
import type { IndexOp, RedisContext } from "./context.js";
import { newDoc, type OwnerDoc } from "./document.js";
import { decodeId, encodeHex, encodeId, sortableMs } from "./ids.js";
import { SHARDS } from "./keys.js";
import { INDEX_GET_OR_SET, INDEX_REPLACE } from "./scripts.js";

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

/**
 * The id-index field of an attempt's Idempotency-Key: a digest, so that an insurer's long key
 * cannot push its bucket out of the compact encoding (the attempt itself is checked on read).
 */
export function attemptField(insurerId: string, idempotencyKey: string): string {
  return `a:${createHash("sha256").update(`${insurerId}\n${idempotencyKey}`).digest("base64url").slice(0, 22)}`;
}

/** `time id [rest…]`: a feed or work-list member (ids.ts spellings). */
export const member = (at: string, id: string, ...rest: string[]) =>
  [sortableMs(at), encodeId(id), ...rest].join(" ");

/** The queue row of a new outbox entry (scripts.ts CLAIMABLE: `_s` its due score, `_d` its due time). */
export function queueRowJson(row: ReturnType<typeof outboxToRow>): string {
  const due = Date.parse(row.due_at);
  const { insurer_id: _insurer, seq: _seq, ...kept } = row;
  return JSON.stringify({ ...kept, _s: Math.max(due, Date.parse(row.next_attempt_at)), _d: due });
}

/** Index operations that make a changeset's records findable from outside the owner. */
function changesetOps(cs: Changeset): IndexOp[] {
  const owner = encodeId(cs.ownerId);
  const ops: IndexOp[] = [];
  if (cs.consent) ops.push(["cons", owner]);
  for (const r of cs.receipts) ops.push(["ix", `r:${encodeId(r.id)}`, owner]);
  for (const w of cs.windows) {
    // Feed and reminder members name no owner: readers find it through the id index.
    const opened = member(w.opensAt, w.id);
    ops.push(["ix", `w:${encodeId(w.id)}`, owner], ["ix", `t:${w.stopToken}`, owner]);
    ops.push(["feedw", w.insurerId, opened]);
    if (!w.acknowledgedAt && !w.revokedAt && !w.closedAt) ops.push(["rem", w.id, opened]);
    if (w.acknowledgedAt) ops.push(["ack", w.id, member(w.acknowledgedAt, w.id, "w", owner)]);
  }
  for (const o of cs.optOuts) {
    ops.push(["ix", `p:${encodeId(o.id)}`, owner], ["feedo", o.insurerId, member(o.effectiveAt, o.id)]);
    ops.push(["ph", encodeHex(o.phoneHash), owner]);
    if (o.acknowledgedAt) ops.push(["ack", o.id, member(o.acknowledgedAt, o.id, "p", owner)]);
  }
  for (const a of cs.attempts ?? []) ops.push(["ix", attemptField(a.insurerId, a.idempotencyKey), owner]);
  for (const e of cs.outbox) ops.push(["qins", e.insurerId, encodeId(e.id), queueRowJson(outboxToRow(e))]);
  for (const n of cs.ownerNotices ?? []) {
    ops.push(["ix", `n:${encodeId(n.id)}`, owner], ["onot", n.id, member(n.createdAt, n.id, owner)]);
  }
  return ops;
}

/**
 * Every index entry a whole document implies (what changesetOps added over its life, as its
 * records stand now): for rebuilding indexes, as the layout migration does. Idempotent.
 */
export function docIndexOps(doc: OwnerDoc): IndexOp[] {
  const { owner: o } = doc;
  const owner = encodeId(o.id);
  const ops: IndexOp[] = [];
  if (o.telegram_user_id !== null) ops.push(["ix", `g:${o.telegram_user_id}`, owner]);
  if (o.phone_hash) ops.push(["ph", encodeHex(o.phone_hash), owner]);
  const current = doc.consents.some(
    (c) => c.owner_id === o.id && c.superseded_at === null && c.preferences !== null,
  );
  if (current) ops.push(["cons", owner]);
  for (const r of doc.receipts) ops.push(["ix", `r:${encodeId(r.id)}`, owner]);
  for (const w of doc.windows) {
    ops.push(["ix", `w:${encodeId(w.id)}`, owner], ["ix", `t:${w.stop_token}`, owner]);
    ops.push(["feedw", w.insurer_id, member(w.opens_at, w.id)]);
    const live = !w.acknowledged_at && !w.revoked_at && !w.closed_at && !w.ack_reminder_at;
    if (live && w.owner_id) ops.push(["rem", w.id, member(w.opens_at, w.id)]);
    if (w.acknowledged_at && !w.ack_notified_at && w.owner_id) {
      ops.push(["ack", w.id, member(w.acknowledged_at, w.id, "w", owner)]);
    }
  }
  for (const p of doc.optOuts) {
    ops.push(["ix", `p:${encodeId(p.id)}`, owner], ["feedo", p.insurer_id, member(p.effective_at, p.id)]);
    ops.push(["ph", encodeHex(p.phone_hash), owner]);
    if (p.acknowledged_at && !p.ack_notified_at && p.owner_id) {
      ops.push(["ack", p.id, member(p.acknowledged_at, p.id, "p", owner)]);
    }
  }
  for (const a of doc.attempts) ops.push(["ix", attemptField(a.insurer_id, a.idempotency_key), owner]);
  for (const n of doc.notices) {
    ops.push(["ix", `n:${encodeId(n.id)}`, owner]);
    if (!n.sent_at) ops.push(["onot", n.id, member(n.created_at, n.id, owner)]);
  }
  return ops;
}

/** The phone index entry of a new phone on file. */
const phoneOps = (doc: OwnerDoc): IndexOp[] =>
  doc.owner.phone_hash ? [["ph", encodeHex(doc.owner.phone_hash), encodeId(doc.owner.id)]] : [];

/** Owner operations of the Redis store. */
export function createOwnerPart(ctx: RedisContext): OwnerPart {
  const { redis, keys, cipher, now } = ctx;
  const ownerOf = (doc: OwnerDoc | undefined) => (doc ? ownerFromRow(doc.owner, cipher) : undefined);
  const read = async (id: string) => ownerOf(await ctx.readDoc(id));

  /** A record through the id index: whose it is, then the record. */
  const byId = async <T>(field: string, pick: (doc: OwnerDoc) => T | undefined): Promise<T | undefined> => {
    const [owners = []] = await ctx.ownersOf([field]);
    const docs = await ctx.readDocs(owners.map(decodeId));
    for (const doc of docs) {
      const found = doc && pick(doc);
      if (found !== undefined) return found;
    }
    return undefined;
  };

  const readState = async (ownerId: string): Promise<OwnerState> => {
    const doc = await ctx.readDoc(ownerId);
    if (!doc) throw new Error(`unknown owner ${ownerId}`);
    const mine = <T extends { owner_id: string | null }>(list: T[]) =>
      list.filter((r) => r.owner_id === ownerId);
    const current = mine(doc.consents)
      .filter((row) => row.superseded_at === null && row.preferences !== null)
      .pop();
    const consent = current ? consentFromRow(current) : undefined;
    return {
      owner: ownerFromRow(doc.owner, cipher),
      ...(consent ? { consent } : {}),
      windows: mine(doc.windows).map(windowFromRow),
      optOuts: mine(doc.optOuts).map(optOutFromRow),
      receipts: mine(doc.receipts).map((row) => receiptFromRow(row, cipher)),
    };
  };

  const applyChangeset = async (cs: Changeset) => {
    // An Idempotency-Key is unique per insurer across owners; within the owner apply checks.
    const attempts = cs.attempts ?? [];
    if (attempts.length > 0) {
      const fields = attempts.map((a) => attemptField(a.insurerId, a.idempotencyKey));
      const found = await ctx.ownersOf(fields);
      for (const [i, owners] of found.entries()) {
        const attempt = attempts[i];
        if (!attempt) continue;
        const others = owners.filter((o) => o !== encodeId(cs.ownerId)).map(decodeId);
        for (const doc of await ctx.readDocs(others)) {
          const same = doc?.attempts.some(
            (a) => a.insurer_id === attempt.insurerId && a.idempotency_key === attempt.idempotencyKey,
          );
          if (same) throw new DuplicateError(`attempt ${attempt.idempotencyKey} already recorded`);
        }
      }
    }
    const doc = await ctx.readDoc(cs.ownerId);
    if (!doc) throw new Error(`unknown owner ${cs.ownerId}`);
    const next = apply(doc, cs, { now: now(), cipher });
    const ops = changesetOps(cs);
    if (cs.owner?.phone) ops.push(...phoneOps(next));
    // A conflict (another writer since the read) reaches the caller, who plans again.
    await ctx.writeDoc(next, doc.owner.version, ops);
  };

  const update: Store["updateOwnerProfile"] = (id, patch) =>
    ctx.changeDoc(id, (doc) => {
      if (!doc) throw new Error(`unknown owner ${id}`);
      const next = updateProfile(doc, patch, { now: now(), cipher });
      const ops = patch.phone ? phoneOps(next) : [];
      return { doc: next, ops, value: ownerFromRow(next.owner, cipher) };
    });

  const eraseOwner: Store["eraseOwner"] = async (ownerId, at) => {
    await ctx.changeDoc(ownerId, (doc) => {
      if (!doc) throw new Error(`unknown owner ${ownerId}`);
      const ref = encodeId(ownerId);
      const ops: IndexOp[] = [
        ["del", keys.hits(ownerId)],
        ["del", keys.hits(ownerId, ":n")],
      ];
      const { telegram_user_id: user, chat_id: chat } = doc.owner;
      if (user !== null) ops.push(["ixdel", `g:${user}`, ref]);
      if (chat !== null) ops.push(["del", keys.session(cipher.hash(String(chat), SESSION_HASH))]);
      for (const e of doc.outbox)
        if (e.state === "pending") ops.push(["qunlink", e.insurer_id, encodeId(e.id)]);
      return { doc: erase(doc, at), ops, value: undefined };
    });
  };

  const ensure: Store["ensureOwner"] = async (input) => {
    const field = `g:${input.telegramUserId}`;
    const bucket = keys.idIndex(field);
    for (let attempt = 0; attempt < 5; attempt++) {
      const ref = (await redis.eval(INDEX_GET_OR_SET, [bucket], [field, encodeId(uuidv7())])) as string;
      const id = decodeId(ref);
      let owner = await read(id);
      if (!owner) {
        const at = now();
        const doc = newDoc({
          id,
          telegram_user_id: input.telegramUserId,
          chat_id: input.chatId,
          language: input.language,
          phone_enc: null,
          phone_hash: null,
          phone_verified: 0,
          country: null,
          timezone: input.timezone,
          jurisdiction: input.jurisdiction,
          name_enc: null,
          vehicle_enc: null,
          sandbox: input.sandbox ? 1 : 0,
          created_at: at,
          updated_at: at,
          version: 0,
          renewed_at: null,
          deleted_at: null,
        });
        // Two first contacts at once: one document wins, the other reads it.
        await ctx.writeDoc(doc, undefined, []).catch(() => undefined);
        owner = await read(id);
      }
      if (owner && owner.telegramUserId === input.telegramUserId && owner.deletedAt === undefined)
        return owner;
      // The index still points at an erased owner: a returning user starts afresh.
      await redis.eval(INDEX_REPLACE, [bucket], [field, ref, encodeId(uuidv7())]);
    }
    throw new Error("could not create the owner");
  };

  const withConsent = async (after: string | undefined, limit: number): Promise<string[]> => {
    const out: string[] = [];
    let cursor = after === undefined ? undefined : encodeId(after);
    const shards = Array.from({ length: SHARDS }, (_, n) => keys.shard("cons", n));
    while (out.length < limit) {
      const need = limit - out.length;
      const lists = await redis.pipeline(
        shards.map((key) => ({
          script: CHUNKED_RANGE,
          keys: [key],
          args: [cursor === undefined ? "-" : `(${cursor}`, "+", need],
        })),
      );
      const candidates = [...new Set(lists.flatMap((l) => unwrap<string[]>(l) ?? []))].sort().slice(0, need);
      if (candidates.length === 0) break;
      const docs = await ctx.readDocs(candidates.map(decodeId));
      for (const doc of docs) {
        // A current consent: not superseded, not erased (as in the SQLite store).
        const current = doc?.consents.some(
          (c) => c.superseded_at === null && c.preferences !== null && c.owner_id === doc.owner.id,
        );
        if (doc && current && doc.owner.deleted_at === null) out.push(doc.owner.id);
      }
      cursor = candidates[candidates.length - 1];
      if (candidates.length < need) break;
    }
    return out;
  };

  return {
    ensureOwner: ensure,
    getOwner: read,
    async getOwnerByTelegramId(telegramUserId) {
      const field = `g:${telegramUserId}`;
      const ref = unwrap<string | null>(await redis.call("HGET", keys.idIndex(field), field));
      if (!ref) return undefined;
      const owner = await read(decodeId(ref));
      return owner && owner.telegramUserId === telegramUserId && !owner.deletedAt ? owner : undefined;
    },
    updateOwnerProfile: update,
    getOwnerState: readState,
    applyChangeset,
    async findWindowByStopToken(token): Promise<ContactWindow | undefined> {
      return byId(`t:${token}`, (doc) => {
        const row = doc.windows.find((w) => w.stop_token === token);
        return row && windowFromRow(row);
      });
    },
    async getReceipt(id) {
      return byId(`r:${encodeId(id)}`, (doc) => {
        const row = doc.receipts.find((r) => r.id === id);
        return row && receiptFromRow(row, cipher);
      });
    },
    async getOptOut(id) {
      return byId(`p:${encodeId(id)}`, (doc) => {
        const row = doc.optOuts.find((r) => r.id === id);
        return row && optOutFromRow(row);
      });
    },
    async getWindow(id) {
      return byId(`w:${encodeId(id)}`, (doc) => {
        const row = doc.windows.find((r) => r.id === id);
        return row && windowFromRow(row);
      });
    },
    eraseOwner,
    listOwnerIdsWithConsent: withConsent,
  };
}
