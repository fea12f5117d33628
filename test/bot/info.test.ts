import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BotHarness, startBotHarness } from "../support/bot-harness.js";
import { ownerOf, sessionOf } from "./flow.js";

describe("/language, /privacy, /help", () => {
  let h: BotHarness;
  beforeEach(async () => {
    h = await startBotHarness();
  });
  afterEach(() => h.close());

  it("/language switches to Chinese and later messages are Chinese", async () => {
    const u = h.user(8001);
    const ask = await u.command("/language");
    expect(u.texts(ask)).toContain("Choose your language");
    expect(u.lastButtons()).toEqual(["lang:en", "lang:zh"]);
    const set = await u.press("lang:zh");
    expect(u.texts(set)).toContain("语言：中文");
    expect(h.fake.calls.some((c) => c.method === "answerCallbackQuery")).toBe(true);
    expect((await ownerOf(h, 8001)).language).toBe("zh");
    expect(await sessionOf(h, 8001)).toMatchObject({ lang: "zh" });

    const start = await u.command("/start");
    expect(u.texts(start)).toContain("我是 onewindow");
    const help = await u.command("/help");
    expect(u.texts(help)).toContain("/status");
    expect(u.texts(help)).toMatch(/[\u4e00-\u9fff]/);
    expect(u.texts(help)).not.toContain("who may contact you, and each notice");

    // And back to English.
    await u.command("/language");
    const en = await u.press("lang:en");
    expect(u.texts(en)).toContain("Language: English");
    expect(u.texts(await u.command("/help"))).toContain("who may contact you, and each notice");
  });

  it("/privacy says who processes what", async () => {
    const u = h.user(8002);
    const reply = await u.command("/privacy");
    const text = u.texts(reply);
    expect(text).toContain("Telegram carries this chat");
    expect(text).toContain("stored encrypted");
    expect(text).toContain("language model");
  });

  it("/help lists the commands, in Chinese for a Chinese user", async () => {
    const en = h.user(8003);
    const text = en.texts(await en.command("/help"));
    for (const c of [
      "/start",
      "/status",
      "/edit",
      "/stop",
      "/renewed",
      "/export",
      "/delete",
      "/language",
      "/privacy",
    ]) {
      expect(text).toContain(c);
    }
    const zh = h.user(8004, { languageCode: "zh" });
    expect(zh.texts(await zh.command("/privacy"))).toMatch(/Telegram/);
    expect(zh.texts(await zh.command("/privacy"))).toMatch(/[\u4e00-\u9fff]/);
  });
});
