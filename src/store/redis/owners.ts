/**
 * The owner aggregate: creation on first contact, profile, changesets, reads, and erasure.
 * Everything of one owner is one document under the hash tag `{o:<ref>}` (ref: the encoded
 * owner id), so each change is one script in one slot, version-checked.
 */
import { createHash, randomUUID } from "node:crypto";
import type {
  AttemptRecord,
  Changeset,
  ContactWindow,
  Owner,
  OwnerState,
  Receipt,
} from "../../domain/model.js";
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
} from "../rows.js";
import { ConflictError, DuplicateError, type OwnerProfilePatch, type Store } from "../store.js";
import {
  decodeId,
  decodeRow,
  encodeHex,
  encodeId,
  encodeProfile,
  encodeRow,
  encodeTime,
  type OwnerDoc,
  PROFILE,
  type ProfileColumn,
  parseDoc,
  sortableMs,
} from "./codec.js";
import { unwrap } from "./commands.js";
import type { IndexOp, RedisContext } from "./context.js";
import { SHARDS } from "./keys.js";
import { ownerFromProfile, translate } from "./records.js";
import {
  APPLY_CHANGESET,
  CHUNKED_RANGE,
  ERASE_OWNER,
  INDEX_GET_OR_SET,
  INDEX_REPLACE,
  RECORD_AT,
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

/**
 * The id-index field of an attempt's Idempotency-Key: a digest, so that an insurer's long key
 * cannot push its bucket out of the compact encoding (the attempt itself is checked on read).
 */
export function attemptField(insurerId: string, idempotencyKey: string): string {
  return `a:${createHash("sha256").update(`${insurerId}\n${idempotencyKey}`).digest("base64url").slice(0, 22)}`;
}

/** The owner document of `ownerRef` (an encoded owner id), parsed; undefined when missing. */
export async function readDoc(ctx: RedisContext, ownerRef: string): Promise<OwnerDoc | undefined> {
  return parseDoc(unwrap<string | null>(await ctx.redis.call("GET", ctx.keys.owner(ownerRef))), ownerRef);
}

/** Reads a record through the id index (`w:`, `p:`, `r:`): whose it is, then the record. */
export async function recordById<T>(
  ctx: RedisContext,
  kind: "w" | "p" | "r",
  id: string,
): Promise<T | undefined> {
  const ref = encodeId(id);
  const [owners = []] = await ctx.ownersOf([`${kind}:${ref}`]);
  for (const ownerRef of owners) {
    const json = (await ctx.redis.eval(RECORD_AT, [ctx.keys.owner(ownerRef)], [kind, ref])) as string | null;
    if (json) return ctx.decode<T>(kind, JSON.parse(json) as Record<string, unknown>);
  }
  return undefined;
}

/** Index operations that make a changeset's records findable from outside the owner. */
function changesetOps(cs: Changeset): IndexOp[] {
  const owner = encodeId(cs.ownerId);
  const member = (at: string, id: string, ...rest: string[]) =>
    [sortableMs(at), encodeId(id), ...rest].join(" ");
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
  for (const e of cs.outbox) {
    const row = { ...encodeRow("q", outboxToRow(e)), id: encodeId(e.id) };
    ops.push(["qins", e.insurerId, JSON.stringify(row)]);
  }
  for (const n of cs.ownerNotices ?? []) {
    ops.push(["ix", `n:${encodeId(n.id)}`, owner], ["onot", n.id, member(n.createdAt, n.id, owner)]);
  }
  return ops;
}

/** A changeset's `{id, at, reason?}` targets with encoded ids and times. */
const targets = (list: readonly { id: string; at: string; reason?: string }[]) =>
  list.map((t) => ({ ...t, id: encodeId(t.id), at: encodeTime(t.at) }));

/**
 * Runs a read-then-write once more when its script refused a change that came in between (a
 * conflict), up to five times in all.
 */
async function againOnConflict<T>(attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (n >= 5 || !(translate(error) instanceof ConflictError)) throw error;
    }
  }
}

