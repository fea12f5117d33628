/**
 * FROZEN: layout 4's codec as it shipped (main before issue 19), kept verbatim and used only by
 * the migration (layout4.ts) to read layout-4 documents and queue rows; that is why it is long
 * and why it is not refactored. Nothing writes this encoding any more.
 *
 * The compact value encodings of the Redis layout (LAYOUT_VERSION). Every encoding is exact:
 * a value is only shortened when decoding gives back the very same string, otherwise it is
 * kept as it was behind a marker character no short form starts with. Records are the row
 * shapes both adapters share (store/rows.ts); here each field gets a codec, and a record is stored as a
 * positional array in the order of its field list (trailing nulls dropped).
 */
import { createHash } from "node:crypto";
import { deflateRawSync, inflateRawSync } from "node:zlib";

/**
 * Bumped whenever a stored encoding changes (field lists, codecs, the dictionary below): a
 * process that finds another layout in the store refuses to start (redis-store.ts).
 */
export const LAYOUT_VERSION = "4";

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

/** Marks an id stored relative to another: `^` + its digits after the ones they share. */
const REL = "^";
const isPlainRef = (ref: string) => ref.length === 22 && !ref.startsWith(RAW) && !ref.startsWith(MSG);
/** How many leading characters two encoded ids share. */
function sharedDigits(a: string, b: string): number {
  let n = 0;
  while (n < a.length && a[n] === b[n]) n++;
  return n;
}
/**
 * An encoded id relative to another (`base`): `^` + the digits after their shared prefix, when
 * they share at least two. Ids made in one millisecond share 8 digits, ids of one changeset
 * 11 (crypto/uuid-v7.ts uuidv7Group), so `^` + 11 stands for a sibling's id. The length says
 * how many digits come from `base`: {@link fromRelative}.
 */
export function toRelative(ref: string, base: string): string | undefined {
  if (!isPlainRef(ref) || !isPlainRef(base)) return undefined;
  const n = sharedDigits(ref, base);
  return n > 1 ? REL + ref.slice(n) : undefined;
}

export function fromRelative(text: string, base: string): string {
  return base.slice(0, 23 - text.length) + text.slice(1);
}

/**
 * An id (or `msg_<uuid>`) stored relative to `base`, its record's own id ({@link toRelative};
 * `~^…` for a `msg_` id). Anything else is encoded as {@link encodeId} does.
 */
export function encodeRelId(id: string, base: string): string {
  const ref = encodeId(id);
  const msg = ref.startsWith(MSG);
  const short = toRelative(msg ? ref.slice(1) : ref, encodeId(base));
  if (short !== undefined) {
    const text = `${msg ? MSG : ""}${short}`;
    if (decodeRelId(text, base) === id) return text;
  }
  return ref;
}

