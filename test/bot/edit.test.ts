import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BotHarness, startBotHarness } from "../support/bot-harness.js";
import { onboard, stateOf } from "./flow.js";

describe("/edit", () => {
  let h: BotHarness;
  beforeEach(async () => {
    h = await startBotHarness();
  });
  afterEach(() => h.close());

  it("changing who issues a new receipt and window, revokes the old one and withdraws the new insurer's opt-out", async () => {
    const u = h.user(6001);
    await onboard(u, ["pingan"]);
    const before = await stateOf(h, 6001);
    const oldWindow = before.windows[0]!;
    const piccOptOut = before.optOuts.find((o) => o.insurerId === "picc")!;
    expect(piccOptOut.reason).toBe("not_chosen");

    const ask = await u.command("/edit");
    expect(u.texts(ask)).toContain("What would you like to change?");
    expect(u.lastButtons()).toContain("ob:edit:insurers");
    const who = await u.press("ob:edit:insurers");
    expect(u.texts(who)).toContain("Who may contact you about the renewal?");
    await u.press("ob:ins:picc");
    const summary = await u.press("ob:ins-done");
    // Everything else was kept: straight back to the summary.
    const summaryText = u.texts(summary);
    expect(summaryText).toContain("Who may contact you: PICC");
    expect(summaryText).toContain("Policy expires: 2027-07-31");
    expect(summaryText).toContain("95518");
    const agreed = await u.press("ob:agree");
    expect(u.texts(agreed)).toContain("PICC: window");

    const after = await stateOf(h, 6001);
    expect(after.consent?.id).not.toBe(before.consent?.id);
    expect(after.consent?.preferences).toMatchObject({
      insurers: ["picc"],
      channels: ["sms"],
      maxAttempts: 3,
    });
    const old = after.windows.find((w) => w.id === oldWindow.id)!;
    expect(old.revokedAt).toBeDefined();
    expect(old.revokeReason).toBe("superseded");
    expect(after.receipts.find((r) => r.id === oldWindow.receiptId)?.revokedAt).toBeDefined();
    const live = after.windows.filter((w) => !w.revokedAt);
    expect(live.map((w) => w.insurerId)).toEqual(["picc"]);
    const newReceipt = after.receipts.find((r) => r.id === live[0]!.receiptId)!;
    expect(newReceipt.revokedAt).toBeUndefined();
    expect((await h.services.signer.verify(newReceipt.jws!)).payload).toMatchObject({
      recipient: { id: "picc" },
    });
    expect(after.optOuts.find((o) => o.id === piccOptOut.id)?.withdrawnAt).toBeDefined();
    // Ping An, no longer chosen, is now told not to contact.
    const pinganOptOut = after.optOuts.find((o) => o.insurerId === "pingan" && !o.withdrawnAt);
    expect(pinganOptOut?.reason).toBe("not_chosen");
  });

  it("/edit before any consent starts the onboarding", async () => {
    const u = h.user(6002);
    const reply = await u.command("/edit");
    expect(u.texts(reply)).toContain("I'm onewindow");
    expect(JSON.stringify(reply.at(-1)?.replyMarkup)).toContain("request_contact");
  });
});
