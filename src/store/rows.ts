/**
 * Row <-> model conversion, shared by both adapters: the SQLite tables have these columns, and
 * the Redis layout stores the same rows (redis/codec.ts gives each field a codec). Reads are
 * validated: enum columns and JSON columns go through zod, so a corrupted or hand-edited row
 * fails loudly instead of leaking a wrong shape.
 */
import { z } from "zod";
import type { FieldCipher } from "../crypto/field-cipher.js";
import type {
  AttemptRecord,
  Consent,
  ContactWindow,
  Insurer,
  OptOut,
  OutboxEntry,
  Owner,
  OwnerNotice,
  Receipt,
  ScrubHit,
  SharedDetails,
} from "../domain/model.js";
import { Channel, HourRange, Preferences, Weekday } from "../domain/preferences.js";
import type { OwnerProfilePatch } from "./store.js";

const Language = z.enum(["en", "zh"]);
const Jurisdiction = z.enum(["CN", "US", "UK", "EU"]);
const RevokeReason = z.enum(["owner_request", "refused_on_call", "renewed", "deleted", "superseded"]);
const OptOutReason = z.enum(["not_chosen", "owner_request", "refused_on_call", "renewed", "deleted"]);
const OutboxType = z.enum(["window.opened", "window.revoked", "optout.filed", "optout.withdrawn"]);
const OutboxState = z.enum(["pending", "delivered", "dead", "skipped"]);
const AttemptOutcome = z.enum(["answered", "unanswered", "refused"]);
const ScrubKind = z.enum(["scrub", "match_key"]);
const Strings = z.array(z.string());
const Days = z.array(Weekday);
const Hours = z.array(HourRange);
const Channels = z.array(Channel);

type Nullable = string | number | null;

/** Drops keys whose value is undefined, so optional model fields are absent, not undefined. */
function compact<T extends object>(value: T): T {
  // A copy, not `delete`: deleting a property V8 did not add last turns the object into a slow
  // dictionary, and every later read, spread and stringify of the entity pays for it (about 3×).
  const out = {} as T;
  for (const key in value) {
    if (value[key] !== undefined) out[key] = value[key];
  }
  return out;
}

const str = (value: Nullable): string | undefined => (value === null ? undefined : String(value));
const json = <T>(schema: z.ZodType<T>, text: string): T => schema.parse(JSON.parse(text));
const optReason = (value: string | null) => (value === null ? undefined : RevokeReason.parse(value));

export interface InsurerRow {
  id: string;
  name: string;
  name_zh: string | null;
  aliases: string;
  webhook_url: string | null;
  contact: string | null;
  sandbox: number;
  created_at: string;
  removed_at: string | null;
  api_key_hash: string;
  webhook_secret_enc: string;
  webhook_disabled_at: string | null;
}

export function insurerFromRow(row: InsurerRow): Insurer {
  return compact({
    id: row.id,
    name: row.name,
    nameZh: str(row.name_zh),
    aliases: json(Strings, row.aliases),
    webhookUrl: str(row.webhook_url),
    contact: str(row.contact),
    sandbox: row.sandbox === 1,
    createdAt: row.created_at,
    removedAt: str(row.removed_at),
    webhookDisabledAt: str(row.webhook_disabled_at),
  });
}

/** A copy sharing nothing a caller could change: a kept directory hands out copies only. */
export function copyInsurer(insurer: Insurer): Insurer {
  return { ...insurer, aliases: [...insurer.aliases] };
}

export interface OwnerRow {
  id: string;
  telegram_user_id: number | null;
  chat_id: number | null;
  language: string;
  phone_enc: string | null;
  phone_hash: string | null;
  phone_verified: number;
  country: string | null;
  timezone: string;
  jurisdiction: string;
  name_enc: string | null;
  vehicle_enc: string | null;
  sandbox: number;
  created_at: string;
  updated_at: string;
  version: number;
  renewed_at: string | null;
  deleted_at: string | null;
}

/** An erased owner has no Telegram identity left; it reads as user and chat 0. */
export function ownerFromRow(row: OwnerRow, cipher: FieldCipher): Owner {
  const decrypt = (value: string | null) => (value === null ? undefined : cipher.decrypt(value));
  return compact({
    id: row.id,
    telegramUserId: row.telegram_user_id ?? 0,
    chatId: row.chat_id ?? 0,
    language: Language.parse(row.language),
    phone: decrypt(row.phone_enc),
    phoneHash: str(row.phone_hash),
    phoneVerified: row.phone_verified === 1,
    country: str(row.country),
    timezone: row.timezone,
    jurisdiction: Jurisdiction.parse(row.jurisdiction),
    name: decrypt(row.name_enc),
    vehicle: decrypt(row.vehicle_enc),
    sandbox: row.sandbox === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
    renewedAt: str(row.renewed_at),
    deletedAt: str(row.deleted_at),
  });
}

