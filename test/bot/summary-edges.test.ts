/**
 * The summary and "I agree" at the edges (issue 18's review): an insurer that loses its contact
 * line after being chosen, a language switch between reading and agreeing, a summary replaced
 * by a newer one, the insurers keyboard redrawn after a tap, and words at the car question that
 * are no car.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BotHarness, startBotHarness } from "../support/bot-harness.js";
import { contactAndSkip, howToSummary, ownerOf, sessionOf, stateOf, toSummary } from "./flow.js";

describe("the summary and I agree at the edges", () => {
  let h: BotHarness;
  beforeEach(async () => {
    h = await startBotHarness();
  });
  afterEach(() => h.close());

  it("an insurer that lost its contact line after being chosen is dropped from the summary, with the reason", async () => {
    const u = h.user(4001);
    await contactAndSkip(u);
    await u.send("31 July");
    await u.press("ob:ins:pingan");
    await u.press("ob:ins:picc");
    await u.press("ob:ins-done");
    await h.services.insurers.update("picc", { contact: null });
    const summary = u.texts(await howToSummary(u));
    expect(summary).toContain("PICC cannot be chosen yet");
    expect(summary).toContain("Please check your choice");
    expect(summary).not.toContain("Consent text for PICC");
    await u.press("ob:agree");
    const state = await stateOf(h, 4001);
    expect(state.windows.map((w) => w.insurerId)).toEqual(["pingan"]);
  });

  it("one that loses it between the summary and I agree is not agreed to: the owner sees the new summary first", async () => {
    const u = h.user(4002);
    await toSummary(u, ["pingan", "picc"]);
    await h.services.insurers.update("picc", { contact: null });
    const again = u.texts(await u.press("ob:agree"));
    expect(again).toContain("PICC cannot be chosen yet");
    expect(again).toContain("Please check your choice");
    expect((await stateOf(h, 4002)).consent).toBeUndefined();
    await u.press("ob:agree");
    expect((await stateOf(h, 4002)).windows.map((w) => w.insurerId)).toEqual(["pingan"]);
  });

  it("when the only insurer chosen lost its contact line, the insurers question is asked again", async () => {
    const u = h.user(4003);
    await toSummary(u, ["picc"]);
    await h.services.insurers.update("picc", { contact: null });
    const asked = u.texts(await u.press("ob:agree"));
    expect(asked).toContain("PICC cannot be chosen yet");
    expect(u.lastButtons()).toContain("ob:ins:pingan");
    expect(u.lastButtons()).not.toContain("ob:ins:picc");
    expect((await stateOf(h, 4003)).consent).toBeUndefined();
  });

  it("the insurers keyboard redrawn after a tap offers only insurers that can be chosen", async () => {
    await h.services.insurers.add({ id: "acme", name: "Acme Insurance" });
    const u = h.user(4004);
    await contactAndSkip(u);
    await u.send("31 July");
    expect(u.lastButtons()).not.toContain("ob:ins:acme");
    await u.press("ob:ins:pingan");
    const redraw = h.fake.calls.filter((c) => c.method === "editMessageReplyMarkup").at(-1);
    const markup = redraw?.payload.reply_markup as { inline_keyboard: { callback_data?: string }[][] };
    const data = markup.inline_keyboard.flat().map((b) => b.callback_data);
    expect(data).toContain("ob:ins:picc");
    expect(data).not.toContain("ob:ins:acme");
  });

  it("/language between the summary and I agree signs the text the owner read, in its language", async () => {
    const u = h.user(4005);
    await toSummary(u, ["pingan"]);
    const summaryId = h.fake.sent(4005).at(-1)?.messageId;
    await u.command("/language");
    await u.press("lang:zh");
    await u.press("ob:agree", summaryId);
    const state = await stateOf(h, 4005);
    expect(state.consent?.language).toBe("en");
    expect((await ownerOf(h, 4005)).language).toBe("zh");
  });

  it("'share my name' on a summary a newer one replaced is answered as outdated", async () => {
    const u = h.user(4006);
    await toSummary(u, ["pingan"]);
    const first = h.fake.sent(4006).at(-1)?.messageId;
    await u.press("ob:name");
    expect((await sessionOf(h, 4006))?.draft.shareName).toBe(true);
    const old = u.texts(await u.press("ob:name", first));
    expect(old).toContain("That summary is out of date");
    expect((await sessionOf(h, 4006))?.draft.shareName).toBe(true);
  });

  it("'I'm in a meeting' at the car question is no car: the question is asked again", async () => {
    const u = h.user(4007);
    await u.command("/start");
    await u.contact("8613812345678");
    const busy = u.texts(await u.send("I'm in a meeting"));
    expect(busy).toContain("which car is it");
    expect((await ownerOf(h, 4007)).vehicle).toBeUndefined();
    const zh = h.user(4008, { languageCode: "zh" });
    await zh.command("/start");
    await zh.contact("8613812345679");
    await zh.send("我在开会，等一下");
    expect((await ownerOf(h, 4008)).vehicle).toBeUndefined();
    // A car is still a car.
    expect(u.texts(await u.send("Tesla Model 3"))).toContain("Tesla Model 3");
    expect((await ownerOf(h, 4007)).vehicle).toBe("Tesla Model 3");
    await zh.send("比亚迪汉");
    expect((await ownerOf(h, 4008)).vehicle).toBe("比亚迪汉");
  });
});
