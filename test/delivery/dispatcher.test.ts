import { afterEach, describe, expect, it, vi } from "vitest";
import { MAX_ATTEMPTS } from "../../src/delivery/retry-schedule.js";
import type { Insurer, OutboxEntry } from "../../src/domain/model.js";
import { createMetrics } from "../../src/metrics.js";
import { optOutView } from "../../src/services/insurer-views.js";
import { createHarness, DIGITS, type Harness, PHONE } from "./harness.js";

const FIVE = ["alpha", "bravo", "charlie", "delta", "echo"];
const HOUR = 3_600_000;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function allRequests(harness: Harness) {
  return harness.insurers.flatMap((i) => i.receiver.requests.map((r) => ({ insurer: i.id, ...r })));
}

function expectNoPersonalData(harness: Harness) {
  for (const line of harness.logs) {
    expect(line).not.toContain(DIGITS);
    expect(line).not.toContain('"data"');
  }
}

describe("dispatcher", () => {
  it("delivers one window.opened to the chosen insurer and optout.filed to the four others, all signed", async () => {
    h = await createHarness({ insurers: FIVE });
    const ownerId = await h.newOwner(1001);
    await h.agree(ownerId, ["bravo"]);

    const stats = await h.dispatcher().runOnce();
    expect(stats).toEqual({ delivered: 5, retried: 0, dead: 0, skipped: 0 });

    const reqs = allRequests(h);
    expect(reqs).toHaveLength(5);
    for (const r of reqs) {
      expect(r.signatureValid).toBe(true);
      expect(r.method).toBe("POST");
      expect(r.headers["content-type"]).toBe("application/json");
      expect(r.headers["webhook-id"]).toMatch(/^msg_/);
      expect(Object.keys(r.json!)).toEqual(["type", "timestamp", "data"]);
      expect(r.json!.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(r.json!.data.insurerId).toBe(r.insurer);
    }
    const opened = reqs.filter((r) => r.json!.type === "window.opened");
    expect(opened.map((r) => r.insurer)).toEqual(["bravo"]);
    const optouts = reqs.filter((r) => r.json!.type === "optout.filed");
    expect(optouts.map((r) => r.insurer).sort()).toEqual(["alpha", "charlie", "delta", "echo"]);

    // The window object, with the owner, as it opened.
    const state = await h.services.store.getOwnerState(ownerId);
    const window = state.windows[0]!;
    const data = opened[0]!.json!.data;
    expect(data).toMatchObject({
      id: window.id,
      insurerId: "bravo",
      status: "open",
      owner: { phone: PHONE, language: "en" },
      opensAt: window.opensAt,
      closesAt: window.closesAt,
      verificationCode: window.verificationCode,
      attemptsUsed: 0,
      optOutLink: `https://t.me/onewindow_test_bot?start=stop_${window.stopToken}`,
      receipt: { id: window.receiptId, jws: expect.any(String) },
    });
    expect(opened[0]!.json!.timestamp).toBe(window.opensAt);

    // Opt-outs: exactly the opt-out object, never the number.
    for (const r of optouts) {
      const optOut = state.optOuts.find((o) => o.insurerId === r.insurer)!;
      expect(r.json!.data).toEqual(JSON.parse(JSON.stringify(optOutView(optOut))));
      expect(r.body).not.toContain(DIGITS);
      expect(r.body).not.toContain("phone");
    }

    // Delivered state recorded; nothing left to do.
    const outbox = await h.outbox(ownerId);
    expect(outbox.map((e) => e.state)).toEqual(Array(5).fill("delivered"));
    expect((await h.services.store.getWindow(window.id))!.deliveredAt).toBe(h.now().toISOString());
    expect(await h.dispatcher().runOnce()).toEqual({ delivered: 0, retried: 0, dead: 0, skipped: 0 });
    expect(allRequests(h)).toHaveLength(5);
    expectNoPersonalData(h);
  });

  it("holds a window.opened until its opensAt", async () => {
    h = await createHarness({ insurers: ["alpha", "bravo"] });
    const ownerId = await h.newOwner(1002);
    // Renewal 2027-03-01, 30 days before: opens 2027-01-30 00:00 Asia/Shanghai.
    await h.agree(ownerId, ["alpha"], { renewalDate: "2027-03-01" });
    const window = (await h.services.store.getOwnerState(ownerId)).windows[0]!;
    expect(window.opensAt).toBe("2027-01-29T16:00:00.000Z");

    const d = h.dispatcher();
    expect(await d.runOnce()).toMatchObject({ delivered: 1 });
    expect(h.receiver("alpha").requests).toHaveLength(0);
    expect(h.receiver("bravo").requests.map((r) => r.json!.type)).toEqual(["optout.filed"]);

    h.set(new Date("2027-01-29T15:59:59.000Z"));
    expect(await d.runOnce()).toMatchObject({ delivered: 0 });
    expect(h.receiver("alpha").requests).toHaveLength(0);

    h.set(new Date("2027-01-29T16:00:00.000Z"));
    expect(await d.runOnce()).toMatchObject({ delivered: 1 });
    const [req] = h.receiver("alpha").requests;
    expect(req!.json!.type).toBe("window.opened");
    expect(req!.json!.data).toMatchObject({ status: "open", owner: { phone: PHONE } });
  });

  it("announces a stop after opening as window.revoked, without owner data", async () => {
    h = await createHarness({ insurers: ["alpha", "bravo"] });
    const ownerId = await h.newOwner(1003);
    await h.agree(ownerId, ["alpha"]);
    const d = h.dispatcher();
    await d.runOnce();
    h.advance(HOUR);
    await h.services.owners.stop(ownerId, { insurerId: "alpha" }, "owner_request");
    expect(await d.runOnce()).toMatchObject({ delivered: 2 });

    const types = h.receiver("alpha").requests.map((r) => r.json!.type);
    expect(types).toEqual(["window.opened", expect.any(String), expect.any(String)]);
    const revoked = h.receiver("alpha").requests.find((r) => r.json!.type === "window.revoked")!;
    const window = (await h.services.store.getOwnerState(ownerId)).windows[0]!;
    expect(revoked.json!.data).toEqual({
      id: window.id,
      insurerId: "alpha",
      status: "revoked",
      revokedAt: h.now().toISOString(),
      reason: "owner_request",
    });
    expect(revoked.body).not.toContain(DIGITS);
    expect(revoked.body).not.toContain(window.verificationCode);
    expect(h.receiver("alpha").requests.find((r) => r.json!.type === "optout.filed")!.json!.data.reason).toBe(
      "owner_request",
    );
  });

  it("never sends owner data for a window revoked before its notice went out", async () => {
    h = await createHarness({ insurers: ["alpha", "bravo"] });
    const ownerId = await h.newOwner(1004);
    await h.agree(ownerId, ["alpha"]);
    h.advance(60_000);
    await h.services.owners.stop(ownerId, { insurerId: "alpha" }, "owner_request");
    const stats = await h.dispatcher().runOnce();
    expect(stats).toMatchObject({ skipped: 1 });
    const alpha = h.receiver("alpha").requests;
    expect(alpha.map((r) => r.json!.type).sort()).toEqual(["optout.filed", "window.revoked"]);
    for (const r of alpha) expect(r.body).not.toContain(DIGITS);
    const opened = (await h.outbox(ownerId)).find((e) => e.type === "window.opened")!;
    expect(opened).toMatchObject({ state: "skipped", lastError: "window revoked before delivery" });
  });

  it("skips a window.opened whose owner was erased, and still files the opt-outs without the number", async () => {
    h = await createHarness({ insurers: ["alpha", "bravo"] });
    const ownerId = await h.newOwner(1007);
    await h.agree(ownerId, ["alpha"]);
    await h.services.store.eraseOwner(ownerId, h.now().toISOString());
    expect(await h.dispatcher().runOnce()).toEqual({ delivered: 1, retried: 0, dead: 0, skipped: 1 });
    expect(h.receiver("alpha").requests).toHaveLength(0);
    expect(h.receiver("bravo").requests[0]!.body).not.toContain(DIGITS);
  });

  it("announces a withdrawn opt-out when the owner later chooses that insurer", async () => {
    h = await createHarness({ insurers: ["alpha", "bravo"] });
    const ownerId = await h.newOwner(1008);
    await h.agree(ownerId, ["alpha"]);
    const d = h.dispatcher();
    await d.runOnce();
    const optOut = (await h.services.store.getOwnerState(ownerId)).optOuts.find(
      (o) => o.insurerId === "bravo",
    )!;
    h.advance(HOUR);
    await h.agree(ownerId, ["alpha", "bravo"]);
    await d.runOnce();
    const bravo = h.receiver("bravo").requests.map((r) => r.json!);
    expect(bravo.map((b) => b.type)).toEqual(["optout.filed", expect.any(String), expect.any(String)]);
    expect(bravo.find((b) => b.type === "optout.withdrawn")!.data).toEqual({
      id: optOut.id,
      insurerId: "bravo",
      withdrawnAt: h.now().toISOString(),
    });
    expect(bravo.find((b) => b.type === "window.opened")!.data).toMatchObject({ owner: { phone: PHONE } });
    expect(h.insurers.flatMap((i) => i.receiver.requests).every((r) => r.signatureValid)).toBe(true);
  });

  it("skips insurers without a webhook URL (the pull feed holds everything)", async () => {
    h = await createHarness({ insurers: ["alpha"] });
    await h.addInsurer("bravo", { webhook: false });
    const ownerId = await h.newOwner(1005);
    await h.agree(ownerId, ["alpha"]);
    expect(await h.dispatcher().runOnce()).toEqual({ delivered: 1, retried: 0, dead: 0, skipped: 1 });
    const skipped = (await h.outbox(ownerId)).find((e) => e.insurerId === "bravo")!;
    expect(skipped).toMatchObject({ state: "skipped", lastError: "no webhook URL (pull feed only)" });
  });

  it("retries a 500 under the same webhook-id with the identical body", async () => {
    h = await createHarness({ insurers: ["alpha", "bravo"] });
    h.receiver("alpha").script({ status: 500 });
    const ownerId = await h.newOwner(1006);
    await h.agree(ownerId, ["alpha"]);
    const metrics = createMetrics();
    const d = h.dispatcher({ metrics });
    expect(await d.runOnce()).toEqual({ delivered: 1, retried: 1, dead: 0, skipped: 0 });
    const entry = (await h.outbox(ownerId)).find((e) => e.insurerId === "alpha")!;
    expect(entry).toMatchObject({ state: "pending", attempts: 1, lastError: "HTTP 500" });
    // random 0.5 → no jitter: exactly 30 s.
    expect(entry.nextAttemptAt).toBe(new Date(h.now().getTime() + 30_000).toISOString());

    h.advance(29_000);
    expect(await d.runOnce()).toMatchObject({ delivered: 0, retried: 0 });
    // Meanwhile the insurer records an attempt: the retried body still shows the window as it opened.
    h.advance(1_000);
    expect(await d.runOnce()).toMatchObject({ delivered: 1 });
    const [first, second] = h.receiver("alpha").requests;
    expect(second!.headers["webhook-id"]).toBe(first!.headers["webhook-id"]);
    expect(second!.body).toBe(first!.body);
    expect(second!.signatureValid).toBe(true);
    expect((await h.outbox(ownerId)).find((e) => e.insurerId === "alpha")).toMatchObject({
      state: "delivered",
      attempts: 2,
    });
    const counted = (await metrics.deliveries.get()).values.map((v) => [
      v.labels.type,
      v.labels.outcome,
      v.value,
    ]);
    expect(counted).toEqual(
      expect.arrayContaining([
        ["window.opened", "retry", 1],
        ["window.opened", "delivered", 1],
        ["optout.filed", "delivered", 1],
      ]),
    );
  });

  it("retries with the same body after the owner switches language or adds a car, and never sends the car they did not agree to share", async () => {
    h = await createHarness({ insurers: ["alpha", "bravo"] });
    h.receiver("alpha").script({ status: 500 });
    const ownerId = await h.newOwner(1007);
    await h.agree(ownerId, ["alpha"]);
    const d = h.dispatcher();
    expect(await d.runOnce()).toMatchObject({ delivered: 1, retried: 1 });
    // After agreeing: /language, and a car typed in an /edit that was never agreed to.
    await h.services.store.updateOwnerProfile(ownerId, { language: "zh", vehicle: "Tesla Model 3" });
    h.advance(30_000);
    expect(await d.runOnce()).toMatchObject({ delivered: 1 });
    const [first, second] = h.receiver("alpha").requests;
    expect(second!.headers["webhook-id"]).toBe(first!.headers["webhook-id"]);
    expect(second!.body).toBe(first!.body);
    expect(second!.json!.data.owner).toMatchObject({ phone: PHONE, language: "en" });
    expect(second!.body).not.toContain("Tesla");
  });

  it("sends the name and car the owner agreed to, not ones changed after agreeing, and the same bytes on retry", async () => {
    h = await createHarness({ insurers: ["alpha", "bravo"] });
    h.receiver("alpha").script({ status: 500 });
    const ownerId = await h.newOwner(1009);
    await h.services.store.updateOwnerProfile(ownerId, { name: "Lin Wei", vehicle: "BYD Han" });
    await h.agree(ownerId, ["alpha"], { shareName: true });
    const d = h.dispatcher();
    expect(await d.runOnce()).toMatchObject({ delivered: 1, retried: 1 });
    // After agreeing: the contact re-shared under another name, and a car typed in an /edit
    // that was never agreed to.
    await h.services.store.updateOwnerProfile(ownerId, { name: "Wei Lin Jr", vehicle: "Tesla Model 3" });
    h.advance(30_000);
    expect(await d.runOnce()).toMatchObject({ delivered: 1 });
    const [first, second] = h.receiver("alpha").requests;
    expect(second!.body).toBe(first!.body);
    expect(second!.json!.data).toMatchObject({
      owner: { phone: PHONE, name: "Lin Wei" },
      vehicle: "BYD Han",
    });
    // Search the words, not the raw body: the base64 receipt inside it can hold "Jr" by chance.
    const words = JSON.stringify({ ...second!.json!.data, receipt: undefined });
    expect(words).not.toMatch(/Tesla|Wei Lin Jr/);
    // The owner's export shows what was shared on that consent; /delete forgets it.
    const receipt = (await h.services.store.getOwnerState(ownerId)).receipts[0]!;
    expect(receipt.shared).toEqual({ name: "Lin Wei", vehicle: "BYD Han" });
    await h.services.store.eraseOwner(ownerId, h.now().toISOString());
    expect((await h.services.store.getReceipt(receipt.id))?.shared).toBeUndefined();
  });

  it("retries hanging and resetting endpoints on schedule while the others are delivered in the same run", async () => {
    h = await createHarness({ insurers: FIVE });
    h.receiver("alpha").setFallback({ hang: true });
    h.receiver("bravo").setFallback({ reset: true });
    const owners = [await h.newOwner(2001, "+8613800138001"), await h.newOwner(2002, "+8613800138002")];
    for (const o of owners) await h.agree(o, ["charlie"]);

    const d = h.dispatcher({ timeoutMs: 800 });
    const started = Date.now();
    const stats = await d.runOnce();
    expect(stats).toEqual({ delivered: 6, retried: 4, dead: 0, skipped: 0 });
    // The healthy insurers were answered long before the hanging one timed out.
    for (const id of ["charlie", "delta", "echo"]) {
      for (const r of h.receiver(id).requests) expect(r.receivedAt - started).toBeLessThan(700);
    }
    const entries = (await Promise.all(owners.map((o) => h!.outbox(o)))).flat();
    const byInsurer = (id: string) => entries.filter((e) => e.insurerId === id);
    for (const e of byInsurer("alpha"))
      expect(e).toMatchObject({ attempts: 1, lastError: "timeout after 800 ms" });
    for (const e of byInsurer("bravo")) {
      expect(e.attempts).toBe(1);
      expect(e.lastError).toMatch(/socket|closed|reset/i);
    }
    for (const e of [...byInsurer("alpha"), ...byInsurer("bravo")]) {
      expect(e.nextAttemptAt).toBe(new Date(h.now().getTime() + 30_000).toISOString());
    }

    // Not before the schedule says so.
    h.advance(10_000);
    expect(await d.runOnce()).toEqual({ delivered: 0, retried: 0, dead: 0, skipped: 0 });
    // Then again, and the endpoints have recovered.
    h.receiver("alpha").setFallback({ status: 200 });
    h.receiver("bravo").setFallback({ status: 204 });
    h.advance(20_000);
    expect(await d.runOnce()).toEqual({ delivered: 4, retried: 0, dead: 0, skipped: 0 });
    for (const id of ["alpha", "bravo"]) {
      const reqs = h.receiver(id).requests;
      expect(reqs).toHaveLength(4);
      const ids = new Set(reqs.map((r) => r.headers["webhook-id"]));
      expect(ids.size).toBe(2);
      for (const r of reqs) expect(r.signatureValid).toBe(true);
    }
    expectNoPersonalData(h);
  });

  it("serves a prompt insurer while several hanging ones hold the whole pool", async () => {
    const hanging = ["a1", "a2", "a3", "a4"];
    h = await createHarness({ insurers: [...hanging, "zz"] });
    for (const id of hanging) h.receiver(id).setFallback({ hang: true });
    for (let i = 0; i < 3; i++) {
      const o = await h.newOwner(2100 + i, `+86138001${String(38100 + i).padStart(5, "0")}`);
      await h.agree(o, []);
    }
    // Four slots, two per insurer: the four hanging endpoints alone can fill the pool. slowMs is
    // 1 s here (half the timeout, at most 1 s).
    const d = h.dispatcher({ concurrency: 4, perInsurer: 2, timeoutMs: 2000 });
    const started = Date.now();
    const stats = await d.runOnce();
    expect(stats).toEqual({ delivered: 3, retried: 12, dead: 0, skipped: 0 });
    const prompt = h.receiver("zz").requests;
    expect(prompt).toHaveLength(3);
    // Delivered once the hanging requests counted as slow, long before any of them timed out.
    for (const r of prompt) expect(r.receivedAt - started).toBeLessThan(1700);
  });

  it("disables the endpoint on 410, tells the operator, and skips later notices", async () => {
    h = await createHarness({ insurers: ["alpha", "bravo"] });
    h.receiver("bravo").setFallback({ status: 410 });
    const gone: Insurer[] = [];
    const d = h.dispatcher({ onGone: (i) => void gone.push(i) });
    const o1 = await h.newOwner(3001, "+8613800138001");
    await h.agree(o1, ["alpha"]);
    expect(await d.runOnce()).toEqual({ delivered: 1, retried: 0, dead: 0, skipped: 1 });
    const bravo = await h.getInsurer("bravo");
    expect(bravo!.webhookDisabledAt).toBe(h.now().toISOString());
    expect(gone.map((i) => i.id)).toEqual(["bravo"]);
    expect(
      h.logs.some((l) => l.includes('"level":40') && l.includes("410 Gone") && l.includes("bravo")),
    ).toBe(true);
    expect((await h.outbox(o1)).find((e) => e.insurerId === "bravo")).toMatchObject({
      state: "skipped",
      lastError: expect.stringContaining("410"),
    });

    // A later notice is not even sent.
    const o2 = await h.newOwner(3002, "+8613800138002");
    await h.agree(o2, ["alpha"]);
    expect(await d.runOnce()).toEqual({ delivered: 1, retried: 0, dead: 0, skipped: 1 });
    expect(h.receiver("bravo").requests).toHaveLength(1);

    // Updating the URL re-enables it.
    await h.services.store.updateInsurer("bravo", {
      webhookUrl: h.receiver("bravo").url,
      webhookDisabledAt: null,
    });
    expect((await h.getInsurer("bravo"))!.webhookDisabledAt).toBeUndefined();
  });

  it("marks a notice dead once the schedule is exhausted", async () => {
    h = await createHarness({ insurers: ["alpha", "bravo"] });
    h.receiver("bravo").setFallback({ status: 503, headers: { "retry-after": "5" } });
    const dead: OutboxEntry[] = [];
    const d = h.dispatcher({ onDead: (e) => void dead.push(e) });
    const ownerId = await h.newOwner(4001);
    await h.agree(ownerId, ["alpha"]);
    const first = h.now().getTime();
    let last = first;
    for (let i = 0; i < 200 && dead.length === 0; i++) {
      const before = h.receiver("bravo").requests.length;
      await d.runOnce();
      if (h.receiver("bravo").requests.length > before) last = h.now().getTime();
      h.advance(HOUR);
    }
    const reqs = h.receiver("bravo").requests;
    expect(reqs).toHaveLength(MAX_ATTEMPTS);
    expect(new Set(reqs.map((r) => r.headers["webhook-id"])).size).toBe(1);
    expect(new Set(reqs.map((r) => r.body)).size).toBe(1);
    expect(last - first).toBeGreaterThanOrEqual(3 * 24 * HOUR);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({
      insurerId: "bravo",
      type: "optout.filed",
      state: "dead",
      attempts: MAX_ATTEMPTS,
    });
    const entry = (await h.outbox(ownerId)).find((e) => e.insurerId === "bravo")!;
    expect(entry).toMatchObject({ state: "dead", attempts: MAX_ATTEMPTS });
    expect(entry.lastError).toContain("HTTP 503");
    expect(await h.services.store.outboxStats()).toMatchObject({ dead: 1 });
    expect(h.logs.some((l) => l.includes("dead") && l.includes('"level":40'))).toBe(true);
    // Nothing more is tried.
    h.advance(30 * 24 * HOUR);
    await d.runOnce();
    expect(h.receiver("bravo").requests).toHaveLength(MAX_ATTEMPTS);
  });

  it("counts a notice whose body cannot be built as a failed attempt, so it follows the schedule instead of returning forever", async () => {
    h = await createHarness({ insurers: ["alpha", "bravo"] });
    const ownerId = await h.newOwner(1008);
    await h.agree(ownerId, ["alpha"]);
    // A store whose window rows cannot be read (a fault injected in front of the real store).
    const real = h.services.store;
    const store = new Proxy(real, {
      get(target, key) {
        if (key === "getWindow") {
          return async () => {
            throw new Error("row unreadable");
          };
        }
        const value = Reflect.get(target, key, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    expect(await h.dispatcher({ store }).runOnce()).toEqual({
      delivered: 1,
      retried: 1,
      dead: 0,
      skipped: 0,
    });
    const entry = (await h.outbox(ownerId)).find((e) => e.insurerId === "alpha")!;
    expect(entry).toMatchObject({
      state: "pending",
      attempts: 1,
      lastError: "internal error: Error: row unreadable",
    });
    expect(h.receiver("alpha").requests).toHaveLength(0);
    expectNoPersonalData(h);
  });

  it("treats a URL the policy refuses as a failed attempt with a clear error", async () => {
    h = await createHarness({ insurers: ["alpha", "bravo"] });
    const ownerId = await h.newOwner(5001);
    await h.agree(ownerId, ["alpha"]);
    // The receivers listen on loopback: refused without ALLOW_PRIVATE_WEBHOOKS.
    const stats = await h.dispatcher({ allowPrivateWebhooks: false }).runOnce();
    expect(stats).toEqual({ delivered: 0, retried: 2, dead: 0, skipped: 0 });
    expect(allRequests(h)).toHaveLength(0);
    for (const e of await h.outbox(ownerId)) {
      expect(e.lastError).toMatch(/^webhook URL refused: scheme http: not allowed \(https only/);
    }
  });

  it("delivers each notice exactly once with two dispatchers on two store instances", async () => {
    h = await createHarness({ insurers: FIVE });
    for (let i = 0; i < 24; i++) {
      const o = await h.newOwner(6000 + i, `+86138001${String(38000 + i).padStart(5, "0")}`);
      await h.agree(o, [FIVE[i % 5]!]);
    }
    const second = await h.openSecond();
    const opts = { batchSize: 7, perInsurer: 2, concurrency: 4 };
    const d1 = h.dispatcher(opts);
    const d2 = h.dispatcher(opts, second);
    const [s1, s2] = await Promise.all([d1.runOnce(), d2.runOnce()]);
    expect(s1.delivered + s2.delivered).toBe(120);
    expect(s1.delivered).toBeGreaterThan(0);
    expect(s2.delivered).toBeGreaterThan(0);
    const reqs = allRequests(h);
    expect(reqs).toHaveLength(120);
    expect(new Set(reqs.map((r) => r.headers["webhook-id"])).size).toBe(120);
    expect(reqs.every((r) => r.signatureValid)).toBe(true);
    expect(await h.services.store.outboxStats()).toEqual({ pending: 0, retrying: 0, dead: 0 });
  });

  it("keeps one insurer's sends apart when they start at one reading of a clock that has run for 200 days", async () => {
    h = await createHarness({ insurers: ["alpha", "bravo"] });
    for (let i = 0; i < 3; i++) {
      const o = await h.newOwner(6100 + i, `+86138001${String(39000 + i).padStart(5, "0")}`);
      await h.agree(o, ["bravo"]);
    }
    // After ~199 days of uptime, a millionth of a millisecond no longer changes performance.now():
    // every launch in one pump reads the same value, and a nudge of that size loops forever.
    const frozen = vi.spyOn(performance, "now").mockReturnValue(200 * 24 * HOUR);
    try {
      const stats = await h.dispatcher().runOnce();
      expect(stats).toEqual({ delivered: 6, retried: 0, dead: 0, skipped: 0 });
    } finally {
      frozen.mockRestore();
    }
    expect(h.receiver("alpha").requests.map((r) => r.json!.type)).toEqual(Array(3).fill("optout.filed"));
  });

  it("sends newly queued notices when woken, long before its next interval", async () => {
    const harness = await createHarness({ insurers: ["alpha", "bravo"] });
    h = harness;
    const d = h.dispatcher();
    h.services.outboxWritten.subscribe(() => d.wake());
    // Idle: the first run finds nothing; the next look would be a minute away.
    d.start(60_000);
    await new Promise((r) => setTimeout(r, 50));
    const ownerId = await h.newOwner(7101);
    await h.agree(ownerId, ["alpha"]);
    await vi.waitFor(() => expect(allRequests(harness)).toHaveLength(2), { timeout: 5_000, interval: 20 });
    // Woken in the middle of a run's wait, too: a second owner's notices follow at once.
    const second = await h.newOwner(7102, "+8613800138001");
    await h.agree(second, ["bravo"]);
    await vi.waitFor(() => expect(allRequests(harness)).toHaveLength(4), { timeout: 5_000, interval: 20 });
    await d.stop();
    expect(await h.services.store.outboxStats()).toEqual({ pending: 0, retrying: 0, dead: 0 });
  });

  it("stop() lets in-flight sends end and leaves unsent claims to their leases", async () => {
    h = await createHarness({ insurers: ["alpha", "bravo"] });
    h.receiver("alpha").setFallback({ hang: true });
    const ownerId = await h.newOwner(7001);
    await h.agree(ownerId, ["bravo"]);
    const d = h.dispatcher({ timeoutMs: 600 });
    d.start(20);
    while (h.receiver("alpha").requests.length === 0 || h.receiver("bravo").requests.length === 0) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const t0 = Date.now();
    await d.stop();
    expect(Date.now() - t0).toBeLessThan(2000);
    const outbox = await h.outbox(ownerId);
    expect(outbox.find((e) => e.insurerId === "bravo")!.state).toBe("delivered");
    expect(outbox.find((e) => e.insurerId === "alpha")).toMatchObject({ state: "pending", attempts: 1 });
    await expect(d.runOnce()).rejects.toThrow(/stopped/);
  });
});
