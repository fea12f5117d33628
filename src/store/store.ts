/**
 * The storage port: domain operations, not queries, so that SQLite, Redis and Upstash can each
 * implement it natively. Every implementation encrypts personal fields at rest (phone, name,
 * vehicle, webhook secret, session blobs are ciphertext) and passes `test/store/contract.ts`.
 */
import type {
  AttemptRecord,
  Changeset,
  ContactWindow,
  Insurer,
  InsurerSecrets,
  JurisdictionCode,
  Language,
  OptOut,
  OutboxEntry,
  Owner,
  OwnerNotice,
  OwnerState,
  Receipt,
  ScrubHit,
} from "../domain/model.js";
import type { QuotaAnswer, RequestLimits } from "../domain/quota.js";

/** Thrown by {@link Store.applyChangeset} when the owner changed since the plan was made. */
export class ConflictError extends Error {
  constructor(message = "owner changed concurrently; plan again") {
    super(message);
    this.name = "ConflictError";
  }
}

/** Thrown when an id that must be new already exists (e.g. `insurer add` twice). */
export class DuplicateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DuplicateError";
  }
}

/** Thrown when an id names nothing (or, for insurer-scoped calls, another insurer's record). */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotFoundError";
  }
}

/**
 * How long a store may go on answering {@link Store.listInsurers} with the directory as it was
 * before another process changed it (Redis and Upstash keep it this long; SQLite checks the
 * file on every call). The bot reads the directory on every message; insurers change rarely.
 */
export const DIRECTORY_MAX_AGE_MS = 1_000;

/** Keyset paging: items strictly after this (time, id) in ascending order. */
export interface PageAfter {
  at: string;
  id: string;
}

/** Fields of an insurer the operator can change; `null` clears. */
export interface InsurerPatch {
  name?: string;
  nameZh?: string | null;
  aliases?: string[];
  webhookUrl?: string | null;
  contact?: string | null;
  /** Set on 410 Gone; cleared when the webhook URL changes. */
  webhookDisabledAt?: string | null;
}

/** What a scrub or match-key look-up finds for one phone hash, for one insurer. */
export interface ScrubRecord {
  ownerId?: string;
  /** This insurer's windows for the number (any state). */
  windows: ContactWindow[];
  /** This insurer's opt-outs for the number (withdrawn ones included; the caller decides). */
  optOuts: OptOut[];
}

/** How a claimed delivery ended; see {@link Store.completeDelivery}. */
export type DeliveryResult =
  | { state: "delivered"; at: string }
  | { state: "retry"; at: string; nextAttemptAt: string; error: string }
  | { state: "dead"; at: string; error: string }
  | { state: "skipped"; at: string; reason: string };

/** An acknowledgement the owner has not yet been told about (one digest per owner). */
export interface AckNotice {
  kind: "window" | "optout";
  id: string;
  ownerId: string;
  insurerId: string;
  acknowledgedAt: string;
}

export interface NewOwner {
  telegramUserId: number;
  chatId: number;
  language: Language;
  timezone: string;
  jurisdiction: JurisdictionCode;
  sandbox: boolean;
}

/** Profile fields an owner can set; `null` clears a field. */
export interface OwnerProfilePatch {
  language?: Language;
  phone?: string | null;
  phoneVerified?: boolean;
  country?: string | null;
  timezone?: string;
  jurisdiction?: JurisdictionCode;
  name?: string | null;
  vehicle?: string | null;
}

export interface Store {
  /** Adds an insurer; throws {@link DuplicateError} when the id exists (even if removed). */
  addInsurer(insurer: Insurer, secrets: InsurerSecrets): Promise<void>;
  /**
   * Active insurers (not removed), ordered by id. A store may keep the directory between calls:
   * changes made through this store show at once, changes made elsewhere (another process,
   * another store over the same data) within {@link DIRECTORY_MAX_AGE_MS} — SQLite at once.
   */
  listInsurers(): Promise<Insurer[]>;
  getInsurer(id: string): Promise<Insurer | undefined>;
  /** The hash and decrypted webhook secret; undefined for an unknown id. */
  getInsurerSecrets(id: string): Promise<InsurerSecrets | undefined>;

