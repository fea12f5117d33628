/**
 * The lifecycle of DESIGN §7 as pure planners: each reads an owner's state and returns one
 * {@link Changeset} for the store to apply atomically. Time, ids, tokens, codes and match keys
 * are injected through {@link PlanContext}, so a plan is a function of its inputs.
 */
import { consentTextHash, dataCategoriesFor } from "./consent-text.js";
import {
  type Changeset,
  type Consent,
  type ContactWindow,
  emptyChangeset,
  type Insurer,
  type Language,
  type OptOut,
  type OptOutReason,
  type OutboxEntry,
  type OutboxType,
  type OwnerState,
  type PhoneChange,
  type Receipt,
  type RevokeReason,
  type SharedDetails,
} from "./model.js";
import type { PolicyPack } from "./policy-packs.js";
import type { Preferences } from "./preferences.js";
import { buildReceiptPayload, type ReceiptPayload } from "./receipt-payload.js";
import { addBusinessDays } from "./time.js";
import { isLiveWindow, planWindowTimes } from "./window-plan.js";

/** What every planner is given besides the owner's state. */
export interface PlanContext {
  now: Date;
  /** The directory visible to this owner (sandbox owners see sandbox insurers only). */
  insurers: Insurer[];
  /** The owner's policy pack. */
  pack: PolicyPack;
  /** The insurer-specific match key of the owner's phone. */
  matchKeyFor(insurerId: string): string;
  newId(): string;
  /** An opaque deep-link token (`/start stop_<token>`). */
  newToken(): string;
  /** A fresh verification code; redrawn on collision within one agreement. */
  newCode(): string;
}

export type PlanErrorCode =
  | "phone_missing"
  | "phone_not_verified"
  | "unknown_insurer"
  | "no_contact_line"
  | "owner_deleted"
  | "renewal_date_passed"
  | "outside_pack"
  | "codes_exhausted";

/** A plan that the rules forbid; `code` says which rule. */
export class PlanError extends Error {
  readonly code: PlanErrorCode;
  constructor(code: PlanErrorCode, message: string) {
    super(message);
    this.name = "PlanError";
    this.code = code;
  }
}

export interface AgreementMeta {
  textVersion: string;
  /** SHA-256 hex of the consent text shown, per chosen insurer id. */
  textHashes: Record<string, string>;
  language: Language;
  /**
   * SHA-256 hex of the whole text the owner read; defaults to a digest of the sorted
   * per-insurer hashes (for "nobody", of none).
   */
  textHash?: string;
}

export interface AgreementPlan {
  changeset: Changeset;
  /** Claims to sign, by receipt id; the caller fills each receipt's `jws` and `payloadHash`. */
  receiptPayloads: Record<string, ReceiptPayload>;
}

const MAX_CODE_DRAWS = 1000;

/**
 * The opt-out currently in force for an insurer at `now`: not withdrawn and its `until`, if
 * any, still ahead; with `phoneHash`, only one keyed by that phone.
 */
export function activeOptOut(
  state: OwnerState,
  insurerId: string,
  now: Date,
  phoneHash?: string,
): OptOut | undefined {
  return state.optOuts.find(
    (o) =>
      o.insurerId === insurerId &&
      (phoneHash === undefined || o.phoneHash === phoneHash) &&
      o.withdrawnAt === undefined &&
      (o.until === undefined || Date.parse(o.until) > now.getTime()),
  );
}

function outboxEntry(
  ctx: PlanContext,
  ownerId: string,
  type: OutboxType,
  insurerId: string,
  subjectId: string,
  dueAt: string,
) {
  const id = ctx.newId();
  const entry: OutboxEntry = {
    id,
    insurerId,
    ownerId,
    type,
    subjectId,
    // Unique per entry and the same on every retry (Standard Webhooks): the entry's own id.
    webhookId: `msg_${id}`,
    dueAt,
    createdAt: ctx.now.toISOString(),
    attempts: 0,
    state: "pending",
  };
  return entry;
}

