/**
 * The store contract over the Upstash REST protocol: @upstash/redis talks to a loopback fake
 * (test/fakes/upstash-server.ts) that forwards to the real Redis of TEST_REDIS_URL.
 */
import { randomBytes } from "node:crypto";
import { Redis as UpstashRedis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFieldCipher } from "../../src/crypto/field-cipher.js";
import { createRedisStore, type RedisStore } from "../../src/store/redis/redis-store.js";
import { createUpstashCommands } from "../../src/store/redis/upstash-client.js";
import { startUpstashFake, type UpstashFake } from "../fakes/upstash-server.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../support/redis.js";
import { aNewOwner } from "./builders.js";
import { describeStoreContract } from "./contract.js";

const url = TEST_REDIS_URL ?? "";

describe.skipIf(!TEST_REDIS_URL)("upstash store (REST fake over TEST_REDIS_URL)", () => {
  let fake: UpstashFake;
  beforeAll(async () => {
    fake = await startUpstashFake(url);
  });
  afterAll(async () => {
    await fake?.close();
  });

  describeStoreContract("upstash", async () => {
    const prefix = uniquePrefix("upstash");
    const cipher = createFieldCipher(randomBytes(32));
    const opened: RedisStore[] = [];
    // passTime moves every store's clock (the directory is kept for a time).
    let offset = 0;
    const now = () => new Date(Date.now() + offset);
    const open = async () => {
      const redis = createUpstashCommands({ url: fake.url, token: fake.token });
      const store = await createRedisStore({ redis, cipher, prefix, now });
      opened.push(store);
      return store;
    };
    const store = await open();
    return {
      store,
      reopen: open,
      outbox: () => store.listAllOutbox(),
      passTime: (ms: number) => {
        offset += ms;
      },
      cleanup: async () => {
        for (const s of opened) await s.close();
        await deleteKeys(url, prefix);
      },
    };
  });

  describe("the fake at the wire", () => {
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${fake.url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${fake.token}`, ...headers },
        body: JSON.stringify(body),
      });

    it("needs the bearer token", async () => {
      const res = await fetch(fake.url, { method: "POST", body: '["PING"]' });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: "Unauthorized" });
    });

    it("answers single commands, pipelines and transactions in {result}/{error} envelopes", async () => {
      const key = `${uniquePrefix("wire")}k`;
      try {
        expect(await (await post("/", ["SET", key, "13800000000"])).json()).toEqual({ result: "OK" });
        expect(await (await post("/", ["GET", key])).json()).toEqual({ result: "13800000000" });
        const bad = await post("/", ["INCRBY", key]);
        expect(bad.status).toBe(400);
        expect(((await bad.json()) as { error: string }).error).toMatch(/^ERR/);
        expect(
          await (
            await post("/pipeline", [
              ["GET", key],
              ["HGET", key, "f"],
              ["EXISTS", key],
            ])
          ).json(),
        ).toEqual([{ result: "13800000000" }, { error: expect.stringMatching(/WRONGTYPE/) }, { result: 1 }]);
        expect(
          await (
            await post("/multi-exec", [
              ["DEL", key],
              ["GET", key],
            ])
          ).json(),
        ).toEqual([{ result: 1 }, { result: null }]);
        const encoded = await post(
          "/pipeline",
          [
            ["SET", key, "é"],
            ["MGET", key, "nope"],
          ],
          {
            "Upstash-Encoding": "base64",
          },
        );
        expect(await encoded.json()).toEqual([
          { result: Buffer.from("OK").toString("base64") },
          { result: [Buffer.from("é").toString("base64"), null] },
        ]);
      } finally {
        await deleteKeys(url, key);
      }
    });

    it("serves @upstash/redis with its defaults (base64, auto-pipelining)", async () => {
      const prefix = uniquePrefix("wire");
      const client = new UpstashRedis({ url: fake.url, token: fake.token, enableTelemetry: false });
      try {
        const before = fake.requests["/pipeline"] ?? 0;
        await Promise.all([client.set(`${prefix}a`, "x"), client.set(`${prefix}b`, "y")]);
        expect(await Promise.all([client.get(`${prefix}a`), client.get(`${prefix}b`)])).toEqual(["x", "y"]);
        expect((fake.requests["/pipeline"] ?? 0) - before).toBeGreaterThan(0);
      } finally {
        await deleteKeys(url, prefix);
      }
    });
  });

  it("keeps digit strings as strings through the store's client (no JSON deserialization)", async () => {
    const prefix = uniquePrefix("upstash");
    const store = await createRedisStore({
      redis: createUpstashCommands({ url: fake.url, token: fake.token }),
      cipher: createFieldCipher(randomBytes(32)),
      prefix,
    });
    try {
      await store.setMeta("n", "0033");
      await store.writeSession("s", "8613812345678");
      expect(await store.getMeta("n")).toBe("0033");
      expect(await store.readSession("s")).toBe("8613812345678");
      const owner = await store.ensureOwner(aNewOwner(12345678901));
      expect((await store.getOwnerByTelegramId(12345678901))?.id).toBe(owner.id);
    } finally {
      await store.close();
      await deleteKeys(url, prefix);
    }
  });
});
