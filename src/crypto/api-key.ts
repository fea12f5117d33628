/** Insurer credentials: API keys (stored hashed) and Standard Webhooks secrets. */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A new API key: `"owk_"` + 32 random bytes, base64url. Shown once. */
export function generateApiKey(): string {
  return `owk_${randomBytes(32).toString("base64url")}`;
}

/**
 * The stored form of an API key: SHA-256 hex. A slow password hash buys nothing here: the key
 * carries 256 random bits, so it cannot be guessed from its hash however fast the hash is.
 */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** Whether `key` hashes to `hash`, compared in constant time. */
export function apiKeyMatches(key: string, hash: string): boolean {
  const actual = Buffer.from(hashApiKey(key), "hex");
  const expected = Buffer.from(hash, "hex");
  if (expected.length !== actual.length) return false;
  return timingSafeEqual(actual, expected);
}

/** A new webhook signing secret in Standard Webhooks form: `"whsec_"` + base64 of 32 bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}