function newOptOut(state: OwnerState, insurerId: string, reason: OptOutReason, ctx: PlanContext): OptOut {
  const { owner } = state;
  const { pack, now } = ctx;
  if (owner.phoneHash === undefined)
    throw new PlanError("phone_missing", "an opt-out needs the owner's phone");
  const days = pack.optOutDays.value;
  const optOut: OptOut = {
    id: ctx.newId(),
    ownerId: owner.id,
    insurerId,
    phoneHash: owner.phoneHash,
    matchKey: ctx.matchKeyFor(insurerId),
    reason,
    effectiveAt: now.toISOString(),
    honourBy: addBusinessDays(now, pack.honourWithinBusinessDays.value, owner.timezone).toISOString(),
    basis: pack.optOutBasis,
  };
  if (days !== null) optOut.until = new Date(now.getTime() + days * 86_400_000).toISOString();
  return optOut;
}

/**
 * Files an opt-out (and its notice) for each insurer that has none in force for the owner's
 * phone (one kept for a number the owner had before does not stop calls to this one).
 */
function fileOptOuts(
  cs: Changeset,
  state: OwnerState,
  insurerIds: Iterable<string>,
  reason: OptOutReason,
  ctx: PlanContext,
): void {
  const now = ctx.now.toISOString();
  for (const insurerId of new Set(insurerIds)) {
    if (activeOptOut(state, insurerId, ctx.now, state.owner.phoneHash) !== undefined) continue;
    const optOut = newOptOut(state, insurerId, reason, ctx);
    cs.optOuts.push(optOut);
    cs.outbox.push(outboxEntry(ctx, cs.ownerId, "optout.filed", insurerId, optOut.id, now));
  }
}

/**
 * Revokes the live windows (scheduled, open or exhausted) that `which` selects, and their
 * receipts; a window that had opened gets a `window.revoked` notice, one never seen does not.
 */
function revokeWindows(
  cs: Changeset,
  state: OwnerState,
  which: (w: ContactWindow) => boolean,
  reason: RevokeReason,
  ctx: PlanContext,
): void {
  const at = ctx.now.toISOString();
  for (const w of state.windows) {
    if (!which(w) || !isLiveWindow(w, ctx.now)) continue;
    cs.revokeWindows.push({ id: w.id, at, reason });
    if (Date.parse(w.opensAt) <= ctx.now.getTime()) {
      cs.outbox.push(outboxEntry(ctx, cs.ownerId, "window.revoked", w.insurerId, w.id, at));
    }
    const receipt = state.receipts.find((r) => r.id === w.receiptId);
    if (receipt !== undefined && receipt.revokedAt === undefined) {
      cs.revokeReceipts.push({ id: receipt.id, at, reason });
    }
  }
}

function visibleInsurerIds(ctx: PlanContext): string[] {
  return ctx.insurers.filter((i) => i.removedAt === undefined).map((i) => i.id);
}

function combinedHash(textHashes: Record<string, string>, insurerIds: readonly string[]): string {
  const lines = [...insurerIds].sort().map((id) => `${id}=${textHashes[id] ?? ""}`);
  return consentTextHash(lines.join("\n"));
}

/**
 * "I agree": one consent; for each chosen insurer one window and one receipt (receipts have
 * `payloadHash: ""` and no `jws` until the caller signs `receiptPayloads`), with verification
 * codes distinct within the agreement; the previous consent superseded and its live windows and
 * receipts revoked ("superseded"); a chosen insurer's opt-out in force withdrawn; every other
 * visible insurer without an opt-out in force gets one ("not_chosen").
 * @throws {PlanError} `owner_deleted`; `phone_missing` (no phone at all); `phone_not_verified`
 * when insurers are chosen for a typed number; `unknown_insurer` for a choice outside
 * `ctx.insurers`; `renewal_date_passed` when the window would already be over; `outside_pack`
 * when hours, how early or the attempt cap go beyond the pack (an owner may only narrow them).
 */
/**
 * What in `prefs` the pack does not allow, if anything: the draft clips answers to the pack it
 * was checked against, so this only fires when the pack changed after (DESIGN §7: the owner may
 * narrow the bounds, never widen them).
 */
