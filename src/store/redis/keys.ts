/**
 * Key names. Every key is `<prefix>{<tag>}<suffix>`: the hash tag decides the Cluster slot,
 * so all keys one script touches share a tag. Cross-owner indexes are spread over many tags
 * (buckets and shards) so that no single key is hot.
 */
import { createHash } from "node:crypto";

/**
 * Buckets of the id → owner index: one field per window, opt-out, receipt, owner notice and
 * stop token, and one per Telegram user. 16,384 buckets keep each one a compact listpack (at
 * most 512 fields, Redis's default `hash-max-listpack-entries`) up to about 8 million fields,
 * some 400,000 agreeing owners at 20 insurers; a larger deployment raises it (a new layout:
 * the index is rebuilt from the documents, owners.ts docIndexOps).
 */
export const ID_BUCKETS = 16_384;
/** Buckets of the phone-hash index (one field per phone number). */
export const PHONE_BUCKETS = 8_192;

/**
 * A phone hash's field in the phone index: the first 12 characters (72 bits) of the encoded
 * hash. Numbers sharing a field share its owner list; every reader checks the full hash.
 */
export const phoneField = (encodedHash: string): string => encodedHash.slice(0, 12);
/** Shards of the cross-owner work lists (ack digests, reminders, owner notices, consents, repair). */
export const SHARDS = 16;

/** Record kinds (window, opt-out, receipt, owner notice) found through the id index. */
const RECORD_KINDS = new Set(["w", "p", "r", "n"]);
/** Kinds whose id-index fields are digests of the whole name (see {@link idField}). */
const DIGESTED = new Set([...RECORD_KINDS, "t"]);
const ENCODED_UUID = /^[-0-9A-Z_a-z]{22}$/;
/** Trailing digits of an encoded UUIDv7 that are random (the last one is partly padding). */
const RANDOM_DIGITS = 9;

/**
 * The stored field of an id-index entry, whose value is a space-separated list of owners
 * (readers check each owner's record). One entry per record, found by its own id alone:
 * - a record (`w:`, `p:`, `r:`, `n:` + encoded UUID) by its kind and the last
 *   {@link RANDOM_DIGITS} digits of its id (about 50 random bits): short, and shared by two
 *   records only by chance;
 * - a record whose id is not a UUID, and a stop token (`t:`), by its kind and 8 digits (48
 *   bits) of a SHA-256 of the whole name;
 * - other fields (`g:`, `a:`, `k:`) are kept whole, their value a single owner or insurer.
 */
export function idField(field: string): string {
  if (field[1] !== ":" || !DIGESTED.has(field[0] as string)) return field;
  const name = field.slice(2);
  if (RECORD_KINDS.has(field[0] as string) && ENCODED_UUID.test(name)) {
    return `${field[0]}${name.slice(-RANDOM_DIGITS)}`;
  }
  return field[0] + createHash("sha256").update(field).digest("base64url").slice(0, 8);
}

/**
 * The id-index bucket of a field. A record's is chosen by the millisecond of its id (UUIDv7's
 * first 48 bits), so the records one change makes — an agreement's receipt, window and every
 * opt-out — share a bucket and are indexed by one command; over time the milliseconds spread
 * over every bucket. Other fields by their whole name.
 */
export function idBucket(field: string): number {
  const name = field.slice(2);
  if (field[1] === ":" && RECORD_KINDS.has(field[0] as string) && ENCODED_UUID.test(name)) {
    return spread(name.slice(0, 8), ID_BUCKETS);
  }
  return spread(idField(field), ID_BUCKETS);
}

/** Whether an id-index field holds a list of owners (a digested field). */
export const isListField = (field: string): boolean => idField(field) !== field;

/** FNV-1a, 32-bit: a stable spread of ids over buckets (not a security hash). */
export function spread(text: string, modulo: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % modulo;
}

/**
 * The parts of an insurer's outbox queue: `:e` entries, `:due` claimable by time, `:dead`,
 * `:st` counters, `:pm` finished entries not yet in their owner's document and `:pmt` the same
 * by finishing time (repair takes the old ones).
 */
export type QueuePart = ":e" | ":due" | ":dead" | ":st" | ":pm" | ":pmt";

export type ShardedList = "ack" | "rem" | "onot" | "cons" | "dirty" | "hreg";

const SHARD_TAG: Record<ShardedList, string> = {
  ack: "an",
  rem: "ar",
  onot: "on",
  cons: "cs",
  dirty: "dy",
  hreg: "hr",
};

export function createKeys(prefix: string) {
  const k = (tag: string, suffix = "") => `${prefix}{${tag}}${suffix}`;
  return {
    prefix,
    /**
     * The owner document (one versioned value: profile and every record, document.ts) of the owner whose
     * encoded id is `ref`; `:q` its pending index operations.
     */
    owner: (ref: string, part: "" | ":q" = "") => k(`o:${ref}`, part),
    /** Insurer hash (`:q` pending index operations). */
    insurer: (id: string, part: "" | ":q" = "") => k(`i:${id}`, part),
    /** All insurer ids ever added (removed ones too; small). */
    directory: () => k("dir"),
    /**
     * An insurer's outbox: `:e` pending and dead entries, `:due` claimable by time (a chunked
     * set), `:dead`, `:st` counters, `:pm` finished entries not yet copied to their owner.
     */
    queue: (insurerId: string, part: QueuePart) => k(`q:${insurerId}`, part),
    /** Insurers that have ever had an outbox entry. */
    queueRegistry: () => k("qreg"),
    /**
     * An insurer's windows feed (a chunked lexicographic set of `opensAt id`: ids.ts
     * sortableMs and encodeId), in its queue's slot: what an agreement files for one insurer,
     * the feed member and the queued notice, is one script (scripts.ts QUEUE_FILE).
     */
    windowFeed: (insurerId: string) => k(`q:${insurerId}`, ":fw"),
    /** An insurer's opt-out feed (a chunked lexicographic set of `effectiveAt id`), likewise. */
    optOutFeed: (insurerId: string) => k(`q:${insurerId}`, ":fo"),
    /** id → owner ref: `w:` window, `p:` opt-out, `r:` receipt, `n:` owner notice (encoded ids),
     * `t:` stop token, `g:` Telegram user, `a:` attempt key digest; `k:` API key hash → insurer. */
    idIndex: (field: string) => k(`ix:${idBucket(field)}`),
    /** phone hash → owners holding it (now or in an opt-out). */
    phoneIndex: (encodedHash: string) => k(`ph:${spread(phoneField(encodedHash), PHONE_BUCKETS)}`),
    shard: (list: ShardedList, n: number) => k(`${SHARD_TAG[list]}:${n}`),
    shardOf: (list: ShardedList, id: string) => k(`${SHARD_TAG[list]}:${spread(id, SHARDS)}`),
    /** Scrub audit of one owner (or a shard of ownerless hits): a sorted set by time, and its counter. */
    hits: (ownerOrShard: string, part: "" | ":n" = "") => k(`h:${ownerOrShard}`, part),
    session: (keyHash: string) => k(`s:${keyHash}`),
    /** A claimed Telegram update id (a plain string with a TTL; one small key each). */
    update: (updateId: number) => k(`u:${updateId}`),
    meta: () => k("meta"),
    /** Scrub quota state of one insurer key (store/redis/quotas.ts); expires when idle. */
    quota: (key: string) => k(`qt:${key}`),
  };
}

export type Keys = ReturnType<typeof createKeys>;