/** Owner operations of the Redis store. */
export function createOwnerPart(ctx: RedisContext): OwnerPart {
  const { redis, keys, cipher, now } = ctx;

  /**
   * The phone, name and vehicle of each owner state read lately, at its version. A changeset
   * planned from that state is applied at that version (the script checks it), so:
   * - an opt-out with that phone's match key (what {@link RedisContext.matchKey} computes) is
   *   stored without it;
   * - a receipt whose agreed name or vehicle is the profile's takes the profile's ciphertext
   *   (the script copies it), which the document stores as a one-byte reference.
   * Bounded; a miss only stores the full values.
   */
  const recentProfiles = new Map<string, Pick<Owner, "version" | "phone" | "name" | "vehicle">>();
  const RECENT_PROFILES = 1_000;
  const remember = (owner: Owner) => {
    recentProfiles.delete(owner.id);
    const { version, phone, name, vehicle } = owner;
    recentProfiles.set(owner.id, { version, phone, name, vehicle });
    if (recentProfiles.size > RECENT_PROFILES)
      recentProfiles.delete(recentProfiles.keys().next().value as string);
  };
  const profileAt = (ownerId: string, version: number) => {
    const known = recentProfiles.get(ownerId);
    return known?.version === version ? known : undefined;
  };
  const phoneAt = (ownerId: string, version: number) => profileAt(ownerId, version)?.phone;
  /** A receipt row to send, its agreed details marked 1 where they are the profile's. */
  const receiptPayload = (receipt: Receipt, cs: Changeset) => {
    const row = encodeRow("r", receiptToRow({ ...receipt, ownerId: receipt.ownerId ?? cs.ownerId }, cipher));
    const known = profileAt(cs.ownerId, cs.expectedVersion);
    if (known !== undefined && receipt.shared !== undefined) {
      if (receipt.shared.name !== undefined && receipt.shared.name === known.name) row.name_enc = 1;
      if (receipt.shared.vehicle !== undefined && receipt.shared.vehicle === known.vehicle)
        row.vehicle_enc = 1;
    }
    return row;
  };

  /**
   * Encoded match keys of the document's opt-outs that store none (they are its phone's), by
   * opt-out ref: what UPDATE_OWNER and ERASE_OWNER write back before the phone goes.
   */
  const derivedMatchKeys = (doc: OwnerDoc): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const named of doc.records.p) {
      if (named.match_key !== undefined && named.match_key !== null) continue;
      out[String(named.id)] = encodeHex(ctx.decode<OptOutRow>("p", named).match_key);
    }
    return out;
  };

  /**
   * The match keys to write back before a profile change, or none when the phone stays (the same
   * number shared again, or no phone in the change): the keys still derive from it, and writing
   * them would store every opt-out's key in full. The scripts decide the same on the document
   * they change, and refuse (a conflict) when this read was stale.
   */
  const matchKeysToKeep = (
    doc: OwnerDoc | undefined,
    set: Record<string, unknown>,
    del: readonly string[],
  ) => {
    if (doc === undefined) return {};
    const phoneGoes = del.includes(PROFILE.phone_hash[0]);
    const phoneChanges = set[PROFILE.phone_hash[0]] !== undefined && set[PROFILE.phone_hash[0]] !== doc.o.ph;
    return phoneGoes || phoneChanges ? derivedMatchKeys(doc) : {};
  };

  const read = async (id: string): Promise<Owner | undefined> => {
    const doc = await readDoc(ctx, encodeId(id));
    return doc ? ownerFromProfile(id, doc.o, cipher) : undefined;
  };

  const readState = async (ownerId: string): Promise<OwnerState> => {
    const doc = await readDoc(ctx, encodeId(ownerId));
    if (!doc) throw new Error(`unknown owner ${ownerId}`);
    const rows = <T>(kind: "c" | "r" | "w" | "p") =>
      doc.records[kind].map((named) => ctx.decode<T & { owner_id: string | null }>(kind, named));
    const mine = <T extends { owner_id: string | null }>(list: T[]) =>
      list.filter((r) => r.owner_id === ownerId);
    const current = mine(rows<ConsentRow>("c"))
      .filter((row) => row.superseded_at === null && row.preferences !== null)
      .pop();
    const consent = current ? consentFromRow(current) : undefined;
    const owner = ownerFromProfile(ownerId, doc.o, cipher);
    remember(owner);
    return {
      owner,
      ...(consent ? { consent } : {}),
      windows: mine(rows<WindowRow>("w")).map(windowFromRow),
      optOuts: mine(rows<OptOutRow>("p")).map(optOutFromRow),
      receipts: mine(rows<ReceiptRow>("r")).map((row) => receiptFromRow(row, cipher)),
    };
  };

  const apply = async (cs: Changeset) => {
    if (cs.consent && cs.consent.ownerId !== cs.ownerId) throw new Error("consent belongs to another owner");
    for (const w of cs.windows)
      if (w.ownerId !== cs.ownerId) throw new Error("window belongs to another owner");
    for (const n of cs.ownerNotices ?? []) {
      if (n.ownerId !== cs.ownerId) throw new Error("owner notice belongs to another owner");
    }
    const owner = encodeId(cs.ownerId);
    // An Idempotency-Key is unique per insurer across owners; within the owner the script checks.
    const attempts = cs.attempts ?? [];
    if (attempts.length > 0) {
      const fields = attempts.map((a) => attemptField(a.insurerId, a.idempotencyKey));
      const found = await redis.pipeline(fields.map((f) => ({ args: ["HGET", keys.idIndex(f), f] })));
      for (const [i, value] of found.entries()) {
        const hit = unwrap<string | null>(value);
        if (hit && hit !== owner && (await recordedElsewhere(hit, attempts[i] as AttemptRecord))) {
          throw new DuplicateError(`attempt ${attempts[i]?.idempotencyKey} already recorded`);
        }
      }
    }
    // A new phone in the changeset: its profile fields, and the match keys of the opt-outs that
    // store none (the old phone's), written back first as by UPDATE_OWNER. The script refuses
    // (a conflict) when the document changed since this read; the caller plans again.
    let profile: { set: object; del: string[]; matchKeys: Record<string, string> } | null = null;
    const profileOps: IndexOp[] = [];
    if (cs.owner?.phone) {
      const { set, del, ops } = profileFields(owner, cs.owner.phone);
      const doc = await readDoc(ctx, owner);
      profile = { set, del, matchKeys: matchKeysToKeep(doc, set, del) };
      profileOps.push(...ops);
    }
    // The phone the owner has once this changeset is applied: the changeset's own, or the one
    // the plan saw, when this process read it (the script checks the version). An opt-out
    // whose key derives from it stores none.
    const phone =
      cs.optOuts.length === 0
        ? undefined
        : (cs.owner?.phone?.phone ?? phoneAt(cs.ownerId, cs.expectedVersion));
    const payload = {
      ownerId: cs.ownerId,
      owner,
      expected: cs.expectedVersion,
      now: encodeTime(now()),
      consent: cs.consent ? encodeRow("c", consentToRow(cs.consent)) : null,
      supersede: targets(cs.supersedeConsents),
      receipts: cs.receipts.map((r) => receiptPayload(r, cs)),
      windows: cs.windows.map((w) => encodeRow("w", windowToRow(w))),
      revokeWindows: targets(cs.revokeWindows),
      closeWindows: targets(cs.closeWindows),
      revokeReceipts: targets(cs.revokeReceipts),
      optOuts: cs.optOuts.map((o) => {
        const row = encodeRow("p", optOutToRow({ ...o, ownerId: o.ownerId ?? cs.ownerId }));
        if (phone !== undefined && o.matchKey === ctx.matchKey?.(o.insurerId, phone)) delete row.match_key;
        return row;
      }),
      withdraw: targets(cs.withdrawOptOuts),
      attempts: attempts.map((a) => encodeRow("a", attemptToRow(a))),
      outbox: cs.outbox.map((e) => ({ id: encodeId(e.id), insurer_id: e.insurerId })),
      notices: (cs.ownerNotices ?? []).map((n) => encodeRow("n", ownerNoticeToRow(n))),
      renewed: cs.owner && "renewedAt" in cs.owner ? renewedField(cs.owner.renewedAt) : null,
      profile,
    };
    const ops = JSON.stringify([...changesetOps(cs), ...profileOps]);
    await ctx.write(
      `o:${owner}`,
      APPLY_CHANGESET,
      [keys.owner(owner), keys.owner(owner, ":q")],
      (opId) => [JSON.stringify({ ...payload, opId }), ops],
      () => ops,
      () => undefined,
    );
  };

  /** Whether the owner the attempt index names really holds this attempt (digests may collide). */
  const recordedElsewhere = async (ownerRef: string, attempt: AttemptRecord) => {
    const doc = await readDoc(ctx, ownerRef);
    return (doc?.records.a ?? [])
      .map((named) => decodeRow<AttemptRow>("a", named))
      .some((row) => row.insurer_id === attempt.insurerId && row.idempotency_key === attempt.idempotencyKey);
  };

  /**
   * The profile fields a patch sets and deletes (phone, name and vehicle encrypted), and the
   * phone index operation of a new phone.
   */
  const profileFields = (owner: string, patch: OwnerProfilePatch) => {
    const set: Record<string, string | number | null> = {};
    const del: string[] = [];
    const ops: IndexOp[] = [];
    const field = (column: ProfileColumn, value: string | null) => {
      if (value === null) del.push(PROFILE[column][0]);
      else set[PROFILE[column][0]] = encodeProfile(column, value);
    };
    if (patch.language !== undefined) field("language", patch.language);
    if (patch.phone !== undefined) {
      if (patch.phone === null) {
        field("phone_enc", null);
        field("phone_hash", null);
      } else {
        const hash = cipher.hash(patch.phone, "phone");
        field("phone_enc", cipher.encrypt(patch.phone));
        field("phone_hash", hash);
        ops.push(["ph", encodeHex(hash), owner]);
      }
    }
    if (patch.phoneVerified !== undefined) set[PROFILE.phone_verified[0]] = patch.phoneVerified ? 1 : 0;
    if (patch.country !== undefined) field("country", patch.country);
    if (patch.timezone !== undefined) field("timezone", patch.timezone);
    if (patch.jurisdiction !== undefined) field("jurisdiction", patch.jurisdiction);
    if (patch.name !== undefined) field("name_enc", patch.name === null ? null : cipher.encrypt(patch.name));
    if (patch.vehicle !== undefined) {
      field("vehicle_enc", patch.vehicle === null ? null : cipher.encrypt(patch.vehicle));
    }
    return { set, del, ops };
  };

  const update = async (id: string, patch: OwnerProfilePatch): Promise<Owner> => {
    const owner = encodeId(id);
    const { set, del, ops } = profileFields(owner, patch);
    const opsJson = JSON.stringify(ops);
    // A new or no phone: the opt-outs that store no match key (the old phone's) get theirs
    // first. The script refuses (a conflict) when one appeared since the read: read again.
    return againOnConflict(async () => {
      const doc = patch.phone !== undefined ? await readDoc(ctx, owner) : undefined;
      const matchKeys = matchKeysToKeep(doc, set, del);
      return ctx.write(
        `o:${owner}`,
        UPDATE_OWNER,
        [keys.owner(owner), keys.owner(owner, ":q")],
        (opId) => [JSON.stringify({ set, del, now: encodeTime(now()), opId, matchKeys }), opsJson],
        () => opsJson,
        (reply) => ownerFromProfile(id, JSON.parse(reply as string) as OwnerDoc["o"], cipher),
      );
    });
  };

  const erase = async (ownerId: string, at: string) => {
    const owner = encodeId(ownerId);
    // The script refuses (a conflict) when a receipt or a key-less opt-out appeared since the
    // read: read again.
    await againOnConflict(async () => {
      const doc = await readDoc(ctx, owner);
      if (!doc) throw new Error(`unknown owner ${ownerId}`);
      const { telegramUserId, chatId } = ownerFromProfile(ownerId, doc.o, cipher);
      const ops: IndexOp[] = [
        ["del", keys.hits(ownerId)],
        ["del", keys.hits(ownerId, ":n")],
      ];
      if (doc.o.g !== undefined) ops.push(["ixdel", `g:${telegramUserId}`, owner]);
      if (doc.o.ch !== undefined || doc.o.g !== undefined)
        ops.push(["del", keys.session(cipher.hash(String(chatId), SESSION_HASH))]);
      // Receipts keep their payload hash, which their JWS stood for while kept (codec.ts).
      const hashes: Record<string, string> = {};
      for (const named of doc.records.r) {
        const row = decodeRow<ReceiptRow>("r", named);
        if (named.payload_hash === undefined && row.payload_hash) {
          hashes[String(named.id)] = encodeHex(row.payload_hash);
        }
      }
      await ctx.write(
        `o:${owner}`,
        ERASE_OWNER,
        [keys.owner(owner), keys.owner(owner, ":q")],
        (opId) => [
          JSON.stringify({ at: encodeTime(at), opId, owner, hashes, matchKeys: derivedMatchKeys(doc) }),
          JSON.stringify(ops),
        ],
        (reply) => reply as string,
        () => undefined,
      );
    });
  };

  const ensure: Store["ensureOwner"] = async (input) => {
    const field = `g:${input.telegramUserId}`;
    const bucket = keys.idIndex(field);
    for (let attempt = 0; attempt < 5; attempt++) {
      const ref = (await redis.eval(INDEX_GET_OR_SET, [bucket], [field, encodeId(randomUUID())])) as string;
      const id = decodeId(ref);
      let owner = await read(id);
      if (!owner) {
        const at = encodeTime(now());
        const profile: Partial<Record<ProfileColumn, string | number>> = {
          telegram_user_id: String(input.telegramUserId),
          // The chat is the user's (a private chat) unless stored apart (records.ts).
          ...(input.chatId === input.telegramUserId ? {} : { chat_id: String(input.chatId) }),
          language: input.language,
          timezone: input.timezone,
          jurisdiction: input.jurisdiction,
          // Sandbox owners only (records.ts reads an absent flag as 0).
          ...(input.sandbox ? { sandbox: 1 } : {}),
          phone_verified: 0,
          version: 0,
          created_at: at,
          updated_at: typeof at === "number" ? 0 : at,
        };
        const o = Object.fromEntries(
          Object.entries(profile).map(([column, value]) => [PROFILE[column as ProfileColumn][0], value]),
        );
        await redis.call("SET", keys.owner(ref), JSON.stringify({ o }), "NX");
        owner = await read(id);
      }
      if (owner && owner.telegramUserId === input.telegramUserId && owner.deletedAt === undefined)
        return owner;
      // The index still points at an erased owner: a returning user starts afresh.
      await redis.eval(INDEX_REPLACE, [bucket], [field, ref, encodeId(randomUUID())]);
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
      const docs = await redis.pipeline(candidates.map((ref) => ({ args: ["GET", keys.owner(ref)] })));
      candidates.forEach((ref, i) => {
        const doc = parseDoc(unwrap<string | null>(docs[i]), ref);
        // A current consent: not superseded, not erased (as in the SQLite store).
        const current = doc?.records.c.some(
          (c) => c.superseded_at === undefined && c.preferences !== undefined && c.owner_id === ref,
        );
        if (current && doc?.o.de === undefined) out.push(decodeId(ref));
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
      const ref = unwrap<string | null>(await redis.call("HGET", keys.idIndex(field), field));
      if (!ref) return undefined;
      const owner = await read(decodeId(ref));
      return owner && owner.telegramUserId === telegramUserId && !owner.deletedAt ? owner : undefined;
    },
    updateOwnerProfile: (id, patch) => call(() => update(id, patch)),
    getOwnerState: readState,
    applyChangeset: (cs) => call(() => apply(cs)),
    async findWindowByStopToken(token): Promise<ContactWindow | undefined> {
      const [owners = []] = await ctx.ownersOf([`t:${token}`]);
      for (const ref of owners) {
        const doc = await readDoc(ctx, ref);
        const row = doc?.records.w
          .map((named) => decodeRow<WindowRow>("w", named))
          .find((w) => w.stop_token === token);
        if (row) return windowFromRow(row);
      }
      return undefined;
    },
    async getReceipt(id) {
      const row = await recordById<ReceiptRow>(ctx, "r", id);
      return row ? receiptFromRow(row, cipher) : undefined;
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

/** The renewed-at change for the script: a time to set, or nothing (the field is removed). */
function renewedField(renewedAt: string | null | undefined): { v?: string | number } {
  return renewedAt ? { v: encodeTime(renewedAt) } : {};
}
