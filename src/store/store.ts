/**
 * The storage port: domain operations, not queries, so that SQLite, Redis and Upstash can each
 * implement it natively. Every implementation encrypts personal fields at rest (phone, name,
 * vehicle, webhook secret, session blobs are ciphertext) and passes `test/store/contract.ts`.
 */
import type {
  Changeset,
  ContactWindow,
  Insurer,
  InsurerSecrets,
  JurisdictionCode,
  Language,
  OptOut,
  Owner,
  OwnerState,
  Receipt,
} from "../domain/model.js";

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
  /** Active insurers (not removed), ordered by id. */
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
   * Erases personal data (/delete, DESIGN §9): phone, name, vehicle, consents' preferences,
   * windows' owner link, receipts down to {id, payloadHash, revokedAt}, the chat session.
   * Opt-outs keep only the keyed hash and match key until `until`. Apply the revoking
   * changeset first; this only forgets.
   */
  eraseOwner(ownerId: string, at: string): Promise<void>;

  /** Encrypted-at-rest key-value storage for bot sessions (grammY StorageAdapter shape). */
  readSession(key: string): Promise<string | undefined>;
  writeSession(key: string, value: string): Promise<void>;
  deleteSession(key: string): Promise<void>;

  /** Small operator metadata (key fingerprints, schema version). */
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;

  /** Answers when the store is reachable (GET /healthz). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