export function beyondPack(prefs: Preferences, pack: PolicyPack): string | undefined {
  if (prefs.insurers.length === 0) return undefined;
  const { from, to } = pack.callingHours.value;
  if (prefs.hours.some((h) => h.from < from || h.to > to || h.from >= h.to)) return "hours";
  if (prefs.daysBefore > pack.maxDaysBefore.value) return "daysBefore";
  if (prefs.maxAttempts > pack.maxAttemptsTotal.value) return "maxAttempts";
  return undefined;
}

export function planAgreement(
  state: OwnerState,
  prefs: Preferences,
  meta: AgreementMeta,
  ctx: PlanContext,
): AgreementPlan {
  const { owner } = state;
  const { now, pack } = ctx;
  const at = now.toISOString();
  if (owner.deletedAt !== undefined) throw new PlanError("owner_deleted", "the owner deleted their data");
  if (owner.phone === undefined || owner.phoneHash === undefined) {
    throw new PlanError("phone_missing", "share a phone number before agreeing");
  }
  const chosen = [...new Set(prefs.insurers)];
  if (chosen.length > 0 && !owner.phoneVerified) {
    throw new PlanError("phone_not_verified", "a window needs a Telegram-verified phone");
  }
  const directory = new Map(ctx.insurers.filter((i) => i.removedAt === undefined).map((i) => [i.id, i]));
  for (const id of chosen) {
    if (!directory.has(id)) throw new PlanError("unknown_insurer", `insurer ${id} is not in the directory`);
    // The consent text must name the recipient's contact line (PIPL Art. 23).
    if (!directory.get(id)?.contact)
      throw new PlanError("no_contact_line", `insurer ${id} has no contact line`);
  }
  const beyond = beyondPack(prefs, pack);
  if (beyond) throw new PlanError("outside_pack", `${beyond} goes beyond the ${pack.code} rules`);
  const times = planWindowTimes({
    renewalDate: prefs.renewalDate,
    daysBefore: prefs.daysBefore,
    timezone: owner.timezone,
    consentAt: now,
    pack,
  });
  if (Date.parse(times.closesAt) <= now.getTime()) {
    throw new PlanError("renewal_date_passed", `the renewal date ${prefs.renewalDate} has passed`);
  }

  const cs = emptyChangeset(owner.id, owner.version);
  const consent: Consent = {
    id: ctx.newId(),
    ownerId: owner.id,
    preferences: { ...prefs, insurers: chosen },
    jurisdiction: pack.code,
    timezone: owner.timezone,
    language: meta.language,
    textVersion: meta.textVersion,
    textHash: meta.textHash ?? combinedHash(meta.textHashes, chosen),
    agreedAt: at,
  };
  cs.consent = consent;
  if (state.consent !== undefined && state.consent.supersededAt === undefined) {
    cs.supersedeConsents.push({ id: state.consent.id, at });
  }
  revokeWindows(cs, state, () => true, "superseded", ctx);
  if (owner.renewedAt !== undefined) cs.owner = { renewedAt: null };

  const receiptPayloads: Record<string, ReceiptPayload> = {};
  const codes = new Set<string>();
  const dataCategories = dataCategoriesFor(owner, prefs);
  // Frozen with each receipt: what the owner saw on the summary is what the insurer gets.
  const shared: SharedDetails = {
    ...(owner.name && prefs.shareName ? { name: owner.name } : {}),
    ...(owner.vehicle ? { vehicle: owner.vehicle } : {}),
  };
  for (const insurerId of chosen) {
    const insurer = directory.get(insurerId)!;
    let code = ctx.newCode();
    for (let draws = 1; codes.has(code); draws++) {
      if (draws >= MAX_CODE_DRAWS) throw new PlanError("codes_exhausted", "could not draw distinct codes");
      code = ctx.newCode();
    }
    codes.add(code);
    const receipt: Receipt = {
      id: ctx.newId(),
      ownerId: owner.id,
      insurerId,
      consentId: consent.id,
      payloadHash: "",
      issuedAt: at,
      ...(shared.name !== undefined || shared.vehicle !== undefined ? { shared: { ...shared } } : {}),
    };
    const window: ContactWindow = {
      id: ctx.newId(),
      ownerId: owner.id,
      insurerId,
      receiptId: receipt.id,
      consentId: consent.id,
      renewalDate: prefs.renewalDate,
      opensAt: times.opensAt,
      closesAt: times.closesAt,
      timezone: owner.timezone,
      days: [...prefs.days],
      hours: prefs.hours.map((h) => ({ ...h })),
      channels: [...prefs.channels],
      maxAttempts: prefs.maxAttempts,
      attemptsUsed: 0,
      verificationCode: code,
      stopToken: ctx.newToken(),
      createdAt: at,
    };
    cs.receipts.push(receipt);
    cs.windows.push(window);
    cs.outbox.push(outboxEntry(ctx, cs.ownerId, "window.opened", insurerId, window.id, window.opensAt));
    receiptPayloads[receipt.id] = buildReceiptPayload({
      receiptId: receipt.id,
      issuedAt: now,
      jurisdiction: pack.code,
      matchKey: ctx.matchKeyFor(insurerId),
      recipient: insurer.contact === undefined ? { id: insurer.id, name: insurer.name } : insurer,
      window,
      dataCategories,
      consentText: {
        version: meta.textVersion,
        sha256: meta.textHashes[insurerId] ?? "",
        language: meta.language,
      },
      retentionYears: pack.consentRetentionYears.value,
    });
    for (const o of state.optOuts) {
      if (o.insurerId !== insurerId || o.withdrawnAt !== undefined) continue;
      if (o.until !== undefined && Date.parse(o.until) <= now.getTime()) continue;
      cs.withdrawOptOuts.push({ id: o.id, at });
      cs.outbox.push(outboxEntry(ctx, cs.ownerId, "optout.withdrawn", insurerId, o.id, at));
    }
  }

  const others = [...directory.keys()].filter((id) => !chosen.includes(id));
  fileOptOuts(cs, state, others, "not_chosen", ctx);
  return { changeset: cs, receiptPayloads };
}

