/**
 * Key names. Every key is `<prefix>{<tag>}<suffix>`: the hash tag decides the Cluster slot,
 * so all keys one script touches share a tag. Cross-owner indexes are spread over many tags
 * (buckets and shards) so that no single key is hot.
 */

/**
 * Buckets of the id → owner index. About eight fields per owner: 16,384 buckets keep each one
 * a compact listpack (at most 128 fields, Redis's default) up to some 250,000 owners.
 */
export const ID_BUCKETS = 16_384;
/** Buckets of the phone-hash index (one field per phone number). */
export const PHONE_BUCKETS = 8_192;
/** Shards of the cross-owner work lists (ack digests, reminders, owner notices, consents, repair). */
export const SHARDS = 16;

/** FNV-1a, 32-bit: a stable spread of ids over buckets (not a security hash). */
export function spread(text: string, modulo: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % modulo;
}

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
     * The owner document (one string: profile and every record, codec.ts) of the owner whose
     * encoded id is `ref`; `:q` its pending index operations.
     */
    owner: (ref: string, part: "" | ":q" = "") => k(`o:${ref}`, part),
    /** Insurer hash (`:q` pending index operations). */
    insurer: (id: string, part: "" | ":q" = "") => k(`i:${id}`, part),
    /** All insurer ids ever added (removed ones too; small). */
    directory: () => k("dir"),
    /** An insurer's outbox: `:e` entries, `:due` claimable by time, `:dead`, `:st` counters, `:pm` pending window marks. */
    queue: (insurerId: string, part: ":e" | ":due" | ":dead" | ":st" | ":pm") => k(`q:${insurerId}`, part),
    /** Insurers that have ever had an outbox entry. */
    queueRegistry: () => k("qreg"),
    /** An insurer's windows feed (lexicographic `opensAt id owner`: epoch ms, encoded ids). */
    windowFeed: (insurerId: string) => k(`fw:${insurerId}`),
    /** An insurer's opt-out feed (lexicographic `effectiveAt id owner`). */
    optOutFeed: (insurerId: string) => k(`fo:${insurerId}`),
    /** id → owner ref: `w:` window, `p:` opt-out, `r:` receipt, `n:` owner notice (encoded ids),
     * `t:` stop token, `g:` Telegram user, `a:` attempt key digest; `k:` API key hash → insurer. */
    idIndex: (field: string) => k(`ix:${spread(field, ID_BUCKETS)}`),
    /** phone hash → owners holding it (now or in an opt-out). */
    phoneIndex: (phoneHash: string) => k(`ph:${spread(phoneHash, PHONE_BUCKETS)}`),
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
