/**
 * Opaque page cursors (DESIGN §5): base64url of `{"at","id"}`, the keyset position of the last
 * item of a page. Clients pass `next` back as `after` and never look inside.
 */
import type { PageAfter } from "../store/store.js";

export function encodeCursor(after: PageAfter): string {
  return Buffer.from(JSON.stringify({ at: after.at, id: after.id }), "utf8").toString("base64url");
}

/** The position a cursor names, or undefined for anything that is not one of ours. */
export function decodeCursor(cursor: string): PageAfter | undefined {
  if (cursor.length === 0 || cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (typeof value !== "object" || value === null) return undefined;
    const { at, id } = value as { at?: unknown; id?: unknown };
    if (typeof at !== "string" || typeof id !== "string" || Number.isNaN(Date.parse(at))) return undefined;
    return { at, id };
  } catch {
    return undefined;
  }
}
