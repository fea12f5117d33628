import fs from "node:fs";
import path from "node:path";
import type { StoreConfig } from "../config.js";
import type { FieldCipher } from "../crypto/field-cipher.js";
import type { MatchKeys } from "../crypto/match-key.js";
import { createIoredisCommands } from "./redis/ioredis-client.js";
import { createRedisStore } from "./redis/redis-store.js";
import { createUpstashCommands } from "./redis/upstash-client.js";
import { createSqliteStore } from "./sqlite/index.js";
import type { Store } from "./store.js";

/**
 * Opens the configured backend. Redis: `REDIS_URL` names one server, or a Redis Cluster when
 * it lists several comma-separated seed nodes (`redis://h1:7000,redis://h2:7001`). `matchKey` is
 * the service's (crypto/match-key.ts): a Redis store migrating from layout 4 needs it.
 */
export async function openStore(
  config: StoreConfig,
  cipher: FieldCipher,
  clock: () => Date,
  matchKey: MatchKeys,
): Promise<Store> {
  switch (config.kind) {
    case "sqlite":
      fs.mkdirSync(path.dirname(config.file), { recursive: true, mode: 0o700 });
      return createSqliteStore({ file: config.file, cipher, now: clock });
    case "redis":
      return createRedisStore({
        redis: createIoredisCommands({ url: config.url }),
        cipher,
        prefix: config.prefix,
        now: clock,
        matchKey,
      });
    case "upstash":
      return createRedisStore({
        redis: createUpstashCommands({ url: config.url, token: config.token }),
        cipher,
        prefix: config.prefix,
        now: clock,
        matchKey,
      });
  }
}
