/**
 * The sandbox in a real browser (Debian's Chromium driven by playwright-core): the whole service
 * runs in-process on port 0, the page plays the Telegram client, and the console reads the real
 * insurer API. Saves docs/screenshots/chat.png and console.png (1280×800) and chat-phone.png
 * (390×844).
 */
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BrowserSandbox,
  CHROMIUM,
  DESKTOP,
  hasChromium,
  PHONE,
  SHOTS,
  startBrowserSandbox,
} from "./browser-support.js";

if (!hasChromium) {
  console.warn(`browser tests skipped: ${CHROMIUM} not found (apt-get install -y chromium)`);
}

/** A renewal date 10 days ahead (in Asia/Shanghai): the window opens at once with "30 days before". */
function renewal() {
  const d = new Date(Date.now() + 10 * 86_400_000);
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Asia/Shanghai",
    day: "numeric",
    month: "long",
    year: "numeric",
  }).formatToParts(d);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
  const month = new Date(`${get("month")} 1, 2000`).getMonth() + 1;
  return {
    en: `${get("day")} ${get("month")} ${get("year")}`,
    zh: `${get("year")}年${month}月${get("day")}日`,
  };
}

describe.skipIf(!hasChromium)("sandbox in a browser", () => {
  let sb: BrowserSandbox;
  let service: BrowserSandbox["service"];
  let page: Page;
  const date = renewal();

  beforeAll(async () => {
    sb = await startBrowserSandbox();
    service = sb.service;
    page = sb.context.pages()[0] ?? (await sb.context.newPage());
    await page.setViewportSize({ ...DESKTOP });
  }, 60_000);

  afterAll(async () => {
    await sb?.close();
  });

  const press = async (data: string) => {
    await page.locator(`#log button[data-callback="${data}"]`).last().click();
  };
  const lastBotText = async () => (await page.locator("#log li.bot").last().textContent()) ?? "";
  const say = async (text: string) => {
    await page.getByLabel(/^(Message|消息)$/).fill(text);
    await page.locator("#send").click();
  };
  /** Start, share the contact (typing the phone once), skip the vehicle. */
  const startAndShare = async (phone: string) => {
    await page.locator("#start").click();
    await page.locator("#reply-keyboard button.contact-button").click();
    await page.locator("#phone-input").fill(phone);
    await page.locator("#phone-form button[type=submit]").click();
    await press("ob:vehicle:skip");
  };
  const agree = async () => {
    await press("ob:agree");
    // The bot's wording changes; the code is the one "123-456" in its confirmation.
    await expect.poll(lastBotText).toMatch(/(?<![\d-])\d{3}-\d{3}(?![\d-])/);
    return /(?<![\d-])(\d{3}-\d{3})(?![\d-])/.exec(await lastBotText())?.[1] ?? "";
  };
  const NAMES: Record<string, RegExp> = {
    "demo-northwind": /Northwind/,
    "demo-harbor": /Harbor/,
    "demo-lotus": /Lotus/,
  };
  const openConsole = async (insurerId: string) => {
    await page.goto(`${service.url}/console#${insurerId}`);
    await expect
      .poll(async () => (await page.locator("#insurer-title").textContent()) ?? "")
      .toMatch(NAMES[insurerId] ?? insurerId);
  };
  const windowRow = (code: string) => page.locator("#windows tr", { hasText: code });

  let englishCode = "";

  it("an owner onboards by buttons, sees the verification code; the console shows the window and opt-outs", async () => {
    await page.goto(`${service.url}/`);
    await expect.poll(() => page.locator("#owner-select option").count()).toBe(1);
    await startAndShare("+86 138 1234 5678");
    await say(date.en);
    await press("ob:ins:demo-northwind");
    await press("ob:ins-done");
    await press("ob:ch:sms");
    await press("ob:ch-done");
    await press("ob:days:weekdays");
    await press("ob:days-done");
    await press("ob:hr:evening");
    await press("ob:hr-done");
    await press("ob:db:30");
    await press("ob:att:3");
    await expect.poll(lastBotText).toContain("Northwind");
    englishCode = await agree();
    expect(englishCode).toMatch(/^\d{3}-\d{3}$/);
    await page.screenshot({ path: path.join(SHOTS, "chat.png"), fullPage: true });
    await page.setViewportSize({ ...PHONE });
    await page.locator("#log").evaluate((box) => {
      box.scrollTop = box.scrollHeight;
    });
    await page.screenshot({ path: path.join(SHOTS, "chat-phone.png"), fullPage: true });
    await page.setViewportSize({ ...DESKTOP });

    await openConsole("demo-northwind");
    await expect(windowRow(englishCode).textContent()).resolves.toContain("open");
    await expect
      .poll(() => page.locator("#deliveries tr[data-type='window.opened']").textContent())
      .toContain("✓ valid");
    await openConsole("demo-harbor");
    await expect.poll(() => page.locator("#optouts tr[data-reason='not_chosen']").count()).toBe(1);
    await expect.poll(() => page.locator("#windows tr[data-window]").count()).toBe(0);
    await expect
      .poll(() => page.locator("#deliveries tr[data-type='optout.filed']").textContent())
      .toContain("✓ valid");
  });

  it("a second owner onboards by free text", async () => {
    await page.goto(`${service.url}/`);
    await page.locator("#new-owner").click();
    await expect.poll(() => page.locator("#owner-select option").count()).toBe(2);
    await startAndShare("+86 139 1234 5678");
    await say(`expires ${date.en}, only Northwind, text me on weekday evenings`);
    // Understood: the bot goes on to the question it still has (how early), and names Northwind.
    await page.locator('#log li.bot:last-child button[data-callback="ob:db:30"]').waitFor();
    const understood = (await page.locator("#log li.bot").allTextContents()).join("\n");
    expect(understood).toContain("Northwind");
    await press("ob:db:30");
    await press("ob:att:2");
    const code = await agree();
    await openConsole("demo-northwind");
    await expect(windowRow(code).textContent()).resolves.toContain("open");
  });

  it("/stop by one tap shows window.revoked in the console's deliveries", async () => {
    await page.goto(`${service.url}/`);
    await page.locator("#owner-select").selectOption({ index: 0 });
    await say("/stop");
    await press("stop:demo-northwind");
    await expect.poll(lastBotText).toContain("🛑");
    await openConsole("demo-northwind");
    await expect
      .poll(() => page.locator("#deliveries tr[data-type='window.revoked']").textContent())
      .toContain("✓ valid");
    await expect.poll(() => windowRow(englishCode).count()).toBe(0); // a revoked window hides its code
    await expect.poll(() => page.locator("#windows tr[data-status='revoked']").count()).toBe(1);
    // Acknowledge the open window of the second owner from the console.
    await page.locator("#windows tr[data-status='open'] button", { hasText: "Acknowledge" }).click();
    await expect.poll(() => page.locator("#status").textContent()).toContain("Acknowledged");
    // Paste a receipt into the verifier.
    await page.locator("#windows tr[data-status='open'] button", { hasText: "Check receipt" }).click();
    await page.locator("#verify-form button[type=submit]").click();
    await expect.poll(() => page.locator("#verify-result").textContent()).toContain("Signature valid");
    // The page as it opens (top, tables unscrolled), so the sticky bar sits in its place.
    await page.evaluate(() => {
      for (const box of document.querySelectorAll(".table-scroll")) box.scrollLeft = 0;
      window.scrollTo(0, 0);
    });
    await page.screenshot({ path: path.join(SHOTS, "console.png"), fullPage: true });
  });

  it("the same in Chinese: free text and buttons, code, window, opt-outs, one-tap stop", async () => {
    await page.goto(`${service.url}/`);
    await page.locator("#lang-select").selectOption("zh");
    await page.locator("#new-owner").click();
    await expect.poll(() => page.locator("#new-owner").textContent()).toBe("新车主");
    await startAndShare("+86 137 1234 5678");
    await say(`保险${date.zh}到期，只要北风，工作日晚上发短信`);
    await page.locator('#log li.bot:last-child button[data-callback="ob:db:30"]').waitFor();
    await press("ob:db:30");
    await press("ob:att:3");
    const code = await agree();
    expect(await lastBotText()).toMatch(/[\u4e00-\u9fff]/);
    await openConsole("demo-northwind");
    await expect(windowRow(code).textContent()).resolves.toContain("open");
    await openConsole("demo-lotus");
    await expect.poll(() => page.locator("#optouts tr[data-reason='not_chosen']").count()).toBe(3);

    await page.goto(`${service.url}/`);
    await page.locator("#owner-select").selectOption({ index: 2 });
    await say("/stop");
    await press("stop:demo-northwind");
    await expect.poll(lastBotText).toContain("🛑");
    await openConsole("demo-northwind");
    await expect.poll(() => page.locator("#deliveries tr[data-type='window.revoked']").count()).toBe(2);
    await expect.poll(() => page.locator("#windows tr[data-status='revoked']").count()).toBe(2);
  });
  it("a window's stop link (as the insurer receives it) opens the chat as its owner and stops that insurer", async () => {
    await openConsole("demo-northwind");
    const openBefore = await page.locator("#windows tr[data-status='open']").count();
    expect(openBefore).toBeGreaterThan(0);
    // The link in the window the insurer holds, read through the real API with the console's key.
    const link = await page.evaluate(async () => {
      const { insurers } = (await (await fetch("/sandbox/api/insurers")).json()) as {
        insurers: { id: string; apiKey: string }[];
      };
      const key = insurers.find((i) => i.id === "demo-northwind")?.apiKey;
      const res = await fetch("/v1/windows?status=open", { headers: { authorization: `Bearer ${key}` } });
      const { data } = (await res.json()) as { data: { optOutLink: string }[] };
      return data.at(-1)?.optOutLink ?? "";
    });
    expect(link).toMatch(new RegExp(`^${service.url}/sandbox/stop/[A-Za-z0-9_-]+$`));
    await page.goto(link);
    // The chat opens as the window's owner and taps the deep link: that insurer is stopped.
    expect(page.url()).toMatch(/\/\?start=stop_[A-Za-z0-9_-]+#owner-\d+$|\/#owner-\d+$/);
    await expect.poll(lastBotText).toContain("🛑");
    await openConsole("demo-northwind");
    await expect.poll(() => page.locator("#windows tr[data-status='open']").count()).toBe(openBefore - 1);
  });
});