export interface ConsentRow {
  id: string;
  owner_id: string;
  preferences: string | null;
  jurisdiction: string;
  timezone: string;
  language: string;
  text_version: string;
  text_hash: string;
  agreed_at: string;
  superseded_at: string | null;
}

/** Undefined for an erased consent (its preferences are gone). */
export function consentFromRow(row: ConsentRow): Consent | undefined {
  if (row.preferences === null) return undefined;
  return compact({
    id: row.id,
    ownerId: row.owner_id,
    preferences: json(Preferences, row.preferences),
    jurisdiction: Jurisdiction.parse(row.jurisdiction),
    timezone: row.timezone,
    language: Language.parse(row.language),
    textVersion: row.text_version,
    textHash: row.text_hash,
    agreedAt: row.agreed_at,
    supersededAt: str(row.superseded_at),
  });
}

export function consentToRow(consent: Consent): ConsentRow {
  return {
    id: consent.id,
    owner_id: consent.ownerId,
    preferences: JSON.stringify(Preferences.parse(consent.preferences)),
    jurisdiction: consent.jurisdiction,
    timezone: consent.timezone,
    language: consent.language,
    text_version: consent.textVersion,
    text_hash: consent.textHash,
    agreed_at: consent.agreedAt,
    superseded_at: consent.supersededAt ?? null,
  };
}

export interface ReceiptRow {
  id: string;
  owner_id: string | null;
  insurer_id: string;
  consent_id: string | null;
  jws: string | null;
  payload_hash: string;
  issued_at: string;
  revoked_at: string | null;
  revoke_reason: string | null;
  /** The name and vehicle the owner agreed to share (Receipt.shared), encrypted; absent on older rows. */
  name_enc?: string | null;
  vehicle_enc?: string | null;
}

export function receiptFromRow(row: ReceiptRow, cipher: FieldCipher): Receipt {
  return compact({
    id: row.id,
    ownerId: str(row.owner_id),
    insurerId: row.insurer_id,
    consentId: str(row.consent_id),
    jws: str(row.jws),
    payloadHash: row.payload_hash,
    issuedAt: row.issued_at,
    revokedAt: str(row.revoked_at),
    revokeReason: optReason(row.revoke_reason),
    shared: sharedFromRow(row, cipher),
  });
}

export function receiptToRow(receipt: Receipt, cipher: FieldCipher): ReceiptRow {
  return {
    id: receipt.id,
    owner_id: receipt.ownerId ?? null,
    insurer_id: receipt.insurerId,
    consent_id: receipt.consentId ?? null,
    jws: receipt.jws ?? null,
    payload_hash: receipt.payloadHash,
    issued_at: receipt.issuedAt,
    revoked_at: receipt.revokedAt ?? null,
    revoke_reason: receipt.revokeReason ?? null,
    name_enc: receipt.shared?.name === undefined ? null : cipher.encrypt(receipt.shared.name),
    vehicle_enc: receipt.shared?.vehicle === undefined ? null : cipher.encrypt(receipt.shared.vehicle),
  };
}

function sharedFromRow(row: ReceiptRow, cipher: FieldCipher): SharedDetails | undefined {
  if (!row.name_enc && !row.vehicle_enc) return undefined;
  return compact({
    name: row.name_enc ? cipher.decrypt(row.name_enc) : undefined,
    vehicle: row.vehicle_enc ? cipher.decrypt(row.vehicle_enc) : undefined,
  });
}

export interface WindowRow {
  id: string;
  owner_id: string | null;
  insurer_id: string;
  receipt_id: string;
  consent_id: string;
  renewal_date: string;
  opens_at: string;
  closes_at: string;
  timezone: string;
  days: string;
  hours: string;
  channels: string;
  max_attempts: number;
  attempts_used: number;
  verification_code: string;
  stop_token: string;
  created_at: string;
  revoked_at: string | null;
  revoke_reason: string | null;
  closed_at: string | null;
  delivered_at: string | null;
  acknowledged_at: string | null;
}

/** After /delete a window keeps no owner link; its `ownerId` then reads as "". */
export function windowFromRow(row: WindowRow): ContactWindow {
  return compact({
    id: row.id,
    ownerId: row.owner_id ?? "",
    insurerId: row.insurer_id,
    receiptId: row.receipt_id,
    consentId: row.consent_id,
    renewalDate: row.renewal_date,
    opensAt: row.opens_at,
    closesAt: row.closes_at,
    timezone: row.timezone,
    days: json(Days, row.days),
    hours: json(Hours, row.hours),
    channels: json(Channels, row.channels),
    maxAttempts: row.max_attempts,
    attemptsUsed: row.attempts_used,
    verificationCode: row.verification_code,
    stopToken: row.stop_token,
    createdAt: row.created_at,
    revokedAt: str(row.revoked_at),
    revokeReason: optReason(row.revoke_reason),
    closedAt: str(row.closed_at),
    deliveredAt: str(row.delivered_at),
    acknowledgedAt: str(row.acknowledged_at),
  });
}

