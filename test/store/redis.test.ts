/**
 * The store contract on a real Redis (TEST_REDIS_URL), plus what only Redis has to prove:
 * no plaintext phone anywhere in keys or values, prefix isolation, leases across store
 * instances, and repair after a crash between the owner script and the index writes.
 */
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { createFieldCipher } from "../../src/crypto/field-cipher.js";
import { createMatchKeys, type MatchKeys } from "../../src/crypto/match-key.js";
import { emptyChangeset } from "../../src/domain/model.js";
import { decodeDoc, encodeDoc, NewerSchemaError, SCHEMA_VERSION } from "../../src/store/redis/document.js";
import { encodeId } from "../../src/store/redis/ids.js";
import { createIoredisCommands } from "../../src/store/redis/ioredis-client.js";
import { createRedisStore, type RedisStore } from "../../src/store/redis/redis-store.js";
import { WRITE_DOC } from "../../src/store/redis/scripts.js";
import { deleteKeys, dumpKeys, TEST_REDIS_URL, uniquePrefix } from "../support/redis.js";
import {
  aNewOwner,
  anInsurer,
  anOutboxEntry,
  consentPlan,
  secretsFor,
  seedPersonalData,
} from "./builders.js";
import { describeStoreContract, type StoreHarness } from "./contract.js";

const url = TEST_REDIS_URL ?? "";

/**
 * A fresh store under its own prefix; cleanup deletes the prefix's keys. It computes match
 * keys as the service does, so it leaves out the ones it can compute again (the builders'
 * made-up keys never are).
 */
async function harness(prefix = uniquePrefix("redis"), key = randomBytes(32)) {
  const cipher = createFieldCipher(key);
  const matchKey = createMatchKeys(key);
  const opened: RedisStore[] = [];
  // passTime moves every store's clock (the directory is kept for a time).
  let offset = 0;
  const now = () => new Date(Date.now() + offset);
  const open = async () => {
    const store = await createRedisStore({
      redis: createIoredisCommands({ url }),
      cipher,
      prefix,
      matchKey,
      now,
    });
    opened.push(store);
    return store;
  };
  const store = await open();
  const h: StoreHarness & {
    store: RedisStore;
    open: () => Promise<RedisStore>;
    prefix: string;
    matchKey: MatchKeys;
  } = {
    store,
    prefix,
    matchKey,
    open,
    reopen: open,
    outbox: () => store.listAllOutbox(),
    passTime: (ms) => {
      offset += ms;
    },
    cleanup: async () => {
      for (const s of opened) await s.close().catch(() => undefined);
      await deleteKeys(url, prefix);
    },
  };
  return h;
}

describe.skipIf(!TEST_REDIS_URL)("redis store (TEST_REDIS_URL)", () => {
  describeStoreContract("redis", () => harness());
});

