import { randomUUID } from "node:crypto";

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Ids made close
 * in time sort close together, so index inserts append to the B-tree's right edge instead of
 * landing on random pages (random v4 ids made every "I agree" touch ~40 scattered pages).
 * Not a secret: tokens and codes keep using plain randomness.
 *
 * The random part is a v4 UUID's (`randomUUID` draws from a cached block of CSPRNG output):
 * its variant bits are already RFC 9562's, so only the time and the version digit change. An
 * agreement makes ~60 ids; a `randomBytes(16)` call each was a tenth of its time.
 */
export function uuidv7(now: number = Date.now()): string {
  // All 74 bits after the time are fresh CSPRNG output for every id: no counter and no bits
  // shared between ids, so two ids made in one millisecond (an agreement's window and its
  // opt-outs, which go to different insurers) have nothing in common but the time, which the
  // notices carry anyway. (The uuid package's v7 keeps a counter in rand_a, which would link them.)
  const time = now.toString(16).padStart(12, "0");
  // randomUUID(): xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx; from index 15 on: "xxx-yxxx-xxxxxxxxxxxx".
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${randomUUID().slice(15)}`;
}
