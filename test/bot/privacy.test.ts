import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BotHarness, startBotHarness } from "../support/bot-harness.js";
import { DIGITS, PHONE } from "./flow.js";

/** Every callback_data in a reply_markup, whatever the call. */
function callbackData(markup: unknown): string[] {
  const rows = (markup as { inline_keyboard?: { callback_data?: string }[][] } | undefined)?.inline_keyboard;
  return (rows ?? []).flat().flatMap((b) => (b.callback_data !== undefined ? [b.callback_data] : []));
}

describe("privacy of what the bot sends", () => {
  let h: BotHarness;
  beforeEach(async () => {
    h = await startBotHarness();
  });
  afterEach(() => h.close());

  /** A long session touching every feature, typed number first, then the contact. */
  async function everything() {
    const u = h.user(9901);
    await u.command("/start");
    await u.send(PHONE);
    await u.contact(PHONE.slice(1));
    await u.send(`my car is a BYD Han, call ${PHONE}`);
    await u.send("expires end of July, only Ping An and PICC, text me on weekday evenings");
    await u.press("ob:db:30");
    await u.press("ob:att:3");
    await u.press("ob:change");
    await u.press("ob:edit:insurers");
    await u.send("Ping Ann");
    await u.press("ob:ins:pingan");
    await u.press("ob:ins:allianz");
    await u.press("ob:ins-done");
    await u.press("ob:agree");
    for (const c of ["/status", "/stop", "/edit", "/help", "/privacy", "/language", "/renewed"])
      await u.command(c);
    await u.command("/stop");
    await u.press("stop:all");
    await u.command("/delete");
    await u.press("del:yes");
    await u.command("/status");
    await u.command("/start");
    return u;
  }

  it("never shows the full phone number in a message, only masked", async () => {
    const u = await everything();
    const texts = h.fake.sent(u.id).map((m) => m.text ?? "");
    expect(texts.some((t) => t.includes("+86 138****5678"))).toBe(true);
    for (const call of h.fake.calls) {
      if (call.method === "getUpdates") continue;
      // The export document is the owner's own copy; everything else is checked in full.
      const { document: _document, ...payload } = call.payload;
      const json = JSON.stringify(payload);
      expect(json, call.method).not.toContain(DIGITS);
    }
  });

  it("keeps every callback_data within Telegram's 64 bytes", async () => {
    await everything();
    // A directory id at its maximum length still fits.
    await h.services.insurers.add({
      id: "x".repeat(32),
      name: "Long Name Mutual",
      aliases: [],
      contact: "1",
    });
    const v = h.user(9902);
    await v.command("/start");
    await v.contact("8613900002222");
    await v.press("ob:vehicle:skip");
    await v.send("31 July");
    await v.command("/stop");
    let seen = 0;
    for (const call of h.fake.calls) {
      for (const data of callbackData(call.payload.reply_markup)) {
        seen++;
        expect(Buffer.byteLength(data, "utf8"), data).toBeLessThanOrEqual(64);
        expect(data.length).toBeGreaterThan(0);
      }
    }
    expect(seen).toBeGreaterThan(30);
  });
});
