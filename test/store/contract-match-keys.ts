/**
 * What every Redis backend (one server, Cluster, Upstash) must show about the opt-out match
 * keys it leaves out of an owner's document (store/redis/context.ts decode): none of the keys
 * the owner's phone gives is stored, every read path gives them back, they survive a phone
 * change, a phone removal and an erasure, and a race of phone changes and new opt-outs never
 * gives an opt-out another phone's key.
 */
import { afterAll, describe, expect, it } from "vitest";
import type { MatchKeys } from "../../src/crypto/match-key.js";
import { uuidv7Group } from "../../src/crypto/uuid-v7.js";
import { emptyChangeset, type OptOut } from "../../src/domain/model.js";
import type { RedisStore } from "../../src/store/redis/redis-store.js";
import { aNewOwner, anInsurer, consentPlan, secretsFor, T0 } from "./builders.js";

export interface MatchKeyHarness {
  store: RedisStore;
  /** Another store instance on the same data (another process). */
  open(): Promise<RedisStore>;
  matchKey: MatchKeys;
  /** Every key and value under the harness's prefix, as text. */
  dump(): Promise<string[]>;
  cleanup(): Promise<void>;
}

const PHONE_A = "+8613800000001";
const PHONE_B = "+8613900000002";
const hexKey = (hex: string) => Buffer.from(hex, "hex").toString("base64url");

