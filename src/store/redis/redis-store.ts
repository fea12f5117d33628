/**
 * The Redis store: the whole Store port on one Redis server, a Redis Cluster, or Upstash
 * (REST), over the small command layer in commands.ts.
 *
 * Data model. Keys are `<prefix>{<tag>}<suffix>` (prefix REDIS_PREFIX, default "ow:", so
 * deployments can share a server). Everything one atomic change touches shares a hash tag.
 *
 * - `{o:<ownerRef>}` — the owner document (document.ts): the profile and every record of the
 *   owner as one versioned, schema-validated JSON value, deflated; `:q` its pending index ops.
 *   Every change is computed in TypeScript (apply.ts) on the document as read, and written by
 *   one short script (scripts.ts WRITE_DOC) only if the stored version is still the one read.
 * - `{i:<insurerId>}` — an insurer (webhook secret encrypted), with its own `:q`.
 * - `{q:<insurerId>}` — that insurer's outbox queue, holding each pending or dead entry:
 *   entries, a chunked set of claimable entries by due time, dead entries, counters. Leasing
 *   is one script per queue, so no entry is ever held by two live leases, across processes. A
 *   delivered or skipped entry leaves the queue for its owner's document: the queue script
 *   leaves a mark (`:pm`, the finished row), the store copies it into the document and drops
 *   the mark (repair replays marks; while a mark stands the queue refuses to insert the entry
 *   again, so a replayed insert cannot revive it).
 * - `{u:<updateId>}` — a claimed Telegram update id (SET NX PX).
 * - Cross-owner indexes live in other slots and are never one hot key: per-insurer feeds
 *   (`{fw:<insurer>}`, `{fo:<insurer>}`: lexicographic `time id`, so keyset paging on
 *   (time, id) is a range query; the owner is found through the id index); id → owner
 *   buckets (`{ix:<n>}`, 16,384 small hashes that stay listpacks); phone-hash buckets
 *   (`{ph:<n>}`) for scrub; and 16-way sharded work lists (ack digests, ack reminders, owner
 *   notices, owners with consent, repair markers). Feeds, work lists and claimable sets are
 *   chunked (chunked-sets.ts) so every part stays a compact listpack.
 * - `{meta}` — operator metadata, including the key layout (LAYOUT_VERSION): a process finding
 *   another layout refuses to start rather than misread the data.
 *
 * Index writes. A Cluster script cannot touch other slots, so index writes are derived and
 * idempotent: the write script stores, in the aggregate's `:q` hash, the index ops the change
 * implies; the store then applies them and deletes them. Before the script, the writer puts a
 * repair marker (tag + nonce, scored by time) in a `{dy:<n>}` shard, and removes it at the
 * end. A crash in between leaves the marker: `repair()` — run when a store opens (everything)
 * and on every claimDue (markers older than 30 s) — replays the pending ops of marked
 * aggregates, so an outbox entry always reaches its insurer's queue. Readers of the indexes
 * check what they find against the records, so an index may lag but never lie.
 *
 * Privacy. Phone numbers, names, vehicles, webhook secrets and session values are stored as
 * FieldCipher tokens, exactly as in SQLite; phones are found by keyed hash, session keys are
 * keyed hashes too. Records are the row shapes the SQLite adapter also uses and convert to the
 * model by the same validated functions (store/rows.ts).
 */
import { randomUUID } from "node:crypto";
import { ConfigError } from "../../config.js";
import type { FieldCipher } from "../../crypto/field-cipher.js";
import type { MatchKeys } from "../../crypto/match-key.js";
import type { OutboxEntry } from "../../domain/model.js";
import type { Store } from "../store.js";
import { type RedisCommands, unwrap } from "./commands.js";
import { createContext, type RedisContext } from "./context.js";
import { createFeedPart } from "./feeds.js";
import { createInsurerPart } from "./insurers.js";
import { createKeys } from "./keys.js";
import { migrateLayout4 } from "./migrate/layout4.js";
import { createOutboxPart, listAllOutbox } from "./outbox.js";
import { createOwnerPart, SESSION_HASH } from "./owners.js";
import { createQuotaPart } from "./quotas.js";
import { createScrubPart } from "./scrub.js";

export interface RedisStoreOptions {
  redis: RedisCommands;
  cipher: FieldCipher;
  /** Key namespace (REDIS_PREFIX); must not contain `{`. */
  prefix: string;
  /**
   * The service's match keys (crypto/match-key.ts): only the migration from layout 4 needs them
   * (that layout left out the opt-out keys an owner's phone gives).
   */
  matchKey?: MatchKeys;
  /** Clock for the timestamps the store sets itself and for repair-marker ages. */
  now?: () => Date;
}

/** A Redis store plus handles tests and operators use. */
export interface RedisStore extends Store {
  /**
   * Every outbox entry still queued (pending or dead), by due time (tests and operator
   * tooling); delivered and skipped ones are in their owner's document (listOutboxForOwner).
   */
  listAllOutbox(): Promise<OutboxEntry[]>;
  /** Replays index work a crashed writer left (`all`: also markers still young). */
  repair(options?: { all?: boolean }): Promise<void>;
  /** Test hook: simulate a crash right after each aggregate script. */
  readonly faults: RedisContext["faults"];
}

