/**
 * The owner document: everything of one owner (profile, consents, receipts, windows, opt-outs,
 * attempts, owner notices, outbox entries) as ONE JSON value under the owner's hash tag. The
 * records are the row shapes both stores share (store/rows.ts), validated by the zod schema
 * below on every read. This file is the only encoding of a document: Lua never parses one (the
 * write script reads only the header), so there is nothing to keep in step.
 *
 * Stored as `<schema>:<version>:<encoding>:<body>`:
 * - `schema` is {@link SCHEMA_VERSION} of the process that wrote it. A process refuses to write
 *   a document of a newer schema ({@link NewerSchemaError}); the write script checks it too.
 * - `version` is the owner's version (optimistic concurrency): the write script replaces the
 *   document only if it still holds the version the writer read.
 * - `encoding` is `j` (JSON text), `z1` (JSON deflated against dictionary 1, raw bytes) or `b1`
 *   (the same, base64: for clients that carry only text, such as Upstash's REST API).
 *
 * Upgrades: every object is loose, so fields a newer build added (and records of kinds it
 * added) survive a read-modify-write by this one. A field whose value is null is left out of
 * the JSON and reads as null.
 */
import { deflateRawSync, inflateRawSync } from "node:zlib";
import { z } from "zod";
import { DICTIONARY_1 } from "./dictionary.js";

/**
 * The document schema this build writes. Bump it when a change means an older build must not
 * rewrite the document (a field whose meaning an older build would get wrong, not merely miss);
 * adding a field does not need it, as older builds keep fields they do not know.
 */
export const SCHEMA_VERSION = 1;

/** Thrown instead of writing a document a newer build wrote (its schema is beyond ours). */
export class NewerSchemaError extends Error {
  constructor(readonly found: number) {
    super(
      `this owner document has schema ${found}, written by a newer onewindow; this process knows schemas up to ${SCHEMA_VERSION} and will not rewrite it: upgrade every process sharing the store`,
    );
    this.name = "NewerSchemaError";
  }
}

const text = z.string();
const opt = z.string().nullable().default(null);
const int = z.number().int();

const Owner = z.looseObject({
  id: text,
  telegram_user_id: int.nullable().default(null),
  chat_id: int.nullable().default(null),
  language: text,
  phone_enc: opt,
  phone_hash: opt,
  phone_verified: int.default(0),
  country: opt,
  timezone: text,
  jurisdiction: text,
  name_enc: opt,
  vehicle_enc: opt,
  sandbox: int.default(0),
  created_at: text,
  updated_at: text,
  version: int,
  renewed_at: opt,
  deleted_at: opt,
});

const Consent = z.looseObject({
  id: text,
  owner_id: text,
  preferences: opt,
  jurisdiction: text,
  timezone: text,
  language: text,
  text_version: text,
  text_hash: text,
  agreed_at: text,
  superseded_at: opt,
});

const Receipt = z.looseObject({
  id: text,
  owner_id: opt,
  insurer_id: text,
  consent_id: opt,
  jws: opt,
  payload_hash: text,
  issued_at: text,
  revoked_at: opt,
  revoke_reason: opt,
  name_enc: opt,
  vehicle_enc: opt,
});

const Window = z.looseObject({
  id: text,
  owner_id: opt,
  insurer_id: text,
  receipt_id: text,
  consent_id: text,
  renewal_date: text,
  opens_at: text,
  closes_at: text,
  timezone: text,
  days: text,
  hours: text,
  channels: text,
  max_attempts: int,
  attempts_used: int,
  verification_code: text,
  stop_token: text,
  created_at: text,
  revoked_at: opt,
  revoke_reason: opt,
  closed_at: opt,
  delivered_at: opt,
  acknowledged_at: opt,
  /** When the owner was told of the acknowledgement (the digest). */
  ack_notified_at: opt,
  /** When the owner was reminded that the insurer had not acknowledged. */
  ack_reminder_at: opt,
});

const OptOut = z.looseObject({
  id: text,
  owner_id: opt,
  insurer_id: text,
  phone_hash: text,
  match_key: text,
  reason: text,
  effective_at: text,
  honour_by: text,
  until: opt,
  basis: text,
  withdrawn_at: opt,
  acknowledged_at: opt,
  ack_notified_at: opt,
});

