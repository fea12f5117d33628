import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { botI18n } from "../../src/bot/create-bot.js";
import { formatLocal } from "../../src/bot/format.js";
import { createMatchKeys } from "../../src/crypto/match-key.js";
import { checkAttempt } from "../../src/domain/attempts.js";
import type { ContactWindow } from "../../src/domain/model.js";
import { packFor } from "../../src/domain/policy-packs.js";
import { createLogger } from "../../src/logger.js";
import { createAttemptService } from "../../src/services/attempt-service.js";
import { createOwnerNotifier, fitLines } from "../../src/services/owner-notifier.js";
import { DIGITS, onboard, ownerOf, stateOf } from "../bot/flow.js";
import { type BotHarness, startBotHarness } from "../support/bot-harness.js";

const HOUR = 3_600_000;

describe("owner notifier", () => {
  let h: BotHarness;
  let now: Date;
  let logs: string[];
  const i18n = botI18n();

  beforeEach(async () => {
    now = new Date("2026-12-01T02:00:00.000Z");
    h = await startBotHarness({ now });
    logs = [];
  });
  afterEach(() => h.close());

  function setNow(d: Date) {
    now = d;
    h.setNow(d);
  }

  /** A notifier sending through the real bot API to the fake Telegram, or through `send`. */
  function notifier(send?: (chatId: number, text: string) => Promise<void>) {
    return createOwnerNotifier({
      store: h.services.store,
      clock: () => now,
      i18n,
      send:
        send ??
        (async (chatId, text) => {
          await h.bot.api.sendMessage(chatId, text);
        }),
      logger: createLogger("info", { write: (line: string) => logs.push(line) }),
    });
  }

  async function acknowledgeOptOuts(userId: number, insurers: string[], at: string) {
    const state = await stateOf(h, userId);
    for (const insurerId of insurers) {
      const optOut = state.optOuts.find((o) => o.insurerId === insurerId && !o.withdrawnAt);
      if (!optOut) throw new Error(`no opt-out for ${insurerId}`);
      expect(await h.services.store.acknowledgeOptOut(insurerId, optOut.id, at)).toBeDefined();
    }
  }

  it("tells the owner of three acknowledgements in one message, once", async () => {
    const u = h.user(9101);
    await onboard(u, ["pingan"]);
    const owner = await ownerOf(h, 9101);
    await acknowledgeOptOuts(9101, ["picc", "cpic", "allianz"], "2026-12-01T03:00:00.000Z");
    setNow(new Date("2026-12-01T03:05:00.000Z"));
    const before = h.fake.sent(owner.chatId).length;

    expect(await notifier().runOnce()).toEqual({ digests: 1, reminders: 0, notices: 0 });
    const sent = h.fake.sent(owner.chatId).slice(before);
    expect(sent).toHaveLength(1);
    const text = sent[0]?.text ?? "";
    expect(text).toContain("Insurers confirmed they received your notices:");
    for (const name of ["PICC", "CPIC", "Allianz"]) {
      // Local time: Asia/Shanghai is UTC+8.
      expect(text).toContain(`${name} acknowledged your opt-out (2026-12-01 11:00)`);
    }
    expect(text).not.toContain("Ping An");

    expect(await notifier().runOnce()).toEqual({ digests: 0, reminders: 0, notices: 0 });
    expect(h.fake.sent(owner.chatId).slice(before)).toHaveLength(1);

    // Logs: counts and ids, never the text, the names or the number.
    expect(logs.join("\n")).toContain('"owners":1');
    for (const line of logs) {
      expect(line).not.toContain("PICC");
      expect(line).not.toContain("acknowledged your");
      expect(line).not.toContain(DIGITS);
    }
  });

  it("sends one digest per owner, each naming only that owner's insurers, windows included", async () => {
    const a = h.user(9102);
    const b = h.user(9103);
    await onboard(a, ["pingan"]);
    await onboard(b, ["picc"]);
    await acknowledgeOptOuts(9102, ["cpic"], "2026-12-01T03:00:00.000Z");
    await acknowledgeOptOuts(9103, ["allianz", "pingan"], "2026-12-01T03:00:00.000Z");
    const windowB = (await stateOf(h, 9103)).windows[0]!;
    await h.services.store.acknowledgeWindow("picc", windowB.id, "2026-12-01T04:00:00.000Z");

    const sent: { chatId: number; text: string }[] = [];
    const result = await notifier(async (chatId, text) => {
      sent.push({ chatId, text });
    }).runOnce();
    expect(result).toEqual({ digests: 2, reminders: 0, notices: 0 });
    const ownerA = await ownerOf(h, 9102);
    const ownerB = await ownerOf(h, 9103);
    const toA = sent.filter((s) => s.chatId === ownerA.chatId);
    const toB = sent.filter((s) => s.chatId === ownerB.chatId);
    expect(toA).toHaveLength(1);
    expect(toB).toHaveLength(1);
    expect(toA[0]?.text).toContain("CPIC acknowledged your opt-out");
    expect(toA[0]?.text).not.toContain("Allianz");
    expect(toB[0]?.text).toContain("Allianz acknowledged your opt-out");
    expect(toB[0]?.text).toContain("Ping An acknowledged your opt-out");
    expect(toB[0]?.text).toContain("PICC acknowledged your contact window (2026-12-01 12:00)");
  });

  it("a failed send leaves the acknowledgements pending; the next run sends them", async () => {
    const u = h.user(9104);
    await onboard(u, ["pingan"]);
    await acknowledgeOptOuts(9104, ["picc", "cpic"], "2026-12-01T03:00:00.000Z");
    const sent: string[] = [];
    let fail = true;
    const flaky = notifier(async (_chatId, text) => {
      if (fail) throw new Error("network down");
      sent.push(text);
    });

    expect(await flaky.runOnce()).toEqual({ digests: 0, reminders: 0, notices: 0 });
    expect(await h.services.store.pendingAckNotices(10)).toHaveLength(2);
    expect(logs.join("\n")).toContain("owner ack digest not sent");
    expect(logs.join("\n")).not.toContain("network down");

    fail = false;
    expect(await flaky.runOnce()).toEqual({ digests: 1, reminders: 0, notices: 0 });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toContain("PICC acknowledged your opt-out");
    expect(sent[0]).toContain("CPIC acknowledged your opt-out");
    expect(await h.services.store.pendingAckNotices(10)).toEqual([]);
    expect(await flaky.runOnce()).toEqual({ digests: 0, reminders: 0, notices: 0 });
    expect(sent).toHaveLength(1);
  });

  it("a Telegram error through the real bot API is retried; a blocked bot is not retried forever", async () => {
    const u = h.user(9105);
    await onboard(u, ["pingan"]);
    const owner = await ownerOf(h, 9105);
    await acknowledgeOptOuts(9105, ["picc"], "2026-12-01T03:00:00.000Z");
    const before = h.fake.sent(owner.chatId).length;

    h.fake.failNext("sendMessage", { error_code: 400, description: "Bad Request: message is too long" });
    expect(await notifier().runOnce()).toEqual({ digests: 0, reminders: 0, notices: 0 });
    expect(await h.services.store.pendingAckNotices(10)).toHaveLength(1);
    expect(await notifier().runOnce()).toEqual({ digests: 1, reminders: 0, notices: 0 });
    expect(h.fake.sent(owner.chatId).slice(before)).toHaveLength(1);

    await acknowledgeOptOuts(9105, ["cpic"], "2026-12-01T03:00:00.000Z");
    h.fake.failNext("sendMessage", {
      error_code: 403,
      description: "Forbidden: bot was blocked by the user",
    });
    expect(await notifier().runOnce()).toEqual({ digests: 0, reminders: 0, notices: 0 });
    // Nobody can be told: marked, not retried on every run.
    expect(await h.services.store.pendingAckNotices(10)).toEqual([]);
    expect(logs.join("\n")).toContain("telegram 403");
  });

  it("reminds once when the chosen insurer has not acknowledged 72 hours after the window opened", async () => {
    const u = h.user(9106);
    await onboard(u, ["pingan", "picc"]);
    const owner = await ownerOf(h, 9106);
    const windows = (await stateOf(h, 9106)).windows;
    const pingan = windows.find((w) => w.insurerId === "pingan")!;
    const picc = windows.find((w) => w.insurerId === "picc")!;
    const opensAt = Date.parse(pingan.opensAt);
    const sent: { chatId: number; text: string }[] = [];
    const n = notifier(async (chatId, text) => {
      sent.push({ chatId, text });
    });

    // Before the window opens, and just before 72 hours: nothing.
    expect(await n.runOnce()).toEqual({ digests: 0, reminders: 0, notices: 0 });
    setNow(new Date(opensAt + HOUR));
    expect(await n.runOnce()).toEqual({ digests: 0, reminders: 0, notices: 0 });
    // PICC acknowledges in time: no reminder about it (one digest instead).
    await h.services.store.acknowledgeWindow("picc", picc.id, new Date(opensAt + 2 * HOUR).toISOString());
    setNow(new Date(opensAt + 72 * HOUR - 1000));
    expect(await n.runOnce()).toEqual({ digests: 1, reminders: 0, notices: 0 });
    expect(sent.at(-1)?.text).toContain("PICC acknowledged your contact window");

    setNow(new Date(opensAt + 72 * HOUR + 1000));
    expect(await n.runOnce()).toEqual({ digests: 0, reminders: 1, notices: 0 });
    expect(sent.at(-1)).toEqual({
      chatId: owner.chatId,
      text: "Ping An has not acknowledged your contact window in 72 hours. /edit to choose another insurer, /stop to stop them.",
    });

    setNow(new Date(opensAt + 100 * HOUR));
    expect(await n.runOnce()).toEqual({ digests: 0, reminders: 0, notices: 0 });
    expect(sent).toHaveLength(2);
    expect(logs.join("\n")).toContain(pingan.id);
  });

  it("a failed reminder is sent on the next run", async () => {
    const u = h.user(9107);
    await onboard(u, ["pingan"]);
    const window = (await stateOf(h, 9107)).windows[0]!;
    setNow(new Date(Date.parse(window.opensAt) + 73 * HOUR));
    let fail = true;
    const sent: string[] = [];
    const n = notifier(async (_chatId, text) => {
      if (fail) throw new Error("timeout");
      sent.push(text);
    });
    expect(await n.runOnce()).toEqual({ digests: 0, reminders: 0, notices: 0 });
    fail = false;
    expect(await n.runOnce()).toEqual({ digests: 0, reminders: 1, notices: 0 });
    expect(await n.runOnce()).toEqual({ digests: 0, reminders: 0, notices: 0 });
    expect(sent).toHaveLength(1);
  });

  it("writes to a Chinese-speaking owner in Chinese", async () => {
    const u = h.user(9108, { languageCode: "zh" });
    await onboard(u, ["pingan"]);
    const owner = await ownerOf(h, 9108);
    expect(owner.language).toBe("zh");
    await acknowledgeOptOuts(9108, ["picc", "cpic"], "2026-12-01T03:00:00.000Z");
    const sent: string[] = [];
    const n = notifier(async (_chatId, text) => {
      sent.push(text);
    });
    expect(await n.runOnce()).toEqual({ digests: 1, reminders: 0, notices: 0 });
    expect(sent[0]).toContain("保险公司已确认收到你的通知");
    // Their Chinese names (--name-zh) and Chinese quotation marks.
    expect(sent[0]).toContain("中国人保已确认你的“请勿联系”通知（2026-12-01 11:00）");
    expect(sent[0]).toContain("太平洋保险已确认你的“请勿联系”通知");

    const window = (await stateOf(h, 9108)).windows[0]!;
    setNow(new Date(Date.parse(window.opensAt) + 73 * HOUR));
    expect(await n.runOnce()).toEqual({ digests: 0, reminders: 1, notices: 0 });
    expect(sent[1]).toBe(
      "中国平安在 72 小时内没有确认你的联系窗口。/edit 改选其他保险公司，/stop 叫停他们。",
    );
  });

  /** The first hour of the window the owner's consent covers for contact (opened by then). */
  function callableHour(w: ContactWindow): Date {
    const channel = w.channels[0]!;
    for (let t = Date.parse(w.opensAt); t < Date.parse(w.closesAt); t += HOUR) {
      const at = new Date(t);
      const check = checkAttempt(w, [], { channel, outcome: "refused", at }, at, packFor("CN"));
      if (check.ok) return at;
    }
    throw new Error("no callable hour in the window");
  }

  /** Records a refusal the way POST /v1/windows/{id}/attempts does (onboarding allows SMS only). */
  async function refuseOnCall(w: ContactWindow) {
    setNow(callableHour(w));
    const attempts = createAttemptService({
      store: h.services.store,
      matchKey: createMatchKeys(h.services.keys.dataKey),
      clock: () => now,
    });
    const answer = await attempts.record(w.insurerId, w.id, {
      channel: w.channels[0]!,
      outcome: "refused",
      idempotencyKey: `refuse-${w.id}`,
    });
    expect(answer).toMatchObject({ kind: "recorded", remaining: 0 });
  }

  it("tells the owner once that refusing an insurer on a call told it to stop, until when", async () => {
    const u = h.user(9110);
    await onboard(u, ["pingan", "picc"]);
    const owner = await ownerOf(h, 9110);
    const pingan = (await stateOf(h, 9110)).windows.find((w) => w.insurerId === "pingan")!;
    await refuseOnCall(pingan);

    const state = await stateOf(h, 9110);
    expect(state.windows.find((w) => w.id === pingan.id)?.revokeReason).toBe("refused_on_call");
    const optOut = state.optOuts.find((o) => o.insurerId === "pingan" && o.reason === "refused_on_call");
    expect(optOut?.until).toBeDefined();
    const until = formatLocal(optOut!.until!, owner.timezone).slice(0, 10);
    expect(until).toMatch(/^\d{4}-\d{2}-\d{2}$/);

    const before = h.fake.sent(owner.chatId).length;
    expect(await notifier().runOnce()).toEqual({ digests: 0, reminders: 0, notices: 1 });
    const sent = h.fake.sent(owner.chatId).slice(before);
    expect(sent.map((m) => m.text)).toEqual([
      `You refused Ping An on a call, so an opt-out is filed: they may not contact you until ${until}.`,
    ]);
    expect(await h.services.store.pendingOwnerNotices(10)).toEqual([]);

    expect(await notifier().runOnce()).toEqual({ digests: 0, reminders: 0, notices: 0 });
    expect(h.fake.sent(owner.chatId).slice(before)).toHaveLength(1);
    for (const line of logs) {
      expect(line).not.toContain("Ping An");
      expect(line).not.toContain(DIGITS);
    }
  });

  it("retries a refusal notice after a failed send, in the owner's language; a blocked bot is not retried", async () => {
    const u = h.user(9111, { languageCode: "zh" });
    await onboard(u, ["pingan", "picc"]);
    const owner = await ownerOf(h, 9111);
    const windows = (await stateOf(h, 9111)).windows;
    await refuseOnCall(windows.find((w) => w.insurerId === "picc")!);
    const sent: string[] = [];
    let fail: unknown = new Error("timeout");
    const n = notifier(async (_chatId, text) => {
      if (fail) throw fail;
      sent.push(text);
    });

    expect(await n.runOnce()).toMatchObject({ notices: 0 });
    expect(await h.services.store.pendingOwnerNotices(10)).toHaveLength(1);
    expect(logs.join("\n")).toContain("owner notice not sent");
    fail = undefined;
    expect(await n.runOnce()).toMatchObject({ notices: 1 });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatch(
      /^你在电话中拒绝了中国人保，已登记“请勿联系”：对方在 \d{4}-\d{2}-\d{2} 前不得联系你。$/,
    );

    await refuseOnCall(windows.find((w) => w.insurerId === "pingan")!);
    fail = { error_code: 403, description: "Forbidden: bot was blocked by the user" };
    expect(await n.runOnce()).toMatchObject({ notices: 0 });
    expect(await h.services.store.pendingOwnerNotices(10)).toEqual([]);
    expect(owner.language).toBe("zh");
  });

  it("does not tell a deleted owner anything", async () => {
    const u = h.user(9109);
    await onboard(u, ["pingan"]);
    await acknowledgeOptOuts(9109, ["picc"], "2026-12-01T03:00:00.000Z");
    await h.services.owners.erase((await ownerOf(h, 9109)).id);
    const sent: string[] = [];
    const n = notifier(async (_chatId, text) => {
      sent.push(text);
    });
    setNow(new Date("2027-07-10T00:00:00.000Z"));
    expect(await n.runOnce()).toEqual({ digests: 0, reminders: 0, notices: 0 });
    expect(sent).toEqual([]);
  });
});

describe("fitLines", () => {
  const more = (n: number) => `…and ${n} more`;
  it("keeps everything that fits", () => {
    expect(fitLines("T", ["a", "b"], more)).toBe("T\na\nb");
  });
  it("stays under the limit and says how many were left out", () => {
    const lines = Array.from({ length: 500 }, (_, i) => `line ${i} ${"x".repeat(20)}`);
    const text = fitLines("Title", lines, more);
    expect(text.length).toBeLessThanOrEqual(4096);
    const kept = text.split("\n").length - 2;
    expect(text.endsWith(`…and ${500 - kept} more`)).toBe(true);
    expect(fitLines("Title", lines, more, 100).length).toBeLessThanOrEqual(100);
  });
});
