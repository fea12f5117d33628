/**
 * Short, order-preserving spellings of ids and instants for key names and sorted-set members
 * (never for documents, which keep ids as they are): a UUID as 22 base64 digits in ASCII
 * order, so feed members and cursors sort as the (time, id) pairs the store pages by.
 */

const DIGITS = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
const DIGIT_VALUE = new Map([...DIGITS].map((c, i) => [c, i]));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX = /^(?:[0-9a-f]{2})+$/;
/** Marks an id kept verbatim (not a lowercase UUID). */
const RAW = "!";

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

/** A canonical UUID → 22 order-preserving digits; anything else → `!` + itself. */
export function encodeId(id: string): string {
  return UUID.test(id) ? bitsToDigits(Buffer.from(id.replaceAll("-", ""), "hex")) : RAW + id;
}

export function decodeId(text: string): string {
  if (text.startsWith(RAW)) return text.slice(1);
  const hex = digitsToBits(text, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Lowercase hex (keyed hashes) → base64url, a third shorter; anything else → `!` + itself. */
export function encodeHex(hex: string): string {
  return HEX.test(hex) ? Buffer.from(hex, "hex").toString("base64url") : RAW + hex;
}

/** An ISO instant as 8 digits that sort like the instants (48-bit epoch ms). */
export function sortableMs(iso: string): string {
  const bytes = Buffer.alloc(6);
  bytes.writeUIntBE(Math.min(Math.max(Date.parse(iso) || 0, 0), 2 ** 48 - 1), 0, 6);
  return bitsToDigits(bytes);
}
