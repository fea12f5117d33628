/**
 * The behaviour every Store must have (STYLE item 7). Each backend's test file calls
 * `describeStoreContract` with a factory for a fresh, empty store.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { emptyChangeset, type OutboxEntry, type Owner } from "../../src/domain/model.js";
import { ConflictError, DIRECTORY_MAX_AGE_MS, DuplicateError, type Store } from "../../src/store/store.js";
import { aNewOwner, anInsurer, consentPlan, secretsFor, T0 } from "./builders.js";
import { describeInsurerContract } from "./contract-insurers.js";

export interface StoreHarness {
  store: Store;
  /** A new Store over the same data, as after a restart (the caller closes the old one). */
  reopen?: () => Promise<Store>;
  /** Removes the data and closes every store the harness opened. */
  cleanup(): Promise<void>;
  /** Reads the outbox straight from the backend, until the Store grows a query for it. */
  outbox?: () => Promise<OutboxEntry[]>;
  /** Moves the clock of every store the harness opened forward (stores that keep things for a time). */
  passTime?: (ms: number) => void;
}

const PHONE = "+8613812345678";

/** Registers the shared store suite under `name`. */
export function describeStoreContract(name: string, makeStore: () => Promise<StoreHarness>): void {
  describe(`Store contract: ${name}`, () => {
    let h: StoreHarness;
    let store: Store;

    beforeEach(async () => {
      h = await makeStore();
      store = h.store;
    });
    afterEach(async () => {
      await h.cleanup();
    });

    async function ownerWithPhone(telegramUserId = 1001): Promise<Owner> {
      const owner = await store.ensureOwner(aNewOwner(telegramUserId));
      return store.updateOwnerProfile(owner.id, { phone: PHONE, phoneVerified: true, country: "CN" });
    }

    async function addInsurers(...ids: string[]) {
      for (const id of ids) await store.addInsurer(anInsurer(id), secretsFor(id));
    }

    describeInsurerContract(() => store);

    it("answers ping", async () => {
      expect(await store.ping()).toBe(true);
    });

    describe("insurers", () => {
      it("lists active insurers by id and hides removed ones", async () => {
        await store.addInsurer(
          anInsurer("pingan", { contact: "95511", webhookUrl: "https://p.example/h" }),
          secretsFor("pingan"),
        );
        await store.addInsurer(anInsurer("cpic"), secretsFor("cpic"));
        await store.addInsurer(anInsurer("gone", { removedAt: T0 }), secretsFor("gone"));
        const list = await store.listInsurers();
        expect(list.map((i) => i.id)).toEqual(["cpic", "pingan"]);
        expect(list[1]).toEqual(anInsurer("pingan", { contact: "95511", webhookUrl: "https://p.example/h" }));
        expect((await store.getInsurer("gone"))?.removedAt).toBe(T0);
        expect(await store.getInsurer("nope")).toBeUndefined();
      });

      it("refuses a duplicate id, even of a removed insurer", async () => {
        await store.addInsurer(anInsurer("gone", { removedAt: T0 }), secretsFor("gone"));
        await expect(store.addInsurer(anInsurer("gone"), secretsFor("gone"))).rejects.toBeInstanceOf(
          DuplicateError,
        );
        expect(await store.listInsurers()).toEqual([]);
      });

      it("keeps a Chinese name: added, read, listed, changed and cleared", async () => {
        await store.addInsurer(anInsurer("pingan", { nameZh: "中国平安" }), secretsFor("pingan"));
        expect(await store.getInsurer("pingan")).toEqual(anInsurer("pingan", { nameZh: "中国平安" }));
        expect(await store.listInsurers()).toEqual([anInsurer("pingan", { nameZh: "中国平安" })]);

        expect((await store.updateInsurer("pingan", { nameZh: "平安产险" })).nameZh).toBe("平安产险");
        expect((await store.getInsurer("pingan"))?.nameZh).toBe("平安产险");
        // Patching something else leaves it alone.
        expect((await store.updateInsurer("pingan", { name: "Ping An" })).nameZh).toBe("平安产险");

        const cleared = await store.updateInsurer("pingan", { nameZh: null });
        expect(cleared).not.toHaveProperty("nameZh");
        expect(await store.getInsurer("pingan")).not.toHaveProperty("nameZh");
        expect((await store.listInsurers())[0]).not.toHaveProperty("nameZh");
      });

      it("has no Chinese name for an insurer added without one (absent, not null or empty)", async () => {
        await addInsurers("cpic");
        const found = await store.getInsurer("cpic");
        expect(found).toEqual(anInsurer("cpic"));
        expect(found).not.toHaveProperty("nameZh");
        expect((await store.listInsurers())[0]).not.toHaveProperty("nameZh");
        expect(await store.findInsurerByApiKeyHash(secretsFor("cpic").apiKeyHash)).not.toHaveProperty(
          "nameZh",
        );
      });

      it("lists its own directory changes at once, however often the directory was read before", async () => {
        const listed = async () =>
          (await store.listInsurers()).map((i) => [i.id, i.name, i.aliases, i.contact, i.webhookDisabledAt]);
        expect(await listed()).toEqual([]);
        await addInsurers("b");
        expect(await listed()).toEqual([["b", "Insurer b", ["B"], undefined, undefined]]);
        await addInsurers("a");
        expect((await listed()).map(([id]) => id)).toEqual(["a", "b"]);
        await store.updateInsurer("a", { name: "Renamed", aliases: ["R"], contact: "95500" });
        expect((await listed())[0]).toEqual(["a", "Renamed", ["R"], "95500", undefined]);
        await store.updateInsurer("a", { webhookDisabledAt: T0 });
        expect((await listed())[0]).toEqual(["a", "Renamed", ["R"], "95500", T0]);
        await store.removeInsurer("b", T0);
        expect((await listed()).map(([id]) => id)).toEqual(["a"]);
        // A failed write changes nothing either.
        await expect(store.updateInsurer("b", { name: "gone" })).rejects.toThrow();
        expect((await listed()).map(([id]) => id)).toEqual(["a"]);
      });

      it("hands out a directory no caller can change for the next", async () => {
        await addInsurers("a");
        const first = await store.listInsurers();
        first[0]!.name = "changed by a caller";
        first[0]!.aliases.push("ALSO");
        first.push(anInsurer("z"));
        expect(await store.listInsurers()).toEqual([anInsurer("a")]);
      });

      it(`lists directory changes made through another store over the same data (another process) within ${DIRECTORY_MAX_AGE_MS} ms`, async () => {
        const other = await h.reopen?.();
        if (!other) return;
        await addInsurers("a", "b");
        // Read (and perhaps kept) by both before the change.
        expect((await store.listInsurers()).map((i) => i.id)).toEqual(["a", "b"]);
        expect((await other.listInsurers()).map((i) => i.id)).toEqual(["a", "b"]);
        await other.addInsurer(anInsurer("c"), secretsFor("c"));
        await other.updateInsurer("a", { name: "Renamed elsewhere" });
        await other.removeInsurer("b", T0);
        h.passTime?.(DIRECTORY_MAX_AGE_MS);
        expect((await store.listInsurers()).map((i) => [i.id, i.name])).toEqual([
          ["a", "Renamed elsewhere"],
          ["c", "Insurer c"],
        ]);
        // And the other way round.
        await store.updateInsurer("c", { name: "Renamed here" });
        h.passTime?.(DIRECTORY_MAX_AGE_MS);
        expect((await other.listInsurers()).map((i) => i.name)).toEqual([
          "Renamed elsewhere",
          "Renamed here",
        ]);
      });

      it("returns the secrets as given, and nothing for an unknown id", async () => {
        await addInsurers("pingan");
        expect(await store.getInsurerSecrets("pingan")).toEqual(secretsFor("pingan"));
        expect(await store.getInsurerSecrets("nope")).toBeUndefined();
      });
    });

    describe("owners", () => {
      it("creates one owner per Telegram user, however often asked", async () => {
        const first = await store.ensureOwner(aNewOwner(42));
        const again = await store.ensureOwner(aNewOwner(42, { language: "zh" }));
        const other = await store.ensureOwner(aNewOwner(43));
        expect(again).toEqual(first);
        expect(other.id).not.toBe(first.id);
        expect(first).toMatchObject({ telegramUserId: 42, chatId: 42, language: "en", phoneVerified: false });
        expect(first.phone).toBeUndefined();
        expect(await store.getOwnerByTelegramId(42)).toEqual(first);
        expect(await store.getOwner(first.id)).toEqual(first);
        expect(await store.getOwner("nope")).toBeUndefined();
        expect(await store.getOwnerByTelegramId(7)).toBeUndefined();
      });

      it("gives a known owner as stored now, leaving what it was created with alone", async () => {
        const first = await store.ensureOwner(aNewOwner(44));
        const changed = await store.updateOwnerProfile(first.id, { phone: PHONE, language: "zh" });
        const again = await store.ensureOwner(aNewOwner(44, { language: "en", timezone: "Europe/London" }));
        expect(again).toEqual(changed);
        expect(again).toMatchObject({ language: "zh", timezone: first.timezone, phone: PHONE });
      });

      it("updates profile fields, bumps the version, and clears with null", async () => {
        const owner = await store.ensureOwner(aNewOwner(42));
        const updated = await store.updateOwnerProfile(owner.id, {
          phone: PHONE,
          phoneVerified: true,
          country: "CN",
          name: "Lin Wei",
          vehicle: "粤B·12345",
          language: "zh",
        });
        expect(updated).toMatchObject({ phone: PHONE, phoneVerified: true, country: "CN", name: "Lin Wei" });
        expect(updated.vehicle).toBe("粤B·12345");
        expect(updated.language).toBe("zh");
        expect(updated.version).toBeGreaterThan(owner.version);
        expect(updated.phoneHash).toMatch(/^[0-9a-f]{64}$/);
        expect(await store.getOwner(owner.id)).toEqual(updated);

        const other = await store.updateOwnerProfile((await store.ensureOwner(aNewOwner(43))).id, {
          phone: PHONE,
        });
        expect(other.phoneHash).toBe(updated.phoneHash);

        const cleared = await store.updateOwnerProfile(owner.id, { phone: null, name: null, vehicle: null });
        expect(cleared.phone).toBeUndefined();
        expect(cleared.phoneHash).toBeUndefined();
        expect(cleared.name).toBeUndefined();
        expect(cleared.vehicle).toBeUndefined();
        expect(cleared.country).toBe("CN");
        expect(cleared.version).toBeGreaterThan(updated.version);
      });

      it("rejects a profile update of an unknown owner", async () => {
        await expect(store.updateOwnerProfile("nope", { name: "x" })).rejects.toThrow();
      });
    });

    describe("changesets", () => {
      it("writes consent, receipts, windows, opt-outs and outbox together", async () => {
        await addInsurers("a", "b", "c", "d");
        const owner = await ownerWithPhone();
        const plan = consentPlan(owner, ["a", "b"], ["c", "d"]);
        await store.applyChangeset(plan.changeset);

        const state = await store.getOwnerState(owner.id);
        expect(state.owner.version).toBe(owner.version + 1);
        expect(state.consent).toEqual(plan.consent);
        expect(state.receipts).toEqual(plan.receipts);
        expect(state.windows).toEqual(plan.windows);
        expect(state.optOuts).toEqual(plan.optOuts);
        if (h.outbox) {
          const outbox = await h.outbox();
          expect(outbox).toHaveLength(4);
          expect(new Set(outbox.map((e) => e.subjectId))).toEqual(
            new Set([...plan.windows.map((w) => w.id), ...plan.optOuts.map((o) => o.id)]),
          );
          expect(outbox.find((e) => e.type === "window.opened")).toMatchObject({
            state: "pending",
            attempts: 0,
            dueAt: plan.windows[0]?.opensAt,
          });
        }
      });

      it("refuses a stale plan and writes nothing of it", async () => {
        await addInsurers("a", "b");
        const owner = await ownerWithPhone();
        const first = consentPlan(owner, ["a"], ["b"]);
        const stale = consentPlan(owner, ["b"], ["a"]);
        await store.applyChangeset(first.changeset);
        const before = await store.getOwnerState(owner.id);
        const outboxBefore = h.outbox ? await h.outbox() : [];

        await expect(store.applyChangeset(stale.changeset)).rejects.toBeInstanceOf(ConflictError);

        expect(await store.getOwnerState(owner.id)).toEqual(before);
        expect(await store.findWindowByStopToken(stale.windows[0]?.stopToken ?? "")).toBeUndefined();
        if (h.outbox) expect(await h.outbox()).toEqual(outboxBefore);
      });

      it("writes nothing when any part of a changeset fails", async () => {
        await addInsurers("a", "b");
        const owner = await ownerWithPhone();
        const plan = consentPlan(owner, ["a"], ["b"]);
        plan.changeset.revokeWindows.push({ id: "no-such-window", at: T0, reason: "owner_request" });
        await expect(store.applyChangeset(plan.changeset)).rejects.toThrow();
        const state = await store.getOwnerState(owner.id);
        expect(state.owner.version).toBe(owner.version);
        expect(state.consent).toBeUndefined();
        expect(state.windows).toEqual([]);
        if (h.outbox) expect(await h.outbox()).toEqual([]);
      });

      it("applies supersede, revoke, close, withdraw and renewedAt", async () => {
        await addInsurers("a", "b", "c");
        const owner = await ownerWithPhone();
        const first = consentPlan(owner, ["a", "b"], ["c"]);
        await store.applyChangeset(first.changeset);
        const [wa, wb] = first.windows;
        const [ra] = first.receipts;
        const [oc] = first.optOuts;
        if (!wa || !wb || !ra || !oc) throw new Error("plan incomplete");

        const later = "2026-06-02T09:00:00.000Z";
        const version = (await store.getOwnerState(owner.id)).owner.version;
        const second = consentPlan({ ...owner, version }, ["c"], [], { at: later });
        second.changeset.supersedeConsents.push({ id: first.consent.id, at: later });
        second.changeset.revokeWindows.push({ id: wa.id, at: later, reason: "superseded" });
        second.changeset.revokeReceipts.push({ id: ra.id, at: later, reason: "superseded" });
        second.changeset.closeWindows.push({ id: wb.id, at: later });
        second.changeset.withdrawOptOuts.push({ id: oc.id, at: later });
        second.changeset.owner = { renewedAt: later };
        await store.applyChangeset(second.changeset);

        const state = await store.getOwnerState(owner.id);
        expect(state.consent?.id).toBe(second.consent.id);
        expect(state.owner.renewedAt).toBe(later);
        expect(state.owner.version).toBe(version + 1);
        const byId = <T extends { id: string }>(list: T[], id: string) => list.find((x) => x.id === id);
        expect(byId(state.windows, wa.id)).toMatchObject({ revokedAt: later, revokeReason: "superseded" });
        expect(byId(state.windows, wb.id)).toMatchObject({ closedAt: later });
        expect(byId(state.windows, wb.id)?.revokedAt).toBeUndefined();
        expect(byId(state.receipts, ra.id)).toMatchObject({ revokedAt: later, revokeReason: "superseded" });
        expect(byId(state.optOuts, oc.id)).toMatchObject({ withdrawnAt: later });
        expect(state.windows.map((w) => w.id)).toEqual(
          [...first.windows, ...second.windows].map((w) => w.id),
        );
        expect(await store.getReceipt(ra.id)).toMatchObject({ revokedAt: later });

        // Revoking again keeps the first time and reason; renewedAt: null clears it.
        const replay = emptyChangeset(owner.id, version + 1);
        replay.revokeWindows.push({ id: wa.id, at: "2026-06-03T00:00:00.000Z", reason: "owner_request" });
        replay.owner = { renewedAt: null };
        await store.applyChangeset(replay);
        const after = await store.getOwnerState(owner.id);
        expect(byId(after.windows, wa.id)).toMatchObject({ revokedAt: later, revokeReason: "superseded" });
        expect(after.owner.renewedAt).toBeUndefined();
      });

      it("puts a new phone on file with the changeset that plans for it, all or nothing", async () => {
        await addInsurers("a", "b");
        const owner = await ownerWithPhone();
        const first = consentPlan(owner, ["a"], ["b"]);
        await store.applyChangeset(first.changeset);
        const newPhone = "+8613900139000";
        const other = await store.ensureOwner(aNewOwner(1002));
        const newHash = (await store.updateOwnerProfile(other.id, { phone: newPhone })).phoneHash ?? "";
        const later = "2026-06-02T09:00:00.000Z";
        const [window] = first.windows;
        const [oldOptOut] = first.optOuts;
        if (!window || !oldOptOut) throw new Error("plan incomplete");
        const change = (version: number) => {
          const cs = emptyChangeset(owner.id, version);
          cs.revokeWindows.push({ id: window.id, at: later, reason: "superseded" });
          cs.revokeReceipts.push({ id: window.receiptId, at: later, reason: "superseded" });
          const optOut = consentPlan(owner, [], ["b"], { at: later, phoneHash: newHash }).optOuts[0]!;
          cs.optOuts.push(optOut);
          cs.owner = {
            phone: {
              phone: newPhone,
              phoneVerified: true,
              country: "CN",
              timezone: "Asia/Shanghai",
              name: "Lin",
            },
          };
          return { cs, optOut };
        };

        await expect(store.applyChangeset(change(owner.version).cs)).rejects.toBeInstanceOf(ConflictError);
        expect(await store.getOwner(owner.id)).toMatchObject({ phone: PHONE, phoneHash: owner.phoneHash });

        const { cs, optOut } = change(owner.version + 1);
        await store.applyChangeset(cs);
        const state = await store.getOwnerState(owner.id);
        expect(state.owner).toMatchObject({
          phone: newPhone,
          phoneHash: newHash,
          phoneVerified: true,
          country: "CN",
          name: "Lin",
          version: owner.version + 2,
        });
        expect(state.windows[0]).toMatchObject({ revokedAt: later, revokeReason: "superseded" });
        // Each opt-out keeps the phone it was filed for.
        expect(state.optOuts).toEqual([oldOptOut, optOut]);
        const old = await store.scrubLookup("b", [owner.phoneHash ?? ""]);
        expect(old.get(owner.phoneHash ?? "")?.optOuts.map((o) => o.id)).toEqual([oldOptOut.id]);
        const now = await store.scrubLookup("b", [newHash]);
        expect(now.get(newHash)?.optOuts.map((o) => o.id)).toEqual([optOut.id]);
        expect(await store.getOwner(owner.id)).toEqual(state.owner);
      });

      it("finds a window by its stop token", async () => {
        await addInsurers("a");
        const owner = await ownerWithPhone();
        const plan = consentPlan(owner, ["a"], []);
        await store.applyChangeset(plan.changeset);
        const window = plan.windows[0];
        expect(await store.findWindowByStopToken(window?.stopToken ?? "")).toEqual(window);
        expect(await store.findWindowByStopToken("unknown")).toBeUndefined();
      });

      it("reads many opt-outs at once, in the order asked, across owners", async () => {
        await addInsurers("a", "b", "c");
        const first = await ownerWithPhone(1001);
        const second = await ownerWithPhone(1002);
        const one = consentPlan(first, ["a"], ["b", "c"]);
        const two = consentPlan(second, [], ["a", "b"]);
        await store.applyChangeset(one.changeset);
        await store.applyChangeset(two.changeset);
        const [p1, p2] = one.optOuts;
        const [q1, q2] = two.optOuts;
        expect(
          await store.getOptOuts([q2!.id, "00000000-0000-7000-8000-000000000000", p1!.id, q1!.id, p2!.id]),
        ).toEqual([q2, undefined, p1, q1, p2]);
        expect(await store.getOptOuts([])).toEqual([]);
      });

      it("throws for the state of an unknown owner", async () => {
        await expect(store.getOwnerState("nope")).rejects.toThrow();
      });
    });

    describe("erasure", () => {
      it("forgets personal data but keeps receipt tombstones and opt-out hashes", async () => {
        await addInsurers("a", "b");
        const owner = await store.updateOwnerProfile((await ownerWithPhone(77)).id, {
          name: "Lin Wei",
          vehicle: "粤B·12345",
        });
        await store.writeSession("77", "conversation with +8613812345678");
        await store.writeSession("other", "keep me");
        const plan = consentPlan(owner, ["a"], ["b"]);
        await store.applyChangeset(plan.changeset);
        // The name and car agreed to travel with the receipt until the erasure.
        expect((await store.getReceipt(plan.receipts[0]!.id))?.shared).toEqual({
          name: "Lin Wei",
          vehicle: "粤B·12345",
        });
        const at = "2026-06-05T10:00:00.000Z";
        const revoke = emptyChangeset(owner.id, owner.version + 1);
        const [window] = plan.windows;
        const [receipt] = plan.receipts;
        const [optOut] = plan.optOuts;
        if (!window || !receipt || !optOut) throw new Error("plan incomplete");
        revoke.revokeWindows.push({ id: window.id, at, reason: "deleted" });
        revoke.revokeReceipts.push({ id: receipt.id, at, reason: "deleted" });
        await store.applyChangeset(revoke);

        await store.eraseOwner(owner.id, at);

        const state = await store.getOwnerState(owner.id);
        expect(state.owner.deletedAt).toBe(at);
        for (const field of ["phone", "phoneHash", "name", "vehicle"] as const) {
          expect(state.owner[field]).toBeUndefined();
        }
        expect(state.consent).toBeUndefined();
        expect(state.receipts).toEqual([]);
        expect(state.windows).toEqual([]);
        expect(state.optOuts).toEqual([]);
        expect(JSON.stringify(state)).not.toContain("13812345678");

        const tombstone = await store.getReceipt(receipt.id);
        expect(tombstone).toMatchObject({ id: receipt.id, payloadHash: receipt.payloadHash, revokedAt: at });
        expect(tombstone?.jws).toBeUndefined();
        expect(tombstone?.ownerId).toBeUndefined();
        expect(tombstone?.consentId).toBeUndefined();
        expect(tombstone?.shared).toBeUndefined();

        const kept = await store.getOptOut(optOut.id);
        expect(kept).toMatchObject({
          phoneHash: optOut.phoneHash,
          matchKey: optOut.matchKey,
          until: optOut.until,
        });
        expect(kept?.ownerId).toBeUndefined();

        const orphan = await store.findWindowByStopToken(window.stopToken);
        expect(orphan?.revokedAt).toBe(at);
        expect(orphan?.ownerId).not.toBe(owner.id);

        expect(await store.readSession("77")).toBeUndefined();
        expect(await store.readSession("other")).toBe("keep me");
        expect(await store.getOwnerByTelegramId(77)).toBeUndefined();
        const fresh = await store.ensureOwner(aNewOwner(77));
        expect(fresh.id).not.toBe(owner.id);
        expect(fresh.phone).toBeUndefined();
      });
    });

    describe("sessions and meta", () => {
      it("reads, overwrites and deletes sessions", async () => {
        expect(await store.readSession("s1")).toBeUndefined();
        await store.writeSession("s1", '{"step":"phone"}');
        await store.writeSession("s2", "two");
        await store.writeSession("s1", '{"step":"date"}');
        expect(await store.readSession("s1")).toBe('{"step":"date"}');
        await store.deleteSession("s1");
        await store.deleteSession("never-written");
        expect(await store.readSession("s1")).toBeUndefined();
        expect(await store.readSession("s2")).toBe("two");
      });

      it("stores meta values", async () => {
        expect(await store.getMeta("fingerprint.data")).toBeUndefined();
        await store.setMeta("fingerprint.data", "abc");
        await store.setMeta("fingerprint.data", "def");
        expect(await store.getMeta("fingerprint.data")).toBe("def");
      });
    });

    describe("telegram update claims", () => {
      const DAY = 24 * 60 * 60 * 1000;

      it("claims an update id once; other ids are independent", async () => {
        expect(await store.claimUpdate(501, DAY)).toBe(true);
        expect(await store.claimUpdate(501, DAY)).toBe(false);
        expect(await store.claimUpdate(501, DAY)).toBe(false);
        expect(await store.claimUpdate(502, DAY)).toBe(true);
        expect(await store.claimUpdate(2 ** 40, DAY)).toBe(true);
        expect(await store.claimUpdate(2 ** 40, DAY)).toBe(false);
        // Negative ids (the owner notifier's ticks) are their own space.
        expect(await store.claimUpdate(-501, DAY)).toBe(true);
        expect(await store.claimUpdate(-501, DAY)).toBe(false);
      });

      it("hands one id to exactly one of many concurrent claimers, across store instances", async () => {
        const other = h.reopen ? await h.reopen() : store;
        const claims = await Promise.all(
          Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? store : other).claimUpdate(777, DAY)),
        );
        expect(claims.filter(Boolean)).toHaveLength(1);
        expect(await other.claimUpdate(777, DAY)).toBe(false);
      });

      it("lets a claim be taken again once its TTL has passed", async () => {
        expect(await store.claimUpdate(900, 40)).toBe(true);
        expect(await store.claimUpdate(900, 40)).toBe(false);
        await new Promise((r) => setTimeout(r, 120));
        expect(await store.claimUpdate(900, DAY)).toBe(true);
        expect(await store.claimUpdate(900, DAY)).toBe(false);
      });
    });

    describe("scrub quotas", () => {
      const T = Date.parse("2026-06-01T10:30:00.000Z");
      const limits = { burst: 2, perSecond: 0.5 };

      it("gives the burst, then refuses with the wait for the next token, and refills with time", async () => {
        expect(await store.takeQuotaRequest("ins-a", T, limits)).toEqual({ ok: true });
        expect(await store.takeQuotaRequest("ins-a", T, limits)).toEqual({ ok: true });
        expect(await store.takeQuotaRequest("ins-a", T, limits)).toEqual({
          ok: false,
          reason: "rate",
          retryAfterSeconds: 2,
        });
        // Another key has its own bucket.
        expect(await store.takeQuotaRequest("ins-b", T, limits)).toEqual({ ok: true });
        // Half a token after 1 s: still refused, 1 s to go; a whole one after 2 s.
        expect(await store.takeQuotaRequest("ins-a", T + 1000, limits)).toMatchObject({
          ok: false,
          retryAfterSeconds: 1,
        });
        expect(await store.takeQuotaRequest("ins-a", T + 2000, limits)).toEqual({ ok: true });
      });

      it("caps numbers per UTC day, all or nothing, and starts afresh the next day", async () => {
        expect(await store.takeQuotaNumbers("ins-a", T, 3, 5)).toEqual({ ok: true });
        // 10:30 UTC: the cap resets at midnight, 13.5 hours away.
        expect(await store.takeQuotaNumbers("ins-a", T, 3, 5)).toEqual({
          ok: false,
          reason: "daily",
          retryAfterSeconds: 13.5 * 3600,
        });
        expect(await store.takeQuotaNumbers("ins-a", T, 2, 5)).toEqual({ ok: true });
        expect(await store.takeQuotaNumbers("ins-a", T, 1, 5)).toMatchObject({ ok: false });
        expect(await store.takeQuotaNumbers("ins-a", T + 14 * 3_600_000, 5, 5)).toEqual({ ok: true });
      });

      it("is one quota for every process sharing the store", async () => {
        const other = h.reopen ? await h.reopen() : store;
        expect(await store.takeQuotaRequest("ins-c", T, limits)).toEqual({ ok: true });
        expect(await other.takeQuotaRequest("ins-c", T, limits)).toEqual({ ok: true });
        expect(await store.takeQuotaRequest("ins-c", T, limits)).toMatchObject({ ok: false });
        expect(await other.takeQuotaNumbers("ins-c", T, 4, 5)).toEqual({ ok: true });
        expect(await store.takeQuotaNumbers("ins-c", T, 2, 5)).toMatchObject({ ok: false });
        // Many takes at once: exactly the burst succeeds.
        const burst = { burst: 5, perSecond: 0.001 };
        const answers = await Promise.all(
          Array.from({ length: 12 }, (_, i) => (i % 2 ? store : other).takeQuotaRequest("ins-d", T, burst)),
        );
        expect(answers.filter((a) => a.ok)).toHaveLength(5);
      });
    });

    it("keeps everything across a restart", async () => {
      if (!h.reopen) return;
      await addInsurers("a", "b");
      const owner = await store.updateOwnerProfile((await ownerWithPhone()).id, { name: "Lin Wei" });
      const plan = consentPlan(owner, ["a"], ["b"]);
      await store.applyChangeset(plan.changeset);
      await store.writeSession("1001", "state");
      await store.setMeta("k", "v");
      const before = await store.getOwnerState(owner.id);
      await store.close();

      const reopened = await h.reopen();
      expect(await reopened.getOwnerState(owner.id)).toEqual(before);
      expect(await reopened.getOwnerByTelegramId(1001)).toEqual(before.owner);
      expect(await reopened.listInsurers()).toHaveLength(2);
      expect(await reopened.getInsurerSecrets("a")).toEqual(secretsFor("a"));
      expect(await reopened.readSession("1001")).toBe("state");
      expect(await reopened.getMeta("k")).toBe("v");
      const next = emptyChangeset(owner.id, before.owner.version);
      await reopened.applyChangeset(next);
      await expect(reopened.applyChangeset(next)).rejects.toBeInstanceOf(ConflictError);
    });
  });
}