describe.skipIf(!TEST_REDIS_URL)("redis store specifics", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  });
  const fresh = async (prefix?: string) => {
    const h = await harness(prefix);
    cleanups.push(h.cleanup);
    return h;
  };

  it("keeps no phone number, name, vehicle or secret in plaintext in any key or value", async () => {
    const { store, prefix } = await fresh();
    const { owner, secret } = await seedPersonalData(store);
    await store.recordScrubHits([
      {
        id: "h1",
        ownerId: owner.id,
        phoneHash: owner.phoneHash ?? "",
        insurerId: "cpic",
        kind: "scrub",
        answer: "do_not_contact",
        at: "2026-06-01T00:00:00.000Z",
      },
    ]);

    const all = await dumpKeys(url, prefix);
    expect(all.length).toBeGreaterThan(20);
    for (const needle of ["13812345678", "Zhangsan", "98765", secret.webhookSecret.slice(6, 30)]) {
      for (const bytes of all) expect(bytes.includes(Buffer.from(needle)), needle).toBe(false);
    }
    expect((await store.getOwner(owner.id))?.phone).toBe("+8613812345678");
  });

  it("keeps a receipt's agreed name and car when the profile changes", async () => {
    const h = await fresh();
    for (const id of ["a", "b"]) await h.store.addInsurer(anInsurer(id), secretsFor(id));
    const created = await h.store.ensureOwner(aNewOwner(88));
    await h.store.updateOwnerProfile(created.id, {
      phone: "+8613812345678",
      name: "Lin Wei",
      vehicle: "BYD Han",
    });
    const { owner } = await h.store.getOwnerState(created.id);
    const plan = consentPlan(owner, ["a"], ["b"]);
    await h.store.applyChangeset(plan.changeset);
    const receiptId = plan.receipts[0]!.id;
    expect((await h.store.getReceipt(receiptId))?.shared).toEqual({ name: "Lin Wei", vehicle: "BYD Han" });
    // The contact shared again under another name, the car removed: the receipt keeps what was agreed.
    await h.store.updateOwnerProfile(created.id, { name: "Wei Lin Jr", vehicle: null });
    for (const store of [h.store, await h.open()]) {
      expect((await store.getReceipt(receiptId))?.shared).toEqual({ name: "Lin Wei", vehicle: "BYD Han" });
    }
    expect((await h.store.getOwner(created.id))?.name).toBe("Wei Lin Jr");
  });

  it("refuses to write an owner document a newer build wrote, naming why, and leaves it as it was", async () => {
    const h = await fresh();
    const owner = await h.store.ensureOwner(aNewOwner(77));
    const key = `${h.prefix}{o:${encodeId(owner.id)}}`;
    const raw = createIoredisCommands({ url });
    const stored = (await raw.getBuffers([key]))[0]!;
    const doc = decodeDoc(stored)!;
    // A newer build's document: schema + 1, with a field this build has never heard of.
    const newer = { ...doc, schema: SCHEMA_VERSION + 1, owner: { ...doc.owner, loyalty: 3 } };
    await raw.call("SET", key, encodeDoc(newer, "j"));
    await expect(h.store.updateOwnerProfile(owner.id, { name: "Lin" })).rejects.toThrow(NewerSchemaError);
    await expect(h.store.updateOwnerProfile(owner.id, { name: "Lin" })).rejects.toThrow(
      /upgrade every process/,
    );
    // The write script checks too, for a newer document written between a read and a write.
    const script = raw.eval(
      WRITE_DOC,
      [key, `${key}:q`],
      [String(doc.owner.version), SCHEMA_VERSION, "x", "", "[]"],
    );
    await expect(script).rejects.toThrow(/OW_SCHEMA/);
    expect(decodeDoc((await raw.getBuffers([key]))[0])).toMatchObject({ schema: SCHEMA_VERSION + 1 });
    // Reading is still fine: what this build knows of the owner.
    expect((await h.store.getOwner(owner.id))?.id).toBe(owner.id);
    await raw.close();
  });

  it("keeps deployments with different prefixes apart on one server", async () => {
    const one = await fresh();
    const two = await fresh();
    await one.store.addInsurer(anInsurer("a"), secretsFor("a"));
    await one.store.setMeta("k", "one");
    const owner = await one.store.ensureOwner(aNewOwner(1));
    expect(await two.store.listInsurers()).toEqual([]);
    expect(await two.store.getMeta("k")).toBeUndefined();
    expect(await two.store.getOwnerByTelegramId(1)).toBeUndefined();
    const other = await two.store.ensureOwner(aNewOwner(1));
    expect(other.id).not.toBe(owner.id);
    await deleteKeys(url, two.prefix);
    expect(await one.store.getOwner(owner.id)).toEqual(owner);
    expect(await one.store.getMeta("k")).toBe("one");
  });

  it("never hands one entry to two store instances claiming concurrently", async () => {
    const h = await fresh();
    const stores = [h.store, await h.open(), await h.open()];
    const now = "2026-07-01T00:00:00.000Z";
    const owner = await h.store.ensureOwner(aNewOwner(77));
    const cs = emptyChangeset(owner.id, owner.version);
    for (let i = 0; i < 120; i++) cs.outbox.push(anOutboxEntry(`ins${i % 7}`, { ownerId: owner.id }));
    await h.store.applyChangeset(cs);
    const seen: string[] = [];
    for (let round = 0; round < 100; round++) {
      const batches = await Promise.all(
        stores.map((store, i) =>
          store.claimDue({ now, limit: 5, perInsurer: 2, leaseMs: 60_000, worker: `w${i}` }),
        ),
      );
      const claimed = batches.flat();
      if (claimed.length === 0) break;
      seen.push(...claimed.map((e) => e.id));
      await Promise.all(
        batches.flatMap((batch, i) =>
          batch.map(async (e) => {
            expect(await stores[i]?.completeDelivery(e.id, `w${i}`, { state: "delivered", at: now })).toBe(
              true,
            );
          }),
        ),
      );
    }
    expect(seen).toHaveLength(new Set(seen).size);
    expect(new Set(seen)).toEqual(new Set(cs.outbox.map((e) => e.id)));
    expect(await h.store.outboxStats()).toEqual({ pending: 0, retrying: 0, dead: 0 });
  });

  it("repairs a crash between the owner script and the index writes", async () => {
    const h = await fresh();
    await h.store.addInsurer(anInsurer("a"), secretsFor("a"));
    await h.store.addInsurer(anInsurer("b"), secretsFor("b"));
    const owner = await h.store.updateOwnerProfile((await h.store.ensureOwner(aNewOwner(9))).id, {
      phone: "+8613900000001",
    });
    const plan = consentPlan(owner, ["a"], ["b"]);
    h.store.faults.crashAfterScript = true;
    await h.store.applyChangeset(plan.changeset);
    h.store.faults.crashAfterScript = false;
    const window = plan.windows[0];
    if (!window) throw new Error("no window");
    const now = "2026-07-10T00:00:00.000Z";
    // The owner's records are written; the indexes are not yet.
    expect((await h.store.getOwnerState(owner.id)).windows).toEqual(plan.windows);
    expect(await h.store.getWindow(window.id)).toBeUndefined();
    expect(await h.store.listAllOutbox()).toEqual([]);

    // Another process opening the store replays the pending work.
    const other = await h.open();
    expect(await other.getWindow(window.id)).toEqual(window);
    expect(await other.findWindowByStopToken(window.stopToken)).toEqual(window);
    expect((await other.listWindowsForInsurer("a", { now, limit: 10 })).map((w) => w.id)).toEqual([
      window.id,
    ]);
    expect((await other.listOptOutsForInsurer("b", { limit: 10 })).map((o) => o.id)).toEqual(
      plan.optOuts.map((o) => o.id),
    );
    const claimed = await other.claimDue({ now, limit: 10, perInsurer: 10, leaseMs: 60_000, worker: "w" });
    expect(new Set(claimed.map((e) => e.id))).toEqual(new Set(plan.outbox.map((e) => e.id)));

    // A crash after a delivery, before its window mark, is repaired on the next claim.
    const opened = claimed.find((e) => e.type === "window.opened");
    if (!opened) throw new Error("no window.opened");
    other.faults.crashAfterScript = true;
    expect(await other.completeDelivery(opened.id, "w", { state: "delivered", at: now })).toBe(true);
    other.faults.crashAfterScript = false;
    expect((await other.getWindow(window.id))?.deliveredAt).toBeUndefined();
    await other.claimDue({ now, limit: 10, perInsurer: 10, leaseMs: 60_000, worker: "w2" });
    expect((await other.getWindow(window.id))?.deliveredAt).toBe(now);
    // Replaying again changes nothing: the delivered entry stays delivered.
    await other.repair({ all: true });
    expect((await other.listOutboxForOwner(owner.id)).find((e) => e.id === opened.id)?.state).toBe(
      "delivered",
    );
  });

  it("repairs a stale marker on claimDue once it is old enough", async () => {
    const prefix = uniquePrefix("redis");
    let clock = new Date("2026-07-10T00:00:00.000Z");
    const cipher = createFieldCipher(randomBytes(32));
    const store = await createRedisStore({
      redis: createIoredisCommands({ url }),
      cipher,
      prefix,
      now: () => clock,
    });
    cleanups.push(async () => {
      await store.close();
      await deleteKeys(url, prefix);
    });
    const owner = await store.ensureOwner(aNewOwner(5));
    const cs = emptyChangeset(owner.id, owner.version);
    cs.outbox.push(anOutboxEntry("a", { ownerId: owner.id }));
    store.faults.crashAfterScript = true;
    await store.applyChangeset(cs);
    store.faults.crashAfterScript = false;
    const query = { now: "2026-07-10T00:00:00.000Z", limit: 5, perInsurer: 5, leaseMs: 1000, worker: "w" };
    expect(await store.claimDue(query)).toEqual([]);
    clock = new Date(clock.getTime() + 31_000);
    expect((await store.claimDue(query)).map((e) => e.id)).toEqual([cs.outbox[0]?.id]);
  });
});