export function windowToRow(window: ContactWindow): WindowRow {
  return {
    id: window.id,
    owner_id: window.ownerId,
    insurer_id: window.insurerId,
    receipt_id: window.receiptId,
    consent_id: window.consentId,
    renewal_date: window.renewalDate,
    opens_at: window.opensAt,
    closes_at: window.closesAt,
    timezone: window.timezone,
    days: JSON.stringify(Days.parse(window.days)),
    hours: JSON.stringify(Hours.parse(window.hours)),
    channels: JSON.stringify(Channels.parse(window.channels)),
    max_attempts: window.maxAttempts,
    attempts_used: window.attemptsUsed,
    verification_code: window.verificationCode,
    stop_token: window.stopToken,
    created_at: window.createdAt,
    revoked_at: window.revokedAt ?? null,
    revoke_reason: window.revokeReason ?? null,
    closed_at: window.closedAt ?? null,
    delivered_at: window.deliveredAt ?? null,
    acknowledged_at: window.acknowledgedAt ?? null,
  };
}

export interface OptOutRow {
  id: string;
  owner_id: string | null;
  insurer_id: string;
  phone_hash: string;
  match_key: string;
  reason: string;
  effective_at: string;
  honour_by: string;
  until: string | null;
  basis: string;
  withdrawn_at: string | null;
  acknowledged_at: string | null;
}

export function optOutFromRow(row: OptOutRow): OptOut {
  return compact({
    id: row.id,
    ownerId: str(row.owner_id),
    insurerId: row.insurer_id,
    phoneHash: row.phone_hash,
    matchKey: row.match_key,
    reason: OptOutReason.parse(row.reason),
    effectiveAt: row.effective_at,
    honourBy: row.honour_by,
    until: str(row.until),
    basis: row.basis,
    withdrawnAt: str(row.withdrawn_at),
    acknowledgedAt: str(row.acknowledged_at),
  });
}

export function optOutToRow(optOut: OptOut): OptOutRow {
  return {
    id: optOut.id,
    owner_id: optOut.ownerId ?? null,
    insurer_id: optOut.insurerId,
    phone_hash: optOut.phoneHash,
    match_key: optOut.matchKey,
    reason: optOut.reason,
    effective_at: optOut.effectiveAt,
    honour_by: optOut.honourBy,
    until: optOut.until ?? null,
    basis: optOut.basis,
    withdrawn_at: optOut.withdrawnAt ?? null,
    acknowledged_at: optOut.acknowledgedAt ?? null,
  };
}

export interface OutboxRow {
  /** Insertion order (the INTEGER key; absent on a row about to be inserted). */
  seq?: number;
  id: string;
  insurer_id: string;
  owner_id: string | null;
  type: string;
  subject_id: string;
  webhook_id: string;
  due_at: string;
  created_at: string;
  attempts: number;
  state: string;
  last_error: string | null;
  delivered_at: string | null;
  next_attempt_at: string;
  lease_until: string | null;
  /** Who holds the lease; only that worker may complete the delivery. */
  lease_worker: string | null;
  /** When the entry became delivered, dead or skipped. */
  finished_at: string | null;
}

export function outboxFromRow(row: OutboxRow): OutboxEntry {
  return compact({
    id: row.id,
    insurerId: row.insurer_id,
    ownerId: str(row.owner_id),
    type: OutboxType.parse(row.type),
    subjectId: row.subject_id,
    webhookId: row.webhook_id,
    dueAt: row.due_at,
    createdAt: row.created_at,
    attempts: row.attempts,
    state: OutboxState.parse(row.state),
    lastError: str(row.last_error),
    deliveredAt: str(row.delivered_at),
    leaseUntil: str(row.lease_until),
    nextAttemptAt: row.next_attempt_at,
  });
}

/** A new entry's row: unleased, next attempt at its due time unless the entry says otherwise. */
export function outboxToRow(entry: OutboxEntry): OutboxRow {
  return {
    id: entry.id,
    insurer_id: entry.insurerId,
    owner_id: entry.ownerId ?? null,
    type: entry.type,
    subject_id: entry.subjectId,
    webhook_id: entry.webhookId,
    due_at: entry.dueAt,
    created_at: entry.createdAt,
    attempts: entry.attempts,
    state: entry.state,
    last_error: entry.lastError ?? null,
    delivered_at: entry.deliveredAt ?? null,
    next_attempt_at: entry.nextAttemptAt ?? entry.dueAt,
    lease_until: entry.leaseUntil ?? null,
    lease_worker: null,
    finished_at: entry.state === "pending" ? null : (entry.deliveredAt ?? entry.createdAt),
  };
}

