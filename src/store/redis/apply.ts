/**
 * Every change to an owner document, as pure functions: a document in, a new document out (the
 * input is never changed), with the same checks and the same first-time-wins rules as the
 * SQLite store's statements. The Redis store reads a document, calls one of these and writes
 * the result back only if nobody wrote in between (context.ts writeDoc); tests call them
 * directly (test/store/redis-document.test.ts).
 */
import type { FieldCipher } from "../../crypto/field-cipher.js";
import type { Changeset } from "../../domain/model.js";
import {
  attemptToRow,
  consentToRow,
  type OutboxRow,
  optOutToRow,
  outboxToRow,
  ownerNoticeToRow,
  profileColumns,
  receiptToRow,
  windowToRow,
} from "../rows.js";
import { ConflictError, DuplicateError, type OwnerProfilePatch } from "../store.js";
import { type OwnerDoc, SCHEMA_VERSION } from "./document.js";

/** What applying needs besides the document: the time of the change and the field cipher. */
export interface ApplyDeps {
  /** ISO instant: the owner's `updated_at`. */
  now: string;
  cipher: Pick<FieldCipher, "encrypt" | "hash">;
}

type Lists = Pick<
  OwnerDoc,
  "consents" | "receipts" | "windows" | "optOuts" | "attempts" | "notices" | "outbox"
>;

/** A copy to change, stamped with this build's schema (assertWritable refused newer ones). */
function draft(doc: OwnerDoc): OwnerDoc {
  const copy = structuredClone(doc);
  copy.schema = SCHEMA_VERSION;
  return copy;
}

function bump(doc: OwnerDoc, at: string): OwnerDoc {
  doc.owner.version += 1;
  doc.owner.updated_at = at;
  return doc;
}

/** The record of this owner with this id; a target that is not is a planning bug. */
function mine<K extends keyof Lists>(doc: OwnerDoc, list: K, id: string, what: string): Lists[K][number] {
  const row = (doc[list] as { id: string; owner_id?: string | null }[]).find((r) => r.id === id);
  if (!row || row.owner_id !== doc.owner.id) throw new Error(`${what} ${id} is not a record of this owner`);
  return row as Lists[K][number];
}

function fresh(doc: OwnerDoc, list: keyof Lists, id: string, what: string): void {
  if ((doc[list] as { id: string }[]).some((r) => r.id === id))
    throw new Error(`${what} ${id} already exists`);
}

/** An outbox entry as its owner's document keeps it (no lease: that lives in the queue). */
export function entryRecord(row: OutboxRow): OwnerDoc["outbox"][number] {
  const { lease_until: _lease, lease_worker: _worker, seq: _seq, ...kept } = row;
  return kept;
}

/**
 * Applies a planned changeset: all or nothing (it throws before returning anything).
 * @throws ConflictError when the document is not at `cs.expectedVersion`
 * @throws DuplicateError for an attempt whose insurer and Idempotency-Key are already recorded
 */
export function apply(doc: OwnerDoc, cs: Changeset, deps: ApplyDeps): OwnerDoc {
  if (doc.owner.id !== cs.ownerId) throw new Error(`document of ${doc.owner.id}, changeset of ${cs.ownerId}`);
  if (doc.owner.version !== cs.expectedVersion) throw new ConflictError();
  const d = draft(doc);
  const owner = cs.ownerId;
  const at = (row: Record<string, unknown>, field: string, value: unknown) => {
    if (row[field] === null || row[field] === undefined) row[field] = value;
  };

  if (cs.consent) {
    if (cs.consent.ownerId !== owner) throw new Error("consent belongs to another owner");
    fresh(d, "consents", cs.consent.id, "consent");
    d.consents.push({ ...consentToRow(cs.consent) });
  }
  for (const s of cs.supersedeConsents) at(mine(d, "consents", s.id, "consent"), "superseded_at", s.at);
  for (const receipt of cs.receipts) {
    fresh(d, "receipts", receipt.id, "receipt");
    const row = receiptToRow({ ...receipt, ownerId: receipt.ownerId ?? owner }, deps.cipher as FieldCipher);
    d.receipts.push({ ...row, name_enc: row.name_enc ?? null, vehicle_enc: row.vehicle_enc ?? null });
  }
  for (const window of cs.windows) {
    if (window.ownerId !== owner) throw new Error("window belongs to another owner");
    fresh(d, "windows", window.id, "window");
    d.windows.push({ ...windowToRow(window), ack_notified_at: null, ack_reminder_at: null });
  }
  for (const s of cs.revokeWindows) {
    const row = mine(d, "windows", s.id, "window");
    at(row, "revoked_at", s.at);
    at(row, "revoke_reason", s.reason);
  }
  for (const s of cs.closeWindows) at(mine(d, "windows", s.id, "window"), "closed_at", s.at);
  for (const s of cs.revokeReceipts) {
    const row = mine(d, "receipts", s.id, "receipt");
    at(row, "revoked_at", s.at);
    at(row, "revoke_reason", s.reason);
  }
  for (const optOut of cs.optOuts) {
    fresh(d, "optOuts", optOut.id, "opt-out");
    d.optOuts.push({
      ...optOutToRow({ ...optOut, ownerId: optOut.ownerId ?? owner }),
      ack_notified_at: null,
    });
  }
  for (const s of cs.withdrawOptOuts) at(mine(d, "optOuts", s.id, "opt-out"), "withdrawn_at", s.at);
  for (const attempt of cs.attempts ?? []) {
    const same = (a: { insurer_id: string; idempotency_key: string }) =>
      a.insurer_id === attempt.insurerId && a.idempotency_key === attempt.idempotencyKey;
    if (d.attempts.some(same)) throw new DuplicateError(`attempt ${attempt.idempotencyKey} already recorded`);
    fresh(d, "attempts", attempt.id, "attempt");
    const window = mine(d, "windows", attempt.windowId, "window");
    if (window.insurer_id !== attempt.insurerId)
      throw new Error(`window ${attempt.windowId} is not a record of this owner`);
    d.attempts.push({ ...attemptToRow(attempt) });
    window.attempts_used += 1;
  }
  for (const entry of cs.outbox) {
    fresh(d, "outbox", entry.id, "outbox entry");
    d.outbox.push(entryRecord(outboxToRow(entry)));
  }
  for (const notice of cs.ownerNotices ?? []) {
    if (notice.ownerId !== owner) throw new Error("owner notice belongs to another owner");
    fresh(d, "notices", notice.id, "owner notice");
    d.notices.push({ ...ownerNoticeToRow(notice) });
  }
  if (cs.owner && "renewedAt" in cs.owner) d.owner.renewed_at = cs.owner.renewedAt ?? null;
  if (cs.owner?.phone) Object.assign(d.owner, profileColumns(cs.owner.phone, deps.cipher));
  return bump(d, deps.now);
}

