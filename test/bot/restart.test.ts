import { afterEach, describe, expect, it } from "vitest";
import { type BotHarness, startBotHarness } from "../support/bot-harness.js";
import { contactAndSkip, sessionOf, stateOf } from "./flow.js";

describe("restart mid-conversation", () => {
  let h: BotHarness;
  afterEach(() => h.close());

  it("resumes at the same question after a restart on the same data, and finishing works", async () => {
    h = await startBotHarness();
    const u = h.user(4001);
    await contactAndSkip(u);
    await u.send("31 July");
    await u.press("ob:ins:picc");
    expect(u.lastButtons()).toContain("ob:ins-done");
    await h.close(false);

    h = await startBotHarness({ dir: h.dir, fake: h.fake, seed: false });
    const u2 = h.user(4001);
    const resumed = await u2.command("/start");
    expect(u2.texts(resumed)).toContain("Who may contact you about the renewal?");
    expect(u2.texts(resumed)).not.toContain("I'm onewindow");
    // The tick survives too: the pick is part of the stored session.
    const markup = JSON.stringify(resumed.at(-1)?.replyMarkup);
    expect(markup).toContain("✅ PICC");
    expect(await sessionOf(h, 4001)).toMatchObject({
      step: "insurers",
      draft: { renewalDate: "2027-07-31" },
    });

    await u2.press("ob:ins-done");
    await u2.press("ob:ch:call");
    await u2.press("ob:ch-done");
    await u2.press("ob:days:weekdays");
    await u2.press("ob:days-done");
    await u2.press("ob:hr:morning");
    await u2.press("ob:hr-done");
    await u2.press("ob:db:14");
    await u2.press("ob:att:1");
    const agreed = await u2.press("ob:agree");
    expect(u2.texts(agreed)).toContain("PICC: window");
    const state = await stateOf(h, 4001);
    expect(state.consent?.preferences).toMatchObject({ insurers: ["picc"], renewalDate: "2027-07-31" });
    expect(state.windows.map((w) => w.insurerId)).toEqual(["picc"]);
    expect(await sessionOf(h, 4001)).toMatchObject({ step: "idle" });
  });

  it("a button pressed on a message from before the restart still works", async () => {
    h = await startBotHarness();
    const u = h.user(4002);
    await contactAndSkip(u);
    await u.send("31 July");
    await h.close(false);
    h = await startBotHarness({ dir: h.dir, fake: h.fake, seed: false });
    const u2 = h.user(4002);
    await u2.press("ob:ins:pingan");
    const next = await u2.press("ob:ins-done");
    expect(u2.texts(next)).toContain("How may they contact you?");
    expect(await sessionOf(h, 4002)).toMatchObject({ step: "channels", draft: { insurers: ["pingan"] } });
  });
});
