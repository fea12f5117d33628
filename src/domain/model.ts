/**
 * The records onewindow keeps, as plain data. Store implementations persist exactly these
 * shapes (encrypting the personal fields at rest); pure domain functions compute them.
 * All instants are ISO 8601 UTC strings ("2026-07-31T16:00:00.000Z").
 */
import type { Channel, HourRange, Preferences, Weekday } from "./preferences.js";

export type Language = "en" | "zh";
export type JurisdictionCode = "CN" | "US" | "UK" | "EU";

/** An insurer in the directory. Secrets live apart (see {@link InsurerSecrets}). */
export interface Insurer {
  id: string;
  name: string;
  /** The name Chinese-speaking owners see; else `name`. */
  nameZh?: string;
  aliases: string[];
  webhookUrl?: string;
  /** The contact line the consent text names (PIPL Art. 23). */
  contact?: string;
  /** Sandbox insurers only ever receive sandbox owners' notices (DESIGN §9). */
  sandbox: boolean;
  createdAt: string;
  removedAt?: string;
  /** Set when the endpoint answered 410 Gone: pushes stop until the webhook URL is updated. */
  webhookDisabledAt?: string;
}

/** What the store keeps for authenticating and signing; never shown after creation. */
export interface InsurerSecrets {
  /** Hash of the API key (see crypto/api-key). */
  apiKeyHash: string;
  /** Standard Webhooks secret, `whsec_…`; encrypted at rest. */
  webhookSecret: string;
}

export interface Owner {
  id: string;
  telegramUserId: number;
  chatId: number;
  language: Language;
  /** E.164, decrypted on read; absent until shared, and after /delete. */
  phone?: string;
  /** Keyed hash of the E.164 phone, for look-ups without the plaintext. */
  phoneHash?: string;
  /** True only for a Telegram contact whose user_id is the sender. */
  phoneVerified: boolean;
  /** ISO 3166 alpha-2 country of the phone number. */
  country?: string;
  timezone: string;
  jurisdiction: JurisdictionCode;
  name?: string;
  vehicle?: string;
  sandbox: boolean;
  createdAt: string;
  updatedAt: string;
  /** Bumped by every changeset: optimistic concurrency for {@link Changeset.expectedVersion}. */
  version: number;
  renewedAt?: string;
  deletedAt?: string;
}

/** One "I agree": the preferences agreed to, and the exact text shown. */
export interface Consent {
  id: string;
  ownerId: string;
  preferences: Preferences;
  jurisdiction: JurisdictionCode;
  timezone: string;
  language: Language;
  textVersion: string;
  /** SHA-256 hex of the consent text the owner read. */
  textHash: string;
  agreedAt: string;
  supersededAt?: string;
}

export type RevokeReason = "owner_request" | "refused_on_call" | "renewed" | "deleted" | "superseded";

/** A signed consent receipt: one per (consent, insurer). */
export interface Receipt {
  id: string;
  /** Absent after /delete: the tombstone keeps only id, payloadHash and revokedAt. */
  ownerId?: string;
  insurerId: string;
  consentId?: string;
  /** Compact JWS (EdDSA); absent after /delete. */
  jws?: string;
  /** SHA-256 hex of the JWS payload, kept 5 years. */
  payloadHash: string;
  issuedAt: string;
  revokedAt?: string;
  revokeReason?: RevokeReason;
  /**
   * The optional details the owner agreed to share, as the summary they agreed to showed them
   * (encrypted at rest; gone after /delete). A name or vehicle changed later is not sent on this
   * consent. Absent on receipts issued before it was kept.
   */
  shared?: SharedDetails;
}

/** The owner's name and vehicle as they stood when the owner tapped "I agree". */
export interface SharedDetails {
  name?: string;
  vehicle?: string;
}

/** One consented, time-boxed contact window for one insurer. */
export interface ContactWindow {
  id: string;
  ownerId: string;
  insurerId: string;
  receiptId: string;
  consentId: string;
  renewalDate: string;
  opensAt: string;
  closesAt: string;
  timezone: string;
  days: Weekday[];
  hours: HourRange[];
  channels: Channel[];
  maxAttempts: number;
  attemptsUsed: number;
  /** The code the insurer's agent quotes on the call; different per insurer. */
  verificationCode: string;
  /** Deep-link token: `/start stop_<token>` stops this insurer in one tap. */
  stopToken: string;
  createdAt: string;
  revokedAt?: string;
  revokeReason?: RevokeReason;
  /** Closed early (e.g. "already renewed"); otherwise it closes at closesAt. */
  closedAt?: string;
  deliveredAt?: string;
  acknowledgedAt?: string;
}

export type WindowStatus = "scheduled" | "open" | "closed" | "revoked" | "exhausted";

export type OptOutReason = "not_chosen" | "owner_request" | "refused_on_call" | "renewed" | "deleted";

/** A do-not-contact notice to one insurer. Carries a match key, never the phone number. */
export interface OptOut {
  id: string;
  ownerId?: string;
  insurerId: string;
  /** Keyed hash of the phone (same as Owner.phoneHash): survives /delete until `until`. */
  phoneHash: string;
  /** hex HMAC-SHA256(K_insurer, E.164): what the insurer sees (DESIGN §6). */
  matchKey: string;
  reason: OptOutReason;
  /** The filing time. */
  effectiveAt: string;
  /** The pack's legal deadline for honouring it. */
  honourBy: string;
  /** End of the suppression period; absent means until withdrawn. */
  until?: string;
  /** The legal basis text, e.g. "CN telemarketing notice: no call within one year". */
  basis: string;
  withdrawnAt?: string;
  acknowledgedAt?: string;
}

