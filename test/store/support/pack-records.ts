/**
 * The inverse of `unpackRecords` (src/store/redis/codec.ts): in production the Lua scripts write
 * owner documents, so only test/store/redis-layout.test.ts packs lists, to check that what the
 * codec reads back is exactly what was written.
 */
import {
  type DocContext,
  FIELD_ORDER,
  isTime,
  OWN_OWNER,
  PROFILE_REF,
  REFS,
  type RecordKind,
  since,
  subjectOf,
  toRelative,
} from "../../../src/store/redis/codec.js";

/** A ditto (`{}`) is only written for a value longer than itself (as the scripts do). */
const dittoWorth = (value: unknown) => String(value).length > 2;

/** A reference to another record of the document as its stored position (see codec.ts REFS). */
function positionOf(doc: DocContext, kind: RecordKind, field: string, id: unknown): unknown {
  const target = REFS[kind]?.[field];
  if (!target) return id;
  const lists: [RecordKind, number][] =
    target === "x"
      ? [
          ["p", 1],
          ["w", -1],
        ]
      : [[target as RecordKind, 1]];
  for (const [list, sign] of lists) {
    const at = (doc.records[list] ?? []).findIndex((row) => row.id === id);
    if (at >= 0) return (at + 1) * sign;
  }
  return id;
}

/** One kind's rows as the stored list `unpackRecords` reads (`ownerRef`: the document's owner). */
export function packRecords(
  kind: RecordKind,
  rows: Record<string, unknown>[],
  ownerRef: string,
  doc: DocContext,
): unknown[] {
  const fields = FIELD_ORDER[kind];
  const isNull = (v: unknown) => v === null || v === undefined;
  return rows.map((row, index) => {
    const before = index > 0 ? rows[index - 1] : undefined;
    const prevId = doc.prevId;
    let rest = fields.length;
    if (before) {
      while (rest > 0) {
        const f = fields[rest - 1] as string;
        const a = row[f];
        const b = before[f];
        if (isNull(a) ? isNull(b) : a === b) rest--;
        else break;
      }
      if (fields.slice(rest).filter((f) => !isNull(row[f])).length < 2) rest = fields.length;
    }
    const tuple: unknown[] = fields.slice(0, rest).map((field) => {
      const value = row[field];
      if (isNull(value)) return null;
      if (before && before[field] === value && dittoWorth(value)) return {};
      if (field === "owner_id" && value === ownerRef) return OWN_OWNER;
      if (PROFILE_REF[field] && value === doc.o[PROFILE_REF[field] as string]) return 1;
      if (typeof value === "string" && REFS[kind]?.[field]) return positionOf(doc, kind, field, value);
      if (typeof value === "number" && isTime(kind, field)) return value - since(doc);
      if (kind === "x" && field === "insurer_id" && subjectOf(doc, row.subject_id)?.insurer_id === value)
        return 1;
      if (field === "id" && typeof value === "string" && prevId !== undefined) {
        return toRelative(value, prevId) ?? value;
      }
      return value;
    });
    doc.prevId = typeof row.id === "string" ? row.id : undefined;
    if (rest < fields.length) return [...tuple, true];
    while (tuple.length > 0 && tuple[tuple.length - 1] === null) tuple.pop();
    return tuple;
  });
}
