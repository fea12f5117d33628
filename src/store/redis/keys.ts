/**
 * Key names. Every key is `<prefix>{<tag>}<suffix>`: the hash tag decides the Cluster slot,
 * so all keys one script touches share a tag. Cross-owner indexes are spread over many tags
 * (buckets and shards) so that no single key is hot.
 */

/** Buckets of the id → location indexes (hash fields, small and compact each). */
export const ID_BUCKETS = 1024;
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

/** The suffixes of an owner aggregate's keys, in the order scripts receive them. */
export const OWNER_PARTS = ["", ":c", ":r", ":w", ":p", ":a", ":x", ":n", ":k", ":q"] as const;

export function createKeys(prefix: string) {
  const k = (tag: string, suffix = "") => `${prefix}{${tag}}${suffix}`;
  return {
    prefix,
    /** Owner hash; `:c` consents, `:r` receipts, `:w` windows, `:p` opt-outs, `:a` attempts,
     * `:x` the owner's copy of its outbox entries, `:n` owner notices, `:k` attempt keys,
     * `:q` pending index operations. */
    owner: (ownerId: string, part: (typeof OWNER_PARTS)[number] = "") => k(`o:${ownerId}`, part),
    ownerKeys: (ownerId: string) => OWNER_PARTS.map((part) => k(`o:${ownerId}`, part)),
    /** Insurer hash (`:q` pending index operations). */
    insurer: (id: string, part: "" | ":q" = "") => k(`i:${id}`, part),
    /** All insurer ids ever added (removed ones too; small). */
    directory: () => k("dir"),
    /** An insurer's outbox: `:e` entries, `:due` claimable by time, `:dead`, `:st` counters, `:pm` pending window marks. */
    queue: (insurerId: string, part: ":e" | ":due" | ":dead" | ":st" | ":pm") => k(`q:${insurerId}`, part),
    /** Insurers that have ever had an outbox entry. */
    queueRegistry: () => k("qreg"),
    /** An insurer's windows feed (lexicographic `opensAt id owner`). */
    windowFeed: (insurerId: string) => k(`fw:${insurerId}`),
    /** An insurer's opt-out feed (lexicographic `effectiveAt id owner`). */
    optOutFeed: (insurerId: string) => k(`fo:${insurerId}`),
    /** id → location: `w:` window, `p:` opt-out, `r:` receipt, `x:` outbox entry, `t:` stop token,
     * `g:` Telegram user, `k:` API key hash, `a:` attempt key. */
    idIndex: (field: string) => k(`ix:${spread(field, ID_BUCKETS)}`),
    /** phone hash → owners holding it (now or in an opt-out). */
    phoneIndex: (phoneHash: string) => k(`ph:${spread(phoneHash, ID_BUCKETS)}`),
    shard: (list: ShardedList, n: number) => k(`${SHARD_TAG[list]}:${n}`),
    shardOf: (list: ShardedList, id: string) => k(`${SHARD_TAG[list]}:${spread(id, SHARDS)}`),
    /** Scrub audit of one owner (or a shard of ownerless hits): a sorted set by time, and its counter. */
    hits: (ownerOrShard: string, part: "" | ":n" = "") => k(`h:${ownerOrShard}`, part),
    session: (keyHash: string) => k(`s:${keyHash}`),
    /** A claimed Telegram update id (a plain string with a TTL; one small key each). */
    update: (updateId: number) => k(`u:${updateId}`),
    meta: () => k("meta"),
  };
}

export type Keys = ReturnType<typeof createKeys>;
