/**
 * The migration from key layout 4: a store filled by the layout-4 code (fixtures/layout4.json,
 * made by fixtures/make-layout4.ts from main before issue 19) is loaded into Redis as it was,
 * opened by this build, and must read back exactly what the layout-4 code read — every owner's
 * state and outbox, the feeds, receipts, attempts, notices, dead letters, scrub — and then work:
 * the queued notices are delivered once, new agreements and erasures apply.
 */
import fs from "node:fs";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { createFieldCipher } from "../../src/crypto/field-cipher.js";
import { createMatchKeys } from "../../src/crypto/match-key.js";
import { createIoredisCommands } from "../../src/store/redis/ioredis-client.js";
import { createRedisStore, LAYOUT_VERSION, type RedisStore } from "../../src/store/redis/redis-store.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../support/redis.js";
import { consentPlan } from "./builders.js";

const url = TEST_REDIS_URL ?? "";
const FIXTURE_PREFIX = "l4fixture:";

interface Fixture {
  dataKey: string;
  dump: { key: string; type: "string" | "hash" | "zset" | "set"; value: unknown; pttl?: number }[];
  // biome-ignore lint/suspicious/noExplicitAny: what the layout-4 code answered, compared whole
  expected: Record<string, any>;
}
const fixture = JSON.parse(
  fs.readFileSync(new URL("./fixtures/layout4.json", import.meta.url), "utf8"),
) as Fixture;

/** Writes the dump under `prefix`, as the layout-4 code left it. */
async function load(prefix: string) {
  const raw = new Redis(url, { protocol: 2 });
  const re = (text: string) => text.replaceAll(FIXTURE_PREFIX, prefix);
  for (const { key, type, value, pttl } of fixture.dump) {
    const k = prefix + key;
    if (type === "string") {
      if (pttl !== undefined && pttl > 0) await raw.set(k, re(String(value)), "PX", pttl);
      else await raw.set(k, re(String(value)));
    } else if (type === "hash") {
      const entries = Object.entries(value as Record<string, string>).flatMap(([f, v]) => [f, re(v)]);
      await raw.hset(k, ...entries);
    } else if (type === "zset") {
      const list = value as string[];
      const args: (string | number)[] = [];
      for (let i = 0; i + 1 < list.length; i += 2) args.push(Number(list[i + 1]), list[i] as string);
      await raw.zadd(k, ...args);
    } else {
      await raw.sadd(k, ...(value as string[]));
    }
  }
  await raw.quit();
}

