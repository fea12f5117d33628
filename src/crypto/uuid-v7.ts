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
  const time = now.toString(16).padStart(12, "0");
  // randomUUID(): xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx; from index 15 on: "xxx-yxxx-xxxxxxxxxxxx".
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${randomUUID().slice(15)}`;
}

/**
 * An id source for one changeset: UUIDv7s that share one random `rand_a` (the 12 bits after
 * the version digit; RFC 9562 leaves them to the implementation), so the ids one plan makes in
 * one millisecond share their first 64 bits, and each keeps 62 random bits of its own. A store
 * can then find every record of a changeset through one index entry (the Redis id index,
 * store/redis/keys.ts), and store each id after the first as its last 62 bits.
 */
export function uuidv7Group(): (now?: number) => string {
  const randA = randomUUID().slice(15, 18);
  return (now = Date.now()) => {
    const id = uuidv7(now);
    return `${id.slice(0, 15)}${randA}${id.slice(18)}`;
  };
}
