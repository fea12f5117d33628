/**
 * The Redis key layout's version: recorded in a new store, and a store written in another
 * layout refused with a configuration error.
 */
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config.js";
import { createFieldCipher } from "../../src/crypto/field-cipher.js";
import { createIoredisCommands } from "../../src/store/redis/ioredis-client.js";
import { createRedisStore, LAYOUT_VERSION } from "../../src/store/redis/redis-store.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../support/redis.js";

const url = TEST_REDIS_URL ?? "";

describe.skipIf(!TEST_REDIS_URL)("redis layout version", () => {
  const prefixes: string[] = [];
  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeys(url, prefix);
  });
  const open = async (prefix: string) => {
    const store = await createRedisStore({
      redis: createIoredisCommands({ url }),
      cipher: createFieldCipher(randomBytes(32)),
      prefix,
    });
    await store.close();
  };
  const meta = async (prefix: string, ...args: string[]) => {
    const redis = createIoredisCommands({ url });
    await redis.call(args[0] as string, `${prefix}{meta}`, ...args.slice(1));
    await redis.close();
  };

  it("records its layout in a new store and opens it again", async () => {
    const prefix = uniquePrefix("layout");
    prefixes.push(prefix);
    await open(prefix);
    await open(prefix);
    const redis = createIoredisCommands({ url });
    expect(await redis.call("HGET", `${prefix}{meta}`, "layout")).toBe(LAYOUT_VERSION);
    await redis.close();
  });

  it("refuses a store from before layout versions, and one of another layout", async () => {
    const old = uniquePrefix("layout");
    const other = uniquePrefix("layout");
    prefixes.push(old, other);
    await meta(old, "HSET", "keys.data", "fingerprint");
    await expect(open(old)).rejects.toThrow(ConfigError);
    await meta(other, "HSET", "layout", "999");
    await expect(open(other)).rejects.toThrow(/layout 999.*REDIS_PREFIX|REDIS_PREFIX.*layout 999/);
  });
});