export interface AttemptRow {
  id: string;
  window_id: string;
  insurer_id: string;
  channel: string;
  outcome: string;
  at: string;
  idempotency_key: string;
  remaining: number;
  fingerprint: string | null;
}

export function attemptFromRow(row: AttemptRow): AttemptRecord {
  return {
    id: row.id,
    windowId: row.window_id,
    insurerId: row.insurer_id,
    channel: Channel.parse(row.channel),
    outcome: AttemptOutcome.parse(row.outcome),
    at: row.at,
    idempotencyKey: row.idempotency_key,
    remaining: row.remaining,
    ...(row.fingerprint === null ? {} : { fingerprint: row.fingerprint }),
  };
}

export function attemptToRow(attempt: AttemptRecord): AttemptRow {
  return {
    id: attempt.id,
    window_id: attempt.windowId,
    insurer_id: attempt.insurerId,
    channel: Channel.parse(attempt.channel),
    outcome: attempt.outcome,
    at: attempt.at,
    idempotency_key: attempt.idempotencyKey,
    remaining: attempt.remaining,
    fingerprint: attempt.fingerprint ?? null,
  };
}

export interface ScrubHitRow {
  id: string;
  owner_id: string | null;
  phone_hash: string;
  insurer_id: string;
  kind: string;
  answer: string;
  at: string;
}

export function scrubHitFromRow(row: ScrubHitRow): ScrubHit {
  return compact({
    id: row.id,
    ownerId: str(row.owner_id),
    phoneHash: row.phone_hash,
    insurerId: row.insurer_id,
    kind: ScrubKind.parse(row.kind),
    answer: row.answer,
    at: row.at,
  });
}

export function scrubHitToRow(hit: ScrubHit): ScrubHitRow {
  return {
    id: hit.id,
    owner_id: hit.ownerId ?? null,
    phone_hash: hit.phoneHash,
    insurer_id: hit.insurerId,
    kind: hit.kind,
    answer: hit.answer,
    at: hit.at,
  };
}

/** An owner notice as stored: a table row on SQLite, a JSON record on Redis. */
export interface OwnerNoticeRow {
  id: string;
  owner_id: string;
  kind: OwnerNotice["kind"];
  insurer_id: string;
  created_at: string;
  sent_at: string | null;
}

export function ownerNoticeToRow(notice: OwnerNotice): OwnerNoticeRow {
  return {
    id: notice.id,
    owner_id: notice.ownerId,
    kind: notice.kind,
    insurer_id: notice.insurerId,
    created_at: notice.createdAt,
    sent_at: notice.sentAt ?? null,
  };
}

export function ownerNoticeFromRow(row: OwnerNoticeRow): OwnerNotice {
  return {
    id: row.id,
    ownerId: row.owner_id,
    kind: row.kind,
    insurerId: row.insurer_id,
    createdAt: row.created_at,
    ...(row.sent_at === null || row.sent_at === undefined ? {} : { sentAt: row.sent_at }),
  };
}

/**
 * The owner fields a profile patch sets, for both stores (SQLite's columns, the Redis owner
 * document's fields): phone, name and vehicle encrypted, the phone's keyed hash beside it.
 * `updated_at` and `version` are the caller's.
 */
export function profileColumns(
  patch: OwnerProfilePatch,
  cipher: Pick<FieldCipher, "encrypt" | "hash">,
): Record<string, string | number | null> {
  const set: Record<string, string | number | null> = {};
  const enc = (value: string | null) => (value === null ? null : cipher.encrypt(value));
  if (patch.language !== undefined) set.language = patch.language;
  if (patch.phone !== undefined) {
    set.phone_enc = enc(patch.phone);
    set.phone_hash = patch.phone === null ? null : cipher.hash(patch.phone, "phone");
  }
  if (patch.phoneVerified !== undefined) set.phone_verified = patch.phoneVerified ? 1 : 0;
  if (patch.country !== undefined) set.country = patch.country;
  if (patch.timezone !== undefined) set.timezone = patch.timezone;
  if (patch.jurisdiction !== undefined) set.jurisdiction = patch.jurisdiction;
  if (patch.name !== undefined) set.name_enc = enc(patch.name);
  if (patch.vehicle !== undefined) set.vehicle_enc = enc(patch.vehicle);
  return set;
}
