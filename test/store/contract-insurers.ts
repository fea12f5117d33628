/**
 * The insurer-facing half of the store contract: directory management, feeds, attempts, scrub,
 * the leased outbox and owner notifications. Registered by `describeStoreContract`; it uses the
 * Store port only, so every backend runs it unchanged.
 */
import { describe, expect, it } from "vitest";
import {
  type ContactWindow,
  emptyChangeset,
  type OptOut,
  type OutboxEntry,
  type Owner,
  type OwnerNotice,
} from "../../src/domain/model.js";
import { hasOpened } from "../../src/domain/window-plan.js";
import { DuplicateError, NotFoundError, type PageAfter, type Store } from "../../src/store/store.js";
import {
  aNewOwner,
  anAttempt,
  anInsurer,
  anOutboxEntry,
  aScrubHit,
  consentPlan,
  secretsFor,
} from "./builders.js";

/** During the windows' default span (opens 2026-06-30T16:00Z, closes 2026-07-31T16:00Z). */
const NOW = "2026-07-10T00:00:00.000Z";
const LATER = "2026-07-11T00:00:00.000Z";

/** Registers the insurer-facing tests; `current` gives the store of the running test. */
export function describeInsurerContract(current: () => Store): void {
  let nextUser = 5000;
  const store = () => current();

  async function addInsurers(...ids: string[]) {
    for (const id of ids) await store().addInsurer(anInsurer(id), secretsFor(id));
  }

  async function ownerWithPhone(phone = `+86138${String(nextUser).padStart(8, "0")}`): Promise<Owner> {
    const created = await store().ensureOwner(aNewOwner(nextUser++));
    return store().updateOwnerProfile(created.id, { phone, phoneVerified: true, country: "CN" });
  }

  /** A fresh owner with one window for `insurerId`, shaped by `window`. */
  async function windowFor(insurerId: string, window: Partial<ContactWindow> = {}, others: string[] = []) {
    const owner = await ownerWithPhone();
    const plan = consentPlan(owner, [insurerId], others, { window });
    await store().applyChangeset(plan.changeset);
    const [made] = plan.windows;
    if (!made) throw new Error("no window planned");
    return { owner, window: made, plan };
  }

  /** A fresh owner with opt-outs for `insurerIds`, shaped by `optOut`. */
  async function optOutsFor(insurerIds: string[], optOut: Partial<OptOut> = {}) {
    const owner = await ownerWithPhone();
    const plan = consentPlan(owner, [], insurerIds, { optOut });
    await store().applyChangeset(plan.changeset);
    return { owner, optOuts: plan.optOuts };
  }

  /** Writes outbox entries the way the app does: inside an owner's changeset. */
  async function queue(entries: OutboxEntry[], owner?: Owner): Promise<Owner> {
    const who = owner ?? (await store().ensureOwner(aNewOwner(nextUser++)));
    const version = (await store().getOwnerState(who.id)).owner.version;
    const cs = emptyChangeset(who.id, version);
    cs.outbox.push(...entries.map((e) => ({ ...e, ownerId: who.id })));
    await store().applyChangeset(cs);
    return who;
  }

  const claimOf = (worker: string, now = NOW, more: { limit?: number; perInsurer?: number } = {}) => ({
    now,
    limit: more.limit ?? 100,
    perInsurer: more.perInsurer ?? 100,
    leaseMs: 60_000,
    worker,
  });

  const ids = (list: { id: string }[]) => list.map((x) => x.id);

  /** Every page of a keyset-paged list, following (time, id) of the last item. */
  async function allPages<T extends { id: string }>(
    page: (after: PageAfter | undefined) => Promise<T[]>,
    at: (item: T) => string,
    limit: number,
  ): Promise<T[][]> {
    const pages: T[][] = [];
    let after: PageAfter | undefined;
    for (;;) {
      const items = await page(after);
      expect(items.length).toBeLessThanOrEqual(limit);
      if (items.length === 0) return pages;
      pages.push(items);
      const last = items[items.length - 1] as T;
      after = { at: at(last), id: last.id };
    }
  }

  describe("directory management", () => {
    it("updates public fields, clears with null, and refuses unknown or removed insurers", async () => {
      await store().addInsurer(
        anInsurer("pingan", { contact: "95511", webhookUrl: "https://p.example/h" }),
        secretsFor("pingan"),
      );
      const updated = await store().updateInsurer("pingan", { name: "Ping An", aliases: ["PA", "平安"] });
      expect(updated).toMatchObject({ name: "Ping An", aliases: ["PA", "平安"], contact: "95511" });
      const cleared = await store().updateInsurer("pingan", { contact: null, webhookUrl: null });
      expect(cleared.contact).toBeUndefined();
      expect(cleared.webhookUrl).toBeUndefined();
      expect(await store().getInsurer("pingan")).toEqual(cleared);
      expect(await store().getInsurerSecrets("pingan")).toEqual(secretsFor("pingan"));

      await expect(store().updateInsurer("nope", { name: "x" })).rejects.toBeInstanceOf(NotFoundError);
      await store().removeInsurer("pingan", LATER);
      await expect(store().updateInsurer("pingan", { name: "x" })).rejects.toBeInstanceOf(NotFoundError);
    });

    it("disables the webhook on 410 until the URL changes", async () => {
      await store().addInsurer(anInsurer("a", { webhookUrl: "https://a.example/h" }), secretsFor("a"));
      const disabled = await store().updateInsurer("a", { webhookDisabledAt: NOW });
      expect(disabled.webhookDisabledAt).toBe(NOW);
      expect((await store().getInsurer("a"))?.webhookDisabledAt).toBe(NOW);
      const same = await store().updateInsurer("a", { webhookUrl: "https://a.example/h" });
      expect(same.webhookDisabledAt).toBe(NOW);
      const moved = await store().updateInsurer("a", { webhookUrl: "https://a.example/new" });
      expect(moved.webhookDisabledAt).toBeUndefined();
      expect(moved.webhookUrl).toBe("https://a.example/new");
    });

    it("rotates the API key hash and the webhook secret", async () => {
      await addInsurers("a", "b");
      expect((await store().findInsurerByApiKeyHash(secretsFor("a").apiKeyHash))?.id).toBe("a");
      await store().setInsurerApiKeyHash("a", "new-hash-a");
      expect(await store().findInsurerByApiKeyHash(secretsFor("a").apiKeyHash)).toBeUndefined();
      expect(await store().findInsurerByApiKeyHash("new-hash-a")).toEqual(anInsurer("a"));
      expect((await store().findInsurerByApiKeyHash(secretsFor("b").apiKeyHash))?.id).toBe("b");
      expect(await store().findInsurerByApiKeyHash("unknown")).toBeUndefined();

      await store().setInsurerWebhookSecret("a", "whsec_bmV3LXNlY3JldA==");
      expect(await store().getInsurerSecrets("a")).toEqual({
        apiKeyHash: "new-hash-a",
        webhookSecret: "whsec_bmV3LXNlY3JldA==",
      });
      await expect(store().setInsurerApiKeyHash("nope", "h")).rejects.toBeInstanceOf(NotFoundError);
      await expect(store().setInsurerWebhookSecret("nope", "s")).rejects.toBeInstanceOf(NotFoundError);
    });

    it("removes an insurer from the directory and from key look-ups, keeping its record", async () => {
      await addInsurers("a", "b");
      await store().removeInsurer("a", NOW);
      expect(ids(await store().listInsurers())).toEqual(["b"]);
      expect(await store().findInsurerByApiKeyHash(secretsFor("a").apiKeyHash)).toBeUndefined();
      expect((await store().getInsurer("a"))?.removedAt).toBe(NOW);
      await store().removeInsurer("a", LATER);
      expect((await store().getInsurer("a"))?.removedAt).toBe(NOW);
      await expect(store().removeInsurer("nope", NOW)).rejects.toBeInstanceOf(NotFoundError);
    });

    it("pages the owners with a current consent, skipping erased and consentless ones", async () => {
      await addInsurers("a", "b");
      const consenting: string[] = [];
      for (let i = 0; i < 5; i++) consenting.push((await windowFor("a", {}, ["b"])).owner.id);
      await ownerWithPhone();
      const erased = await windowFor("a");
      await store().eraseOwner(erased.owner.id, NOW);

      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await store().listOwnerIdsWithConsent(after, 2);
        expect(page.length).toBeLessThanOrEqual(2);
        if (page.length === 0) break;
        seen.push(...page);
        after = page[page.length - 1];
      }
      expect(seen).toEqual([...consenting].sort());
    });
  });

  describe("insurer feeds", () => {
    it("lists only opened windows of the asking insurer, filtered by status at now", async () => {
      await addInsurers("a", "b");
      const open = (await windowFor("a")).window;
      const exhausted = (await windowFor("a", { attemptsUsed: 3, opensAt: "2026-06-29T16:00:00.000Z" }))
        .window;
      await windowFor("a", { opensAt: "2026-07-20T16:00:00.000Z" }); // scheduled at NOW
      const expired = (
        await windowFor("a", { opensAt: "2026-06-01T16:00:00.000Z", closesAt: "2026-07-01T16:00:00.000Z" })
      ).window;
      const closedEarly = (
        await windowFor("a", { opensAt: "2026-07-01T16:00:00.000Z", closedAt: "2026-07-05T00:00:00.000Z" })
      ).window;
      const revoked = (
        await windowFor("a", {
          opensAt: "2026-07-02T16:00:00.000Z",
          revokedAt: "2026-07-05T00:00:00.000Z",
          revokeReason: "owner_request",
        })
      ).window;
      await windowFor("b");

      const list = (status?: "open" | "closed" | "revoked") =>
        store().listWindowsForInsurer("a", { now: NOW, limit: 100, ...(status ? { status } : {}) });
      expect(ids(await list())).toEqual(ids([expired, exhausted, open, closedEarly, revoked]));
      expect((await list())[2]).toEqual(open);
      expect(ids(await list("open"))).toEqual(ids([exhausted, open]));
      expect(ids(await list("closed"))).toEqual(ids([expired, closedEarly]));
      expect(ids(await list("revoked"))).toEqual(ids([revoked]));
      expect(await store().listWindowsForInsurer("c", { now: NOW, limit: 100 })).toEqual([]);
      // Once the scheduled window's time comes, it shows.
      expect(
        await store().listWindowsForInsurer("a", { now: "2026-07-21T00:00:00.000Z", limit: 100 }),
      ).toHaveLength(6);
      expect(await store().getWindow(open.id)).toEqual(open);
      expect(await store().getWindow("nope")).toBeUndefined();
    });

    it("never lists a window revoked, closed or emptied before it opened, under any filter or page", async () => {
      await addInsurers("a");
      const opens = "2026-07-01T16:00:00.000Z";
      const before = "2026-06-20T00:00:00.000Z";
      const justAfter = "2026-07-01T16:00:00.001Z";
      const made = async (window: Partial<ContactWindow>) =>
        (await windowFor("a", { opensAt: opens, ...window })).window;
      const never = [
        await made({ revokedAt: before, revokeReason: "owner_request" }),
        await made({ revokedAt: opens, revokeReason: "superseded" }), // at the opening instant
        await made({ closedAt: before }),
        await made({ closedAt: opens }),
        await made({ opensAt: "2026-07-31T16:00:00.000Z" }), // empty: opensAt = closesAt
        await made({ opensAt: "2026-08-01T00:00:00.000Z" }), // inverted
      ];
      const revokedAfter = await made({ revokedAt: justAfter, revokeReason: "owner_request" });
      const closedAfter = await made({ closedAt: justAfter });
      const opened = [revokedAfter, closedAfter].sort((x, y) => (x.id < y.id ? -1 : 1));

      for (const now of [NOW, "2026-08-05T00:00:00.000Z"]) {
        const list = (status?: "open" | "closed" | "revoked", after?: PageAfter, limit = 100) =>
          store().listWindowsForInsurer("a", {
            now,
            limit,
            ...(status ? { status } : {}),
            ...(after ? { after } : {}),
          });
        const all = await list();
        expect(ids(all), now).toEqual(ids(opened));
        // The stores apply the domain's rule, nothing else.
        for (const w of [...never, ...opened]) {
          expect(ids(all).includes(w.id), `${w.id} at ${now}`).toBe(hasOpened(w, new Date(now)));
        }
        expect(await list("open")).toEqual([]);
        expect(ids(await list("closed"))).toEqual(ids([closedAfter]));
        expect(ids(await list("revoked"))).toEqual(ids([revokedAfter]));
        const pages = await allPages(
          (after) => list(undefined, after, 1),
          (w) => w.opensAt,
          1,
        );
        expect(ids(pages.flat())).toEqual(ids(opened));
      }
    });

    it("pages windows and opt-outs so that every record comes exactly once", async () => {
      await addInsurers("a", "b");
      const times = ["2026-06-20T00:00:00.000Z", "2026-06-25T00:00:00.000Z", "2026-06-25T00:00:00.000Z"];
      const windows: ContactWindow[] = [];
      const optOuts: OptOut[] = [];
      for (let i = 0; i < 8; i++) {
        const at = times[i % times.length] as string;
        windows.push((await windowFor("a", { opensAt: at })).window);
        optOuts.push(...(await optOutsFor(["a"], { effectiveAt: at })).optOuts);
      }
      await windowFor("b");
      await optOutsFor(["b"]);
      const order = <T extends { id: string }>(list: T[], at: (x: T) => string) =>
        [...list].sort((x, y) => {
          const [kx, ky] = [`${at(x)} ${x.id}`, `${at(y)} ${y.id}`];
          return kx < ky ? -1 : kx > ky ? 1 : 0;
        });

      const windowPages = await allPages(
        (after) => store().listWindowsForInsurer("a", { now: NOW, limit: 3, ...(after ? { after } : {}) }),
        (w) => w.opensAt,
        3,
      );
      expect(windowPages.length).toBe(3);
      expect(ids(windowPages.flat())).toEqual(ids(order(windows, (w) => w.opensAt)));

      const optOutPages = await allPages(
        (after) => store().listOptOutsForInsurer("a", { limit: 3, ...(after ? { after } : {}) }),
        (o) => o.effectiveAt,
        3,
      );
      expect(ids(optOutPages.flat())).toEqual(ids(order(optOuts, (o) => o.effectiveAt)));
      expect(optOutPages.flat()[0]).toEqual(order(optOuts, (o) => o.effectiveAt)[0]);

      const openPages = await allPages(
        (after) =>
          store().listWindowsForInsurer("a", {
            now: NOW,
            status: "open",
            limit: 2,
            ...(after ? { after } : {}),
          }),
        (w) => w.opensAt,
        2,
      );
      expect(openPages.flat()).toHaveLength(8);
    });

    it("acknowledges once, keeping the first time, and only for the owning insurer", async () => {
      await addInsurers("a", "b");
      const { window, plan } = await windowFor("a", {}, ["b"]);
      const [optOut] = plan.optOuts;
      if (!optOut) throw new Error("no opt-out");

      expect(await store().acknowledgeWindow("b", window.id, NOW)).toBeUndefined();
      expect(await store().acknowledgeWindow("a", "nope", NOW)).toBeUndefined();
      expect((await store().getWindow(window.id))?.acknowledgedAt).toBeUndefined();
      expect(await store().acknowledgeWindow("a", window.id, NOW)).toEqual({
        ...window,
        acknowledgedAt: NOW,
      });
      expect((await store().acknowledgeWindow("a", window.id, LATER))?.acknowledgedAt).toBe(NOW);

      expect(await store().acknowledgeOptOut("a", optOut.id, NOW)).toBeUndefined();
      expect(await store().acknowledgeOptOut("b", "nope", NOW)).toBeUndefined();
      expect((await store().getOptOut(optOut.id))?.acknowledgedAt).toBeUndefined();
      expect(await store().acknowledgeOptOut("b", optOut.id, NOW)).toEqual({
        ...optOut,
        acknowledgedAt: NOW,
      });
      expect((await store().acknowledgeOptOut("b", optOut.id, LATER))?.acknowledgedAt).toBe(NOW);
    });
  });

  describe("attempts", () => {
    it("records attempts in a changeset and counts them on the window", async () => {
      await addInsurers("a", "b");
      const { owner, window } = await windowFor("a");
      const first = anAttempt(window, { at: "2026-07-01T10:00:00.000Z", idempotencyKey: "k1" });
      const second = anAttempt(window, {
        at: "2026-07-01T11:00:00.000Z",
        idempotencyKey: "k2",
        remaining: 1,
        fingerprint: "Zx-9_a0Q",
      });
      let version = (await store().getOwnerState(owner.id)).owner.version;
      for (const attempt of [second, first]) {
        const cs = emptyChangeset(owner.id, version++);
        cs.attempts = [attempt];
        await store().applyChangeset(cs);
      }
      expect((await store().getWindow(window.id))?.attemptsUsed).toBe(2);
      expect(await store().listAttempts(window.id)).toEqual([first, second]);
      expect(await store().getAttemptByIdempotencyKey("a", "k1")).toEqual(first);
      // The request fingerprint is kept as given, and an attempt without one reads back without.
      expect(await store().getAttemptByIdempotencyKey("a", "k2")).toStrictEqual(second);
      expect(await store().getAttemptByIdempotencyKey("a", "k1")).not.toHaveProperty("fingerprint");
      expect(await store().getAttemptByIdempotencyKey("b", "k1")).toBeUndefined();
      expect(await store().getAttemptByIdempotencyKey("a", "k3")).toBeUndefined();
      expect(await store().listAttempts("nope")).toEqual([]);

      // The key is per insurer: another insurer may use the same one.
      const other = await windowFor("b");
      const cs = emptyChangeset(other.owner.id, (await store().getOwnerState(other.owner.id)).owner.version);
      cs.attempts = [anAttempt(other.window, { idempotencyKey: "k1" })];
      await store().applyChangeset(cs);
      expect((await store().getAttemptByIdempotencyKey("b", "k1"))?.windowId).toBe(other.window.id);
    });

    it("fails a whole changeset whose attempt repeats an idempotency key", async () => {
      await addInsurers("a", "b");
      const { owner, window } = await windowFor("a", {}, ["b"]);
      const version = (await store().getOwnerState(owner.id)).owner.version;
      const first = emptyChangeset(owner.id, version);
      first.attempts = [anAttempt(window, { idempotencyKey: "same" })];
      await store().applyChangeset(first);
      const before = await store().getOwnerState(owner.id);
      const outboxBefore = await store().listOutboxForOwner(owner.id);

      const again = emptyChangeset(owner.id, version + 1);
      again.revokeWindows.push({ id: window.id, at: NOW, reason: "refused_on_call" });
      again.outbox.push(
        anOutboxEntry("a", { ownerId: owner.id, type: "window.revoked", subjectId: window.id }),
      );
      again.attempts = [
        anAttempt(window, { idempotencyKey: "fresh" }),
        anAttempt(window, { idempotencyKey: "same", outcome: "refused" }),
      ];
      await expect(store().applyChangeset(again)).rejects.toBeInstanceOf(DuplicateError);

      expect(await store().getOwnerState(owner.id)).toEqual(before);
      expect(before.windows[0]?.attemptsUsed).toBe(1);
      expect(await store().listAttempts(window.id)).toHaveLength(1);
      expect(await store().getAttemptByIdempotencyKey("a", "fresh")).toBeUndefined();
      expect(await store().listOutboxForOwner(owner.id)).toEqual(outboxBefore);
    });
  });

  describe("scrub", () => {
    it("finds windows and opt-outs by hash only for the asking insurer", async () => {
      await addInsurers("a", "b", "c");
      const withWindow = await windowFor("a", {}, ["b"]);
      const hash = withWindow.owner.phoneHash as string;
      const optedOut = await optOutsFor(["a"]);
      const optHash = optedOut.owner.phoneHash as string;
      const bystander = await ownerWithPhone();

      const found = await store().scrubLookup("a", [
        hash,
        optHash,
        bystander.phoneHash as string,
        "0".repeat(64),
      ]);
      expect([...found.keys()].sort()).toEqual([hash, optHash].sort());
      expect(found.get(hash)).toEqual({
        ownerId: withWindow.owner.id,
        windows: [withWindow.window],
        optOuts: [],
      });
      expect(found.get(optHash)).toEqual({
        ownerId: optedOut.owner.id,
        windows: [],
        optOuts: optedOut.optOuts,
      });

      const forB = await store().scrubLookup("b", [hash, optHash]);
      expect([...forB.keys()]).toEqual([hash]);
      expect(forB.get(hash)?.windows).toEqual([]);
      expect(forB.get(hash)?.optOuts).toEqual(withWindow.plan.optOuts);
      expect((await store().scrubLookup("c", [hash, optHash])).size).toBe(0);
      expect((await store().scrubLookup("a", [])).size).toBe(0);
    });

    it("answers large requests across batches, repeated hashes included", async () => {
      await addInsurers("a");
      const one = await windowFor("a");
      const two = await optOutsFor(["a"]);
      const hashes = Array.from({ length: 1200 }, (_, i) => i.toString(16).padStart(64, "0"));
      hashes[700] = one.owner.phoneHash as string;
      hashes[1199] = two.owner.phoneHash as string;
      hashes[3] = two.owner.phoneHash as string;
      const found = await store().scrubLookup("a", hashes);
      expect(found.size).toBe(2);
      expect(found.get(one.owner.phoneHash as string)?.windows).toHaveLength(1);
      expect(found.get(two.owner.phoneHash as string)?.optOuts).toHaveLength(1);
    });

    it("still finds opt-outs by hash after the owner is erased, without the owner", async () => {
      await addInsurers("a", "b");
      const { owner, window, plan } = await windowFor("a", {}, ["b"]);
      const hash = owner.phoneHash as string;
      const revoke = emptyChangeset(owner.id, (await store().getOwnerState(owner.id)).owner.version);
      revoke.revokeWindows.push({ id: window.id, at: NOW, reason: "deleted" });
      await store().applyChangeset(revoke);
      await store().recordScrubHits([aScrubHit("b", hash, { ownerId: owner.id, at: NOW })]);
      await store().eraseOwner(owner.id, NOW);
      // The audit exists for the owner to see; with the owner gone it goes too.
      expect(await store().listScrubHits(owner.id, "2000-01-01T00:00:00.000Z")).toEqual([]);

      const forB = await store().scrubLookup("b", [hash]);
      expect(forB.get(hash)?.optOuts.map((o) => o.id)).toEqual(plan.optOuts.map((o) => o.id));
      expect(forB.get(hash)?.ownerId).toBeUndefined();
      expect(forB.get(hash)?.optOuts[0]?.ownerId).toBeUndefined();
      expect((await store().scrubLookup("a", [hash])).size).toBe(0);
    });

    it("keeps an audit of hits, newest first, purged by date", async () => {
      const owner = await ownerWithPhone();
      const other = await ownerWithPhone();
      const hash = owner.phoneHash as string;
      const old = aScrubHit("a", hash, { ownerId: owner.id, at: "2025-01-01T00:00:00.000Z" });
      const mid = aScrubHit("b", hash, {
        ownerId: owner.id,
        at: "2026-06-01T00:00:00.000Z",
        kind: "match_key",
      });
      const last = aScrubHit("a", hash, {
        ownerId: owner.id,
        at: "2026-06-02T00:00:00.000Z",
        answer: "consented",
      });
      const elsewhere = aScrubHit("a", other.phoneHash as string, { ownerId: other.id });
      const orphan = aScrubHit("a", "e".repeat(64), { at: "2024-01-01T00:00:00.000Z" });
      await store().recordScrubHits([mid, old, last, elsewhere, orphan]);
      await store().recordScrubHits([]);

      expect(await store().listScrubHits(owner.id, "2000-01-01T00:00:00.000Z")).toEqual([last, mid, old]);
      expect(await store().listScrubHits(owner.id, "2026-06-01T00:00:00.000Z")).toEqual([last, mid]);
      expect(await store().listScrubHits("nope", "2000-01-01T00:00:00.000Z")).toEqual([]);
      expect(await store().purgeScrubHits("2025-06-01T00:00:00.000Z")).toBe(2);
      expect(await store().listScrubHits(owner.id, "2000-01-01T00:00:00.000Z")).toEqual([last, mid]);
      expect(await store().purgeScrubHits("2025-06-01T00:00:00.000Z")).toBe(0);
    });
  });

  describe("outbox", () => {
    it("leases due entries in next-attempt order, each to one worker", async () => {
      const later = anOutboxEntry("a", { dueAt: "2026-07-02T00:00:00.000Z" });
      const first = anOutboxEntry("b", { dueAt: "2026-07-01T00:00:00.000Z" });
      const future = anOutboxEntry("a", { dueAt: "2026-08-01T00:00:00.000Z" });
      await queue([later, future, first]);

      const claimed = await store().claimDue(claimOf("w1"));
      expect(ids(claimed)).toEqual(ids([first, later]));
      expect(claimed[0]).toMatchObject({
        ...first,
        ownerId: expect.any(String),
        leaseUntil: "2026-07-10T00:01:00.000Z",
        state: "pending",
      });
      expect(await store().claimDue(claimOf("w2"))).toEqual([]);
      expect(await store().claimDue(claimOf("w2", "2026-07-10T00:00:59.999Z"))).toEqual([]);
      expect(await store().claimDue({ ...claimOf("w2"), limit: 0 })).toEqual([]);
    });

    it("hands each entry to one of two parallel claims", async () => {
      const entries = Array.from({ length: 30 }, (_, i) => anOutboxEntry(`ins${i % 4}`));
      await queue(entries);
      const [x, y] = await Promise.all([
        store().claimDue(claimOf("w1", NOW, { limit: 20 })),
        store().claimDue(claimOf("w2", NOW, { limit: 20 })),
      ]);
      const both = [...ids(x ?? []), ...ids(y ?? [])];
      expect(new Set(both).size).toBe(both.length);
      expect(new Set(both)).toEqual(new Set(ids(entries)));
    });

    it("lets another worker take an expired lease; the first worker's result is then refused", async () => {
      const entry = anOutboxEntry("a");
      await queue([entry]);
      expect(ids(await store().claimDue(claimOf("w1")))).toEqual([entry.id]);
      const expired = "2026-07-10T00:01:00.000Z";
      expect(ids(await store().claimDue(claimOf("w2", expired)))).toEqual([entry.id]);

      expect(await store().completeDelivery(entry.id, "w1", { state: "delivered", at: expired })).toBe(false);
      expect(await store().completeDelivery("nope", "w2", { state: "delivered", at: expired })).toBe(false);
      const [pending] = await store().claimDue(claimOf("w3", "2026-07-10T00:02:00.000Z"));
      expect(pending?.attempts).toBe(0);
      // w3 took it over in turn; w2 lost it too.
      expect(await store().completeDelivery(entry.id, "w2", { state: "delivered", at: expired })).toBe(false);
      expect(await store().completeDelivery(entry.id, "w3", { state: "delivered", at: expired })).toBe(true);
      expect(await store().completeDelivery(entry.id, "w3", { state: "delivered", at: expired })).toBe(false);
    });

    it("claims at most perInsurer entries of one insurer, so others are not starved", async () => {
      const slow = Array.from({ length: 10 }, (_, i) =>
        anOutboxEntry("slow", { dueAt: `2026-07-01T00:00:0${i}.000Z` }),
      );
      const fast = [anOutboxEntry("fast", { dueAt: "2026-07-05T00:00:00.000Z" })];
      await queue([...slow, ...fast]);
      const claimed = await store().claimDue(claimOf("w1", NOW, { limit: 5, perInsurer: 2 }));
      expect(ids(claimed)).toEqual(ids([slow[0], slow[1], fast[0]] as OutboxEntry[]));
      const next = await store().claimDue(claimOf("w2", NOW, { limit: 1, perInsurer: 2 }));
      expect(ids(next)).toEqual([slow[2]?.id]);
    });

    it("retries later, then ends dead; counts and lists dead entries", async () => {
      const entry = anOutboxEntry("a");
      const other = anOutboxEntry("b", { dueAt: "2026-06-01T09:00:00.000Z" });
      const owner = await queue([entry, other]);
      await store().claimDue(claimOf("w1", NOW, { limit: 1 }));
      const retryAt = "2026-07-10T00:05:00.000Z";
      expect(
        await store().completeDelivery(entry.id, "w1", {
          state: "retry",
          at: NOW,
          nextAttemptAt: retryAt,
          error: "HTTP 500",
        }),
      ).toBe(true);
      const [afterRetry] = (await store().listOutboxForOwner(owner.id)).filter((e) => e.id === entry.id);
      expect(afterRetry).toMatchObject({
        state: "pending",
        attempts: 1,
        nextAttemptAt: retryAt,
        lastError: "HTTP 500",
      });
      expect(afterRetry?.leaseUntil).toBeUndefined();
      expect(await store().outboxStats()).toEqual({ pending: 2, retrying: 1, dead: 0 });

      expect(ids(await store().claimDue(claimOf("w2", "2026-07-10T00:04:59.999Z")))).toEqual([other.id]);
      const [again] = await store().claimDue(claimOf("w3", retryAt));
      expect(again?.id).toBe(entry.id);
      expect(
        await store().completeDelivery(entry.id, "w3", { state: "dead", at: retryAt, error: "timeout" }),
      ).toBe(true);
      expect(await store().completeDelivery(entry.id, "w3", { state: "delivered", at: retryAt })).toBe(false);
      expect(await store().outboxStats()).toEqual({ pending: 1, retrying: 0, dead: 1 });
      const [dead] = await store().listDeadDeliveries(10);
      expect(dead).toMatchObject({ id: entry.id, state: "dead", attempts: 2, lastError: "timeout" });
      // Dead is final: only the other entry, once its lease expires, comes back.
      expect(ids(await store().claimDue(claimOf("w4", "2026-09-01T00:00:00.000Z")))).toEqual([other.id]);
    });

    it("completes a batch in order: delivered, retry and dead apply; a lost lease changes nothing", async () => {
      const lost = anOutboxEntry("c", { dueAt: "2026-07-01T00:00:00.000Z" });
      const done = anOutboxEntry("a", { dueAt: "2026-07-02T00:00:00.000Z" });
      const retried = anOutboxEntry("b", { dueAt: "2026-07-03T00:00:00.000Z" });
      const dead = anOutboxEntry("a", { dueAt: "2026-07-04T00:00:00.000Z" });
      const owner = await queue([done, retried, dead, lost]);
      expect(await store().claimDue(claimOf("w1"))).toHaveLength(4);
      // w1's lease ran out; w2 took over the earliest entry only.
      const expired = "2026-07-10T00:01:00.000Z";
      expect(ids(await store().claimDue(claimOf("w2", expired, { limit: 1 })))).toEqual([lost.id]);
      expect(await store().completeDeliveries([])).toEqual([]);

      const retryAt = "2026-07-10T00:05:00.000Z";
      const results = await store().completeDeliveries([
        { id: done.id, worker: "w1", result: { state: "delivered", at: expired } },
        { id: lost.id, worker: "w1", result: { state: "delivered", at: expired } },
        {
          id: retried.id,
          worker: "w1",
          result: { state: "retry", at: expired, nextAttemptAt: retryAt, error: "HTTP 503" },
        },
        { id: dead.id, worker: "w1", result: { state: "dead", at: expired, error: "timeout" } },
        { id: "nope", worker: "w1", result: { state: "delivered", at: expired } },
        // A second result for an entry the batch already finished is refused, like a lone call.
        { id: done.id, worker: "w1", result: { state: "dead", at: expired, error: "late" } },
      ]);
      expect(results).toEqual([true, false, true, true, false, false]);

      const listed = new Map((await store().listOutboxForOwner(owner.id)).map((e) => [e.id, e]));
      expect(listed.get(done.id)).toMatchObject({ state: "delivered", attempts: 1, deliveredAt: expired });
      expect(listed.get(done.id)?.lastError).toBeUndefined();
      expect(listed.get(retried.id)).toMatchObject({
        state: "pending",
        attempts: 1,
        nextAttemptAt: retryAt,
        lastError: "HTTP 503",
      });
      expect(listed.get(retried.id)?.leaseUntil).toBeUndefined();
      expect(listed.get(dead.id)).toMatchObject({ state: "dead", attempts: 1, lastError: "timeout" });
      expect(listed.get(lost.id)).toMatchObject({ state: "pending", attempts: 0 });
      expect(listed.get(lost.id)?.lastError).toBeUndefined();
      expect(await store().outboxStats()).toEqual({ pending: 2, retrying: 1, dead: 1 });
      expect(ids(await store().listDeadDeliveries(10))).toEqual([dead.id]);

      // The lost entry is still w2's to finish; the retried one comes back at its next attempt.
      expect(
        await store().completeDeliveries([
          { id: lost.id, worker: "w2", result: { state: "delivered", at: expired } },
        ]),
      ).toEqual([true]);
      expect(ids(await store().claimDue(claimOf("w3", retryAt)))).toEqual([retried.id]);
    });

    it("keeps each delivery's own time when a batch completes together", async () => {
      const entries = [anOutboxEntry("a"), anOutboxEntry("b"), anOutboxEntry("a")];
      const owner = await queue(entries);
      expect(await store().claimDue(claimOf("w"))).toHaveLength(3);
      const times = ["2026-07-10T00:00:02.000Z", "2026-07-10T00:00:03.000Z", "2026-07-10T00:00:01.000Z"];
      const results = await store().completeDeliveries(
        entries.map((e, i) => ({ id: e.id, worker: "w", result: { state: "delivered", at: times[i]! } })),
      );
      expect(results).toEqual([true, true, true]);
      const listed = new Map((await store().listOutboxForOwner(owner.id)).map((e) => [e.id, e]));
      for (const [i, e] of entries.entries()) {
        expect(listed.get(e.id)).toMatchObject({ state: "delivered", attempts: 1, deliveredAt: times[i] });
      }
      expect(await store().outboxStats()).toEqual({ pending: 0, retrying: 0, dead: 0 });
    });

    it("lists dead entries newest first", async () => {
      const entries = [anOutboxEntry("a"), anOutboxEntry("b"), anOutboxEntry("c")];
      await queue(entries);
      await store().claimDue(claimOf("w"));
      const times = ["2026-07-10T00:00:02.000Z", "2026-07-10T00:00:03.000Z", "2026-07-10T00:00:01.000Z"];
      for (const [i, e] of entries.entries()) {
        await store().completeDelivery(e.id, "w", { state: "dead", at: times[i] as string, error: "410" });
      }
      expect(ids(await store().listDeadDeliveries(10))).toEqual(
        ids([entries[1], entries[0], entries[2]] as OutboxEntry[]),
      );
      expect(await store().listDeadDeliveries(1)).toHaveLength(1);
    });

    it("marks delivered window.opened notices on the window, and skipped ones as final", async () => {
      await addInsurers("a", "b");
      const { owner, window, plan } = await windowFor("a", {}, ["b"]);
      const claimed = await store().claimDue(claimOf("w1"));
      expect(claimed).toHaveLength(2);
      const opened = claimed.find((e) => e.type === "window.opened");
      const filed = claimed.find((e) => e.type === "optout.filed");
      if (!opened || !filed) throw new Error("missing notices");
      expect(opened.subjectId).toBe(window.id);
      expect(opened.ownerId).toBe(owner.id);

      expect(await store().completeDelivery(opened.id, "w1", { state: "delivered", at: NOW })).toBe(true);
      expect(
        await store().completeDelivery(filed.id, "w1", { state: "skipped", at: NOW, reason: "no webhook" }),
      ).toBe(true);
      expect((await store().getWindow(window.id))?.deliveredAt).toBe(NOW);
      const listed = await store().listOutboxForOwner(owner.id);
      expect(listed.map((e) => [e.id, e.state])).toEqual(
        plan.outbox.map((e) => [e.id, e.id === opened.id ? "delivered" : "skipped"]),
      );
      expect(listed.find((e) => e.id === opened.id)).toMatchObject({ deliveredAt: NOW, attempts: 1 });
      expect(await store().claimDue(claimOf("w2", LATER))).toEqual([]);
      expect(await store().outboxStats()).toEqual({ pending: 0, retrying: 0, dead: 0 });
    });

    it("lists an owner's notices oldest first, and none of them after erasure", async () => {
      await addInsurers("a", "b");
      const { owner, plan } = await windowFor("a", {}, ["b"]);
      const listed = await store().listOutboxForOwner(owner.id);
      expect(ids(listed)).toEqual(ids(plan.outbox));
      expect(listed[0]).toMatchObject({ ...plan.outbox[0], ownerId: owner.id });
      expect(await store().listOutboxForOwner("nope")).toEqual([]);
      await store().eraseOwner(owner.id, NOW);
      expect(await store().listOutboxForOwner(owner.id)).toEqual([]);
      // The notices themselves still go out, unlinked from the owner.
      const claimed = await store().claimDue(claimOf("w"));
      expect(claimed).toHaveLength(2);
      for (const entry of claimed) expect(entry.ownerId).toBeUndefined();
    });
  });

  describe("owner notifications", () => {
    it("reports each acknowledgement once, until marked as told", async () => {
      await addInsurers("a", "b", "c");
      const { owner, window, plan } = await windowFor("a", {}, ["b", "c"]);
      const [ob, oc] = plan.optOuts;
      if (!ob || !oc) throw new Error("no opt-outs");
      expect(await store().pendingAckNotices(10)).toEqual([]);
      await store().acknowledgeOptOut("b", ob.id, NOW);
      await store().acknowledgeWindow("a", window.id, LATER);
      const erased = await windowFor("a", {}, ["b"]);
      await store().eraseOwner(erased.owner.id, NOW);
      await store().acknowledgeWindow("a", erased.window.id, NOW);

      const notices = await store().pendingAckNotices(10);
      expect(notices).toEqual([
        { kind: "optout", id: ob.id, ownerId: owner.id, insurerId: "b", acknowledgedAt: NOW },
        { kind: "window", id: window.id, ownerId: owner.id, insurerId: "a", acknowledgedAt: LATER },
      ]);
      expect(await store().pendingAckNotices(1)).toHaveLength(1);
      await store().markAckNoticesSent(notices, LATER);
      expect(await store().pendingAckNotices(10)).toEqual([]);
      await store().acknowledgeOptOut("b", ob.id, LATER);
      await store().acknowledgeOptOut("c", oc.id, LATER);
      expect(ids(await store().pendingAckNotices(10))).toEqual([oc.id]);
      await store().markAckNoticesSent([], LATER);
    });

    it("reminds once about live windows left unacknowledged since before the cutoff", async () => {
      await addInsurers("a");
      const due = (await windowFor("a", { opensAt: "2026-07-01T00:00:00.000Z" })).window;
      const acked = (await windowFor("a", { opensAt: "2026-07-01T00:00:00.000Z" })).window;
      await store().acknowledgeWindow("a", acked.id, "2026-07-02T00:00:00.000Z");
      await windowFor("a", { opensAt: "2026-07-08T00:00:00.000Z" }); // opened after the cutoff
      await windowFor("a", {
        opensAt: "2026-07-01T00:00:00.000Z",
        revokedAt: NOW,
        revokeReason: "owner_request",
      });
      await windowFor("a", { opensAt: "2026-07-01T00:00:00.000Z", closedAt: NOW });
      await windowFor("a", { opensAt: "2026-06-01T00:00:00.000Z", closesAt: "2026-07-09T00:00:00.000Z" });
      const earlier = (await windowFor("a", { opensAt: "2026-06-30T00:00:00.000Z" })).window;

      const cutoff = "2026-07-07T00:00:00.000Z";
      expect(ids(await store().windowsAwaitingAckReminder(cutoff, NOW, 10))).toEqual(ids([earlier, due]));
      expect(await store().windowsAwaitingAckReminder(cutoff, NOW, 1)).toEqual([earlier]);
      await store().markAckReminderSent(earlier.id, NOW);
      await store().markAckReminderSent(earlier.id, LATER);
      expect(ids(await store().windowsAwaitingAckReminder(cutoff, NOW, 10))).toEqual([due.id]);
      expect(await store().getWindow(earlier.id)).toEqual(earlier);
    });

    /** A refusal the way the attempts endpoint writes one: revoke, attempt, and the owner notice. */
    function refusal(owner: Owner, version: number, window: ContactWindow, id: string, createdAt = NOW) {
      const cs = emptyChangeset(owner.id, version);
      cs.revokeWindows.push({ id: window.id, at: createdAt, reason: "refused_on_call" });
      cs.attempts = [anAttempt(window, { idempotencyKey: `k-${id}`, outcome: "refused", at: createdAt })];
      const notice: OwnerNotice = {
        id,
        ownerId: owner.id,
        kind: "refused_on_call",
        insurerId: window.insurerId,
        createdAt,
      };
      cs.ownerNotices = [notice];
      return { cs, notice };
    }

    it("writes an owner notice with its changeset, all or nothing, and lists it until marked sent", async () => {
      await addInsurers("a", "b");
      const { owner, window } = await windowFor("a");
      const version = (await store().getOwnerState(owner.id)).owner.version;
      expect(await store().pendingOwnerNotices(10)).toEqual([]);

      // A changeset that fails (stale version) leaves no notice behind.
      const stale = refusal(owner, version + 7, window, "n-stale");
      await expect(store().applyChangeset(stale.cs)).rejects.toThrow();
      // Nor does one that fails on a later part (a duplicate attempt key).
      const first = emptyChangeset(owner.id, version);
      first.attempts = [anAttempt(window, { idempotencyKey: "k-dup" })];
      await store().applyChangeset(first);
      const dup = refusal(owner, version + 1, window, "n-dup");
      dup.cs.attempts = [anAttempt(window, { idempotencyKey: "k-dup", outcome: "refused" })];
      await expect(store().applyChangeset(dup.cs)).rejects.toBeInstanceOf(DuplicateError);
      expect(await store().pendingOwnerNotices(10)).toEqual([]);

      const { cs, notice } = refusal(owner, version + 1, window, "n-1");
      await store().applyChangeset(cs);
      const other = await windowFor("b");
      const later = refusal(
        other.owner,
        (await store().getOwnerState(other.owner.id)).owner.version,
        other.window,
        "n-2",
        LATER,
      );
      await store().applyChangeset(later.cs);

      expect(await store().pendingOwnerNotices(10)).toEqual([notice, later.notice]);
      expect(await store().pendingOwnerNotices(10)).toEqual([notice, later.notice]);
      expect(await store().pendingOwnerNotices(1)).toEqual([notice]);
      await store().markOwnerNoticesSent([notice.id, "unknown"], LATER);
      expect(await store().pendingOwnerNotices(10)).toEqual([later.notice]);
      await store().markOwnerNoticesSent([notice.id], "2027-01-01T00:00:00.000Z");
      await store().markOwnerNoticesSent([], LATER);
      expect(await store().pendingOwnerNotices(10)).toEqual([later.notice]);
    });

    it("refuses a notice for another owner, and erases an owner's notices with the owner", async () => {
      await addInsurers("a");
      const one = await windowFor("a");
      const two = await windowFor("a");
      const v1 = (await store().getOwnerState(one.owner.id)).owner.version;
      const wrong = refusal(one.owner, v1, one.window, "n-wrong");
      wrong.cs.ownerNotices = [{ ...wrong.notice, ownerId: two.owner.id }];
      await expect(store().applyChangeset(wrong.cs)).rejects.toThrow();
      expect(await store().pendingOwnerNotices(10)).toEqual([]);

      const a = refusal(one.owner, v1, one.window, "n-a");
      await store().applyChangeset(a.cs);
      const b = refusal(
        two.owner,
        (await store().getOwnerState(two.owner.id)).owner.version,
        two.window,
        "n-b",
      );
      await store().applyChangeset(b.cs);
      await store().eraseOwner(one.owner.id, LATER);
      expect(await store().pendingOwnerNotices(10)).toEqual([b.notice]);
    });
  });
}
