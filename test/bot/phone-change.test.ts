import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMatchKeys } from "../../src/crypto/match-key.js";
import { type BotHarness, startBotHarness } from "../support/bot-harness.js";
import { onboard, ownerOf, PHONE, sessionOf, stateOf } from "./flow.js";

const NEW_PHONE = "+8613987654321";

describe("sharing a new number after agreeing", () => {
  let h: BotHarness;
  beforeEach(async () => {
    h = await startBotHarness();
  });
  afterEach(() => h.close());

  it("tells the owner the chosen insurer will not get the new number until they agree again, and one tap re-issues the window", async () => {
    const u = h.user(9101);
    await onboard(u, ["pingan"]);
    const before = await stateOf(h, 9101);
    expect(before.windows.filter((w) => !w.revokedAt)).toHaveLength(1);

    const reply = await u.contact(NEW_PHONE.slice(1));
    const text = u.texts(reply);
    expect(text).toContain("Phone number confirmed: +86 139****4321");
    expect(text).toContain("Your number changed, so Ping An will not get it until you agree again");
    expect(text).toContain("gets an opt-out for the new number too");
    // The summary of what was agreed, ready for one tap.
    expect(text).toContain("Please check your choice:");
    expect(text).toContain("Who may contact you: Ping An");
    expect(u.lastButtons()).toEqual(["ob:agree", "ob:name", "ob:change"]);
    expect(text).not.toContain("987654321");

    const revoked = await stateOf(h, 9101);
    expect(revoked.owner.phone).toBe(NEW_PHONE);
    expect(revoked.windows.every((w) => w.revokeReason === "superseded")).toBe(true);
    const fresh = revoked.optOuts.filter((o) => o.phoneHash === revoked.owner.phoneHash);
    expect(fresh.map((o) => o.insurerId).sort()).toEqual(["allianz", "cpic", "picc"]);

    const agreed = await u.press("ob:agree");
    expect(u.texts(agreed)).toContain("Ping An: window");
    const after = await stateOf(h, 9101);
    const live = after.windows.filter((w) => !w.revokedAt);
    expect(live.map((w) => w.insurerId)).toEqual(["pingan"]);
    const receipt = after.receipts.find((r) => r.id === live[0]!.receiptId)!;
    const matchKey = createMatchKeys(h.services.keys.dataKey);
    expect((await h.services.signer.verify(receipt.jws!)).payload).toMatchObject({
      sub: matchKey("pingan", NEW_PHONE),
    });
    expect(await sessionOf(h, 9101)).toMatchObject({ step: "idle" });
  });

  it("says it in Chinese to a Chinese-speaking owner", async () => {
    const u = h.user(9102, { languageCode: "zh" });
    await onboard(u, ["pingan"]);
    const reply = await u.contact(NEW_PHONE.slice(1));
    expect(u.texts(reply)).toContain("在你重新同意之前，中国平安拿不到新号码");
    expect(u.lastButtons()).toEqual(["ob:agree", "ob:name", "ob:change"]);
  });

  it("after choosing nobody, a new number is opted out everywhere and the owner is told so", async () => {
    const u = h.user(9105);
    await onboard(u, []);
    const reply = await u.contact(NEW_PHONE.slice(1));
    expect(u.texts(reply)).toContain(
      "Your number changed: every insurer you said no to gets an opt-out for the new number too.",
    );
    expect(u.texts(reply)).not.toContain("agree again");
    const state = await stateOf(h, 9105);
    const fresh = state.optOuts.filter((o) => o.phoneHash === state.owner.phoneHash);
    expect(fresh.map((o) => [o.insurerId, o.reason]).sort()).toEqual([
      ["allianz", "not_chosen"],
      ["cpic", "not_chosen"],
      ["picc", "not_chosen"],
      ["pingan", "not_chosen"],
    ]);
  });

  it("/status and /stop speak of the opt-outs of the number on file, not the old one's", async () => {
    const u = h.user(9106);
    await onboard(u, []);
    // Ninety days later the owner shares a new number: its opt-outs run a year from today.
    h.setNow(new Date("2027-03-01T02:00:00.000Z"));
    await u.contact(NEW_PHONE.slice(1));
    const status = u.texts(await u.command("/status"));
    expect(status).toContain("Ping An: may not contact you");
    expect(status).toContain("until 2028-02-29");
    expect(status).not.toContain("2027-12-01");
    expect(u.texts(await u.command("/stop"))).toContain("already");
  });

  it("sharing the same number again changes nothing that was consented", async () => {
    const u = h.user(9103);
    await onboard(u, ["pingan"]);
    const before = await stateOf(h, 9103);
    const reply = await u.contact(PHONE.slice(1));
    expect(u.texts(reply)).toContain("Phone number confirmed");
    expect(u.texts(reply)).not.toContain("Your number changed");
    const after = await stateOf(h, 9103);
    expect(after.windows).toEqual(before.windows);
    expect(after.optOuts).toEqual(before.optOuts);
  });

  it("a typed number never replaces a verified one", async () => {
    const u = h.user(9104);
    await onboard(u, ["pingan"]);
    const before = await stateOf(h, 9104);
    await u.send("+86 139 8765 4321");
    const owner = await ownerOf(h, 9104);
    expect(owner.phone).toBe(PHONE);
    expect(owner.phoneVerified).toBe(true);
    expect((await stateOf(h, 9104)).windows).toEqual(before.windows);
  });
});