/**
 * /stop (one insurer or everyone) or a refusal on the call: revokes the target's live windows
 * and their receipts, and files an opt-out with `reason` where none is in force. "all" means
 * every visible insurer plus any insurer holding a live window. Owners without a phone have
 * nothing to opt out; their plan only revokes.
 */
export function planStop(
  state: OwnerState,
  target: { insurerId: string } | "all",
  reason: "owner_request" | "refused_on_call",
  ctx: PlanContext,
): Changeset {
  const cs = emptyChangeset(state.owner.id, state.owner.version);
  const targets =
    target === "all"
      ? new Set([
          ...visibleInsurerIds(ctx),
          ...state.windows.filter((w) => isLiveWindow(w, ctx.now)).map((w) => w.insurerId),
        ])
      : new Set([target.insurerId]);
  revokeWindows(cs, state, (w) => targets.has(w.insurerId), reason, ctx);
  if (state.owner.phoneHash !== undefined) fileOptOuts(cs, state, targets, reason, ctx);
  return cs;
}

/**
 * "I already renewed": closes live windows (a `window.revoked` notice, reason renewed, for the
 * ones that had opened), files "renewed" opt-outs for every visible insurer without one in
 * force, and records `renewedAt`.
 */
export function planRenewed(state: OwnerState, ctx: PlanContext): Changeset {
  const cs = emptyChangeset(state.owner.id, state.owner.version);
  const at = ctx.now.toISOString();
  for (const w of state.windows) {
    if (!isLiveWindow(w, ctx.now)) continue;
    cs.closeWindows.push({ id: w.id, at });
    if (Date.parse(w.opensAt) <= ctx.now.getTime()) {
      cs.outbox.push(outboxEntry(ctx, cs.ownerId, "window.revoked", w.insurerId, w.id, at));
    }
  }
  if (state.owner.phoneHash !== undefined) fileOptOuts(cs, state, visibleInsurerIds(ctx), "renewed", ctx);
  cs.owner = { renewedAt: at };
  return cs;
}

/**
 * /delete, before the store forgets: revokes every live window and every receipt not yet
 * revoked (so verification answers `revoked: true` for the kept tombstones), and files
 * "deleted" opt-outs for every visible insurer without one in force.
 */