describe.skipIf(!TEST_REDIS_URL)("redis store: migration from layout 4", () => {
  const prefixes: string[] = [];
  const stores: RedisStore[] = [];
  afterAll(async () => {
    for (const s of stores) await s.close().catch(() => undefined);
    for (const p of prefixes) await deleteKeys(url, p);
  });
  const key = Buffer.from(fixture.dataKey, "hex");
  const open = async (prefix: string) => {
    const store = await createRedisStore({
      redis: createIoredisCommands({ url }),
      cipher: createFieldCipher(key),
      matchKey: createMatchKeys(key),
      prefix,
      now: () => new Date(fixture.expected.now),
    });
    stores.push(store);
    return store;
  };
  const migrated = async () => {
    const prefix = uniquePrefix("l4");
    prefixes.push(prefix);
    await load(prefix);
    return { prefix, store: await open(prefix) };
  };
  const e = fixture.expected;

  /** Everything the layout-4 code read, read again through `store`. */
  const readAll = async (store: RedisStore) => {
    const states: Record<string, unknown> = {};
    for (const id of e.owners as string[]) {
      states[id] = {
        state: await store.getOwnerState(id).catch(() => null),
        outbox: await store.listOutboxForOwner(id),
      };
    }
    const feeds: Record<string, unknown> = {};
    for (const id of ["a", "b", "c", "d"]) {
      feeds[id] = {
        windows: await store.listWindowsForInsurer(id, { now: e.now, limit: 100 }),
        optOuts: await store.listOptOutsForInsurer(id, { limit: 100 }),
      };
    }
    const o1 = e.states[e.owners[0]].state.owner;
    return {
      states,
      feeds,
      receipt: await store.getReceipt(e.receipt.id),
      attempts: await store.listAttempts(e.attempts[0].windowId),
      notices: await store.pendingOwnerNotices(10),
      acks: await store.pendingAckNotices(10),
      dead: await store.listDeadDeliveries(10),
      stats: await store.outboxStats(),
      withConsent: await store.listOwnerIdsWithConsent(undefined, 10),
      scrub: Object.fromEntries(
        await store.scrubLookup("b", [e.scrub ? Object.keys(e.scrub)[0] : o1.phoneHash]),
      ),
      stopToken: await store.findWindowByStopToken(e.stopToken.stopToken),
      queued: await store.listAllOutbox(),
    };
  };
  const { owners: _owners, now: _now, ...expected } = e;

  it("reads back exactly what the layout-4 code read, and records layout 5", async () => {
    const { prefix, store } = await migrated();
    expect(await readAll(store)).toEqual(expected);
    const raw = createIoredisCommands({ url });
    expect(await raw.call("HGET", `${prefix}{meta}`, "layout")).toBe(LAYOUT_VERSION);
    const docs = (await raw.scan(`${prefix}{o:*}`)).filter((k) => k.endsWith("}"));
    expect(docs).toHaveLength(e.owners.length);
    for (const doc of await raw.getBuffers(docs)) expect(doc?.subarray(0, 4).toString()).toMatch(/^1:\d+:/);
    // Layout 4's feed keys are gone: the feeds live in their insurer's queue slot now.
    expect(await raw.scan(`${prefix}{f[wo]:*`)).toEqual([]);
    await raw.close();
  });

  it("is safe to run again (a migration stopped part-way), and a reopened store skips it", async () => {
    const { prefix, store } = await migrated();
    const first = await readAll(store);
    const raw = createIoredisCommands({ url });
    await raw.call("HSET", `${prefix}{meta}`, "layout", "4");
    await raw.close();
    expect(await readAll(await open(prefix))).toEqual(first);
    expect(await readAll(await open(prefix))).toEqual(first);
  });

  it("works on after the migration: every queued notice is delivered once, owners agree and erase", async () => {
    const { store } = await migrated();
    // After every lease the layout-4 code gave out has ended.
    const later = "2026-07-10T01:00:00.000Z";
    const delivered = new Set<string>();
    for (let round = 0; round < 5; round++) {
      const claimed = await store.claimDue({
        now: later,
        limit: 50,
        perInsurer: 50,
        leaseMs: 60_000,
        worker: "new",
      });
      if (claimed.length === 0) break;
      for (const entry of claimed) {
        expect(delivered.has(entry.id)).toBe(false);
        delivered.add(entry.id);
      }
      const done = await store.completeDeliveries(
        claimed.map((entry) => ({
          id: entry.id,
          worker: "new",
          result: { state: "delivered" as const, at: later },
        })),
      );
      expect(done.every(Boolean)).toBe(true);
    }
    const pending = (e.queued as { id: string; state: string }[]).filter((q) => q.state === "pending");
    expect([...delivered].sort()).toEqual(pending.map((q) => q.id).sort());
    expect(await store.outboxStats()).toEqual({ pending: 0, retrying: 0, dead: 1 });
    for (const id of e.owners as string[]) {
      for (const entry of await store.listOutboxForOwner(id))
        expect(["delivered", "skipped", "dead"]).toContain(entry.state);
    }

    // The owner who never agreed shares a number and agrees; the first owner changes their mind.
    const [first, , , newcomer] = e.owners as string[];
    const fresh = await store.updateOwnerProfile(newcomer as string, { phone: "+8613800000004" });
    const plan = consentPlan(fresh, ["a"], ["b"]);
    await store.applyChangeset(plan.changeset);
    expect((await store.getOwnerState(fresh.id)).windows.map((w) => w.id)).toEqual(
      plan.windows.map((w) => w.id),
    );
    expect(await store.getWindow(plan.windows[0]!.id)).toEqual(plan.windows[0]);
    await store.eraseOwner(first as string, later);
    const gone = await store.getOwnerState(first as string);
    expect(gone.owner.phone).toBeUndefined();
    // The receipt tombstone keeps its payload hash (the layout-4 document derived it from the JWS).
    expect(await store.getReceipt(e.receipt.id)).toMatchObject({
      id: e.receipt.id,
      payloadHash: e.receipt.payloadHash,
    });
  });
});
