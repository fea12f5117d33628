/**
 * The compact value encodings of the Redis layout (LAYOUT_VERSION). Every encoding is exact:
 * a value is only shortened when decoding gives back the very same string, otherwise it is
 * kept as it was behind a marker character no short form starts with. Records are the SQLite
 * row shapes (sqlite/rows.ts); here each field gets a codec, and a record is stored as a
 * positional array in the order of its field list (trailing nulls dropped).
 */
import { deflateRawSync, inflateRawSync } from "node:zlib";

/**
 * Bumped whenever a stored encoding changes (field lists, codecs, the dictionary below): a
 * process that finds another layout in the store refuses to start (redis-store.ts).
 */
export const LAYOUT_VERSION = "2";

/** Marks a value kept verbatim because no exact short form exists. */
const RAW = "!";
/** Marks a `msg_<uuid>` webhook id. */
const MSG = "~";
/** Marks a deflated text. */
const PACKED = "~";

/**
 * Base64 digits in ASCII order: fixed-length encodings of ids then sort like the ids, so feed
 * members and cursors keep the (time, id) order the store contract pages by.
 */
const DIGITS = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
const DIGIT_VALUE = new Map([...DIGITS].map((c, i) => [c, i]));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX = /^(?:[0-9a-f]{2})+$/;

