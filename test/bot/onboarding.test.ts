import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BotHarness, startBotHarness } from "../support/bot-harness.js";

const PHONE = "+8613812345678";

describe("onboarding by buttons", () => {
  let h: BotHarness;
  beforeEach(async () => {
    h = await startBotHarness();
  });
  afterEach(() => h.close());

  it("goes from /start to a signed receipt, a window for the chosen insurer and opt-outs for the rest", async () => {
    const u = h.user(1001);
    const start = await u.command("/start");
    expect(u.texts(start)).toContain("I'm onewindow");
    const askPhone = start.at(-1)!;
    expect(JSON.stringify(askPhone.replyMarkup)).toContain("request_contact");

    const afterContact = await u.contact(PHONE.slice(1));
    expect(u.texts(afterContact)).toContain("+86 138****5678");
    expect(u.texts(afterContact)).not.toContain(PHONE.slice(1));
    expect(u.lastButtons()).toEqual(["ob:vehicle:skip"]);

    const afterSkip = await u.press("ob:vehicle:skip");
    expect(u.texts(afterSkip)).toContain("When does your policy expire?");

    const afterDate = await u.send("31 July");
    expect(u.texts(afterDate)).toContain("2027-07-31");
    expect(u.lastButtons()).toContain("ob:ins:pingan");

    await u.press("ob:ins:pingan");
    expect(u.lastButtons()).toContain("ob:ins:picc");
    await u.press("ob:ins-done");
    expect(u.lastButtons()).toContain("ob:ch:sms");
    await u.press("ob:ch:call");
    await u.press("ob:ch:sms");
    await u.press("ob:ch-done");
    expect(u.lastButtons()).toContain("ob:days:weekdays");
    await u.press("ob:days:weekdays");
    await u.press("ob:days-done");
    expect(u.lastButtons()).toContain("ob:hr:evening");
    await u.press("ob:hr:evening");
    await u.press("ob:hr-done");
    expect(u.lastButtons()).toContain("ob:db:30");
    await u.press("ob:db:30");
    expect(u.lastButtons()).toContain("ob:att:3");
    const summary = await u.press("ob:att:3");
    const summaryText = u.texts(summary);
    expect(summaryText).toContain("Policy expires: 2027-07-31");
    expect(summaryText).toContain("Who may contact you: Ping An");
    expect(summaryText).toContain("18:00–20:00");
    expect(summaryText).toContain("95511"); // the recipient's contact line is in the consent text
    expect(u.lastButtons()).toEqual(["ob:agree", "ob:name", "ob:change"]);

    const agreed = await u.press("ob:agree");
    const agreedText = u.texts(agreed);
    expect(agreedText).toMatch(/Ping An: window 2027-07-01 00:00 – 2027-08-01 00:00/);
    const code = agreedText.match(/code (\d{3})-(\d{3})/);
    expect(code).not.toBeNull();
    expect(agreedText).toContain("3 other insurers");

    const owner = await h.services.store.getOwnerByTelegramId(1001);
    const state = await h.services.store.getOwnerState(owner!.id);
    expect(state.consent?.preferences).toMatchObject({
      renewalDate: "2027-07-31",
      insurers: ["pingan"],
      channels: ["call", "sms"],
      days: ["mon", "tue", "wed", "thu", "fri"],
      hours: [{ from: "18:00", to: "20:00" }],
      daysBefore: 30,
      maxAttempts: 3,
    });
    expect(state.windows).toHaveLength(1);
    expect(state.windows[0]).toMatchObject({
      insurerId: "pingan",
      verificationCode: `${code![1]}${code![2]}`,
    });
    expect(state.optOuts.map((o) => o.insurerId).sort()).toEqual(["allianz", "cpic", "picc"]);
    expect(state.optOuts.every((o) => o.reason === "not_chosen")).toBe(true);
    const receipt = state.receipts[0]!;
    const verified = await h.services.signer.verify(receipt.jws!);
    expect(verified.valid).toBe(true);
    expect(verified.payload).toMatchObject({ jti: receipt.id, recipient: { id: "pingan" } });
    expect(JSON.stringify(verified.payload)).not.toContain("13812345678");
  });
});
