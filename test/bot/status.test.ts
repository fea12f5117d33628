import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DeliveryResult } from "../../src/store/store.js";
import { type BotHarness, startBotHarness } from "../support/bot-harness.js";
import { onboard, ownerOf, stateOf } from "./flow.js";

const WORKER = "status-test";

describe("/status delivery, acknowledgement and scrub audit", () => {
  let h: BotHarness;
  beforeEach(async () => {
    h = await startBotHarness();
  });
  afterEach(() => h.close());

  /** Claims what is due at `now` and ends each insurer's entry as `results` says. */
  async function deliver(now: string, results: Record<string, (at: string) => DeliveryResult>) {
    const store = h.services.store;
    const claimed = await store.claimDue({
      now,
      limit: 100,
      perInsurer: 100,
      leaseMs: 60_000,
      worker: WORKER,
    });
    for (const entry of claimed) {
      const result = results[entry.insurerId];
      if (result) expect(await store.completeDelivery(entry.id, WORKER, result(now))).toBe(true);
    }
    return claimed;
  }

  async function hit(ownerUserId: number, insurerId: string, answer: string, at: string, n = 0) {
    const owner = await ownerOf(h, ownerUserId);
    await h.services.store.recordScrubHits([
      {
        id: `hit-${insurerId}-${at}-${n}`,
        ownerId: owner.id,
        phoneHash: owner.phoneHash!,
        insurerId,
        kind: answer === "match_key" ? "match_key" : "scrub",
        answer,
        at,
      },
    ]);
  }

  it("shows delivered, acknowledged, retrying, failed and pending notices", async () => {
    const u = h.user(9201);
    await onboard(u, ["pingan"]);
    // Harness time is 2026-12-01T02:00Z (10:00 in Asia/Shanghai).
    const at = "2026-12-01T02:05:00.000Z";
    await deliver(at, {
      picc: (t) => ({ state: "delivered", at: t }),
      cpic: (t) => ({ state: "dead", at: t, error: "HTTP 500" }),
      allianz: (t) => ({
        state: "retry",
        at: t,
        nextAttemptAt: "2026-12-01T03:00:00.000Z",
        error: "timeout",
      }),
    });
    const state = await stateOf(h, 9201);
    const piccOptOut = state.optOuts.find((o) => o.insurerId === "picc")!;
    await h.services.store.acknowledgeOptOut("picc", piccOptOut.id, "2026-12-01T03:00:00.000Z");

    const text = u.texts(await u.command("/status"));
    expect(text).toContain(
      "PICC: may not contact you (not chosen) until 2027-12-01; notice delivered 2026-12-01 10:05, acknowledged 2026-12-01 11:00",
    );
    expect(text).toContain(
      "CPIC: may not contact you (not chosen) until 2027-12-01; push failed for good (the notice is still on their pull feed)",
    );
    expect(text).toContain(
      "Allianz: may not contact you (not chosen) until 2027-12-01; push failed once, retrying (the notice is on their pull feed meanwhile)",
    );
    // The window is scheduled: its notice is not due yet, so nothing about delivery.
    expect(text).toMatch(
      /Ping An: window scheduled 2027-07-01 00:00 – 2027-08-01 00:00 \(China Standard Time\), code \d{3}-\d{3}, attempts 0\/3\n/,
    );
    expect(text).toContain("Who checked your number:\nNobody has checked your number yet.");

    // A second owner whose notices were not pushed yet: "being sent" to an insurer with a push
    // address, "on their pull feed" for one without; never "delivered".
    await h.services.store.updateInsurer("pingan", { webhookUrl: "https://crm.example/onewindow" });
    const v = h.user(9202);
    await onboard(v, ["picc"]);
    const pending = v.texts(await v.command("/status"));
    expect(pending).toContain(
      "Ping An: may not contact you (not chosen) until 2027-12-01; notice being sent\n",
    );
    expect(pending).toContain(
      "CPIC: may not contact you (not chosen) until 2027-12-01; notice on their pull feed (they have no push address)\n",
    );
    expect(pending).not.toContain("delivered");
  });

  it("shows the window delivered once open, then acknowledged; a notice for an insurer without a push address is on its pull feed", async () => {
    const u = h.user(9203);
    await onboard(u, ["pingan"]);
    await deliver("2026-12-01T02:05:00.000Z", {
      picc: (t) => ({ state: "skipped", at: t, reason: "no webhook URL (pull feed only)" }),
    });
    const window = (await stateOf(h, 9203)).windows[0]!;
    h.setNow(new Date("2027-07-01T00:00:00.000Z"));
    await deliver("2027-07-01T00:00:00.000Z", { pingan: (t) => ({ state: "delivered", at: t }) });
    let text = u.texts(await u.command("/status"));
    expect(text).toMatch(
      /Ping An: window open 2027-07-01 00:00 – 2027-08-01 00:00 \(China Standard Time\), .*; notice delivered 2027-07-01 08:00\n/,
    );
    expect(text).toContain(
      "PICC: may not contact you (not chosen) until 2027-12-01; notice on their pull feed (they have no push address)\n",
    );

    await h.services.store.acknowledgeWindow("pingan", window.id, "2027-07-01T01:30:00.000Z");
    text = u.texts(await u.command("/status"));
    expect(text).toContain("; notice delivered 2027-07-01 08:00, acknowledged 2027-07-01 09:30");
  });

  it("an acknowledgement outweighs a failed push", async () => {
    const u = h.user(9204);
    await onboard(u, ["pingan"]);
    await deliver("2026-12-01T02:05:00.000Z", { cpic: (t) => ({ state: "dead", at: t, error: "HTTP 500" }) });
    const cpic = (await stateOf(h, 9204)).optOuts.find((o) => o.insurerId === "cpic")!;
    await h.services.store.acknowledgeOptOut("cpic", cpic.id, "2026-12-01T04:00:00.000Z");
    const text = u.texts(await u.command("/status"));
    expect(text).toContain(
      "CPIC: may not contact you (not chosen) until 2027-12-01, acknowledged 2026-12-01 12:00",
    );
    expect(text).not.toContain("push failed");
  });

  it("lists who checked the number, newest first, with local time and answer", async () => {
    const u = h.user(9205);
    await onboard(u, ["pingan"]);
    await hit(9205, "picc", "do_not_contact", "2026-12-01T01:00:00.000Z");
    await hit(9205, "pingan", "match_key", "2026-12-01T01:30:00.000Z");
    // Older than 13 months: not shown.
    await hit(9205, "cpic", "do_not_contact", "2025-10-01T00:00:00.000Z");
    const text = u.texts(await u.command("/status"));
    const section = text.slice(text.indexOf("Who checked your number:"));
    expect(section).toBe(
      [
        "Who checked your number:",
        "• Ping An, 2026-12-01 09:30: looked up your match key",
        "• PICC, 2026-12-01 09:00: told not to contact you",
      ].join("\n"),
    );
    expect(text).not.toContain("Nobody has checked");
  });

  it("keeps a long audit under Telegram's limit with '…and N more'", async () => {
    const u = h.user(9206);
    await onboard(u, ["pingan"]);
    const owner = await ownerOf(h, 9206);
    const hits = Array.from({ length: 300 }, (_, i) => ({
      id: `bulk-${i}`,
      ownerId: owner.id,
      phoneHash: owner.phoneHash!,
      insurerId: i % 2 ? "cpic" : "allianz",
      kind: "scrub" as const,
      answer: "do_not_contact",
      at: new Date(Date.parse("2026-11-01T00:00:00.000Z") + i * 60_000).toISOString(),
    }));
    await h.services.store.recordScrubHits(hits);
    const reply = await u.command("/status");
    for (const m of reply) expect((m.text ?? "").length).toBeLessThanOrEqual(4096);
    const text = u.texts(reply);
    expect(text).toContain("Who checked your number:");
    const shown = text.split("\n").filter((l) => l.startsWith("• ")).length;
    expect(shown).toBeGreaterThan(10);
    expect(shown).toBeLessThan(300);
    expect(text).toContain(`…and ${300 - shown} more`);
  });

  it("answers in Chinese for a Chinese owner", async () => {
    const u = h.user(9207, { languageCode: "zh" });
    await onboard(u, ["pingan"]);
    await deliver("2026-12-01T02:05:00.000Z", { picc: (t) => ({ state: "delivered", at: t }) });
    await hit(9207, "picc", "do_not_contact", "2026-12-01T01:00:00.000Z");
    const text = u.texts(await u.command("/status"));
    // The Chinese names (insurer add --name-zh), Chinese punctuation, the same states.
    expect(text).toContain("中国人保：不得联系你（未被选择），至 2027-12-01；通知已送达 2026-12-01 10:05");
    expect(text).toContain("谁查询过你的号码：\n• 中国人保，2026-12-01 09:00：答复请勿联系");
    expect(text).toMatch(
      /中国平安：窗口待开启 2027-07-01 00:00 – 2027-08-01 00:00（中国标准时间），核验码 \d{3}-\d{3}，已联系 0\/3/,
    );
    expect(text).not.toMatch(/Ping An|PICC|Asia\/Shanghai|, /);
  });

  it("says 'Nobody has checked' in Chinese too", async () => {
    const u = h.user(9208, { languageCode: "zh" });
    await onboard(u, []);
    const text = u.texts(await u.command("/status"));
    expect(text).toContain("还没有人查询过你的号码。");
  });
});