  /** The owner for a Telegram user, created on first contact. */
  ensureOwner(input: NewOwner): Promise<Owner>;
  getOwner(id: string): Promise<Owner | undefined>;
  getOwnerByTelegramId(telegramUserId: number): Promise<Owner | undefined>;
  /** Updates profile fields (encrypting phone, name, vehicle) and bumps the version. */
  updateOwnerProfile(id: string, patch: OwnerProfilePatch): Promise<Owner>;
  /** Owner, current consent, and all windows, opt-outs and receipts. Throws if unknown. */
  getOwnerState(ownerId: string): Promise<OwnerState>;
  /** Applies a planned change atomically; throws {@link ConflictError} on a stale version. */
  applyChangeset(changeset: Changeset): Promise<void>;
  /** The window whose opt-out deep link carries this token. */
  findWindowByStopToken(token: string): Promise<ContactWindow | undefined>;
  /** One receipt by id, also after /delete (then a tombstone): receipt verification needs it. */
  getReceipt(id: string): Promise<Receipt | undefined>;
  /** One opt-out by id, also after /delete (then without `ownerId`). */
  getOptOut(id: string): Promise<OptOut | undefined>;
  /**
   * {@link Store.getOptOut} for many ids in one read (the dispatcher builds a claimed batch's
   * bodies with it): one answer per id, in order, `undefined` where there is none.
   */
  getOptOuts(ids: readonly string[]): Promise<(OptOut | undefined)[]>;
  /**
   * Erases personal data (/delete, DESIGN §9): phone, name, vehicle, consents' preferences,
   * windows' owner link, receipts down to {id, payloadHash, revokedAt}, the chat session.
   * Opt-outs keep only the keyed hash and match key until `until`. The owner's notices (sent
   * or not) are deleted. Apply the revoking changeset first; this only forgets.
   */
  eraseOwner(ownerId: string, at: string): Promise<void>;

  // ---- Directory management (insurers issue) ----

  /** Changes an insurer's public fields; throws {@link NotFoundError} for an unknown or removed id. */
  updateInsurer(id: string, patch: InsurerPatch): Promise<Insurer>;
  /** Replaces the API key hash: the old key stops working at once. */
  setInsurerApiKeyHash(id: string, apiKeyHash: string): Promise<void>;
  /** Replaces the webhook secret (stored encrypted). */
  setInsurerWebhookSecret(id: string, webhookSecret: string): Promise<void>;
  /** Marks an insurer removed: it leaves the directory and its key stops working; records stay. */
  removeInsurer(id: string, at: string): Promise<void>;
  /** The active insurer whose API key hashes to this (callers compare in constant time too). */
  findInsurerByApiKeyHash(apiKeyHash: string): Promise<Insurer | undefined>;
  /** Ids of owners with a current (not superseded) consent and not deleted, for backfill. */
  listOwnerIdsWithConsent(after: string | undefined, limit: number): Promise<string[]>;

  // ---- Insurer feeds (HTTP API) ----

  /** One window by id, whoever it belongs to (callers check the insurer). */
  getWindow(id: string): Promise<ContactWindow | undefined>;
  /**
   * An insurer's windows that have opened by `now` (domain `hasOpened`: scheduled ones, empty
   * ones and ones revoked or closed at or before opensAt are invisible), ordered by
   * (opensAt, id), strictly after `after`. `status` filters on the state at `now`: open (not
   * revoked, not closed, now < closesAt — exhausted counts as open), closed, revoked.
   */
  listWindowsForInsurer(
    insurerId: string,
    query: { now: string; status?: "open" | "closed" | "revoked"; after?: PageAfter; limit: number },
  ): Promise<ContactWindow[]>;
  /** Records the first acknowledgement time (idempotent); undefined if not this insurer's. */
  acknowledgeWindow(insurerId: string, windowId: string, at: string): Promise<ContactWindow | undefined>;
  /** An insurer's opt-outs ordered by (effectiveAt, id), strictly after `after`. */
  listOptOutsForInsurer(insurerId: string, query: { after?: PageAfter; limit: number }): Promise<OptOut[]>;
  /** Records the first acknowledgement time (idempotent); undefined if not this insurer's. */
  acknowledgeOptOut(insurerId: string, optOutId: string, at: string): Promise<OptOut | undefined>;
  /** The attempt an insurer recorded under this Idempotency-Key, if any. */
  getAttemptByIdempotencyKey(insurerId: string, idempotencyKey: string): Promise<AttemptRecord | undefined>;
  /** Every attempt recorded on a window, oldest first (per-day caps are computed from these). */
  listAttempts(windowId: string): Promise<AttemptRecord[]>;

  // ---- Scrub and match keys ----