/**
 * Opens the store over `redis` and replays anything a crashed writer left half done.
 * @example
 * const store = await createRedisStore({ redis: createIoredisCommands({ url }), cipher, prefix: "ow:" });
 */
export async function createRedisStore(options: RedisStoreOptions): Promise<RedisStore> {
  if (options.prefix.includes("{")) throw new Error("REDIS_PREFIX must not contain '{'");
  const clock = options.now ?? (() => new Date());
  const { redis, cipher } = options;
  const keys = createKeys(options.prefix);
  const ctx = createContext(redis, keys, cipher, () => clock().toISOString());
  await checkLayout(ctx, options.matchKey);
  await ctx.repair({ all: true });
  const sessionKey = (key: string) => keys.session(cipher.hash(key, SESSION_HASH));
  const { forgetDirectory, ...insurers } = createInsurerPart(ctx);

  return {
    ...insurers,
    ...createOwnerPart(ctx),
    ...createFeedPart(ctx),
    ...createScrubPart(ctx),
    ...createOutboxPart(ctx),
    ...createQuotaPart(redis, keys.quota),
    async readSession(key) {
      const value = unwrap<string | null>(await redis.call("GET", sessionKey(key)));
      return value === null || value === undefined ? undefined : cipher.decrypt(value);
    },
    async writeSession(key, value) {
      await redis.call("SET", sessionKey(key), cipher.encrypt(value));
    },
    async deleteSession(key) {
      await redis.call("DEL", sessionKey(key));
    },
    async claimUpdate(updateId, ttlMs) {
      const reply = await redis.call(
        "SET",
        keys.update(updateId),
        "1",
        "NX",
        "PX",
        Math.max(1, Math.ceil(ttlMs)),
      );
      return reply === "OK";
    },
    async getMeta(key) {
      const value = unwrap<string | null>(await redis.call("HGET", keys.meta(), key));
      return value ?? undefined;
    },
    async setMeta(key, value) {
      await redis.call("HSET", keys.meta(), key, value);
    },
    async ping() {
      try {
        return (await redis.call("PING")) === "PONG";
      } catch {
        return false;
      }
    },
    async close() {
      await redis.close();
    },
    listAllOutbox: () => listAllOutbox(ctx),
    async repair(opts) {
      try {
        await ctx.repair({ all: opts?.all ?? true });
      } finally {
        // A replayed insurer write may change the directory.
        forgetDirectory();
      }
    },
    faults: ctx.faults,
  };
}

/**
 * The key layout: which keys exist and what each holds. Layout 5 keeps owners as documents
 * (document.ts), whose own schema version handles changes inside them; the layout changes
 * only when keys do.
 */
export const LAYOUT_VERSION = "5";

/**
 * Records this layout in a new store, and refuses a store written in another one (there is
 * no migration: the encodings differ throughout). A store from before layout versions holds
 * meta fields but no `layout`.
 */
async function checkLayout(ctx: RedisContext, matchKey: MatchKeys | undefined): Promise<void> {
  const { redis } = ctx;
  const metaKey = ctx.keys.meta();
  const fields = unwrap<string[]>(await redis.call("HKEYS", metaKey)) ?? [];
  if (fields.length > 0 && !fields.includes("layout")) throw layoutError("1");
  await redis.call("HSETNX", metaKey, "layout", LAYOUT_VERSION);
  const found = unwrap<string | null>(await redis.call("HGET", metaKey, "layout"));
  if (found === "4") return migrate(ctx, matchKey);
  if (found !== LAYOUT_VERSION) throw layoutError(found ?? "unknown");
}

/**
 * Layout 4 → 5 (migrate/layout4.ts), by one process: the others find the lock taken and exit
 * 2 (start them again once it is done). A migration that stopped part-way is resumed by the next.
 */
async function migrate(ctx: RedisContext, matchKey: MatchKeys | undefined): Promise<void> {
  const lock = `${ctx.keys.meta()}:migrating`;
  const nonce = randomUUID();
  if ((await ctx.redis.call("SET", lock, nonce, "NX", "PX", 3_600_000)) !== "OK") {
    throw new ConfigError([
      "REDIS_PREFIX: another process is migrating this store from layout 4; start this one again when it has",
    ]);
  }
  try {
    await migrateLayout4(ctx, matchKey);
    await ctx.redis.call("HSET", ctx.keys.meta(), "layout", LAYOUT_VERSION);
  } finally {
    await ctx.redis.call("DEL", lock);
  }
}

const layoutError = (found: string) =>
  new ConfigError([
    `REDIS_PREFIX: the Redis store under this prefix uses data layout ${found}, this version of onewindow reads layout ${LAYOUT_VERSION} and migrates only from layout 4; use a new REDIS_PREFIX (or an empty database)`,
  ]);
