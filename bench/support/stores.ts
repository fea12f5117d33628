/**
 * `--store sqlite|redis|upstash` for the benchmarks: the environment that makes createServices
 * pick that backend, and the clean-up afterwards.
 *
 * - sqlite: the caller's DATA_DIR / KEYS_DIR as before.
 * - redis: `REDIS_URL` = BENCH_REDIS_URL or redis://127.0.0.1:6379/12, with a fresh
 *   `owbench:<random>:` prefix; keys in a temporary KEYS_DIR.
 * - upstash: test/fakes/upstash-server.ts (loopback Upstash REST, forwarding to the same Redis)
 *   in this process, with DATA_KEY and SIGNING_KEY given (Upstash requires them).
 *
 * `cleanup()` deletes every key under the prefix (SCAN + UNLINK) and stops the fake.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { startUpstashFake, type UpstashFake } from "../../test/fakes/upstash-server.js";

export type StoreKind = "sqlite" | "redis" | "upstash";

export const DEFAULT_REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379/12";

export interface BenchStore {
  kind: StoreKind;
  /** Variables to merge into the loadConfig input. */
  env: Record<string, string>;
  /** One line for the output: which store, where. */
  describe: string;
  redisUrl?: string;
  prefix?: string;
  fake?: UpstashFake;
  /** Deletes the prefix's keys (Redis / Upstash) and stops the fake; returns keys deleted. */
  cleanup(): Promise<number>;
}

export function storeKind(value: string): StoreKind {
  if (value === "sqlite" || value === "redis" || value === "upstash") return value;
  throw new Error(`--store: expected sqlite, redis or upstash, got ${value}`);
}

/** Deletes every key starting with `prefix` (SCAN + UNLINK); returns how many. */
export async function deletePrefix(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  let cursor = "0";
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${escapeGlob(prefix)}*`, "COUNT", 5000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== "0");
  redis.disconnect();
  return deleted;
}

const escapeGlob = (text: string) => text.replace(/[*?[\]\\]/g, "\\$&");

export async function benchStore(kind: StoreKind): Promise<BenchStore> {
  if (kind === "sqlite") {
    return { kind, env: {}, describe: "SQLite", cleanup: async () => 0 };
  }
  const redisUrl = DEFAULT_REDIS_URL;
  const prefix = `owbench:${randomBytes(4).toString("hex")}:`;
  if (kind === "redis") {
    return {
      kind,
      env: { REDIS_URL: redisUrl, REDIS_PREFIX: prefix },
      describe: `Redis ${redisUrl} (ioredis), prefix ${prefix}`,
      redisUrl,
      prefix,
      cleanup: () => deletePrefix(redisUrl, prefix),
    };
  }
  const fake = await startUpstashFake(redisUrl, randomBytes(16).toString("hex"));
  return {
    kind,
    env: {
      UPSTASH_REDIS_REST_URL: fake.url,
      UPSTASH_REDIS_REST_TOKEN: fake.token,
      REDIS_PREFIX: prefix,
      DATA_KEY: randomBytes(32).toString("base64url"),
      SIGNING_KEY: generateKeyPairSync("ed25519")
        .privateKey.export({ type: "pkcs8", format: "pem" })
        .toString(),
    },
    describe: `Upstash REST over loopback (test/fakes/upstash-server.ts in this process → ${redisUrl}), prefix ${prefix}`,
    redisUrl,
    prefix,
    fake,
    cleanup: async () => {
      await fake.close();
      return deletePrefix(redisUrl, prefix);
    },
  };
}

/** Upstash fake request counts, e.g. `/ 12, /pipeline 40, /multi-exec 3`. */
export function fakeRequests(store: BenchStore): string {
  if (!store.fake) return "";
  return Object.entries(store.fake.requests)
    .map(([p, n]) => `${p} ${n}`)
    .join(", ");
}