export function decodeRelId(text: string, base: string): string {
  if (text.startsWith(MSG) && text[1] === REL) return `msg_${decodeRelId(text.slice(1), base)}`;
  if (text.startsWith(REL)) return decodeId(fromRelative(text, encodeId(base)));
  return decodeId(text);
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

/** Epoch ms as 8 order-preserving digits (48 bits): feed members sort by it as text. */
export function sortableMs(iso: string): string {
  const bytes = Buffer.alloc(6);
  bytes.writeUIntBE(Math.min(Math.max(Date.parse(iso) || 0, 0), 2 ** 48 - 1), 0, 6);
  return bitsToDigits(bytes);
}

/**
 * Frozen deflate dictionary: what receipts, preferences, hours and opt-out bases typically
 * say, so those texts pack to their few varying bytes. Part of the layout: changing it means
 * a new LAYOUT_VERSION.
 */
const DICTIONARY = Buffer.from(
  [
    '{"renewalDate":"2026-12-17","insurers":[""],"nobody":true,"channels":["call","sms","telegram","email"],"days":["mon","tue","wed","thu","fri","sat","sun"],"hours":[{"from":"09:00","to":"20:00"}],"daysBefore":30,"maxAttempts":3}',
    "CN telemarketing notice for property insurers: no call within one year; 2018 harassing-calls plan: no call after a refusal",
    "TCPA, 47 CFR 64.1200(d): company-specific do-not-call request; consent revoked",
    "UK GDPR Art. 21(2)-(3) and PECR reg. 21: objection to direct marketing",
    "GDPR Art. 21(2)-(3) and Art. 7(3): objection to direct marketing, consent withdrawn",
    // A receipt's skeleton (encodeJws): last, so that its matches are the nearest and cheapest.
    '{"alg":"EdDSA","kid":"\u0004","typ":"consent-receipt+jws"}\n{"version":"onewindow-receipt/1","jurisdiction":"CN","iat":1795821890,"jti":"\u0005","iss":"onewindow","sub":"\u0002","recipient":{"id":"","name":"","contact":""},"windowId":"\u0001","purpose":"car-insurance renewal offer","channels":["call","sms","telegram","email"],"window":{"opensAt":"\u0003","closesAt":"\u0003","timezone":"Asia/Shanghai","days":["mon","tue","wed","thu","fri","sat","sun"],"hours":[{"from":"09:00","to":"20:00"}],"maxAttempts":3},"renewalDate":"2026-12-17","dataCategories":["phone","renewal_date","name","vehicle"],"consentText":{"version":"2026-01","sha256":"\u0002","language":"zh"},"phoneVerified":true,"retention":"5 years"}',
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
 * A JWS in its layout-2 form: header and payload deflated (they are mostly the dictionary's
 * words), the signature alongside; `!` + the JWS when the three segments do not re-encode
 * exactly. Layout 3 writes {@link encodeJws}'s split form and falls back to this one.
 */
function packJwsDeflated(jws: string): string | undefined {
  const parts = jws.split(".");
  if (parts.length !== 3) return undefined;
  const [header, payload, signature] = parts.map((p) => Buffer.from(p, "base64url")) as [
    Buffer,
    Buffer,
    Buffer,
  ];
  const lengths = Buffer.alloc(4);
  lengths.writeUInt16BE(header.length, 0);
  lengths.writeUInt16BE(signature.length, 2);
  const packed = PACKED + deflate(Buffer.concat([lengths, header, signature, payload])).toString("base64url");
  return decodeJws(packed) === jws ? packed : undefined;
}

/** Marks a JWS split into signature, binary tokens and a deflated skeleton. */
const SPLIT = "*";

/**
 * The high-entropy tokens a receipt's JSON is full of, cut out of its text as raw bytes: the
 * text that remains (the skeleton, with one control character where each token was) is
 * mostly the dictionary's words and deflates to a few bytes. Each kind must decode exactly;
 * a token that would not is left in the text.
 */
const TOKEN_KINDS = [
  {
    size: 16,
    pack: (t: string) => (UUID.test(t) ? Buffer.from(t.replaceAll("-", ""), "hex") : undefined),
    unpack: (b: Buffer) => {
      const hex = b.toString("hex");
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    },
  },
  {
    size: 32,
    pack: (t: string) => (t.length === 64 && HEX.test(t) ? Buffer.from(t, "hex") : undefined),
    unpack: (b: Buffer) => b.toString("hex"),
  },
  {
    size: 6,
    pack: (t: string) => {
      const ms = Date.parse(t);
      if (!(ms >= 0 && ms < 2 ** 48) || new Date(ms).toISOString() !== t) return undefined;
      const b = Buffer.alloc(6);
      b.writeUIntBE(ms, 0, 6);
      return b;
    },
    unpack: (b: Buffer) => new Date(b.readUIntBE(0, 6)).toISOString(),
  },
  {
    size: 32,
    pack: (t: string) => {
      const b = Buffer.from(t, "base64url");
      return b.length === 32 && b.toString("base64url") === t ? b : undefined;
    },
    unpack: (b: Buffer) => b.toString("base64url"),
  },
] as const;
const TOKEN =
  /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{64}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z|[A-Za-z0-9_-]{43}/g;
/** Skeleton markers: token kind i is character i + 1; OWN_ID stands for the record's own id. */
const OWN_ID = "\u0005";
// biome-ignore lint/suspicious/noControlCharactersInRegex: the markers are control characters, which JSON text never holds raw
const MARKERS = /[\u0001-\u0005]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: a text holding one cannot be split (encodeJws)
const CONTROL = /[\u0000-\u001f]/;
/** Splits the header from the payload in a skeleton (no control character is left in either). */
const SEPARATOR = "\n";

/** A JWS header and payload text as a skeleton and the bytes of the tokens cut out of it. */
function skeletonOf(text: string, ownId?: string): { skeleton: string; tokens: Buffer[] } {
  const tokens: Buffer[] = [];
  const skeleton = text.replace(TOKEN, (token) => {
    if (ownId !== undefined && token === ownId) return OWN_ID;
    for (const [i, kind] of TOKEN_KINDS.entries()) {
      const bytes = kind.pack(token);
      if (bytes && bytes.length === kind.size) {
        tokens.push(bytes);
        return String.fromCharCode(i + 1);
      }
    }
    return token;
  });
  return { skeleton, tokens };
}

/**
 * A compact JWS (the receipt's largest part): `*` + base64url of [signature length, signature,
 * skeleton length, deflated skeleton, tokens] — the header and payload texts with their UUIDs,
 * hex digests, instants and key ids cut out as raw bytes, and the receipt's own id (`ownId`,
 * its `jti`) left out altogether. Else the layout-2 deflated form, else `!` + the JWS.
 */
export function encodeJws(jws: string, ownId?: string): string {
  const parts = jws.split(".");
  if (parts.length === 3) {
    const [header, payload, signature] = parts.map((p) => Buffer.from(p, "base64url")) as [
      Buffer,
      Buffer,
      Buffer,
    ];
    const text = `${header.toString()}${SEPARATOR}${payload.toString()}`;
    if (!CONTROL.test(header.toString()) && !CONTROL.test(payload.toString()) && signature.length < 256) {
      const { skeleton, tokens } = skeletonOf(text, ownId);
      const packedSkeleton = deflate(Buffer.from(skeleton));
      if (packedSkeleton.length < 65_536) {
        const head = Buffer.alloc(3);
        head.writeUInt8(signature.length, 0);
        const length = Buffer.alloc(2);
        length.writeUInt16BE(packedSkeleton.length, 0);
        const packed =
          SPLIT +
          Buffer.concat([head.subarray(0, 1), signature, length, packedSkeleton, ...tokens]).toString(
            "base64url",
          );
        if (decodeJws(packed, ownId) === jws) return packed;
      }
    }
  }
  return packJwsDeflated(jws) ?? RAW + jws;
}

export function decodeJws(value: string, ownId?: string): string {
  if (value.startsWith(RAW)) return value.slice(1);
  if (value.startsWith(SPLIT)) {
    const bytes = Buffer.from(value.slice(1), "base64url");
    const signatureEnd = 1 + bytes.readUInt8(0);
    const skeletonEnd = signatureEnd + 2 + bytes.readUInt16BE(signatureEnd);
    const skeleton = inflate(bytes.subarray(signatureEnd + 2, skeletonEnd)).toString();
    let at = skeletonEnd;
    const text = skeleton.replace(MARKERS, (marker) => {
      if (marker === OWN_ID) return ownId ?? "";
      const kind = TOKEN_KINDS[marker.charCodeAt(0) - 1] as (typeof TOKEN_KINDS)[number];
      const token = kind.unpack(bytes.subarray(at, at + kind.size));
      at += kind.size;
      return token;
    });
    const cut = text.indexOf(SEPARATOR);
    return [text.slice(0, cut), text.slice(cut + 1)]
      .map((t) => Buffer.from(t).toString("base64url"))
      .concat(bytes.subarray(1, signatureEnd).toString("base64url"))
      .join(".");
  }
  const bytes = inflate(Buffer.from(value.slice(1), "base64url"));
  const headerEnd = 4 + bytes.readUInt16BE(0);
  const signatureEnd = headerEnd + bytes.readUInt16BE(2);
  return [bytes.subarray(4, headerEnd), bytes.subarray(signatureEnd), bytes.subarray(headerEnd, signatureEnd)]
    .map((b) => b.toString("base64url"))
    .join(".");
}

/** SHA-256 hex of a compact JWS's payload bytes (crypto/receipts.ts payloadHash). */
export function jwsPayloadHash(jws: string): string | undefined {
  const part = jws.split(".")[1];
  return part === undefined
    ? undefined
    : createHash("sha256").update(Buffer.from(part, "base64url")).digest("hex");
}

/** Outbox entry types as a number; anything else `!` + the type. */
const TYPES = ["window.opened", "window.revoked", "optout.filed", "optout.withdrawn"];

export function encodeType(type: string): string | number {
  return TYPES.includes(type) ? TYPES.indexOf(type) + 1 : RAW + type;
}

export function decodeType(value: string | number): string {
  if (typeof value === "number") return TYPES[value - 1] ?? String(value);
  return value.startsWith(RAW) ? value.slice(1) : value;
}

/**
 * Known values as their number (1-based; only for fields the scripts never compare); anything
 * else as `!` + the value.
 */
function enumCodec(values: readonly string[]): FieldCodec {
  return {
    encode: (v: string) => (values.includes(v) ? values.indexOf(v) + 1 : RAW + v),
    decode: (v: Scalar) => {
      if (typeof v === "number") return values[v - 1] ?? String(v);
      const text = String(v);
      return text.startsWith(RAW) ? text.slice(1) : text;
    },
  };
}

/**
 * A field-cipher token (`v1.<iv>.<ciphertext>.<tag>`, base64url parts, a 12-byte IV and a
 * 16-byte tag: crypto/field-cipher.ts) → `~` + base64url of IV, tag and ciphertext; else `!`
 * + the token.
 */
export function encodeToken(token: string): string {
  const [version, ...parts] = token.split(".");
  if (version === "v1" && parts.length === 3) {
    const [iv, ct, tag] = parts.map((p) => Buffer.from(p, "base64url")) as [Buffer, Buffer, Buffer];
    if (iv.length === 12 && tag.length === 16) {
      const packed = PACKED + Buffer.concat([iv, tag, ct]).toString("base64url");
      if (decodeToken(packed) === token) return packed;
    }
  }
  return RAW + token;
}

export function decodeToken(value: string): string {
  if (!value.startsWith(PACKED)) return value.startsWith(RAW) ? value.slice(1) : value;
  const bytes = Buffer.from(value.slice(1), "base64url");
  const part = (b: Buffer) => b.toString("base64url");
  return `v1.${part(bytes.subarray(0, 12))}.${part(bytes.subarray(28))}.${part(bytes.subarray(12, 28))}`;
}

const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/** A JSON list of weekdays in week order → a 7-bit number; else as {@link encodeList}. */
export function encodeDays(json: string): string | number {
  const list: unknown = JSON.parse(json);
  if (Array.isArray(list)) {
    const bits = list.reduce<number>((acc, day) => acc | (1 << WEEKDAYS.indexOf(String(day))), 0);
    if (decodeDays(bits) === json) return bits;
  }
  return encodeList(json);
}

export function decodeDays(value: string | number): string {
  if (typeof value === "string") return decodeList(value);
  return JSON.stringify(WEEKDAYS.filter((_, i) => value & (1 << i)));
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

/**
 * A field codec. `own` is the record's own id (decoded): codecs that store a value relative to
 * it (`rel`, `jws`) need it to decode; records without an id pass undefined.
 */
interface FieldCodec {
  encode(value: string, own: string | undefined): Scalar;
  decode(value: Scalar, own: string | undefined): string | number;
}

const codec = (encode: (v: string) => Scalar, decode: (v: never) => string): FieldCodec => ({
  encode,
  decode: decode as (v: Scalar) => string,
});

/** Field codecs by name; a field without one is stored as it is (strings, numbers). */
const CODECS = {
  id: codec(encodeId, decodeId),
  rel: {
    encode: (v: string, own: string | undefined) => (own === undefined ? encodeId(v) : encodeRelId(v, own)),
    decode: (v: Scalar, own: string | undefined) =>
      own === undefined ? decodeId(String(v)) : decodeRelId(String(v), own),
  },
  time: codec(encodeTime, decodeTime),
  hex: codec(encodeHex, decodeHex),
  text: codec(encodeText, decodeText),
  jws: {
    encode: (v: string, own: string | undefined) => encodeJws(v, own),
    decode: (v: Scalar, own: string | undefined) => decodeJws(String(v), own),
  },
  list: codec(encodeList, decodeList),
  days: {
    encode: (v: string) => encodeDays(v),
    decode: (v: Scalar) => decodeDays(v as string | number),
  },
  type: { encode: (v: string) => encodeType(v), decode: (v: Scalar) => decodeType(v as string | number) },
  reason: enumCodec(["not_chosen", "owner_request", "refused_on_call", "renewed", "deleted"]),
  state: enumCodec(["delivered", "skipped", "dead", "pending"]),
  token: codec(encodeToken, decodeToken),
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
    issued_at: "time",
    owner_id: "id",
    consent_id: "id",
    jws: "jws",
    payload_hash: "hex",
    revoked_at: "time",
    revoke_reason: "plain",
    /**
     * last, so a receipt stored before they were kept decodes with none (no new layout); equal
     * to the profile's (the same ciphertext, as the changeset script copies it) they cost a byte
     */
    name_enc: "token",
    vehicle_enc: "token",
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
    days: "days",
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
    reason: "reason",
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
    /** last, so an attempt recorded before it was kept decodes with none (no new layout) */
    fingerprint: "plain",
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
  /**
   * the owner's outbox entries: while pending only `id` and `insurer_id` (the entry itself is
   * in its insurer's queue, which it leaves when delivered or skipped); then the whole entry
   */
  x: {
    id: "id",
    insurer_id: "plain",
    subject_id: "id",
    state: "state",
    attempts: "plain",
    delivered_at: "time",
    type: "type",
    due_at: "time",
    created_at: "time",
    last_error: "plain",
    next_attempt_at: "time",
    /** last: absent when it is `msg_` + the entry's id (what the planner gives) */
    webhook_id: "rel",
  },
  /**
   * a pending or dead outbox entry in its insurer's queue (the hash field is its id, the queue
   * names the insurer; `created_at` and `next_attempt_at` are absent when they equal `due_at`,
   * `state` while pending; `_qseq` is the insertion order, `_s` the claim score where the
   * times do not give it: scripts.ts CLAIMABLE)
   */
  q: {
    owner_id: "id",
    type: "type",
    subject_id: "rel",
    webhook_id: "rel",
    due_at: "time",
    _qseq: "plain",
    attempts: "plain",
    state: "plain",
    created_at: "time",
    last_error: "plain",
    next_attempt_at: "time",
    lease_until: "time",
    lease_worker: "plain",
    finished_at: "time",
    delivered_at: "time",
    _s: "plain",
  },
} as const satisfies Record<string, Record<string, CodecName>>;

export type RecordKind = keyof typeof RECORDS;

/** The record kinds kept in an owner's document, in its JSON. */
export const DOC_KINDS = ["c", "r", "w", "p", "a", "n", "x"] as const satisfies readonly RecordKind[];

/** The instant fields of each document kind: stored relative to the profile's creation. */
export const DOC_TIMES = Object.fromEntries(
  DOC_KINDS.map((kind) => [
    kind,
    Object.entries(RECORDS[kind])
      .filter(([, codec]) => codec === "time")
      .map(([field]) => field),
  ]),
) as Record<(typeof DOC_KINDS)[number], string[]>;

/** Field names in storage order, per kind: what the Lua scripts are told. */
export const FIELD_ORDER = Object.fromEntries(
  Object.entries(RECORDS).map(([kind, fields]) => [kind, Object.keys(fields)]),
) as Record<RecordKind, string[]>;

type Row = Record<string, unknown>;

/**
 * The webhook id an outbox entry gets unless it has another (domain/plans.ts): `msg_` and its
 * own id, which the entry's id then stands for.
 */
const webhookIdOf = (own: string | undefined) => (own === undefined ? undefined : `msg_${own}`);

/** A row's own id (decoded), which `rel` and `jws` fields are stored relative to. */
const ownIdOf = (row: Row): string | undefined => (typeof row.id === "string" ? row.id : undefined);

/**
 * A row's fields encoded (nulls and unknown fields dropped): what the scripts are sent. Values
 * a decoder derives are left out: a receipt's payload hash while its JWS is kept, an outbox
 * entry's creation and next-attempt times when they equal its due time, a queued entry's
 * state while pending.
 */
export function encodeRow(kind: RecordKind, row: object): Record<string, Scalar> {
  const r = row as Row;
  const own = ownIdOf(r);
  const out: Record<string, Scalar> = {};
  for (const [field, name] of Object.entries(RECORDS[kind]) as [string, CodecName][]) {
    const value = r[field];
    if (value === null || value === undefined) continue;
    if (field === "payload_hash" && typeof r.jws === "string" && jwsPayloadHash(r.jws) === value) continue;
    if ((field === "created_at" || field === "next_attempt_at") && (kind === "q" || kind === "x")) {
      if (value === r.due_at) continue;
    }
    if (kind === "q" && field === "state" && value === "pending") continue;
    if (field === "webhook_id" && (kind === "q" || kind === "x") && value === webhookIdOf(own)) continue;
    out[field] = typeof value === "string" ? CODECS[name].encode(value, own) : (value as number);
  }
  return out;
}

/**
 * A named encoded row (as the scripts return them) back to the row shape, nulls included. A
 * queue row's id is its hash field: the caller puts it in `named.id` (encoded).
 */
export function decodeRow<T>(kind: RecordKind, named: Record<string, unknown>): T {
  const out: Row = {};
  const own = named.id === undefined || named.id === null ? undefined : decodeId(String(named.id));
  for (const [field, name] of Object.entries(RECORDS[kind]) as [string, CodecName][]) {
    const value = named[field];
    out[field] = value === null || value === undefined ? null : CODECS[name].decode(value as Scalar, own);
  }
  if (kind === "r" && out.payload_hash === null && typeof out.jws === "string") {
    out.payload_hash = jwsPayloadHash(out.jws) ?? null;
  }
  if ((kind === "q" || kind === "x") && out.created_at === null) out.created_at = out.due_at;
  if ((kind === "q" || kind === "x") && out.next_attempt_at === null) out.next_attempt_at = out.due_at;
  if (kind === "q" && out.state === null) out.state = "pending";
  if ((kind === "q" || kind === "x") && out.webhook_id === null && out.type !== null) {
    out.webhook_id = webhookIdOf(own) ?? null;
  }
  return out as T;
}

/** A stored positional record (a queue entry) as a named encoded row. */
export function namedOf(kind: RecordKind, tuple: unknown): Record<string, unknown> {
  const values = Array.isArray(tuple) ? tuple : [];
  const out: Record<string, unknown> = {};
  FIELD_ORDER[kind].forEach((field, i) => {
    if (values[i] !== null && values[i] !== undefined) out[field] = values[i];
  });
  return out;
}

/**
 * In an owner document's record lists, a value equal to the same field of the record before it
 * is stored as `{}` (ditto), `true` stands for "every field from here on as in the record
 * before", an id sharing two or more leading digits with the id before is stored as `^` + its
 * other digits ({@link toRelative}: `^` + 11 for a record of the same changeset), and
 * `owner_id` equal to the document's owner as `1`. The scripts (scripts.ts PRELUDE) read and
 * write the same; a ditto is only written for a value longer than itself.
 *
 * These pieces are exported for the inverse of {@link unpackRecords} that the layout test packs
 * with (test/store/support/pack-records.ts): production never packs lists, the scripts do.
 */
export const OWN_OWNER = 1;
/**
 * A timezone, phone hash, jurisdiction, language, or a receipt's agreed name or vehicle equal to
 * the profile's is stored as 1.
 */
export const PROFILE_REF: Record<string, string> = {
  timezone: "tz",
  phone_hash: "ph",
  jurisdiction: "j",
  language: "l",
  name_enc: "ne",
  vehicle_enc: "ve",
};
/**
 * References to other records of the document, stored as their position (1-based) in the
 * target list; an outbox entry's subject is an opt-out (positive) or a window (negative).
 */
export const REFS: Partial<Record<RecordKind, Record<string, string>>> = {
  w: { receipt_id: "r", consent_id: "c" },
  r: { consent_id: "c" },
  x: { subject_id: "x" },
};

/** The document around a list being read or written: its profile and the lists before it. */
export interface DocContext {
  o: Record<string, unknown>;
  records: Partial<Record<RecordKind, Record<string, unknown>[]>>;
  /** The id of the record before, in document order (kinds in DOC_KINDS order). */
  prevId?: string;
}

export const isTime = (kind: RecordKind, field: string) =>
  (DOC_TIMES as Partial<Record<RecordKind, string[]>>)[kind]?.includes(field) ?? false;
/** Instants in a document count from the profile's creation (epoch ms). */
export const since = (doc: DocContext) => (typeof doc.o.ca === "number" ? doc.o.ca : 0);
/** An outbox entry's subject record (an opt-out or a window of the document). */
export const subjectOf = (doc: DocContext, id: unknown) =>
  [...(doc.records.p ?? []), ...(doc.records.w ?? [])].find((row) => row.id === id);

function resolveRef(doc: DocContext, kind: RecordKind, field: string, position: number): unknown {
  const target = REFS[kind]?.[field];
  if (!target) return position;
  const list = target === "x" ? doc.records[position > 0 ? "p" : "w"] : doc.records[target as RecordKind];
  return list?.[Math.abs(position) - 1]?.id;
}

/** A document's stored list of one kind as named encoded rows (`ownerRef`: the document's owner). */
export function unpackRecords(
  kind: RecordKind,
  tuples: unknown,
  ownerRef: string,
  doc: DocContext,
): Record<string, unknown>[] {
  let before: Record<string, unknown> | undefined;
  const fields = FIELD_ORDER[kind];
  return (Array.isArray(tuples) ? tuples : []).map((tuple) => {
    const values = Array.isArray(tuple) ? tuple : [];
    const out: Record<string, unknown> = {};
    for (const [i, field] of fields.entries()) {
      let value: unknown = values[i];
      if (value === true) {
        for (const rest of fields.slice(i)) {
          const v = before?.[rest];
          if (v !== null && v !== undefined) out[rest] = v;
        }
        break;
      }
      if (value !== null && typeof value === "object") value = before?.[field];
      else if (field === "owner_id" && value === OWN_OWNER) value = ownerRef;
      else if (value === 1 && PROFILE_REF[field]) value = doc.o[PROFILE_REF[field] as string];
      else if (typeof value === "number" && isTime(kind, field)) value = value + since(doc);
      else if (typeof value === "number") value = resolveRef(doc, kind, field, value);
      else if (field === "id" && doc.prevId && typeof value === "string" && value.startsWith(REL)) {
        value = fromRelative(value, doc.prevId);
      }
      if (value !== null && value !== undefined) out[field] = value;
    }
    if (kind === "x" && out.insurer_id === 1) out.insurer_id = subjectOf(doc, out.subject_id)?.insurer_id;
    // An opt-out without a match key has its owner's phone's (context.ts decode).
    if (kind === "p" && out.match_key === undefined && doc.o.pe !== undefined) out._pe = doc.o.pe;
    before = out;
    doc.prevId = typeof out.id === "string" ? out.id : undefined;
    return out;
  });
}

/** Profile fields of the owner document: row column → short stored name, and its codec. */
export const PROFILE = {
  telegram_user_id: ["g", "plain"],
  chat_id: ["ch", "plain"],
  language: ["l", "plain"],
  phone_enc: ["pe", "token"],
  phone_hash: ["ph", "hex"],
  phone_verified: ["pv", "plain"],
  country: ["co", "plain"],
  timezone: ["tz", "plain"],
  jurisdiction: ["j", "plain"],
  name_enc: ["ne", "token"],
  vehicle_enc: ["ve", "token"],
  sandbox: ["sb", "plain"],
  created_at: ["ca", "time"],
  /** Milliseconds after `ca` when both are epoch ms (scripts.ts touch). */
  updated_at: ["ua", "time"],
  version: ["v", "plain"],
  renewed_at: ["re", "time"],
  deleted_at: ["de", "time"],
} as const satisfies Record<string, readonly [string, CodecName]>;

export type ProfileColumn = keyof typeof PROFILE;

/** A profile column's value as stored in the document. */
export function encodeProfile(column: ProfileColumn, value: string | number): Scalar {
  return typeof value === "string" ? CODECS[PROFILE[column][1]].encode(value, undefined) : value;
}

/** The document's profile as row columns (absent ones left out). */
export function decodeProfile(
  stored: Record<string, unknown>,
): Partial<Record<ProfileColumn, string | number>> {
  const out: Partial<Record<ProfileColumn, string | number>> = {};
  for (const [column, [short, name]] of Object.entries(PROFILE) as [ProfileColumn, [string, CodecName]][]) {
    let value = stored[short];
    // The update time counts from the creation time, as the document's instants do.
    if (column === "updated_at" && typeof value === "number" && typeof stored.ca === "number") {
      value += stored.ca;
    }
    if (value !== null && value !== undefined) out[column] = CODECS[name].decode(value as Scalar, undefined);
  }
  return out;
}

/** An owner document as read: the profile (short names) and the named records of each kind. */
export interface OwnerDoc {
  o: Record<string, unknown>;
  records: Record<(typeof DOC_KINDS)[number], Record<string, unknown>[]>;
}

/** An owner document as stored (`ownerRef`: the encoded id of its owner) → its named records. */
export function parseDoc(json: string | null | undefined, ownerRef: string): OwnerDoc | undefined {
  if (!json) return undefined;
  const raw = JSON.parse(json) as Record<string, unknown>;
  const o = (raw.o ?? {}) as Record<string, unknown>;
  const context: DocContext = { o, records: {} };
  for (const kind of DOC_KINDS) context.records[kind] = unpackRecords(kind, raw[kind], ownerRef, context);
  const records = context.records as OwnerDoc["records"];
  return { o: (raw.o ?? {}) as Record<string, unknown>, records };
}
