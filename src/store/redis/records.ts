/**
 * Owner documents and insurer hashes ↔ the SQLite row shapes, so both stores share one
 * validated row ↔ model conversion (store/rows.ts). An owner's profile is the `o` object of
 * its document (short names, codec.ts PROFILE); insurers are plain Redis hashes whose absent
 * fields are NULL columns.
 */
import type { FieldCipher } from "../../crypto/field-cipher.js";
import type { Insurer, Owner } from "../../domain/model.js";
import { type InsurerRow, insurerFromRow, type OwnerRow, ownerFromRow } from "../rows.js";
import { ConflictError, DuplicateError, NotFoundError } from "../store.js";
import { decodeProfile, type OwnerDoc } from "./codec.js";
import { replyCode } from "./commands.js";

const orNull = (value: string | undefined) => value ?? null;
const intOrNull = (value: string | number | undefined) => (value === undefined ? null : Number(value));

/** An owner document's profile as the model. */
export function ownerFromProfile(ownerId: string, profile: OwnerDoc["o"], cipher: FieldCipher): Owner {
  const p = decodeProfile(profile);
  const text = (value: string | number | undefined) => (value === undefined ? undefined : String(value));
  const row: OwnerRow = {
    id: ownerId,
    telegram_user_id: intOrNull(p.telegram_user_id),
    // A private chat's id is the user's: stored only when it differs (redis/owners.ts ensure).
    chat_id: intOrNull(p.chat_id ?? p.telegram_user_id),
    language: text(p.language) ?? "en",
    phone_enc: orNull(text(p.phone_enc)),
    phone_hash: orNull(text(p.phone_hash)),
    phone_verified: Number(p.phone_verified ?? 0),
    country: orNull(text(p.country)),
    timezone: text(p.timezone) ?? "",
    jurisdiction: text(p.jurisdiction) ?? "",
    name_enc: orNull(text(p.name_enc)),
    vehicle_enc: orNull(text(p.vehicle_enc)),
    sandbox: Number(p.sandbox ?? 0),
    created_at: text(p.created_at) ?? "",
    updated_at: text(p.updated_at) ?? "",
    version: Number(p.version ?? 0),
    renewed_at: orNull(text(p.renewed_at)),
    deleted_at: orNull(text(p.deleted_at)),
  };
  return ownerFromRow(row, cipher);
}

/** An insurer hash as its row (undefined when missing). */
export function insurerRowFromHash(h: Record<string, string>): InsurerRow | undefined {
  if (h.id === undefined) return undefined;
  return {
    id: h.id,
    name: h.name ?? "",
    name_zh: orNull(h.name_zh),
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
