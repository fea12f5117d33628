import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BotHarness, startBotHarness } from "../support/bot-harness.js";
import { DIGITS, onboard, ownerOf, PHONE, renewalToSummary, sessionOf, stateOf } from "./flow.js";

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(full) : [full];
  });
}

describe("/renewed, /status, /export, /delete", () => {
  let h: BotHarness;
  beforeEach(async () => {
    h = await startBotHarness();
  });
  afterEach(() => h.close());

  it("/renewed asks once, and only the tap closes open windows", async () => {
    const u = h.user(7001);
    await onboard(u, ["pingan"]);
    h.setNow(new Date("2027-07-10T04:00:00.000Z")); // inside the window
    const ask = await u.command("/renewed");
    expect(u.texts(ask)).toContain("You already renewed?");
    const [yes, no] = u.lastButtons();
    expect(yes).toMatch(/^rn:yes:[0-9a-f]+$/);
    expect(no).toMatch(/^rn:no:[0-9a-f]+$/);
    // Asking changed nothing yet.
    expect((await stateOf(h, 7001)).owner.renewedAt).toBeUndefined();
    const reply = await u.press(yes!);
    expect(u.texts(reply)).toContain("already renewed");
    const state = await stateOf(h, 7001);
    expect(state.windows[0]?.closedAt ?? state.windows[0]?.revokedAt).toBeDefined();
    expect(state.owner.renewedAt).toBeDefined();
    const pingan = state.optOuts.find((o) => o.insurerId === "pingan" && !o.withdrawnAt);
    expect(pingan?.reason).toBe("renewed");
  });

  it("/renewed cancelled changes nothing", async () => {
    const u = h.user(7003);
    await onboard(u, ["pingan"]);
    await u.command("/renewed");
    expect(u.texts(await u.press(u.lastButtons()[1]!))).toContain("nothing changed");
    const state = await stateOf(h, 7003);
    expect(state.owner.renewedAt).toBeUndefined();
    expect(state.windows[0]?.revokedAt).toBeUndefined();
  });

  it("/renewed with nothing on file says so", async () => {
    const u = h.user(7002);
    const reply = await u.command("/renewed");
    expect(u.texts(reply)).toContain("Nothing on file yet");
  });

  it("/status lists every insurer's window or opt-out", async () => {
    const u = h.user(7003);
    await onboard(u, ["pingan"]);
    const reply = await u.command("/status");
    const text = u.texts(reply);
    expect(text).toContain("Your renewal: 2027-07-31");
    expect(text).toMatch(
      /Ping An: window scheduled 2027-07-01 00:00 – 2027-08-01 00:00 \(China Standard Time\), code \d{3}-\d{3}, attempts 0\/3/,
    );
    for (const name of ["PICC", "CPIC", "Allianz"]) {
      expect(text).toContain(`${name}: may not contact you (not chosen) until 2027-12-01`);
    }
  });

  it("/status before anything answers 'nothing on file'", async () => {
    const u = h.user(7004);
    expect(u.texts(await u.command("/status"))).toContain("Nothing on file yet");
  });

  it("/export sends a JSON document with the owner's data", async () => {
    const u = h.user(7005);
    await onboard(u, ["pingan"]);
    const reply = await u.command("/export");
    const doc = reply.find((m) => m.method === "sendDocument");
    expect(doc).toBeDefined();
    expect(doc?.text).toContain("Everything onewindow holds about you.");
    expect(doc?.document?.filename).toBe("onewindow-export.json");
    const data = doc?.document?.json() as {
      owner: { phone: string; telegramUserId: number };
      consent: { preferences: { insurers: string[] } };
      windows: unknown[];
      optOuts: unknown[];
      receipts: { jws: string }[];
    };
    expect(data.owner).toMatchObject({ phone: PHONE, telegramUserId: 7005 });
    expect(data.consent.preferences.insurers).toEqual(["pingan"]);
    expect(data.windows).toHaveLength(1);
    expect(data.optOuts).toHaveLength(3);
    expect(data.receipts[0]?.jws).toMatch(/^ey/);
  });

  it("/delete asks first; cancelling keeps everything", async () => {
    const u = h.user(7006);
    await onboard(u, ["pingan"]);
    const ask = await u.command("/delete");
    expect(u.texts(ask)).toContain("Delete your data?");
    expect(u.lastButtons()).toEqual(["del:yes", "del:no"]);
    const cancelled = await u.press("del:no");
    expect(u.texts(cancelled)).toContain("Nothing was deleted.");
    expect((await ownerOf(h, 7006)).phone).toBe(PHONE);
  });

  it("/delete erases phone, name, vehicle and session; no phone digits remain in any data file", async () => {
    const u = h.user(7007);
    await u.command("/start");
    await u.contact(PHONE.slice(1));
    await u.send("Tesla Model 3");
    await renewalToSummary(u);
    await u.press("ob:agree");
    // Leave some free text with the digits in the session too.
    await u.command("/edit");
    await u.send(`my number is ${PHONE}`);
    const { id: ownerId, vehicle } = await ownerOf(h, 7007);
    expect(vehicle).toBe("Tesla Model 3");
    const before = await stateOf(h, 7007);
    expect(before.windows).toHaveLength(1);
    const { stopToken, receiptId } = before.windows[0]!;

    await u.command("/delete");
    const done = await u.press("del:yes");
    expect(u.texts(done)).toContain("Deleted: your phone number");
    expect(u.texts(done)).toMatch(/until \d{4}-\d{2}-\d{2}/);

    // The owner can no longer be found by Telegram id; the tombstone holds nothing personal.
    expect(await h.services.store.getOwnerByTelegramId(7007)).toBeUndefined();
    const owner = (await h.services.store.getOwner(ownerId))!;
    expect(owner.phone).toBeUndefined();
    expect(owner.phoneHash).toBeUndefined();
    expect(owner.name).toBeUndefined();
    expect(owner.vehicle).toBeUndefined();
    expect(owner.deletedAt).toBeDefined();
    expect(await sessionOf(h, 7007)).toBeUndefined();
    // The window is revoked (or gone); the receipt is a tombstone: id, hash, revocation.
    const window = await h.services.store.findWindowByStopToken(stopToken);
    expect(window === undefined || window.revokedAt !== undefined).toBe(true);
    const receipt = await h.services.store.getReceipt(receiptId);
    expect(receipt?.revokedAt).toBeDefined();
    expect(receipt?.payloadHash).toMatch(/^[0-9a-f]{64}$/);
    expect(receipt?.jws).toBeUndefined();
    expect(receipt?.ownerId).toBeUndefined();

    await h.close(false);
    const dataDir = path.join(h.dir, "data");
    const files = filesUnder(dataDir);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const bytes = fs.readFileSync(file);
      expect(bytes.includes(Buffer.from(DIGITS)), file).toBe(false);
      expect(bytes.includes(Buffer.from("Tesla")), file).toBe(false);
    }
    // Reopen so afterEach can close cleanly.
    h = await startBotHarness({ dir: h.dir, fake: h.fake, seed: false });
  });
});
