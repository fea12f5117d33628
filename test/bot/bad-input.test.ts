import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BotHarness, startBotHarness } from "../support/bot-harness.js";
import { contactAndSkip, ownerOf, PHONE, renewalToSummary, sessionOf, stateOf } from "./flow.js";

describe("bad input", () => {
  let h: BotHarness;
  beforeEach(async () => {
    h = await startBotHarness();
  });
  afterEach(() => h.close());

  it("re-asks an unparseable date with an example", async () => {
    const u = h.user(3001);
    await contactAndSkip(u);
    const reply = await u.send("whenever, really");
    expect(u.texts(reply)).toContain("I couldn't read a date");
    expect(u.texts(reply)).toMatch(/for example: 31 July/);
    expect(await sessionOf(h, 3001)).toMatchObject({ step: "renewalDate", draft: {} });
  });

  it("refuses a renewal date in the past with the reason", async () => {
    const u = h.user(3002);
    await contactAndSkip(u);
    // The harness's today is 2026-12-01.
    const reply = await u.send("it expired on 2026-11-15");
    expect(u.texts(reply)).toContain("2026-11-15 is in the past");
    expect(await sessionOf(h, 3002)).toMatchObject({ step: "renewalDate", draft: {} });
  });

  it("refuses a renewal date more than 13 months ahead with the reason", async () => {
    const u = h.user(3003);
    await contactAndSkip(u);
    const reply = await u.send("2028-06-01");
    expect(u.texts(reply)).toContain("2028-06-01 is more than 13 months away");
    expect(reply.at(-1)?.text).toContain("When does your policy expire?");
    expect(await sessionOf(h, 3003)).toMatchObject({ step: "renewalDate", draft: {} });
  });

  it("offers 'did you mean' for an unknown insurer, and the suggested button picks it", async () => {
    const u = h.user(3004);
    await contactAndSkip(u);
    await u.send("31 July");
    const reply = await u.send("Ping Ann");
    const text = u.texts(reply);
    expect(text).toContain("I don't know that insurer.");
    expect(text).toContain("Did you mean:");
    const suggestion = reply.find((m) => m.text?.includes("Did you mean"));
    expect(JSON.stringify(suggestion?.replyMarkup)).toContain('"callback_data":"ob:ins:pingan"');

    await u.press("ob:ins:pingan", suggestion?.messageId);
    const done = await u.press("ob:ins-done");
    expect(u.lastButtons()).toContain("ob:ch:sms");
    expect(u.texts(done)).toContain("How may they contact you?");
    expect(await sessionOf(h, 3004)).toMatchObject({ step: "channels", draft: { insurers: ["pingan"] } });
  });

  it("clips hours outside the legal calling hours and tells the owner", async () => {
    const u = h.user(3005);
    await contactAndSkip(u);
    await u.send("31 July");
    await u.press("ob:ins:pingan");
    await u.press("ob:ins-done");
    await u.press("ob:ch:call");
    await u.press("ob:ch-done");
    await u.press("ob:days:all");
    await u.press("ob:days-done");
    const reply = await u.send("between 7am and 10pm");
    const text = u.texts(reply);
    // What the owner is told matches what is kept.
    expect(text).toContain("Got it: 09:00–20:00");
    expect(text).toContain("You asked for 07:00–22:00, but calling hours here are limited to 09:00–20:00");
    expect(await sessionOf(h, 3005)).toMatchObject({
      step: "daysBefore",
      draft: { hours: [{ from: "09:00", to: "20:00" }] },
    });
  });

  it("does not take a phone number as the car", async () => {
    const u = h.user(3010);
    await u.command("/start");
    await u.contact(PHONE.slice(1));
    const reply = await u.send("BYD Han, owner 138 1234 5678");
    expect(u.texts(reply)).toContain("not a phone number");
    expect(u.texts(reply)).not.toContain("5678");
    expect(u.lastButtons()).toEqual(["ob:vehicle:skip"]);
    expect((await ownerOf(h, 3010)).vehicle).toBeUndefined();
    const ok = await u.send("BYD Han 粤B 12345");
    expect(u.texts(ok)).toContain("Saved: BYD Han 粤B 12345");
    expect((await ownerOf(h, 3010)).vehicle).toBe("BYD Han 粤B 12345");
  });

  it("refuses someone else's contact card and stores no phone", async () => {
    const u = h.user(3006);
    await u.command("/start");
    const reply = await u.contact(PHONE.slice(1), 999_999);
    expect(u.texts(reply)).toContain("someone else's contact card");
    expect(JSON.stringify(reply.at(-1)?.replyMarkup)).toContain("request_contact");
    const owner = await ownerOf(h, 3006);
    expect(owner.phone).toBeUndefined();
    expect(owner.phoneHash).toBeUndefined();
    expect(owner.phoneVerified).toBe(false);
    expect(await sessionOf(h, 3006)).toMatchObject({ step: "phone" });
  });

  it("refuses a contact card without a user_id", async () => {
    const u = h.user(3007);
    await u.command("/start");
    const reply = await u.contact(PHONE.slice(1), null);
    expect(u.texts(reply)).toContain("someone else's contact card");
    expect((await ownerOf(h, 3007)).phone).toBeUndefined();
  });

  it("accepts a typed number unverified, and refuses 'I agree' with an insurer chosen", async () => {
    const u = h.user(3008);
    await u.command("/start");
    const typed = await u.send("+86 138 1234 5678");
    expect(u.texts(typed)).toContain("a typed number is not verified");
    expect(u.texts(typed)).toContain("+86 138****5678");
    const owner = await ownerOf(h, 3008);
    expect(owner.phone).toBe(PHONE);
    expect(owner.phoneVerified).toBe(false);

    await u.press("ob:vehicle:skip");
    await renewalToSummary(u);
    const refused = await u.press("ob:agree");
    expect(u.texts(refused)).toContain("your phone must be verified");
    const state = await stateOf(h, 3008);
    expect(state.consent).toBeUndefined();
    expect(state.windows).toHaveLength(0);
    expect(state.receipts).toHaveLength(0);

    // Sharing the contact now verifies it and returns to the summary.
    const shared = await u.contact(PHONE.slice(1));
    expect(u.texts(shared)).toContain("Phone number confirmed");
    expect(u.lastButtons()).toEqual(["ob:agree", "ob:name", "ob:change"]);
    const agreed = await u.press("ob:agree");
    expect(u.texts(agreed)).toContain("Ping An: window");
    expect((await stateOf(h, 3008)).windows).toHaveLength(1);
  });

  it("lets a typed, unverified number choose nobody", async () => {
    const u = h.user(3009);
    await u.command("/start");
    await u.send("+86 138 1234 5678");
    await u.press("ob:vehicle:skip");
    await u.send("31 July");
    const summary = await u.press("ob:ins-nobody");
    expect(u.texts(summary)).toContain("Who may contact you: nobody");
    const agreed = await u.press("ob:agree");
    expect(u.texts(agreed)).toContain("Nobody may contact you about this renewal.");
    // No insurer here has a push address: the notices wait on their pull feeds, and the bot
    // says so rather than calling them delivered.
    expect(u.texts(agreed)).toContain("Opt-out notices are filed for 4 other insurers.");
    expect(u.texts(agreed)).toContain("Waiting on the pull feed of Allianz, CPIC, PICC, and Ping An");
    expect(u.texts(agreed)).not.toMatch(/delivered|are told/);
    const state = await stateOf(h, 3009);
    expect(state.consent?.preferences.insurers).toEqual([]);
    expect(state.windows).toHaveLength(0);
    expect(state.optOuts.map((o) => o.insurerId).sort()).toEqual(["allianz", "cpic", "picc", "pingan"]);
    expect(state.optOuts.every((o) => o.reason === "not_chosen")).toBe(true);
  });
});