  /** Records for this insurer by phone hash; hashes with nothing for it are absent. Batched. */
  scrubLookup(insurerId: string, phoneHashes: readonly string[]): Promise<Map<string, ScrubRecord>>;
  /** Audit of hits on owners' numbers (kept 13 months; shown in /status). */
  recordScrubHits(hits: readonly ScrubHit[]): Promise<void>;
  /** Hits on an owner's number since `since`, newest first. */
  listScrubHits(ownerId: string, since: string): Promise<ScrubHit[]>;
  /** Drops audit rows older than `before` (13-month retention). */
  purgeScrubHits(before: string): Promise<number>;
  /**
   * Takes one request token from `key`'s bucket at `now` (epoch ms), atomically across every
   * process sharing the store (domain/quota.ts `takeRequestToken`).
   */
  takeQuotaRequest(key: string, now: number, limits: RequestLimits): Promise<QuotaAnswer>;
  /** Counts `n` numbers against `key`'s cap for the UTC day of `now`, all or nothing, atomically. */
  takeQuotaNumbers(key: string, now: number, n: number, dailyLimit: number): Promise<QuotaAnswer>;

  // ---- Outbox (dispatcher) ----

  /**
   * Leases up to `limit` pending entries due at `now` (dueAt and nextAttemptAt ≤ now, lease
   * free or expired) to `worker` until now + leaseMs. Never hands one entry to two live leases.
   * At most `perInsurer` entries of one insurer, so one slow insurer cannot fill a batch.
   */
  claimDue(query: {
    now: string;
    limit: number;
    perInsurer: number;
    leaseMs: number;
    worker: string;
  }): Promise<OutboxEntry[]>;
  /**
   * Ends a claim. Returns false (and changes nothing) if the lease was lost to another worker.
   * A delivered window.opened also sets the window's deliveredAt.
   */
  completeDelivery(id: string, worker: string, result: DeliveryResult): Promise<boolean>;
  /**
   * {@link Store.completeDelivery} for each item, in order, as one write where the store has
   * transactions. Returns one flag per item: false for an item whose lease was lost (that item
   * changes nothing; the others still apply).
   */
  completeDeliveries(
    items: readonly { id: string; worker: string; result: DeliveryResult }[],
  ): Promise<boolean[]>;
  /** Every outbox entry about an owner, oldest first (/status shows delivery state). */
  listOutboxForOwner(ownerId: string): Promise<OutboxEntry[]>;
  /** Counts for /metrics and the operator: pending (incl. retrying), retrying, dead. */
  outboxStats(): Promise<{ pending: number; retrying: number; dead: number }>;
  /** Dead entries, newest first, for the operator. */
  listDeadDeliveries(limit: number): Promise<OutboxEntry[]>;

  // ---- Owner notifications ----

  /** Acknowledgements (windows and opt-outs) the owner has not been told about yet. */
  pendingAckNotices(limit: number): Promise<AckNotice[]>;
  /** Marks acknowledgements as told (one digest message covered them). */
  markAckNoticesSent(notices: readonly Pick<AckNotice, "kind" | "id">[], at: string): Promise<void>;
  /**
   * Live windows opened at or before `openedBefore`, not acknowledged, not yet reminded about:
   * the 72-hour "your insurer has not acknowledged" message (DESIGN §7).
   */
  windowsAwaitingAckReminder(openedBefore: string, now: string, limit: number): Promise<ContactWindow[]>;
  markAckReminderSent(windowId: string, at: string): Promise<void>;
  /**
   * Owner notices (written by {@link Store.applyChangeset}) not yet marked sent, oldest first
   * by (createdAt, id). A notice is listed on every call until marked; eraseOwner deletes them.
   */
  pendingOwnerNotices(limit: number): Promise<OwnerNotice[]>;
  /** Marks notices as sent (told, or never tellable); keeps the first time; unknown ids are ignored. */
  markOwnerNoticesSent(ids: readonly string[], at: string): Promise<void>;

  /** Encrypted-at-rest key-value storage for bot sessions (grammY StorageAdapter shape). */
  readSession(key: string): Promise<string | undefined>;
  writeSession(key: string, value: string): Promise<void>;
  deleteSession(key: string): Promise<void>;

  /**
   * Claims a Telegram update for processing (DESIGN §11: Telegram re-delivers an update when
   * a webhook answer is slow). True the first time `updateId` is claimed within `ttlMs`, false
   * for every later claim until the claim expires — atomically, across processes sharing the
   * store. Telegram's update ids are positive; negative ids are free for other once-only work
   * (the owner notifier claims its ticks with them, so N processes send each message once).
   */
  claimUpdate(updateId: number, ttlMs: number): Promise<boolean>;

  /** Small operator metadata (key fingerprints, schema version). */
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;

  /** Answers when the store is reachable (GET /healthz). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