export function planDeletion(state: OwnerState, ctx: PlanContext): Changeset {
  const cs = emptyChangeset(state.owner.id, state.owner.version);
  const at = ctx.now.toISOString();
  revokeWindows(cs, state, () => true, "deleted", ctx);
  const revoked = new Set(cs.revokeReceipts.map((r) => r.id));
  for (const r of state.receipts) {
    if (r.revokedAt === undefined && !revoked.has(r.id))
      cs.revokeReceipts.push({ id: r.id, at, reason: "deleted" });
  }
  if (state.owner.phoneHash !== undefined) fileOptOuts(cs, state, visibleInsurerIds(ctx), "deleted", ctx);
  return cs;
}

/**
 * A newly added insurer (DESIGN §3 backfill): every owner whose current choice excludes it gets
 * an opt-out (`not_chosen`) exactly as if it had been in the directory all along. Owners without
 * a current consent, or without a phone on file, get nothing.
 */
export function planBackfill(state: OwnerState, insurerId: string, ctx: PlanContext): Changeset {
  const cs = emptyChangeset(state.owner.id, state.owner.version);
  const chosen = state.consent?.preferences.insurers.includes(insurerId) ?? true;
  if (state.owner.deletedAt !== undefined || state.owner.phoneHash === undefined || chosen) return cs;
  fileOptOuts(cs, state, [insurerId], "not_chosen", ctx);
  return cs;
}

/**
 * A phone number put on file (a shared contact, or a typed one) while others may already hold
 * the old one. Consent names a number (the receipt's `sub` is its match key) and an opt-out is
 * keyed by one (DESIGN §2, §7), so when the number differs from the one on file, in the same
 * changeset as the change:
 * - every live window and its receipt is revoked ("superseded"; `window.revoked` only for
 *   windows that had opened): a chosen insurer never gets a number the owner did not agree to
 *   share. It is not opted out either — the owner still wants it, and agrees again for the new
 *   number (the consent stays current, to be offered again);
 * - every visible insurer with an opt-out in force for the old number gets one for the new
 *   number, with the same reason, unless one is already in force for it. The old number's
 *   opt-outs stay as they are.
 * The same number again (or a first one) only updates the profile.
 *
 * `change.phoneHash` is the keyed hash of `change.phone` (Owner.phoneHash), and `ctx` the
 * context of the owner with the new phone: its match keys and its pack.
 * @throws {PlanError} `owner_deleted`; `phone_not_verified` when a typed number would replace a
 * verified one (a typed number never does).
 */
export function planPhoneChange(
  state: OwnerState,
  change: PhoneChange & { phoneHash: string },
  ctx: PlanContext,
): Changeset {
  const { owner } = state;
  if (owner.deletedAt !== undefined) throw new PlanError("owner_deleted", "the owner deleted their data");
  if (owner.phoneVerified && !change.phoneVerified) {
    throw new PlanError("phone_not_verified", "a typed number never replaces a verified one");
  }
  const { phoneHash, ...profile } = change;
  const cs = emptyChangeset(owner.id, owner.version);
  cs.owner = { phone: profile };
  const oldHash = owner.phoneHash;
  if (oldHash === undefined || oldHash === phoneHash) return cs;

  revokeWindows(cs, state, () => true, "superseded", ctx);
  const next: OwnerState = {
    ...state,
    owner: {
      ...owner,
      phone: change.phone,
      phoneHash,
      phoneVerified: change.phoneVerified,
      timezone: change.timezone ?? owner.timezone,
    },
  };
  const at = ctx.now.toISOString();
  for (const insurerId of visibleInsurerIds(ctx)) {
    const kept = activeOptOut(state, insurerId, ctx.now, oldHash);
    if (kept === undefined || activeOptOut(state, insurerId, ctx.now, phoneHash) !== undefined) continue;
    const optOut = newOptOut(next, insurerId, kept.reason, ctx);
    cs.optOuts.push(optOut);
    cs.outbox.push(outboxEntry(ctx, cs.ownerId, "optout.filed", insurerId, optOut.id, at));
  }
  return cs;
}
