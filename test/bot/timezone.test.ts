/** Owners whose phone country has several time zones are asked which one (DESIGN §4). */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BotHarness, startBotHarness } from "../support/bot-harness.js";
import { ownerOf, renewalToSummary, stateOf } from "./flow.js";

const US_DIGITS = "14155550123";

describe("time-zone question", () => {
  let h: BotHarness;
  beforeEach(async () => {
    h = await startBotHarness();
  });
  afterEach(() => h.close());

  it("asks a US owner for the zone after the contact, keeps the answer, and windows follow it", async () => {
    const u = h.user(2001);
    await u.command("/start");
    const asked = await u.contact(US_DIGITS);
    expect(u.texts(asked)).toContain("several time zones");
    expect(u.lastButtons()).toEqual(
      expect.arrayContaining(["ob:tz:America/New_York", "ob:tz:America/Los_Angeles"]),
    );
    expect((await ownerOf(h, 2001)).jurisdiction).toBe("US");

    const saved = await u.press("ob:tz:America/Los_Angeles");
    // 2026-12-01: Pacific standard time.
    expect(u.texts(saved)).toContain("Time zone: Los Angeles (UTC-8)");
    expect(u.lastButtons()).toEqual(["ob:vehicle:skip"]);
    expect((await ownerOf(h, 2001)).timezone).toBe("America/Los_Angeles");

    await u.press("ob:vehicle:skip");
    await renewalToSummary(u, ["pingan"], "March 15");
    await u.press("ob:agree");
    const [window] = (await stateOf(h, 2001)).windows;
    expect(window?.timezone).toBe("America/Los_Angeles");
    // Closes at 24:00 of the renewal date in Los Angeles (UTC-7 in March, after the DST change).
    expect(window?.closesAt).toBe("2027-03-16T07:00:00.000Z");
  });

  it("takes a typed city, and re-asks on text it cannot place", async () => {
    const u = h.user(2002);
    await u.command("/start");
    await u.contact(US_DIGITS);
    const unknown = await u.send("somewhere nice");
    expect(u.texts(unknown)).toContain("Please tap your time zone");
    expect(u.lastButtons()).toContain("ob:tz:America/Chicago");
    const saved = await u.send("I'm in Chicago");
    expect(u.texts(saved)).toContain("Time zone: Chicago (UTC-6)");
    expect((await ownerOf(h, 2002)).timezone).toBe("America/Chicago");
  });

  it("ignores a zone that is not one of the country's (a forged button)", async () => {
    const u = h.user(2003);
    await u.command("/start");
    await u.contact(US_DIGITS);
    const before = (await ownerOf(h, 2003)).timezone;
    // A real button's update with its data swapped: what a modified client could send.
    const forged = u.sim.pressButton("ob:tz:America/New_York");
    if (forged.callback_query) forged.callback_query.data = "ob:tz:Asia/Tokyo";
    const again = await u.deliver(forged);
    expect(u.texts(again)).toContain("several time zones");
    expect((await ownerOf(h, 2003)).timezone).toBe(before);
  });

  it("asks in Chinese for a Chinese-speaking owner, and never asks a single-zone country", async () => {
    const zh = h.user(2004, { languageCode: "zh" });
    await zh.command("/start");
    expect(zh.texts(await zh.contact(US_DIGITS))).toContain("多个时区");

    const cn = h.user(2005);
    await cn.command("/start");
    await cn.contact("8613812345678");
    expect(cn.lastButtons()).toEqual(["ob:vehicle:skip"]);
  });
});
