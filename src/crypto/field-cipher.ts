/**
 * Field-level encryption for personal data at rest (DESIGN §9) and keyed hashes for looking
 * such data up without decrypting it.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";

export interface FieldCipher {
  /** AES-256-GCM with a fresh random IV: `"v1.<iv>.<ciphertext>.<tag>"`, base64url parts. */
  encrypt(plain: string): string;
  /** Inverse of encrypt; throws on a malformed, tampered or foreign-key token. */
  decrypt(token: string): string;
  /**
   * Deterministic keyed hash (hex HMAC-SHA256) for equality look-ups; each `purpose` has its
   * own key, so a phone hash never equals, say, a session-key hash of the same text.
   */
  hash(value: string, purpose?: string): string;
}

const VERSION = "v1";
// The version prefix is authenticated too, so a token cannot be relabelled as another format.
const AAD = Buffer.from("onewindow field v1");

/** Derives a 32-byte subkey; distinct labels give unrelated keys from the one DATA_KEY. */
export function deriveSubkey(dataKey: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync("sha256", dataKey, Buffer.alloc(0), info, 32));
}

/** Creates the cipher for a 32-byte data key. */
export function createFieldCipher(dataKey: Buffer): FieldCipher {
  if (dataKey.length !== 32) throw new Error("data key must be 32 bytes");
  const encKey = deriveSubkey(dataKey, "onewindow field-encryption v1");
  const hashKeys = new Map<string, Buffer>();
  const hashKey = (purpose: string): Buffer => {
    let key = hashKeys.get(purpose);
    if (!key) {
      key = deriveSubkey(dataKey, `onewindow lookup-hash v1|${purpose}`);
      hashKeys.set(purpose, key);
    }
    return key;
  };

  return {
    encrypt(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", encKey, iv);
      cipher.setAAD(AAD);
      const ct = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [VERSION, iv.toString("base64url"), ct.toString("base64url"), tag.toString("base64url")].join(
        ".",
      );
    },
    decrypt(token) {
      const parts = token.split(".");
      if (parts.length !== 4 || parts[0] !== VERSION) throw new Error("not a field-cipher token");
      const iv = Buffer.from(parts[1] ?? "", "base64url");
      const ct = Buffer.from(parts[2] ?? "", "base64url");
      const tag = Buffer.from(parts[3] ?? "", "base64url");
      if (iv.length !== 12 || tag.length !== 16) throw new Error("not a field-cipher token");
      const decipher = createDecipheriv("aes-256-gcm", encKey, iv);
      decipher.setAAD(AAD);
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ct), decipher.final()]).toString("utf8");
    },
    hash(value, purpose = "phone") {
      return createHmac("sha256", hashKey(purpose)).update(value, "utf8").digest("hex");
    },
  };
}
