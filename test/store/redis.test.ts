/**
 * The store contract on a real Redis (TEST_REDIS_URL), plus what only Redis has to prove:
 * no plaintext phone anywhere in keys or values, prefix isolation, leases across store
 * instances, and repair after a crash between the owner script and the index writes.
 */
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { createFieldCipher } from "../../src/crypto/field-cipher.js";
import { createMatchKeys, type MatchKeys } from "../../src/crypto/match-key.js";
import { emptyChangeset, type OptOut } from "../../src/domain/model.js";
import { createIoredisCommands } from "../../src/store/redis/ioredis-client.js";
import { createRedisStore, type RedisStore } from "../../src/store/redis/redis-store.js";
import { deleteKeys, dumpKeys, TEST_REDIS_URL, uniquePrefix } from "../support/redis.js";
import {
  aNewOwner,
  anInsurer,
  anOutboxEntry,
  consentPlan,
  secretsFor,
  seedPersonalData,
  T0,
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
  const open = async () => {
    const store = await createRedisStore({ redis: createIoredisCommands({ url }), cipher, prefix, matchKey });
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

describe.skipIf(!TEST_REDIS_URL)("redis store: match keys it can compute again", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  });
  const PHONE_A = "+8613800000001";
  const PHONE_B = "+8613900000002";

  /** An owner with phone A, and a plan that opts it out of `others` with real match keys. */
  const setUp = async () => {
    const h = await harness();
    cleanups.push(h.cleanup);
    for (const id of ["a", "b", "c", "d"]) await h.store.addInsurer(anInsurer(id), secretsFor(id));
    await h.store.ensureOwner(aNewOwner(501));
    const created = await h.store.getOwnerByTelegramId(501);
    await h.store.updateOwnerProfile(created?.id ?? "", { phone: PHONE_A, phoneVerified: true });
    return h;
  };
  /** Plans from freshly read state, as the service does, with the keys of the state's phone. */
  const optOutOf = async (
    h: Awaited<ReturnType<typeof setUp>>,
    insurers: string[],
    foreign: string[] = [],
  ) => {
    const { owner } = await h.store.getOwnerState((await h.store.getOwnerByTelegramId(501))?.id ?? "");
    const plan = consentPlan(owner, [], [...insurers, ...foreign]);
    for (const o of plan.optOuts) {
      // A key for another number (never planned so, but the store must not trust that).
      o.matchKey = foreign.includes(o.insurerId)
        ? h.matchKey(o.insurerId, "+8613700000000")
        : h.matchKey(o.insurerId, owner.phone ?? "");
    }
    await h.store.applyChangeset(plan.changeset);
    return { owner, plan };
  };
  const rawDocument = async (h: Awaited<ReturnType<typeof setUp>>) =>
    (await dumpKeys(url, h.prefix)).map((b) => b.toString()).find((text) => text.includes('"p":')) ?? "";
  const hexKey = (hex: string) => Buffer.from(hex, "hex").toString("base64url");

  it("stores none of the keys the owner's phone gives, and every read gives them back", async () => {
    const h = await setUp();
    const { owner, plan } = await optOutOf(h, ["a", "b"], ["c"]);
    const [a, b, c] = plan.optOuts as [OptOut, OptOut, OptOut];
    const doc = await rawDocument(h);
    expect(doc).not.toContain(hexKey(a.matchKey));
    expect(doc).not.toContain(hexKey(b.matchKey));
    // A key the phone does not give is kept as it is.
    expect(doc).toContain(hexKey(c.matchKey));

    const expected = Object.fromEntries(plan.optOuts.map((o) => [o.id, o.matchKey]));
    const keysOf = (list: (OptOut | undefined)[]) =>
      Object.fromEntries(list.map((o) => [o?.id, o?.matchKey]));
    expect(keysOf((await h.store.getOwnerState(owner.id)).optOuts)).toEqual(expected);
    expect(keysOf(await h.store.getOptOuts(plan.optOuts.map((o) => o.id)))).toEqual(expected);
    expect((await h.store.getOptOut(a.id))?.matchKey).toBe(a.matchKey);
    expect((await h.store.listOptOutsForInsurer("b", { limit: 10 }))[0]?.matchKey).toBe(b.matchKey);
    expect((await h.store.acknowledgeOptOut("a", a.id, T0))?.matchKey).toBe(a.matchKey);
    const found = await h.store.scrubLookup("b", [owner.phoneHash ?? ""]);
    expect(found.get(owner.phoneHash ?? "")?.optOuts.map((o) => o.matchKey)).toEqual([b.matchKey]);
    // Another process (no recently read state) reads them the same.
    const other = await h.open();
    expect(keysOf(await other.getOptOuts(plan.optOuts.map((o) => o.id)))).toEqual(expected);
  });

  it("keeps the old phone's keys when the phone changes, and every key when the owner is erased", async () => {
    const h = await setUp();
    const { owner, plan } = await optOutOf(h, ["a", "b"]);
    await h.store.updateOwnerProfile(owner.id, { phone: PHONE_B, phoneVerified: true });
    const [a, b] = plan.optOuts as [OptOut, OptOut];
    // Written back: phone B would give others.
    expect(await rawDocument(h)).toContain(hexKey(a.matchKey));
    expect((await h.store.getOptOut(a.id))?.matchKey).toBe(h.matchKey("a", PHONE_A));
    expect((await h.store.getOptOut(b.id))?.matchKey).toBe(h.matchKey("b", PHONE_A));

    const later = await optOutOf(h, ["c"]);
    const c = later.plan.optOuts[0] as OptOut;
    expect(c.matchKey).toBe(h.matchKey("c", PHONE_B));
    expect(await rawDocument(h)).not.toContain(hexKey(c.matchKey));

    await h.store.eraseOwner(owner.id, "2026-06-02T00:00:00.000Z");
    expect((await h.store.getOwner(owner.id))?.phone).toBeUndefined();
    expect(await rawDocument(h)).toContain(hexKey(c.matchKey));
    expect((await h.store.getOptOuts([a.id, b.id, c.id])).map((o) => o?.matchKey)).toEqual([
      h.matchKey("a", PHONE_A),
      h.matchKey("b", PHONE_A),
      h.matchKey("c", PHONE_B),
    ]);
  });

  it("never gives an opt-out another phone's key when phone changes race with opt-outs", async () => {
    const h = await setUp();
    const ownerId = (await h.store.getOwnerByTelegramId(501))?.id ?? "";
    const phones = [PHONE_A, PHONE_B, "+8613600000003", "+8613500000004"];
    const planned = new Map<string, string>();
    for (let round = 0; round < 12; round++) {
      const insurer = ["a", "b", "c", "d"][round % 4] as string;
      const { owner } = await h.store.getOwnerState(ownerId);
      const plan = consentPlan(owner, [], [insurer]);
      for (const o of plan.optOuts) o.matchKey = h.matchKey(o.insurerId, owner.phone ?? "");
      const [applied] = await Promise.allSettled([
        h.store.applyChangeset(plan.changeset),
        h.store.updateOwnerProfile(ownerId, { phone: phones[(round + 1) % 4] as string }),
      ]);
      if (applied.status === "fulfilled") for (const o of plan.optOuts) planned.set(o.id, o.matchKey);
    }
    expect(planned.size).toBeGreaterThan(0);
    const read = await h.open();
    const ids = [...planned.keys()];
    expect((await read.getOptOuts(ids)).map((o) => o?.matchKey)).toEqual(ids.map((id) => planned.get(id)));
  });
});
