/**
 * Where the owner lives (DESIGN §7): a number from abroad, or from a country with several zones,
 * is asked; any owner may name any place at any time ("I live in Beijing", "我在上海", /edit);
 * the pack follows the phone's country unless the owner picks where they live.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BotHarness, startBotHarness } from "../support/bot-harness.js";
import { onboard, ownerOf, renewalToSummary, stateOf } from "./flow.js";

const US_DIGITS = "14155550123";

describe("time zone where the owner lives", () => {
  let h: BotHarness;
  beforeEach(async () => {
    h = await startBotHarness();
  });
  afterEach(() => h.close());

  it("asks a US owner where they live, offering the US zones and the service's own, and windows follow the answer", async () => {
    const u = h.user(2001);
    await u.command("/start");
    const asked = await u.contact(US_DIGITS);
    expect(u.texts(asked)).toContain("Where do you live?");
    expect(u.lastButtons()).toEqual(
      expect.arrayContaining(["ob:tz:America/New_York", "ob:tz:America/Los_Angeles", "ob:tz:Asia/Shanghai"]),
    );
    expect((await ownerOf(h, 2001)).jurisdiction).toBe("US");

    const saved = await u.press("ob:tz:America/Los_Angeles");
    // 2026-12-01: Pacific standard time. Same country as the number: no question of rules.
    expect(u.texts(saved)).toContain(
      "Time zone: Los Angeles (UTC-8). The calling hours you choose are in Pacific Time.",
    );
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

  it("a +1 owner who lives in Beijing keeps calling hours in Beijing time, and chooses whose rules apply", async () => {
    const u = h.user(2002);
    await u.command("/start");
    await u.contact(US_DIGITS);
    const unknown = await u.send("somewhere nice");
    expect(u.texts(unknown)).toContain("I don't know that place");
    const saved = await u.send("Beijing");
    expect(u.texts(saved)).toContain(
      "Time zone: Shanghai (UTC+8). The calling hours you choose are in China Standard Time.",
    );
    // The number is American, the home Chinese: which rules protect the owner is asked.
    expect(u.texts(saved)).toContain("Your number is from the United States, but you live in China.");
    expect(u.lastButtons()).toEqual(["ob:rules:US", "ob:rules:CN"]);
    expect((await ownerOf(h, 2002)).jurisdiction).toBe("US");

    await u.press("ob:rules:US");
    expect((await ownerOf(h, 2002)).jurisdiction).toBe("US");
    await u.press("ob:vehicle:skip");
    const summary = u.texts(await renewalToSummary(u, ["pingan"], "March 15"));
    // Evening is 18:00–21:00 under US rules, and the text names the owner's zone, not the phone's.
    expect(summary).toContain("18:00–21:00 (China Standard Time)");
    expect(summary).not.toMatch(/America\/|Pacific/);
    await u.press("ob:agree");
    const [window] = (await stateOf(h, 2002)).windows;
    expect(window).toMatchObject({ timezone: "Asia/Shanghai", hours: [{ from: "18:00", to: "21:00" }] });
    // 24:00 of 15 March in Beijing.
    expect(window?.closesAt).toBe("2027-03-15T16:00:00.000Z");
  });

  it("takes '我在上海' from a Chinese-speaking owner, and China's rules when chosen", async () => {
    const u = h.user(2003, { languageCode: "zh" });
    await u.command("/start");
    const asked = await u.contact(US_DIGITS);
    expect(u.texts(asked)).toContain("你住在哪里？");
    // Chinese buttons name zones in Chinese, never by IANA id.
    expect(u.texts(asked)).not.toContain("America/");
    const saved = await u.send("我在上海");
    expect(u.texts(saved)).toContain("时区：北京（UTC+8）。你选的来电时段按中国标准时间计算。");
    expect(u.texts(saved)).toContain("你的号码来自美国，但你住在中国。");
    await u.press("ob:rules:CN");
    const owner = await ownerOf(h, 2003);
    expect(owner).toMatchObject({ timezone: "Asia/Shanghai", jurisdiction: "CN" });
  });

  it("re-asks on a forged zone that is no real zone, and never asks a Chinese number on a Chinese service", async () => {
    const u = h.user(2004);
    await u.command("/start");
    await u.contact(US_DIGITS);
    const before = (await ownerOf(h, 2004)).timezone;
    // A real button's update with its data swapped: what a modified client could send.
    const forged = u.sim.pressButton("ob:tz:America/New_York");
    if (forged.callback_query) forged.callback_query.data = "ob:tz:Mars/Olympus_Mons";
    const again = await u.deliver(forged);
    expect(u.texts(again)).toContain("Where do you live?");
    expect((await ownerOf(h, 2004)).timezone).toBe(before);

    const cn = h.user(2005);
    await cn.command("/start");
    await cn.contact("8613812345678");
    expect(cn.lastButtons()).toEqual(["ob:vehicle:skip"]);
  });

  it("'I live in London' after agreeing asks whose rules apply and goes back through the summary; the window on file keeps its zone until 'I agree'", async () => {
    const u = h.user(2006);
    await onboard(u, ["pingan"]);
    const agreed = (await stateOf(h, 2006)).windows[0]!;
    expect(agreed.timezone).toBe("Asia/Shanghai");

    const moved = await u.send("I live in London now");
    expect(u.texts(moved)).toContain("Time zone: London (UTC)");
    expect(u.texts(moved)).toContain(
      "The window on file stays in China Standard Time until you agree to the summary below, in UK time.",
    );
    expect(u.texts(moved)).toContain("Your number is from China, but you live in the United Kingdom.");
    const summary = u.texts(await u.press("ob:rules:CN"));
    expect(summary).toContain("Please check your choice");
    expect(summary).toContain("(UK time)");
    // Nothing changed yet: the old window stands in Beijing time.
    let state = await stateOf(h, 2006);
    expect(state.windows.filter((w) => !w.revokedAt).map((w) => w.timezone)).toEqual(["Asia/Shanghai"]);

    await u.press("ob:agree");
    state = await stateOf(h, 2006);
    expect(state.windows.filter((w) => !w.revokedAt).map((w) => w.timezone)).toEqual(["Europe/London"]);
    expect(state.owner.jurisdiction).toBe("CN");
  });

  it("a report or a busy owner never moves the calling hours", async () => {
    const u = h.user(2007);
    await onboard(u, ["pingan"]);
    await u.send("PICC called me yesterday while I was in Tokyo");
    await u.send("I'm in a meeting, later");
    await u.send("我在开会");
    const state = await stateOf(h, 2007);
    expect(state.owner.timezone).toBe("Asia/Shanghai");
    expect(state.windows.filter((w) => !w.revokedAt)).toHaveLength(1);
  });

  it("/edit offers the time zone to any owner, and a typed city anywhere in the world is taken", async () => {
    const u = h.user(2008);
    await onboard(u, ["pingan"]);
    await u.command("/edit");
    expect(u.lastButtons()).toContain("ob:edit:timezone");
    const asked = await u.press("ob:edit:timezone");
    expect(u.texts(asked)).toContain("Where do you live?");
    const saved = await u.send("Tokyo");
    expect(u.texts(saved)).toContain("Time zone: Tokyo (UTC+9)");
    // Japan has no pack of its own: the default (China's) applies either way, so nothing to ask.
    expect(u.texts(saved)).not.toContain("Which rules");
    expect(u.texts(saved)).toContain("18:00–20:00 (Japan Standard Time)");
    expect(u.lastButtons()).toEqual(expect.arrayContaining(["ob:agree", "ob:change"]));
    await u.press("ob:agree");
    const state = await stateOf(h, 2008);
    expect(state.windows.filter((w) => !w.revokedAt).map((w) => w.timezone)).toEqual(["Asia/Tokyo"]);
  });
});
