/**
 * The store contract on a 3-master Redis Cluster started from the machine's redis-server on
 * loopback ports (REDIS_URL-style comma-separated seeds select ioredis `Cluster`). Skipped,
 * with the reason in its title, when redis-server or redis-cli is missing.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFieldCipher } from "../../src/crypto/field-cipher.js";
import { emptyChangeset } from "../../src/domain/model.js";
import { createIoredisCommands } from "../../src/store/redis/ioredis-client.js";
import { createRedisStore, type RedisStore } from "../../src/store/redis/redis-store.js";
import {
  deleteKeys,
  hasRedisServer,
  startCluster,
  type TestCluster,
  uniquePrefix,
} from "../support/redis.js";
import { aNewOwner, anOutboxEntry } from "./builders.js";
import { describeStoreContract } from "./contract.js";

const available = hasRedisServer();
const title = available
  ? "redis cluster store (3 masters on loopback)"
  : "redis cluster store — SKIPPED: redis-server/redis-cli not found on PATH";

describe.skipIf(!available)(title, () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster(3);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  const open = async (prefix: string, key: Buffer, now?: () => Date) =>
    createRedisStore({
      redis: createIoredisCommands({ url: cluster.url }),
      cipher: createFieldCipher(key),
      prefix,
      ...(now ? { now } : {}),
    });

  /** Stores on one fresh prefix and key, as processes of one deployment; cleanup deletes it. */
  const deployment = (label: string) => {
    const prefix = uniquePrefix(label);
    const key = randomBytes(32);
    const opened: RedisStore[] = [];
    // passTime moves every store's clock (the directory is kept for a time).
    let offset = 0;
    const now = () => new Date(Date.now() + offset);
    const reopen = async () => {
      const store = await open(prefix, key, now);
      opened.push(store);
      return store;
    };
    const cleanup = async () => {
      for (const s of opened) await s.close();
      await deleteKeys(cluster.url, prefix);
    };
    const passTime = (ms: number) => {
      offset += ms;
    };
    return { prefix, key, reopen, cleanup, passTime };
  };

  describeStoreContract("redis cluster", async () => {
    const { reopen, cleanup, passTime } = deployment("cluster");
    const store = await reopen();
    return { store, reopen, outbox: () => store.listAllOutbox(), passTime, cleanup };
  });

  it("spreads one deployment's keys over every master", async () => {
    const prefix = uniquePrefix("cluster");
    const store = await open(prefix, randomBytes(32));
    try {
      for (let i = 0; i < 20; i++) {
        const owner = await store.ensureOwner(aNewOwner(100 + i));
        const cs = emptyChangeset(owner.id, owner.version);
        cs.outbox.push(anOutboxEntry(`ins${i}`, { ownerId: owner.id }));
        await store.applyChangeset(cs);
      }
      const { Redis } = await import("ioredis");
      const counts = await Promise.all(
        cluster.ports.map(async (port) => {
          const node = new Redis({ port, host: "127.0.0.1", protocol: 2 });
          try {
            const [, keys] = await node.scan("0", "MATCH", `${prefix}*`, "COUNT", 10_000);
            return keys.length;
          } finally {
            node.disconnect();
          }
        }),
      );
      for (const count of counts) expect(count).toBeGreaterThan(0);
      const claimed = await store.claimDue({
        now: "2026-07-01T00:00:00.000Z",
        limit: 50,
        perInsurer: 5,
        leaseMs: 1000,
        worker: "w",
      });
      expect(claimed).toHaveLength(20);
    } finally {
      await store.close();
      await deleteKeys(cluster.url, prefix);
    }
  });
});
