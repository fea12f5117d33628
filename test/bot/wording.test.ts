/**
 * What the owner reads (issue 18): names in the chat's language, only the details the owner
 * agreed to share, no insurer offered for consent without a contact line, plurals and lists
 * as each language makes them, periods in words, one form of the code everywhere.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BotHarness, startBotHarness } from "../support/bot-harness.js";
import { contactAndSkip, howToSummary, onboard, stateOf, toSummary } from "./flow.js";

describe("what the owner reads", () => {
  let h: BotHarness;
  beforeEach(async () => {
    h = await startBotHarness();
  });
  afterEach(() => h.close());

  it("shares the Telegram profile name only after 'Also share my name', and says what the insurer sees", async () => {
    const u = h.user(3001);
    const summary = u.texts(await toSummary(u, ["pingan"]));
    expect(summary).toContain("The insurer sees: your phone number and the expiry date.");
    expect(summary).not.toContain("Lin");
    expect(u.lastLabels()).toContain("👤 Also share my name (Lin)");

    const shared = u.texts(await u.press("ob:name"));
    expect(shared).toContain("The insurer sees: your phone number, the expiry date, and your name (Lin).");
    expect(shared).toContain("my phone number, name, and policy renewal date");
    expect(u.lastLabels()).toContain("👤 Don't share my name");
    await u.press("ob:name");
    expect(u.lastLabels()).toContain("👤 Also share my name (Lin)");
    await u.press("ob:agree");
    const state = await stateOf(h, 3001);
    // Tapped twice: not shared. The receipt lists no name and keeps none.
    expect(state.receipts[0]?.shared?.name).toBeUndefined();
    expect(state.consent?.preferences.shareName).toBeUndefined();
  });

  it("sends the name when the owner chose to share it", async () => {
    const u = h.user(3002);
    await toSummary(u, ["pingan"]);
    await u.press("ob:name");
    await u.press("ob:agree");
    const state = await stateOf(h, 3002);
    expect(state.receipts[0]?.shared).toEqual({ name: "Lin" });
  });

  it("never offers an insurer without a contact line for consent, but lets the owner stop it", async () => {
    await h.services.insurers.add({ id: "sunshine", name: "Sunshine", aliases: ["阳光"] });
    const u = h.user(3003);
    await contactAndSkip(u);
    await u.send("31 July");
    expect(u.lastButtons()).not.toContain("ob:ins:sunshine");
    expect(u.lastButtons()).toContain("ob:ins:pingan");
    // Named in words: said plainly, and nothing is chosen.
    const typed = u.texts(await u.send("only Sunshine"));
    expect(typed).toContain("Sunshine cannot be chosen yet: it has not given onewindow a contact line");
    expect(u.lastButtons()).not.toContain("ob:ins:sunshine");
    await u.press("ob:ins:pingan");
    await u.press("ob:ins-done");
    await howToSummary(u, { attempts: 1 });
    await u.press("ob:agree");
    // It still gets an opt-out, and /stop lists it.
    const state = await stateOf(h, 3003);
    expect(state.optOuts.map((o) => o.insurerId)).toContain("sunshine");
    await u.command("/stop");
    expect(u.lastButtons()).toEqual(["stop:pingan", "stop:all"]);
  });

  it("says 'attempt' for one, periods in words, and no daily cap that cannot bind", async () => {
    const u = h.user(3004);
    await contactAndSkip(u);
    await u.send("31 July");
    await u.press("ob:ins:pingan");
    await u.press("ob:ins-done");
    const summary = u.texts(await howToSummary(u, { channels: ["sms", "call"], attempts: 1 }));
    expect(summary).toContain("From 30 days before expiry, at most 1 attempt.");
    expect(summary).toContain("How: call and SMS");
    expect(summary).toContain("Every other insurer gets an opt-out notice (1 year).");
    expect(summary).toContain("at most 1 attempt in total.");
    expect(summary).not.toMatch(/1 attempts|a day|365 days|Asia\/Shanghai/);
    const agreed = u.texts(await u.press("ob:agree"));
    expect(agreed).toContain("Opt-out notices are filed for 3 other insurers.");
  });

  it("in Chinese: Chinese names on the buttons and in the text, Chinese lists and punctuation, one term for the code", async () => {
    const u = h.user(3005, { languageCode: "zh" });
    await contactAndSkip(u);
    await u.send("7月31日");
    expect(u.lastLabels()).toEqual(expect.arrayContaining(["中国平安", "中国人保", "太平洋保险", "Allianz"]));
    // An English name typed in the Chinese chat still names the insurer.
    await u.send("只要 Ping An，短信和电话，工作日晚上");
    await u.press("ob:db:30");
    const summary = u.texts(await u.press("ob:att:2"));
    expect(summary).toContain("允许联系：中国平安");
    expect(summary).toContain("方式：电话和短信 · 周一至周五 · 18:00–20:00（中国标准时间）");
    expect(summary).toContain("到期前 30 天起，共最多 2 次。");
    expect(summary).toContain("单独同意：中国平安");
    expect(summary).not.toMatch(/Ping An|, |"|验证码|Asia\//);
    const agreed = u.texts(await u.press("ob:agree"));
    const code = /核验码 (\d{3}-\d{3})/.exec(agreed)?.[1];
    expect(code).toBeDefined();
    expect(agreed).not.toContain("验证码 ");
    const status = u.texts(await u.command("/status"));
    expect(status).toContain(`核验码 ${code}`);
    expect(status).toContain("中国人保：不得联系你");
  });

  it("shows the code in one display form in the chat and the API gives both forms", async () => {
    const u = h.user(3006);
    const agreed = u.texts(await onboard(u, ["pingan"]));
    const shown = /code (\d{3}-\d{3})/.exec(agreed)?.[1];
    const window = (await stateOf(h, 3006)).windows[0]!;
    expect(shown).toBe(`${window.verificationCode.slice(0, 3)}-${window.verificationCode.slice(3)}`);
  });
});