const Attempt = z.looseObject({
  id: text,
  window_id: text,
  insurer_id: text,
  channel: text,
  outcome: text,
  at: text,
  idempotency_key: text,
  remaining: int,
  fingerprint: opt,
});

const Notice = z.looseObject({
  id: text,
  owner_id: text,
  kind: z.enum(["refused_on_call"]),
  insurer_id: text,
  created_at: text,
  sent_at: opt,
});

/**
 * An outbox entry as its owner keeps it: written whole with the changeset, then finished
 * (state, attempts, times) once delivered or skipped. While pending, its insurer's queue holds
 * the live copy (attempts, lease).
 */
const Entry = z.looseObject({
  id: text,
  insurer_id: text,
  owner_id: opt,
  type: text,
  subject_id: text,
  webhook_id: text,
  due_at: text,
  created_at: text,
  attempts: int,
  state: text,
  last_error: opt,
  delivered_at: opt,
  next_attempt_at: text,
  finished_at: opt,
});

const list = <T extends z.ZodType>(item: T) => z.array(item).default([]);

export const OwnerDocument = z.looseObject({
  schema: int,
  owner: Owner,
  consents: list(Consent),
  receipts: list(Receipt),
  windows: list(Window),
  optOuts: list(OptOut),
  attempts: list(Attempt),
  notices: list(Notice),
  outbox: list(Entry),
});

export type OwnerDoc = z.infer<typeof OwnerDocument>;
export type OwnerDocRecord = z.infer<typeof Owner>;
export type ConsentRecord = z.infer<typeof Consent>;
export type ReceiptRecord = z.infer<typeof Receipt>;
export type WindowRecord = z.infer<typeof Window>;
export type OptOutRecord = z.infer<typeof OptOut>;
export type AttemptRecordRow = z.infer<typeof Attempt>;
export type NoticeRecord = z.infer<typeof Notice>;
export type EntryRecord = z.infer<typeof Entry>;

/** How a document is stored: `z1` where the client carries bytes, `b1` where only text. */
export type Encoding = "j" | "z1" | "b1";

const deflate = (json: string) => deflateRawSync(Buffer.from(json), { level: 6, dictionary: DICTIONARY_1 });
const inflate = (bytes: Buffer) => inflateRawSync(bytes, { dictionary: DICTIONARY_1 }).toString();

/** Nulls are left out: the schema's defaults give them back. */
const withoutNulls = (_key: string, value: unknown) => (value === null ? undefined : value);

/** The stored form of `doc` (its header from `doc.schema` and `doc.owner.version`). */
export function encodeDoc(doc: OwnerDoc, encoding: Encoding): Buffer | string {
  const head = `${doc.schema}:${doc.owner.version}:${encoding}:`;
  const json = JSON.stringify(doc, withoutNulls);
  if (encoding === "j") return head + json;
  const body = deflate(json);
  return encoding === "b1" ? head + body.toString("base64") : Buffer.concat([Buffer.from(head), body]);
}

/** A stored document, validated; undefined when there is none. Throws on anything malformed. */
export function decodeDoc(stored: Buffer | string | null | undefined): OwnerDoc | undefined {
  if (stored === null || stored === undefined) return undefined;
  const bytes = typeof stored === "string" ? Buffer.from(stored) : stored;
  let at = 0;
  const parts: string[] = [];
  for (let n = 0; n < 3; n++) {
    const end = bytes.indexOf(0x3a, at);
    if (end < 0) throw new Error("not an owner document (no header)");
    parts.push(bytes.subarray(at, end).toString());
    at = end + 1;
  }
  const [, , encoding] = parts;
  const body = bytes.subarray(at);
  const json =
    encoding === "j"
      ? body.toString()
      : encoding === "z1"
        ? inflate(body)
        : encoding === "b1"
          ? inflate(Buffer.from(body.toString(), "base64"))
          : undefined;
  if (json === undefined) throw new Error(`owner document in an unknown encoding '${encoding}'`);
  return OwnerDocument.parse(JSON.parse(json));
}

/** A new owner's document. */
export function newDoc(owner: OwnerDocRecord): OwnerDoc {
  return OwnerDocument.parse({ schema: SCHEMA_VERSION, owner });
}

/** Throws {@link NewerSchemaError} for a document this build must not rewrite. */
export function assertWritable(doc: OwnerDoc): void {
  if (doc.schema > SCHEMA_VERSION) throw new NewerSchemaError(doc.schema);
}