function bitsToDigits(bytes: Buffer): string {
  let out = "";
  let acc = 0;
  let bits = 0;
  for (const byte of bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += DIGITS[(acc >> bits) & 63];
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += DIGITS[(acc << (6 - bits)) & 63];
  return out;
}

function digitsToBits(text: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  let acc = 0;
  let bits = 0;
  let n = 0;
  for (const c of text) {
    acc = (acc << 6) | (DIGIT_VALUE.get(c) ?? 0);
    bits += 6;
    if (bits >= 8 && n < length) {
      bits -= 8;
      out[n++] = (acc >> bits) & 255;
    }
    acc &= (1 << bits) - 1;
  }
  return out;
}

/** A canonical UUID → 22 order-preserving digits; `msg_<uuid>` → `~` + 22; else `!` + text. */
export function encodeId(id: string): string {
  if (UUID.test(id)) return bitsToDigits(Buffer.from(id.replaceAll("-", ""), "hex"));
  if (id.startsWith("msg_") && UUID.test(id.slice(4))) return MSG + encodeId(id.slice(4));
  return RAW + id;
}

export function decodeId(text: string): string {
  if (text.startsWith(RAW)) return text.slice(1);
  if (text.startsWith(MSG)) return `msg_${decodeId(text.slice(1))}`;
  const hex = digitsToBits(text, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Lowercase hex (keyed hashes, match keys) → base64url, a third shorter; else `!` + text. */
export function encodeHex(hex: string): string {
  return HEX.test(hex) ? Buffer.from(hex, "hex").toString("base64url") : RAW + hex;
}

export function decodeHex(text: string): string {
  return text.startsWith(RAW) ? text.slice(1) : Buffer.from(text, "base64url").toString("hex");
}

/** An ISO instant → epoch ms when that decodes to the same string; else the string itself. */
export function encodeTime(iso: string): number | string {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) && new Date(ms).toISOString() === iso ? ms : iso;
}

export function decodeTime(value: number | string): string {
  return typeof value === "number" ? new Date(value).toISOString() : value;
}

/** Epoch ms as 13 digits: feed members sort by it as text (years 2001–2286). */
export const sortableMs = (iso: string): string => String(Date.parse(iso)).padStart(13, "0");

/**
 * Frozen deflate dictionary: what receipts, preferences, hours and opt-out bases typically
 * say, so those texts pack to their few varying bytes. Part of the layout: changing it means
 * a new LAYOUT_VERSION.
 */
const DICTIONARY = Buffer.from(
  [
    '{"alg":"EdDSA","kid":"","typ":"consent-receipt+jws"}',
    '{"version":"onewindow-receipt/1","jurisdiction":"CN","iat":1795821890,"jti":"01a21f53-6aa1-70ef-be42-17d8708c3090","iss":"onewindow","sub":"","recipient":{"id":"","name":"","contact":""},"windowId":"01a21f53-6aa1-7552-bb5f-2031ed3cef3b","purpose":"car-insurance renewal offer","channels":["call","sms","telegram","email"],"window":{"opensAt":"2026-11-27T23:24:50.185Z","closesAt":"2026-12-17T16:00:00.000Z","timezone":"Asia/Shanghai","days":["mon","tue","wed","thu","fri","sat","sun"],"hours":[{"from":"09:00","to":"20:00"}],"maxAttempts":3},"renewalDate":"2026-12-17","dataCategories":["phone","renewal_date","name","vehicle"],"consentText":{"version":"2026-01","sha256":"","language":"zh"},"phoneVerified":true,"retention":"5 years"}',
    '{"renewalDate":"2026-12-17","insurers":[""],"nobody":true,"channels":["call","sms","telegram","email"],"days":["mon","tue","wed","thu","fri","sat","sun"],"hours":[{"from":"09:00","to":"20:00"}],"daysBefore":30,"maxAttempts":3}',
    "CN telemarketing notice for property insurers: no call within one year; 2018 harassing-calls plan: no call after a refusal",
    "TCPA, 47 CFR 64.1200(d): company-specific do-not-call request; consent revoked",
    "UK GDPR Art. 21(2)-(3) and PECR reg. 21: objection to direct marketing",
    "GDPR Art. 21(2)-(3) and Art. 7(3): objection to direct marketing, consent withdrawn",
  ].join(""),
);

const deflate = (bytes: Buffer) => deflateRawSync(bytes, { level: 9, dictionary: DICTIONARY });
const inflate = (bytes: Buffer) => inflateRawSync(bytes, { dictionary: DICTIONARY });

/** A text deflated against the dictionary when that is shorter; else `!` + text. */
export function encodeText(text: string): string {
  const packed = PACKED + deflate(Buffer.from(text)).toString("base64url");
  return packed.length < text.length && decodeText(packed) === text ? packed : RAW + text;
}

export function decodeText(value: string): string {
  if (value.startsWith(RAW)) return value.slice(1);
  return inflate(Buffer.from(value.slice(1), "base64url")).toString();
}

/**
 * A compact JWS: header and payload deflated (they are mostly the dictionary's words), the
 * signature alongside; `!` + the JWS when the three segments do not re-encode exactly.
 */
export function encodeJws(jws: string): string {
  const parts = jws.split(".");
  if (parts.length === 3) {
    const [header, payload, signature] = parts.map((p) => Buffer.from(p, "base64url")) as [
      Buffer,
      Buffer,
      Buffer,
    ];
    const lengths = Buffer.alloc(4);
    lengths.writeUInt16BE(header.length, 0);
    lengths.writeUInt16BE(signature.length, 2);
    const packed =
      PACKED + deflate(Buffer.concat([lengths, header, signature, payload])).toString("base64url");
    if (decodeJws(packed) === jws) return packed;
  }
  return RAW + jws;
}

export function decodeJws(value: string): string {
  if (value.startsWith(RAW)) return value.slice(1);
  const bytes = inflate(Buffer.from(value.slice(1), "base64url"));
  const headerEnd = 4 + bytes.readUInt16BE(0);
  const signatureEnd = headerEnd + bytes.readUInt16BE(2);
  return [bytes.subarray(4, headerEnd), bytes.subarray(signatureEnd), bytes.subarray(headerEnd, signatureEnd)]
    .map((b) => b.toString("base64url"))
    .join(".");
}

/** A JSON array of plain strings (days, channels) → comma-joined; else `!` + JSON. */
export function encodeList(json: string): string {
  const list: unknown = JSON.parse(json);
  if (Array.isArray(list) && list.every((s) => typeof s === "string")) {
    const joined = list.join(",");
    if (decodeList(joined) === json) return joined;
  }
  return RAW + json;
}

export function decodeList(value: string): string {
  if (value.startsWith(RAW)) return value.slice(1);
  return JSON.stringify(value === "" ? [] : value.split(","));
}

type Scalar = string | number | null;

interface FieldCodec {
  encode(value: string): Scalar;
  decode(value: Scalar): string | number;
}

const codec = (encode: (v: string) => Scalar, decode: (v: never) => string): FieldCodec => ({
  encode,
  decode: decode as (v: Scalar) => string,
});

/** Field codecs by name; a field without one is stored as it is (strings, numbers). */
const CODECS = {
  id: codec(encodeId, decodeId),
  time: codec(encodeTime, decodeTime),
  hex: codec(encodeHex, decodeHex),
  text: codec(encodeText, decodeText),
  jws: codec(encodeJws, decodeJws),
  list: codec(encodeList, decodeList),
  plain: { encode: (v: string) => v, decode: (v: Scalar) => v as string | number },
} satisfies Record<string, FieldCodec>;

type CodecName = keyof typeof CODECS;

/**
 * The stored records, field by field in storage order (immutable fields first, fields that
 * are mostly null last, so their trailing nulls cost nothing). Changing a list changes the
 * layout. The Lua scripts receive the names (scripts.ts) and work on named rows.
 */
export const RECORDS = {
  /** consents */
  c: {
    id: "id",
    owner_id: "id",
    preferences: "text",
    jurisdiction: "plain",
    timezone: "plain",
    language: "plain",
    text_version: "plain",
    text_hash: "hex",
    agreed_at: "time",
    superseded_at: "time",
  },
  /** receipts */
  r: {
    id: "id",
    insurer_id: "plain",
    payload_hash: "hex",
    issued_at: "time",
    owner_id: "id",
    consent_id: "id",
    jws: "jws",
    revoked_at: "time",
    revoke_reason: "plain",
  },
  /** windows */
  w: {
    id: "id",
    owner_id: "id",
    insurer_id: "plain",
    receipt_id: "id",
    consent_id: "id",
    renewal_date: "plain",
    opens_at: "time",
    closes_at: "time",
    timezone: "plain",
    days: "list",
    hours: "text",
    channels: "list",
    max_attempts: "plain",
    attempts_used: "plain",
    verification_code: "plain",
    stop_token: "plain",
    created_at: "time",
    delivered_at: "time",
    acknowledged_at: "time",
    ack_notified_at: "time",
    ack_reminder_at: "time",
    revoked_at: "time",
    revoke_reason: "plain",
    closed_at: "time",
  },
  /** opt-outs */
  p: {
    id: "id",
    insurer_id: "plain",
    phone_hash: "hex",
    match_key: "hex",
    reason: "plain",
    effective_at: "time",
    honour_by: "time",
    basis: "text",
    owner_id: "id",
    until: "time",
    acknowledged_at: "time",
    ack_notified_at: "time",
    withdrawn_at: "time",
  },
  /** attempts */
  a: {
    id: "id",
    window_id: "id",
    insurer_id: "plain",
    channel: "plain",
    outcome: "plain",
    at: "time",
    idempotency_key: "plain",
    remaining: "plain",
  },
  /** owner notices */
  n: {
    id: "id",
    owner_id: "id",
    kind: "plain",
    insurer_id: "plain",
    created_at: "time",
    sent_at: "time",
  },
  /** the owner's references to its outbox entries (the entries live in the insurer queues) */
  x: {
    id: "id",
    insurer_id: "plain",
  },
  /**
   * an outbox entry in its insurer's queue (the hash field is its id, the queue names the
   * insurer); a finished entry drops its lease, retry time and error
   */
  q: {
    owner_id: "id",
    type: "plain",
    subject_id: "id",
    webhook_id: "id",
    due_at: "time",
    created_at: "time",
    _qseq: "plain",
    state: "plain",
    attempts: "plain",
    delivered_at: "time",
    finished_at: "time",
    last_error: "plain",
    next_attempt_at: "time",
    lease_until: "time",
    lease_worker: "plain",
  },
} as const satisfies Record<string, Record<string, CodecName>>;

export type RecordKind = keyof typeof RECORDS;

/** The record kinds kept in an owner's document, in its JSON. */
export const DOC_KINDS = ["c", "r", "w", "p", "a", "n", "x"] as const satisfies readonly RecordKind[];

/** Field names in storage order, per kind: what the Lua scripts are told. */
export const FIELD_ORDER = Object.fromEntries(
  Object.entries(RECORDS).map(([kind, fields]) => [kind, Object.keys(fields)]),
) as Record<RecordKind, string[]>;

type Row = Record<string, unknown>;

/** A row's fields encoded (nulls and unknown fields dropped): what the scripts are sent. */
export function encodeRow(kind: RecordKind, row: object): Record<string, Scalar> {
  const out: Record<string, Scalar> = {};
  for (const [field, name] of Object.entries(RECORDS[kind]) as [string, CodecName][]) {
    const value = (row as Row)[field];
    if (value === null || value === undefined) continue;
    out[field] = typeof value === "string" ? CODECS[name].encode(value) : (value as number);
  }
  return out;
}

/** A named encoded row (as the scripts return them) back to the row shape, nulls included. */
export function decodeRow<T>(kind: RecordKind, named: Record<string, unknown>): T {
  const out: Row = {};
  for (const [field, name] of Object.entries(RECORDS[kind]) as [string, CodecName][]) {
    const value = named[field];
    out[field] = value === null || value === undefined ? null : CODECS[name].decode(value as Scalar);
  }
  return out as T;
}

/** A stored positional record as a named encoded row. */
export function namedOf(kind: RecordKind, tuple: unknown): Record<string, unknown> {
  const values = Array.isArray(tuple) ? tuple : [];
  const out: Record<string, unknown> = {};
  FIELD_ORDER[kind].forEach((field, i) => {
    if (values[i] !== null && values[i] !== undefined) out[field] = values[i];
  });
  return out;
}

/** Profile fields of the owner document: row column → short stored name, and its codec. */
export const PROFILE = {
  telegram_user_id: ["g", "plain"],
  chat_id: ["ch", "plain"],
  language: ["l", "plain"],
  phone_enc: ["pe", "plain"],
  phone_hash: ["ph", "hex"],
  phone_verified: ["pv", "plain"],
  country: ["co", "plain"],
  timezone: ["tz", "plain"],
  jurisdiction: ["j", "plain"],
  name_enc: ["ne", "plain"],
  vehicle_enc: ["ve", "plain"],
  sandbox: ["sb", "plain"],
  created_at: ["ca", "time"],
  updated_at: ["ua", "time"],
  version: ["v", "plain"],
  renewed_at: ["re", "time"],
  deleted_at: ["de", "time"],
} as const satisfies Record<string, readonly [string, CodecName]>;

export type ProfileColumn = keyof typeof PROFILE;

/** A profile column's value as stored in the document. */
export function encodeProfile(column: ProfileColumn, value: string | number): Scalar {
  return typeof value === "string" ? CODECS[PROFILE[column][1]].encode(value) : value;
}

/** The document's profile as row columns (absent ones left out). */
export function decodeProfile(
  stored: Record<string, unknown>,
): Partial<Record<ProfileColumn, string | number>> {
  const out: Partial<Record<ProfileColumn, string | number>> = {};
  for (const [column, [short, name]] of Object.entries(PROFILE) as [ProfileColumn, [string, CodecName]][]) {
    const value = stored[short];
    if (value !== null && value !== undefined) out[column] = CODECS[name].decode(value as Scalar);
  }
  return out;
}

/** An owner document as read: the profile (short names) and the named records of each kind. */
export interface OwnerDoc {
  o: Record<string, unknown>;
  records: Record<(typeof DOC_KINDS)[number], Record<string, unknown>[]>;
}

export function parseDoc(json: string | null | undefined): OwnerDoc | undefined {
  if (!json) return undefined;
  const raw = JSON.parse(json) as Record<string, unknown>;
  const records = Object.fromEntries(
    DOC_KINDS.map((kind) => {
      const list = raw[kind];
      return [kind, (Array.isArray(list) ? list : []).map((t) => namedOf(kind, t))];
    }),
  ) as OwnerDoc["records"];
  return { o: (raw.o ?? {}) as Record<string, unknown>, records };
}
