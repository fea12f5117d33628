/**
 * Redis hash and JSON records ↔ the SQLite row shapes, so both stores share one validated
 * row ↔ model conversion (sqlite/rows.ts). Owner and insurer records are Redis hashes whose
 * absent fields are NULL columns; every other record is a flat JSON object in a hash field.
 */
import type { FieldCipher } from "../../crypto/field-cipher.js";
import type { Insurer, Owner } from "../../domain/model.js";
import { type InsurerRow, insurerFromRow, type OwnerRow, ownerFromRow } from "../sqlite/rows.js";
import { ConflictError, DuplicateError, NotFoundError } from "../store.js";
import { replyCode } from "./commands.js";

const orNull = (value: string | undefined) => value ?? null;
const intOrNull = (value: string | undefined) => (value === undefined ? null : Number(value));

/** An owner hash as the model; undefined for an empty (missing) hash. */
export function ownerFromHash(h: Record<string, string>, cipher: FieldCipher): Owner | undefined {
  if (h.id === undefined) return undefined;
  const row: OwnerRow = {
    id: h.id,
    telegram_user_id: intOrNull(h.telegram_user_id),
    chat_id: intOrNull(h.chat_id),
    language: h.language ?? "en",
    phone_enc: orNull(h.phone_enc),
    phone_hash: orNull(h.phone_hash),
    phone_verified: Number(h.phone_verified ?? 0),
    country: orNull(h.country),
    timezone: h.timezone ?? "",
    jurisdiction: h.jurisdiction ?? "",
    name_enc: orNull(h.name_enc),
    vehicle_enc: orNull(h.vehicle_enc),
    sandbox: Number(h.sandbox ?? 0),
    created_at: h.created_at ?? "",
    updated_at: h.updated_at ?? "",
    version: Number(h.version ?? 0),
    renewed_at: orNull(h.renewed_at),
    deleted_at: orNull(h.deleted_at),
  };
  return ownerFromRow(row, cipher);
}

/** An insurer hash as its row (undefined when missing). */
export function insurerRowFromHash(h: Record<string, string>): InsurerRow | undefined {
  if (h.id === undefined) return undefined;
  return {
    id: h.id,
    name: h.name ?? "",
    aliases: h.aliases ?? "[]",
    webhook_url: orNull(h.webhook_url),
    contact: orNull(h.contact),
    sandbox: Number(h.sandbox ?? 0),
    created_at: h.created_at ?? "",
    removed_at: orNull(h.removed_at),
    api_key_hash: h.api_key_hash ?? "",
    webhook_secret_enc: h.webhook_secret_enc ?? "",
    webhook_disabled_at: orNull(h.webhook_disabled_at),
  };
}

export function insurerFromHash(h: Record<string, string>): Insurer | undefined {
  const row = insurerRowFromHash(h);
  return row ? insurerFromRow(row) : undefined;
}

/** Rows carry the aggregate's insertion counter; creation order is `_seq` order. */
export type Seq = { _seq?: number };

export const bySeq = (a: Seq, b: Seq) => (a._seq ?? 0) - (b._seq ?? 0);

export function parseRows<T>(values: unknown): (T & Seq)[] {
  return ((values ?? []) as string[]).map((s) => JSON.parse(s) as T & Seq);
}

/** Maps a script's error reply onto the port's error types. */
export function translate(error: unknown): unknown {
  const message = error instanceof Error ? error.message.replace(/ script: .*$/s, "") : String(error);
  switch (replyCode(error)) {
    case "OW_CONFLICT":
      return new ConflictError();
    case "OW_DUPLICATE":
      return new DuplicateError(message.replace(/^.*?OW_DUPLICATE /, ""));
    case "OW_NOTFOUND":
      return new NotFoundError(message.replace(/^.*?OW_NOTFOUND /, ""));
    case "OW_INVALID":
      return new Error(message.replace(/^.*?OW_INVALID /, ""));
    default:
      return error;
  }
}
