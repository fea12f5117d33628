import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BotHarness, startBotHarness } from "../support/bot-harness.js";
import { onboard, stateOf } from "./flow.js";

describe("/stop and the stop deep link", () => {
  let h: BotHarness;
  beforeEach(async () => {
    h = await startBotHarness();
  });
  afterEach(() => h.close());

  it("offers one button per insurer still allowed, and everyone", async () => {
    const u = h.user(5001);
    await onboard(u, ["pingan", "picc"]);
    const ask = await u.command("/stop");
    expect(u.texts(ask)).toContain("Who should stop contacting you?");
    const buttons = u.lastButtons();
    expect(buttons.at(-1)).toBe("stop:all");
    expect(buttons.slice(0, -1).sort()).toEqual(["stop:picc", "stop:pingan"]);
  });

  it("pressing an insurer revokes its window and files an owner_request opt-out", async () => {
    const u = h.user(5002);
    await onboard(u, ["pingan", "picc"]);
    await u.command("/stop");
    const reply = await u.press("stop:pingan");
    expect(u.texts(reply)).toMatch(
      /Opt-out filed for Ping An: no contact until 2027-12-01\. \/status shows when the notice reaches them/,
    );

    const state = await stateOf(h, 5002);
    const pingan = state.windows.find((w) => w.insurerId === "pingan")!;
    expect(pingan.revokedAt).toBeDefined();
    expect(pingan.revokeReason).toBe("owner_request");
    expect(state.receipts.find((r) => r.id === pingan.receiptId)?.revokedAt).toBeDefined();
    const optOut = state.optOuts.find((o) => o.insurerId === "pingan");
    expect(optOut).toMatchObject({ reason: "owner_request" });
    expect(optOut?.withdrawnAt).toBeUndefined();
    // PICC is untouched.
    expect(state.windows.find((w) => w.insurerId === "picc")?.revokedAt).toBeUndefined();
    expect(state.optOuts.find((o) => o.insurerId === "picc")).toBeUndefined();

    // The stopped insurer is no longer offered.
    await u.command("/stop");
    expect(u.lastButtons()).toEqual(["stop:picc", "stop:all"]);
  });

  it("'everyone' revokes every window and leaves nothing to stop", async () => {
    const u = h.user(5003);
    await onboard(u, ["pingan", "picc"]);
    await u.command("/stop");
    const reply = await u.press("stop:all");
    expect(u.texts(reply)).toContain("Opt-outs filed for every insurer.");
    const state = await stateOf(h, 5003);
    expect(state.windows.every((w) => w.revokedAt !== undefined)).toBe(true);
    const reasons = Object.fromEntries(state.optOuts.map((o) => [o.insurerId, o.reason]));
    expect(reasons).toMatchObject({ pingan: "owner_request", picc: "owner_request" });
    const again = await u.command("/stop");
    expect(u.texts(again)).toContain("No insurer to stop");
  });

  it("/start stop_<token> stops the window's insurer in one tap", async () => {
    const u = h.user(5004);
    await onboard(u, ["pingan", "picc"]);
    const picc = (await stateOf(h, 5004)).windows.find((w) => w.insurerId === "picc")!;
    const reply = await u.command("/start", `stop_${picc.stopToken}`);
    expect(u.texts(reply)).toContain("Opt-out filed for PICC");
    const state = await stateOf(h, 5004);
    expect(state.windows.find((w) => w.insurerId === "picc")?.revokeReason).toBe("owner_request");
    expect(state.optOuts.find((o) => o.insurerId === "picc")?.reason).toBe("owner_request");
    expect(state.windows.find((w) => w.insurerId === "pingan")?.revokedAt).toBeUndefined();
  });

  it("another owner's stop token answers 'not valid' and changes nothing", async () => {
    const a = h.user(5005);
    const b = h.user(5006);
    await onboard(a, ["pingan"]);
    await b.command("/start");
    await b.contact("8613900001111");
    await b.press("ob:vehicle:skip");
    await b.send("31 July");
    await b.press("ob:ins-nobody");
    await b.press("ob:agree");
    const token = (await stateOf(h, 5005)).windows[0]!.stopToken;
    const reply = await b.command("/start", `stop_${token}`);
    expect(b.texts(reply)).toContain("That stop link is not valid any more.");
    const stateA = await stateOf(h, 5005);
    expect(stateA.windows[0]?.revokedAt).toBeUndefined();
    expect(stateA.optOuts.find((o) => o.insurerId === "pingan")).toBeUndefined();
    const unknown = await b.command("/start", "stop_nosuchtoken");
    expect(b.texts(unknown)).toContain("not valid");
  });
});
