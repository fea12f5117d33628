/**
 * Insurer hashes ↔ the SQLite row shapes, so both stores share one validated row ↔ model
 * conversion (store/rows.ts): insurers are plain Redis hashes whose absent fields are NULL
 * columns. And the scripts' error replies as the port's errors.
 */
import type { Insurer } from "../../domain/model.js";
import { type InsurerRow, insurerFromRow } from "../rows.js";
import { ConflictError, DuplicateError, NotFoundError } from "../store.js";
import { replyCode } from "./commands.js";

const orNull = (value: string | undefined) => value ?? null;
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
