import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BotHarness, startBotHarness } from "../support/bot-harness.js";
import { contactAndSkip, sessionOf } from "./flow.js";

describe("free text as a whole preference patch", () => {
  let h: BotHarness;
  beforeEach(async () => {
    h = await startBotHarness();
  });
  afterEach(() => h.close());

  it("settles several questions from one English message and asks the first unsettled one", async () => {
    const u = h.user(2001);
    await contactAndSkip(u);
    const reply = await u.send("expires end of July, only Ping An, text me on weekday evenings");
    const text = u.texts(reply);
    expect(text).toContain("Got it: 2027-07-31 · Ping An · SMS · Mon–Fri · 18:00–20:00");
    // Date, who, channels, days and hours are settled: the next question is how early.
    expect(reply.at(-1)?.text).toContain("How early before the expiry date");
    expect(u.lastButtons()).toContain("ob:db:30");

    const session = await sessionOf(h, 2001);
    expect(session).toMatchObject({
      step: "daysBefore",
      draft: {
        renewalDate: "2027-07-31",
        insurers: ["pingan"],
        channels: ["sms"],
        days: ["mon", "tue", "wed", "thu", "fri"],
        hours: [{ from: "18:00", to: "20:00" }],
      },
    });
    expect(session?.draft).not.toHaveProperty("daysBefore");

    // The rest by buttons leads to the summary with the free-text answers in it.
    await u.press("ob:db:30");
    const summary = u.texts(await u.press("ob:att:2"));
    expect(summary).toContain("Who may contact you: Ping An");
    expect(summary).toContain("How: SMS · Mon–Fri · 18:00–20:00");
  });

  it("greets a Chinese user in Chinese and reads a Chinese patch", async () => {
    const u = h.user(2002, { languageCode: "zh" });
    const start = await u.command("/start");
    expect(u.texts(start)).toContain("我是 onewindow");
    expect(u.texts(start)).not.toContain("I'm onewindow");
    await u.contact("8613812345678");
    await u.press("ob:vehicle:skip");

    const reply = await u.send("保险7月31日到期，只要平安，工作日晚上发短信");
    const text = u.texts(reply);
    expect(text).toContain("2027-07-31");
    expect(text).toContain("中国平安");
    expect(text).toContain("短信");
    expect(reply.at(-1)?.text).toContain("到期前最早多少天");
    expect(await sessionOf(h, 2002)).toMatchObject({
      step: "daysBefore",
      draft: {
        renewalDate: "2027-07-31",
        insurers: ["pingan"],
        channels: ["sms"],
        days: ["mon", "tue", "wed", "thu", "fri"],
        hours: [{ from: "18:00", to: "20:00" }],
      },
    });
  });

  it("reads a patch typed before the phone is shared and skips those questions later", async () => {
    const u = h.user(2003);
    await u.command("/start");
    await u.send("expires 31 July, nobody may contact me");
    await u.contact("8613812345678");
    const afterSkip = await u.press("ob:vehicle:skip");
    // Date and "nobody" were settled up front: straight to the summary.
    expect(u.texts(afterSkip)).toContain("Who may contact you: nobody");
    expect(u.lastButtons()).toEqual(["ob:agree", "ob:change"]);
  });
});