export function describeMatchKeyDerivation(name: string, make: () => Promise<MatchKeyHarness>): void {
  describe(`${name}: match keys it can compute again`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterAll(async () => {
      for (const cleanup of cleanups) await cleanup();
    });

    const setUp = async () => {
      const h = await make();
      cleanups.push(() => h.cleanup());
      for (const id of ["a", "b", "c", "d"]) await h.store.addInsurer(anInsurer(id), secretsFor(id));
      const owner = await h.store.ensureOwner(aNewOwner(501));
      await h.store.updateOwnerProfile(owner.id, { phone: PHONE_A, phoneVerified: true });
      return { ...h, ownerId: owner.id };
    };
    type Harness = Awaited<ReturnType<typeof setUp>>;
    /**
     * Opt-outs planned as the service plans them: from freshly read state, ids of one changeset
     * (uuidv7Group), keys of the state's phone — or of another number for `foreign` insurers
     * (never planned so, but the store must not trust that).
     */
    const optOutOf = async (h: Harness, insurers: string[], foreign: string[] = []) => {
      const { owner } = await h.store.getOwnerState(h.ownerId);
      const plan = consentPlan(owner, [], [...insurers, ...foreign]);
      // One millisecond, as one plan usually is (across a tick the ids share only the time digits that stayed).
      const ids = uuidv7Group();
      const now = Date.now();
      for (const o of plan.optOuts) {
        o.id = ids(now);
        o.matchKey = h.matchKey(
          o.insurerId,
          foreign.includes(o.insurerId) ? "+8613700000000" : (owner.phone ?? ""),
        );
      }
      plan.changeset.outbox = [];
      await h.store.applyChangeset(plan.changeset);
      return plan.optOuts;
    };
    const document = async (h: Harness) => (await h.dump()).find((text) => text.includes('"p":')) ?? "";
    const keysOf = (list: (OptOut | undefined)[]) => list.map((o) => o?.matchKey);

    it("stores none of the keys the owner's phone gives, and every read gives them back", async () => {
      const h = await setUp();
      const [a, b, c] = (await optOutOf(h, ["a", "b"], ["c"])) as [OptOut, OptOut, OptOut];
      const doc = await document(h);
      expect(doc).not.toContain(hexKey(a.matchKey));
      expect(doc).not.toContain(hexKey(b.matchKey));
      expect(doc).toContain(hexKey(c.matchKey));
      // The opt-outs of one changeset are stored as `^` + the digits after the prefix they share:
      // at most 11 (they share 11 by construction, and by chance sometimes one or two more).
      const stored = JSON.parse(doc)
        .p.slice(1)
        .map((row: unknown[]) => String(row[0]));
      expect(stored).toHaveLength(2);
      for (const id of stored) expect(id).toMatch(/^\^.{1,11}$/);

      const all = [a, b, c];
      const ids = all.map((o) => o.id);
      expect((await h.store.getOwnerState(h.ownerId)).optOuts.map((o) => o.matchKey)).toEqual(keysOf(all));
      expect(keysOf(await h.store.getOptOuts(ids))).toEqual(keysOf(all));
      expect((await h.store.getOptOut(a.id))?.matchKey).toBe(a.matchKey);
      expect((await h.store.listOptOutsForInsurer("b", { limit: 10 }))[0]?.matchKey).toBe(b.matchKey);
      expect((await h.store.acknowledgeOptOut("a", a.id, T0))?.matchKey).toBe(a.matchKey);
      const { owner } = await h.store.getOwnerState(h.ownerId);
      const found = await h.store.scrubLookup("b", [owner.phoneHash ?? ""]);
      expect(keysOf(found.get(owner.phoneHash ?? "")?.optOuts ?? [])).toEqual([b.matchKey]);
      // Another process, which has read no state, reads them the same.
      expect(keysOf(await (await h.open()).getOptOuts(ids))).toEqual(keysOf(all));
    });

    it("keeps each phone's keys across a phone change, a phone removal and an erasure", async () => {
      const h = await setUp();
      const [a, b] = (await optOutOf(h, ["a", "b"])) as [OptOut, OptOut];
      await h.store.updateOwnerProfile(h.ownerId, { phone: PHONE_B, phoneVerified: true });
      expect(await document(h)).toContain(hexKey(a.matchKey));
      expect(keysOf(await h.store.getOptOuts([a.id, b.id]))).toEqual([
        h.matchKey("a", PHONE_A),
        h.matchKey("b", PHONE_A),
      ]);

      const [c] = (await optOutOf(h, ["c"])) as [OptOut];
      expect(c.matchKey).toBe(h.matchKey("c", PHONE_B));
      expect(await document(h)).not.toContain(hexKey(c.matchKey));
      await h.store.updateOwnerProfile(h.ownerId, { phone: null });
      expect(await document(h)).toContain(hexKey(c.matchKey));
      expect((await h.store.getOptOut(c.id))?.matchKey).toBe(h.matchKey("c", PHONE_B));

      await h.store.updateOwnerProfile(h.ownerId, { phone: PHONE_A });
      const [d] = (await optOutOf(h, ["d"])) as [OptOut];
      expect(await document(h)).not.toContain(hexKey(d.matchKey));
      await h.store.eraseOwner(h.ownerId, "2026-06-02T00:00:00.000Z");
      expect((await h.store.getOwner(h.ownerId))?.phone).toBeUndefined();
      expect(await document(h)).toContain(hexKey(d.matchKey));
      expect(keysOf(await h.store.getOptOuts([a.id, b.id, c.id, d.id]))).toEqual([
        h.matchKey("a", PHONE_A),
        h.matchKey("b", PHONE_A),
        h.matchKey("c", PHONE_B),
        h.matchKey("d", PHONE_A),
      ]);
    });

    it("keeps the old phone's keys when a changeset puts a new phone on file", async () => {
      const h = await setUp();
      const [a, b] = (await optOutOf(h, ["a", "b"])) as [OptOut, OptOut];
      const { owner } = await h.store.getOwnerState(h.ownerId);
      const cs = emptyChangeset(owner.id, owner.version);
      cs.owner = { phone: { phone: PHONE_B, phoneVerified: true } };
      await h.store.applyChangeset(cs);
      expect((await h.store.getOwner(h.ownerId))?.phone).toBe(PHONE_B);
      expect(await document(h)).toContain(hexKey(a.matchKey));
      expect(keysOf(await (await h.open()).getOptOuts([a.id, b.id]))).toEqual([
        h.matchKey("a", PHONE_A),
        h.matchKey("b", PHONE_A),
      ]);
      const [c] = (await optOutOf(h, ["c"])) as [OptOut];
      expect(c.matchKey).toBe(h.matchKey("c", PHONE_B));
      expect(await document(h)).not.toContain(hexKey(c.matchKey));
      expect(keysOf(await (await h.open()).getOptOuts([a.id, b.id, c.id]))).toEqual([
        h.matchKey("a", PHONE_A),
        h.matchKey("b", PHONE_A),
        h.matchKey("c", PHONE_B),
      ]);
    });

    it("stores no key again when the same number is shared again, and none for the new number's opt-outs filed with it", async () => {
      const h = await setUp();
      const [a, b] = (await optOutOf(h, ["a", "b"])) as [OptOut, OptOut];
      const size = (await document(h)).length;
      // The contact shared again: a profile update, then a changeset that also files an opt-out.
      await h.store.updateOwnerProfile(h.ownerId, { phone: PHONE_A, phoneVerified: true });
      let { owner } = await h.store.getOwnerState(h.ownerId);
      const again = consentPlan(owner, [], ["c"]);
      const c = again.optOuts[0]!;
      c.matchKey = h.matchKey("c", PHONE_A);
      again.changeset.outbox = [];
      again.changeset.owner = { phone: { phone: PHONE_A, phoneVerified: true } };
      await h.store.applyChangeset(again.changeset);
      let doc = await document(h);
      for (const o of [a, b, c]) expect(doc).not.toContain(hexKey(o.matchKey));
      // One more opt-out row, not three full keys (32 bytes each) more.
      expect(doc.length - size).toBeLessThan(200);

      // A new number with the opt-out carried to it: the old keys are kept, the new one derives.
      ({ owner } = await h.store.getOwnerState(h.ownerId));
      const moved = consentPlan(owner, [], ["d"]);
      const d = moved.optOuts[0]!;
      d.matchKey = h.matchKey("d", PHONE_B);
      moved.changeset.outbox = [];
      moved.changeset.owner = { phone: { phone: PHONE_B, phoneVerified: true } };
      await h.store.applyChangeset(moved.changeset);
      doc = await document(h);
      for (const o of [a, b, c]) expect(doc).toContain(hexKey(o.matchKey));
      expect(doc).not.toContain(hexKey(d.matchKey));
      expect(keysOf(await (await h.open()).getOptOuts([a.id, b.id, c.id, d.id]))).toEqual([
        h.matchKey("a", PHONE_A),
        h.matchKey("b", PHONE_A),
        h.matchKey("c", PHONE_A),
        h.matchKey("d", PHONE_B),
      ]);
    });

    it("never gives an opt-out another phone's key when phone changes race with opt-outs", async () => {
      const h = await setUp();
      const phones = [PHONE_A, PHONE_B, "+8613600000003", "+8613500000004"];
      const planned = new Map<string, string>();
      let changed = 0;
      for (let round = 0; round < 12; round++) {
        const insurer = ["a", "b", "c", "d"][round % 4] as string;
        const { owner } = await h.store.getOwnerState(h.ownerId);
        const plan = consentPlan(owner, [], [insurer]);
        for (const o of plan.optOuts) o.matchKey = h.matchKey(o.insurerId, owner.phone ?? "");
        const [applied, updated] = await Promise.allSettled([
          h.store.applyChangeset(plan.changeset),
          h.store.updateOwnerProfile(h.ownerId, { phone: phones[(round + 1) % 4] as string }),
        ]);
        if (applied.status === "fulfilled") for (const o of plan.optOuts) planned.set(o.id, o.matchKey);
        if (updated.status === "fulfilled") changed++;
      }
      expect(planned.size).toBeGreaterThan(0);
      expect(changed).toBe(12);
      const ids = [...planned.keys()];
      expect(keysOf(await (await h.open()).getOptOuts(ids))).toEqual(ids.map((id) => planned.get(id)));
    });
  });
}
