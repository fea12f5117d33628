/**
 * Scrub and its audit on Redis: phone-hash buckets (`{ph:<n>}`, fields of 72 bits listing the
 * owners whose document holds the number, now or in an opt-out) found in one round trip per
 * batch, then each named owner's document read and checked against the full hash; hits kept
 * per owner as a sorted set by time (13 months), ownerless ones in shards.
 */
import type { ScrubHit } from "../../domain/model.js";
import { optOutFromRow, type ScrubHitRow, scrubHitFromRow, scrubHitToRow, windowFromRow } from "../rows.js";
import { finishScrubRecords } from "../scrub-records.js";
import type { ScrubRecord, Store } from "../store.js";
import { unwrap } from "./commands.js";
import { ms, type RedisContext } from "./context.js";
import { decodeId, encodeHex, encodeId } from "./ids.js";
import { phoneField, SHARDS, spread } from "./keys.js";

type ScrubPart = Pick<Store, "scrubLookup" | "recordScrubHits" | "listScrubHits" | "purgeScrubHits">;

/** Scrub operations of the Redis store. */
export function createScrubPart(ctx: RedisContext): ScrubPart {
  const { redis, keys } = ctx;
  const hitKey = (hit: ScrubHit) => keys.hits(hit.ownerId ?? `-${spread(hit.id, SHARDS)}`);
  return {
    async scrubLookup(insurerId, phoneHashes) {
      const found = new Map<string, ScrubRecord>();
      const unique = [...new Set(phoneHashes)];
      if (unique.length === 0) return found;
      const byBucket = new Map<string, string[]>();
      const stored = new Map(unique.map((hash) => [encodeHex(hash), hash]));
      for (const hash of stored.keys()) {
        const bucket = keys.phoneIndex(hash);
        byBucket.set(bucket, [...(byBucket.get(bucket) ?? []), hash]);
      }
      const buckets = [...byBucket.entries()];
      const replies = await redis.pipeline(
        buckets.map(([bucket, hashes]) => ({ args: ["HMGET", bucket, ...hashes.map(phoneField)] })),
      );
      const probes: { hash: string; ownerId: string }[] = [];
      buckets.forEach(([, hashes], i) => {
        const owners = unwrap<(string | null)[]>(replies[i]) ?? [];
        hashes.forEach((hash, j) => {
          for (const ownerId of owners[j]?.split(" ") ?? []) if (ownerId) probes.push({ hash, ownerId });
        });
      });
      const docs = await ctx.readDocs([...new Set(probes.map((p) => p.ownerId))].map(decodeId));
      const byOwner = new Map(docs.flatMap((doc) => (doc ? [[encodeId(doc.owner.id), doc] as const] : [])));
      for (const { hash, ownerId } of probes) {
        const doc = byOwner.get(ownerId);
        const phoneHash = stored.get(hash) as string;
        if (!doc) continue;
        // The owner's windows while the number is theirs; opt-outs filed for the number.
        const windows =
          doc.owner.phone_hash === phoneHash
            ? doc.windows.filter((w) => w.insurer_id === insurerId && w.owner_id === doc.owner.id)
            : [];
        const optOuts = doc.optOuts.filter((o) => o.insurer_id === insurerId && o.phone_hash === phoneHash);
        if (windows.length === 0 && optOuts.length === 0) continue;
        let record = found.get(phoneHash);
        if (!record) {
          record = { windows: [], optOuts: [] };
          found.set(phoneHash, record);
        }
        for (const row of windows) {
          record.windows.push(windowFromRow(row));
          record.ownerId ??= row.owner_id ?? undefined;
        }
        for (const row of optOuts) {
          record.optOuts.push(optOutFromRow(row));
          record.ownerId ??= row.owner_id ?? undefined;
        }
      }
      return finishScrubRecords(found);
    },
    async recordScrubHits(hits) {
      if (hits.length === 0) return;
      const groups = new Map<string, ScrubHit[]>();
      for (const hit of hits) groups.set(hitKey(hit), [...(groups.get(hitKey(hit)) ?? []), hit]);
      const entries = [...groups.entries()];
      const bases = await redis.pipeline(
        entries.map(([key, list]) => ({ args: ["INCRBY", `${key}:n`, list.length] })),
      );
      const calls = entries.flatMap(([key, list], i) => {
        const last = Number(unwrap(bases[i]));
        return [
          { args: ["SADD", keys.shardOf("hreg", key), key] },
          ...list.map((hit, j) => ({
            args: [
              "ZADD",
              key,
              ms(hit.at),
              `${String(last - list.length + j + 1).padStart(12, "0")} ${JSON.stringify(scrubHitToRow(hit))}`,
            ],
          })),
        ];
      });
      for (const reply of await redis.pipeline(calls)) unwrap(reply);
    },
    async listScrubHits(ownerId, since) {
      const members =
        unwrap<string[]>(await redis.call("ZREVRANGEBYSCORE", keys.hits(ownerId), "+inf", ms(since))) ?? [];
      return members.map((m) => scrubHitFromRow(JSON.parse(m.slice(m.indexOf(" ") + 1)) as ScrubHitRow));
    },
    async purgeScrubHits(before) {
      const registries = await redis.pipeline(
        Array.from({ length: SHARDS }, (_, n) => ({ args: ["SMEMBERS", keys.shard("hreg", n)] })),
      );
      const hitKeys = registries.flatMap((r) => unwrap<string[]>(r) ?? []);
      const removed = await redis.pipeline(
        hitKeys.map((key) => ({ args: ["ZREMRANGEBYSCORE", key, "-inf", `(${ms(before)}`] })),
      );
      return removed.reduce<number>((sum, r) => sum + Number(unwrap(r)), 0);
    },
  };
}