/** Changes profile fields (encrypting phone, name and vehicle) and bumps the version. */
export function updateProfile(doc: OwnerDoc, patch: OwnerProfilePatch, deps: ApplyDeps): OwnerDoc {
  const d = draft(doc);
  Object.assign(d.owner, profileColumns(patch, deps.cipher));
  return bump(d, deps.now);
}

/**
 * Forgets the owner (/delete, DESIGN §9), as the SQLite store does: the Telegram ids, phone,
 * name and vehicle go; consents lose their preferences; receipts keep {id, payload hash,
 * revocation}; windows and opt-outs lose their owner link; notices and the outbox's owner
 * links go (the store unlinks the queued entries too).
 */
export function erase(doc: OwnerDoc, at: string): OwnerDoc {
  const d = draft(doc);
  const o = d.owner;
  Object.assign(o, {
    telegram_user_id: null,
    chat_id: null,
    phone_enc: null,
    phone_hash: null,
    phone_verified: 0,
    country: null,
    name_enc: null,
    vehicle_enc: null,
    deleted_at: o.deleted_at ?? at,
  });
  for (const c of d.consents) if (c.owner_id === o.id) c.preferences = null;
  for (const r of d.receipts) {
    if (r.owner_id !== o.id) continue;
    Object.assign(r, { owner_id: null, consent_id: null, jws: null, name_enc: null, vehicle_enc: null });
  }
  for (const w of d.windows) if (w.owner_id === o.id) w.owner_id = null;
  for (const p of d.optOuts) if (p.owner_id === o.id) p.owner_id = null;
  for (const e of d.outbox) e.owner_id = null;
  d.notices = [];
  return bump(d, at);
}

type Marked = "windows" | "optOuts" | "notices";

/**
 * Sets a time field of one record, the first time only; undefined when there is nothing to
 * change (no such record, or already set). Marks do not bump the owner's version: they change
 * nothing a plan reads.
 */
export function markOnce(doc: OwnerDoc, list: Marked, id: string, field: string, at: string) {
  const index = (doc[list] as { id: string }[]).findIndex((r) => r.id === id);
  const row = (doc[list] as Record<string, unknown>[])[index];
  if (!row || (row[field] !== null && row[field] !== undefined)) return undefined;
  const d = draft(doc);
  (d[list] as Record<string, unknown>[])[index] = { ...row, [field]: at };
  return d;
}

/** An insurer's acknowledgement of its window or opt-out: the first time counts. */
export function acknowledge(
  doc: OwnerDoc,
  list: "windows" | "optOuts",
  id: string,
  insurerId: string,
  at: string,
) {
  const row = (doc[list] as { id: string; insurer_id: string }[]).find((r) => r.id === id);
  if (!row || row.insurer_id !== insurerId) return { found: false as const };
  return { found: true as const, doc: markOnce(doc, list, id, "acknowledged_at", at) };
}

/**
 * Delivered or skipped entries (their final rows from the queue) copied over the document's
 * own; a delivered window.opened sets its window's deliveredAt (first time). Undefined when
 * nothing changes (already copied, or not this owner's).
 */
export function finishEntries(doc: OwnerDoc, rows: readonly OutboxRow[]): OwnerDoc | undefined {
  const d = draft(doc);
  let changed = false;
  for (const row of rows) {
    const index = d.outbox.findIndex((e) => e.id === row.id);
    const current = d.outbox[index];
    if (current?.state !== "pending") continue;
    d.outbox[index] = { ...current, ...entryRecord(row), owner_id: current.owner_id };
    changed = true;
    if (row.state === "delivered" && row.type === "window.opened" && row.delivered_at) {
      const window = d.windows.find((w) => w.id === row.subject_id);
      if (window && window.delivered_at === null) window.delivered_at = row.delivered_at;
    }
  }
  return changed ? d : undefined;
}