export type OutboxType = "window.opened" | "window.revoked" | "optout.filed" | "optout.withdrawn";

/** A notice to push to an insurer, written in the same transaction as what it announces. */
export interface OutboxEntry {
  id: string;
  insurerId: string;
  /** The owner the notice is about (for /status); absent after /delete. */
  ownerId?: string;
  type: OutboxType;
  /** The window or opt-out id the notice is about. */
  subjectId: string;
  /** Standard Webhooks `webhook-id`: the same on every retry. */
  webhookId: string;
  /** Not before this instant (window.opened waits for opensAt). */
  dueAt: string;
  createdAt: string;
  attempts: number;
  state: "pending" | "delivered" | "dead" | "skipped";
  lastError?: string;
  deliveredAt?: string;
  /** When the current claim's lease ends (another dispatcher may take it after that). */
  leaseUntil?: string;
  /** Next try after a failed attempt; equals dueAt while pending. */
  nextAttemptAt?: string;
}

/** One contact attempt an insurer reported on a window (POST /v1/windows/{id}/attempts). */
export interface AttemptRecord {
  id: string;
  windowId: string;
  insurerId: string;
  channel: Channel;
  outcome: "answered" | "unanswered" | "refused";
  /** When the attempt happened (the insurer's `at`, else the request time). */
  at: string;
  /** The insurer's Idempotency-Key: a retry returns the first answer. */
  idempotencyKey: string;
  /** Attempts left after this one, as answered (201 {remaining}). */
  remaining: number;
  /**
   * A short digest of the request (channel, outcome, `at` as given): a retry under the same key
   * must carry the same, else it is another request reusing the key. Absent on attempts recorded
   * before it was kept (those replay whatever the body).
   */
  fingerprint?: string;
}

/** An insurer's scrub or match-key request that hit an owner's number (kept 13 months). */
export interface ScrubHit {
  id: string;
  ownerId?: string;
  phoneHash: string;
  insurerId: string;
  kind: "scrub" | "match_key";
  /** The status answered (consented, do_not_contact) or "match_key". */
  answer: string;
  at: string;
}

export type OwnerNoticeKind = "refused_on_call";

/**
 * Something the bot must tell the owner unprompted (DESIGN §7), queued in the same changeset as
 * what it announces and sent by the owner notifier; `sentAt` is set once told (or untellable).
 * Deleted with the owner on /delete.
 */
export interface OwnerNotice {
  id: string;
  ownerId: string;
  /** refused_on_call: an insurer recorded the owner refusing on a call (window revoked, opt-out filed). */
  kind: OwnerNoticeKind;
  insurerId: string;
  createdAt: string;
  sentAt?: string;
}

/** Everything about one owner that the planners need and /status shows. */
export interface OwnerState {
  owner: Owner;
  /** The latest, not superseded, consent. */
  consent?: Consent;
  windows: ContactWindow[];
  optOuts: OptOut[];
  receipts: Receipt[];
}

/**
 * One atomic change to one owner's records, computed by a pure planner (domain/plans) and
 * applied by `Store.applyChangeset` in a single transaction, all or nothing.
 */
export interface Changeset {
  ownerId: string;
  /** The owner version the plan was computed from; a mismatch fails with ConflictError. */
  expectedVersion: number;
  consent?: Consent;
  /** Consents that this one replaces. */
  supersedeConsents: { id: string; at: string }[];
  receipts: Receipt[];
  windows: ContactWindow[];
  revokeWindows: { id: string; at: string; reason: RevokeReason }[];
  closeWindows: { id: string; at: string }[];
  revokeReceipts: { id: string; at: string; reason: RevokeReason }[];
  optOuts: OptOut[];
  withdrawOptOuts: { id: string; at: string }[];
  outbox: OutboxEntry[];
  /** Contact attempts to record; each increments its window's attemptsUsed. Optional. */
  attempts?: AttemptRecord[];
  /** Messages to the owner, queued atomically with what they announce. Optional. */
  ownerNotices?: OwnerNotice[];
  /** Owner fields to set (e.g. renewedAt, or a new phone with what the plan did about it). */
  owner?: { renewedAt?: string | null; phone?: PhoneChange };
}

/**
 * A new phone number on file and what it settles, set by the changeset that plans for it
 * (domain/plans planPhoneChange), so that nothing consented for the old number outlives it.
 * The store encrypts the number and keys its hash, as for any profile update.
 */
export interface PhoneChange {
  /** E.164. */
  phone: string;
  /** True only for a Telegram contact whose user_id is the sender. */
  phoneVerified: boolean;
  country?: string | null;
  timezone?: string;
  jurisdiction?: JurisdictionCode;
  name?: string | null;
}

/** An empty changeset to build on. */
export function emptyChangeset(ownerId: string, expectedVersion: number): Changeset {
  return {
    ownerId,
    expectedVersion,
    supersedeConsents: [],
    receipts: [],
    windows: [],
    revokeWindows: [],
    closeWindows: [],
    revokeReceipts: [],
    optOuts: [],
    withdrawOptOuts: [],
    outbox: [],
  };
}
