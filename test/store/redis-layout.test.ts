/**
 * What the compact Redis layout must guarantee beyond the store contract: every encoding gives
 * back exactly what it was given (or keeps the value verbatim), encoded ids sort like the ids,
 * and a store written in another layout is refused with a configuration error.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config.js";
import { createFieldCipher } from "../../src/crypto/field-cipher.js";
import {
  decodeHex,
  decodeId,
  decodeJws,
  decodeList,
  decodeText,
  decodeTime,
  encodeHex,
  encodeId,
  encodeJws,
  encodeList,
  encodeText,
  encodeTime,
  LAYOUT_VERSION,
} from "../../src/store/redis/codec.js";
import { createIoredisCommands } from "../../src/store/redis/ioredis-client.js";
import { createRedisStore } from "../../src/store/redis/redis-store.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../support/redis.js";

describe("redis value encodings", () => {
  it("round-trips ids, keeping non-UUIDs verbatim", () => {
    for (const id of [
      randomUUID(),
      `msg_${randomUUID()}`,
      "w1",
      "",
      "!x",
      "~y",
      randomUUID().toUpperCase(),
    ]) {
      expect(decodeId(encodeId(id))).toBe(id);
    }
    expect(encodeId(randomUUID())).toHaveLength(22);
  });

  it("keeps UUID order in the encoded form", () => {
    const ids = Array.from({ length: 200 }, () => randomUUID());
    const sorted = [...ids].sort();
    expect(ids.map(encodeId).sort().map(decodeId)).toEqual(sorted);
  });

  it("round-trips times, hex digests, texts, lists and JWS", () => {
    for (const t of ["2026-07-01T00:00:00.000Z", "2026-07-01T00:00:00Z", "2026-07-01"]) {
      expect(decodeTime(encodeTime(t))).toBe(t);
    }
    expect(typeof encodeTime("2026-07-01T00:00:00.123Z")).toBe("number");
    const hex = randomBytes(32).toString("hex");
    for (const h of [hex, "ABC", "mk-a-1", ""]) expect(decodeHex(encodeHex(h))).toBe(h);
    expect(encodeHex(hex)).toHaveLength(43);
    for (const text of ["", "short", '{"renewalDate":"2026-12-17","insurers":["ins02"]}', "x".repeat(500)]) {
      expect(decodeText(encodeText(text))).toBe(text);
    }
    for (const list of ['["call","sms"]', "[]", '[""]', '["a,b"]', '["!x"]', '[ "call" ]', "[1]"]) {
      expect(decodeList(encodeList(list))).toBe(list);
    }
    const segment = (n: number) => randomBytes(n).toString("base64url");
    const jws = `${Buffer.from('{"alg":"EdDSA"}').toString("base64url")}.${segment(600)}.${segment(64)}`;
    for (const j of [jws, "not.a.jws.at-all", "a.b", "eyJ.%%.x"]) expect(decodeJws(encodeJws(j))).toBe(j);
  });
});

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
