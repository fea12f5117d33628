/** Per-insurer match keys (DESIGN §6): what an opt-out notice carries instead of the phone. */
import { createHmac } from "node:crypto";
import { deriveSubkey } from "./field-cipher.js";

/** Computes `hex(HMAC-SHA256(K_insurer, e164))`. */
export type MatchKeys = (insurerId: string, e164: string) => string;

/**
 * Creates the match-key function. `K_insurer = HKDF(dataKey, "onewindow match-key v1|" + id)`
 * never leaves the service, so insurers get unrelated keys and cannot search offline.
 */
export function createMatchKeys(dataKey: Buffer): MatchKeys {
  const keys = new Map<string, Buffer>();
  return (insurerId, e164) => {
    let key = keys.get(insurerId);
    if (!key) {
      key = deriveSubkey(dataKey, `onewindow match-key v1|${insurerId}`);
      keys.set(insurerId, key);
    }
    return createHmac("sha256", key).update(e164, "utf8").digest("hex");
  };
}
