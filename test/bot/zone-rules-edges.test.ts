/**
 * Where the owner lives and whose rules apply, at the edges (issue 18's review): a move that
 * leaves one pack, a pack that forbids what the old one allowed, a "nobody" consent, a city
 * with more words after it, a place named before any number, and places that are not where
 * the owner lives.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BotHarness, startBotHarness } from "../support/bot-harness.js";
import { howToSummary, onboard, ownerOf, type SimOwner, sessionOf, stateOf } from "./flow.js";

const US_DIGITS = "14155550123";

describe("zone and rules at the edges", () => {
  let h: BotHarness;
  beforeEach(async () => {
    h = await startBotHarness();
  });
  afterEach(() => h.close());

  /** A +1 owner who lives in Beijing and took China's rules, through "I agree". */
  async function usOwnerOnChinaRules(id: number, atRulesQuestion?: (u: SimOwner) => void) {
    const u = h.user(id);
    await u.command("/start");
    await u.contact(US_DIGITS);
    await u.press("ob:tz:Asia/Shanghai");
    atRulesQuestion?.(u);
    await u.press("ob:rules:CN");
    await u.press("ob:vehicle:skip");
    await u.send("31 July");
    await u.press("ob:ins:pingan");
    await u.press("ob:ins-done");
    await howToSummary(u);
    await u.press("ob:agree");
    expect((await ownerOf(h, id)).jurisdiction).toBe("CN");
    return u;
  }

  it("a +1 owner on China's rules who moves to Los Angeles is on US rules again, through the summary", async () => {
    const u = await usOwnerOnChinaRules(3001);
    const moved = u.texts(await u.send("I live in Los Angeles now"));
    expect(moved).toContain("The rules of the United States protect you now.");
    // Only one pack can apply: no question of rules.
    expect(moved).not.toContain("Which rules should protect you?");
    expect(moved).toContain("Please check your choice");
    expect((await ownerOf(h, 3001)).jurisdiction).toBe("US");
    await u.press("ob:agree");
    const state = await stateOf(h, 3001);
    expect(state.consent?.jurisdiction).toBe("US");
    expect(state.windows.filter((w) => !w.revokedAt).map((w) => w.timezone)).toEqual(["America/Los_Angeles"]);
  });

  it("a pack that forbids the chosen hours drops them and asks the hours question", async () => {
    const u = h.user(3003);
    await u.command("/start");
    await u.contact(US_DIGITS);
    // Los Angeles: US rules alone, 08:00–21:00 may be chosen.
    await u.press("ob:tz:America/Los_Angeles");
    await u.press("ob:vehicle:skip");
    await u.send("31 July");
    await u.press("ob:ins:pingan");
    await u.press("ob:ins-done");
    await u.send("SMS on weekdays 20:00-21:00");
    expect((await sessionOf(h, 3003))?.draft.hours).toEqual([{ from: "20:00", to: "21:00" }]);
    // Then Beijing, and China's rules (09:00–20:00): the evening hour is outside them.
    expect(u.texts(await u.send("I live in Beijing"))).toContain("Which rules should protect you?");
    const rules = u.texts(await u.press("ob:rules:CN"));
    expect(rules).toContain("The rules of China protect you now.");
    expect(rules).toContain("20:00–21:00 is outside the allowed calling hours (09:00–20:00)");
    expect((await sessionOf(h, 3003))?.draft.hours).toBeUndefined();
    expect(rules).toContain("At what times? (Allowed here: 09:00–20:00.)");
  });

  it("a 'nobody' consent and a move to London asks whose rules apply and ends at the summary, not at the start", async () => {
    const u = h.user(3004);
    await onboard(u, []);
    const asked = u.texts(await u.send("I live in London"));
    expect(asked).toContain("Time zone: London");
    expect(asked).toContain("Which rules should protect you?");
    // Nobody may call: the zone of a window is not at stake.
    expect(asked).not.toContain("The window on file stays");
    const after = u.texts(await u.press("ob:rules:UK"));
    expect(after).toContain("Please check your choice");
    expect(after).not.toContain("When does your policy expire?");
    await u.press("ob:agree");
    const state = await stateOf(h, 3004);
    expect(state.consent?.jurisdiction).toBe("UK");
    expect(state.consent?.preferences.insurers).toEqual([]);
  });

  it("with no consent, a place outside the flow is kept and nothing else starts", async () => {
    const u = h.user(3005);
    const sent = u.texts(await u.send("I live in Los Angeles"));
    expect(sent).toContain("Time zone: Los Angeles");
    expect((await ownerOf(h, 3005)).timezone).toBe("America/Los_Angeles");
    expect((await sessionOf(h, 3005))?.step).toBe("idle");
  });

  it("a move in the same message as an unchanged date is still a change to agree to", async () => {
    const u = h.user(3006);
    await onboard(u, ["pingan"]);
    const moved = u.texts(await u.send("I live in Tokyo now, my policy still ends on 31 July"));
    expect(moved).toContain("Time zone: Tokyo");
    expect(moved).not.toContain("nothing changed");
    expect(moved).toContain("The window on file stays in China Standard Time");
    expect(moved).toContain("Please check your choice");
  });

  it("words after the city at the zone question are read too", async () => {
    const u = h.user(3007);
    await u.command("/start");
    await u.contact(US_DIGITS);
    const sent = u.texts(await u.send("Los Angeles. I'd skip the car; it expires on 31 July"));
    expect(sent).toContain("Time zone: Los Angeles");
    expect((await sessionOf(h, 3007))?.draft.renewalDate).toBe("2027-07-31");
  });

  it("a +1 number is asked where it lives with the service's zone as 'now', not the first US zone", async () => {
    const u = h.user(3008);
    await u.command("/start");
    const asked = u.texts(await u.contact(US_DIGITS));
    expect(asked).toContain("Where do you live?");
    expect(asked).not.toContain("Adak");
    expect((await ownerOf(h, 3008)).timezone).toBe("Asia/Shanghai");
  });

  it("'I live in Beijing' at the phone question is kept for the number shared next", async () => {
    const u = h.user(3009);
    await u.command("/start");
    const said = u.texts(await u.send("I live in Beijing"));
    expect(said).toContain("Time zone: Shanghai (UTC+8)");
    expect(said).not.toContain("doesn't look like a phone number");
    await u.contact(US_DIGITS);
    const owner = await ownerOf(h, 3009);
    expect(owner.timezone).toBe("Asia/Shanghai");
    // Not asked again where they live; asked whose rules apply.
    expect(u.texts(h.fake.sent(3009).slice(-2))).toContain("Which rules should protect you?");
  });

  it("a typed +1 number puts the owner on US rules, and the contact shared later keeps them", async () => {
    const u = h.user(3010);
    await u.command("/start");
    await u.send("+1 415 555 0123");
    expect((await ownerOf(h, 3010)).jurisdiction).toBe("US");
    await u.contact(US_DIGITS);
    expect((await ownerOf(h, 3010)).jurisdiction).toBe("US");
  });

  it("a country without a pack of its own offers no second set of rules", async () => {
    const u = h.user(3011);
    await u.command("/start");
    await u.contact(US_DIGITS);
    // Tokyo: Japan has no pack, so the number's (US) rules apply, and nothing is asked.
    const moved = u.texts(await u.send("Tokyo"));
    expect(moved).toContain("Time zone: Tokyo");
    expect(moved).not.toContain("Which rules should protect you?");
    expect(moved).toContain("which car is it");
    expect((await ownerOf(h, 3011)).jurisdiction).toBe("US");
  });

  it("an insurer's name after 我在 is not a place; where a car was bought is not where the owner lives", async () => {
    const u = h.user(3012, { languageCode: "zh" });
    await onboard(u, ["pingan"]);
    await u.send("我在中国平安买的车险");
    await u.send("我在上海买的车");
    expect((await ownerOf(h, 3012)).timezone).toBe("Asia/Shanghai");
    // A +1 owner in Los Angeles, at the car question.
    const v = h.user(3013, { languageCode: "zh" });
    await v.command("/start");
    await v.contact(US_DIGITS);
    await v.press("ob:tz:America/Los_Angeles");
    const sent = v.texts(await v.send("我在中国平安买的车险"));
    expect(sent).not.toContain("时区：");
    expect((await ownerOf(h, 3013)).timezone).toBe("America/Los_Angeles");
  });

  it("buttons name the rules by country, and the window in /status keeps the zone it was agreed in", async () => {
    const u = await usOwnerOnChinaRules(3014, (asked) =>
      expect(asked.lastLabels()).toEqual(["📱 United States (my number's)", "🏠 China (where I live)"]),
    );
    // Moved, not yet agreed again: /status shows the window as agreed, in Beijing time.
    await u.send("I live in Los Angeles");
    const status = u.texts(await u.command("/status"));
    expect(status).toMatch(
      /Ping An: window scheduled 2027-07-01 00:00 – 2027-08-01 00:00 \(China Standard Time\)/,
    );
  });
});
