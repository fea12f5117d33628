/**
 * The insurer console as an integrator meets it, at desktop (1280×800) and phone (390×844) size:
 * adding an insurer, the receipt verifier, where confirmations appear, wide tables, which insurer
 * is in use, and axe-core. Each test makes its own owner, window or insurer, in its own tab.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  DESKTOP,
  hasChromium,
  inViewport,
  PHONE,
  seriousViolations,
  useBrowserSandbox,
} from "./browser-support.js";

describe.skipIf(!hasChromium)("insurer console in a browser", () => {
  const suite = useBrowserSandbox();
  const { tab } = suite;
  let phones = 0;
  /** A fresh owner onboarded to Northwind: one more open window there. Returns its code "123-456". */
  const openWindow = async () => {
    const owner = await suite.sb.newOwner("en");
    phones += 1;
    const snap = await suite.sb.onboard(owner, `+86 150 0000 ${String(1000 + phones)}`);
    const text = snap.messages.filter((m) => m.from === "bot").at(-1)?.text ?? "";
    const code = /(?<![\d-])(\d{3}-\d{3})(?![\d-])/.exec(text)?.[1];
    expect(code).toBeTruthy();
    return code as string;
  };
  const openConsole = async (page: Page, insurerId: string) => {
    await page.goto(`${suite.sb.service.url}/console#${insurerId}`);
    await page.locator(`#directory button[data-insurer="${insurerId}"][aria-pressed="true"]`).waitFor();
  };
  const windowRow = (page: Page, code: string) => page.locator("#windows tr", { hasText: code });
  let added = 0;
  const newInsurerId = () => `ui-test-${++added}-${Date.now().toString(36)}`;

  it("adding an insurer reports success and shows its credentials", async () => {
    const page = await tab();
    await openConsole(page, "demo-harbor");
    const id = newInsurerId();
    await page.locator(".add-insurer summary").click();
    await page.locator("#add-id").fill(id);
    await page.locator("#add-name").fill("Acme Mutual");
    await page.locator("#add-contact").fill("95500");
    await page.locator("#add-form button[type=submit]").click();
    const result = page.locator("#add-result");
    await expect.poll(() => result.textContent()).toContain("Added");
    const text = (await result.textContent()) ?? "";
    expect(text).not.toMatch(/could not|fail/i);
    expect(await page.locator("#status").textContent()).not.toMatch(/could not|fail/i);
    // The credentials as the CLI prints them: the key the sandbox now holds, and a webhook secret.
    const { insurers } = await suite.sb.api<{ insurers: { id: string; apiKey: string }[] }>(
      "/sandbox/api/insurers",
    );
    const key = insurers.find((i) => i.id === id)?.apiKey;
    expect(key).toBeTruthy();
    expect(text).toContain(id);
    expect(text).toContain(key);
    expect(text).toMatch(/whsec_[A-Za-z0-9+/=]+/);
    // It is in the directory and the console now acts as it.
    await expect.poll(() => page.locator(`#directory button[data-insurer="${id}"]`).count()).toBe(1);
    await expect.poll(() => page.locator("#acting-as").textContent()).toContain(id);
  });

  it("the receipt verifier shows a readable result and never prints null", async () => {
    const code = await openWindow();
    const page = await tab();
    await openConsole(page, "demo-northwind");
    const out = page.locator("#verify-result");

    await page.locator("#verify-input").fill("abc.def.ghi");
    await page.locator("#verify-form button[type=submit]").click();
    await expect.poll(() => out.textContent()).toMatch(/not valid/i);
    expect(await out.textContent()).not.toMatch(/null|undefined|\[object/);

    await windowRow(page, code).locator("button", { hasText: "Check receipt" }).click();
    await page.locator("#verify-form button[type=submit]").click();
    await expect.poll(() => out.textContent()).toMatch(/Signature valid/);
    const text = (await out.textContent()) ?? "";
    expect(text).toMatch(/not revoked/i);
    expect(text).not.toMatch(/null|undefined|\[object/);
    // The payload's fields, readable: a definition list naming the recipient and the window.
    const terms = await out.locator("dl dt").allTextContents();
    expect(terms.length).toBeGreaterThan(5);
    expect(text).toContain("demo-northwind");
    expect(await out.locator("dl").textContent()).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
  });

  it("at phone size a confirmation appears in view and is announced, after acknowledging and after verifying", async () => {
    const code = await openWindow();
    const page = await tab(PHONE);
    await openConsole(page, "demo-northwind");
    const ack = windowRow(page, code).locator("button", { hasText: "Acknowledge" });
    await ack.scrollIntoViewIfNeeded();
    await ack.click();
    await expect.poll(() => page.locator("#status").textContent()).toContain("Acknowledged");
    expect(await inViewport(page, "#status")).toMatchObject({ inside: true });
    const live = await page
      .locator("#status")
      .evaluate((n) => n.closest("[aria-live]")?.getAttribute("aria-live"));
    expect(live).toBe("polite");

    await page.locator("#verify-input").fill("abc.def.ghi");
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.locator("#verify-form button[type=submit]").click();
    await expect.poll(() => page.locator("#verify-result").textContent()).toMatch(/not valid/i);
    await expect.poll(async () => (await inViewport(page, "#verify-result")).inside).toBe(true);
    expect(await page.locator("#verify-result").getAttribute("aria-live")).toBe("polite");
  });

  it("at phone size wide tables scroll inside their own focusable box, not the page", async () => {
    await openWindow();
    const page = await tab(PHONE);
    await openConsole(page, "demo-northwind");
    await page.locator("#windows tr[data-window]").first().waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    const boxes = await page.locator(".grid").evaluateAll((tables) =>
      tables.map((t) => {
        const box = t.parentElement as HTMLElement;
        const labelledBy = box.getAttribute("aria-labelledby");
        return {
          scrolls: getComputedStyle(box).overflowX === "auto" || getComputedStyle(box).overflowX === "scroll",
          focusable: box.tabIndex === 0,
          named: Boolean(labelledBy && document.getElementById(labelledBy)?.textContent?.trim()),
          fitsPage: box.getBoundingClientRect().right <= window.innerWidth,
        };
      }),
    );
    expect(boxes.length).toBe(4);
    for (const box of boxes)
      expect(box).toEqual({ scrolls: true, focusable: true, named: true, fitsPage: true });
    // A keyboard user scrolls the windows table sideways.
    const windows = page.locator("#windows").locator("xpath=ancestor::*[contains(@class,'table-scroll')]");
    await windows.focus();
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    await expect.poll(() => windows.evaluate((n) => n.scrollLeft)).toBeGreaterThan(0);
  });

  it("the insurer the console acts as stays in view and follows the choice", async () => {
    const page = await tab(PHONE);
    await openConsole(page, "demo-lotus");
    const acting = page.locator("#acting-as");
    expect(await acting.textContent()).toMatch(/Acting as:.*Lotus.*\(demo-lotus\)/s);
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    expect(await page.evaluate(() => window.scrollY)).toBeGreaterThan(0);
    expect(await inViewport(page, "#acting-as")).toMatchObject({ inside: true });
    await page.locator('#directory button[data-insurer="demo-harbor"]').click();
    await expect.poll(() => acting.textContent()).toMatch(/Harbor.*\(demo-harbor\)/s);
    expect(await inViewport(page, "#acting-as")).toMatchObject({ inside: true });
  });

  for (const [name, size] of [
    ["desktop", DESKTOP],
    ["phone", PHONE],
  ] as const) {
    it(`axe-core finds nothing serious or critical at ${name} size after console actions`, async () => {
      const code = await openWindow();
      const page = await tab(size);
      await openConsole(page, "demo-northwind");
      await windowRow(page, code).locator("button", { hasText: "Acknowledge" }).click();
      await expect.poll(() => page.locator("#status").textContent()).toContain("Acknowledged");
      await windowRow(page, code).locator("button", { hasText: "Check receipt" }).click();
      await page.locator("#verify-form button[type=submit]").click();
      await expect.poll(() => page.locator("#verify-result").textContent()).toMatch(/Signature valid/);
      await page.locator("#scrub-input").fill("+8613800000000");
      await page.locator("#scrub-form button[type=submit]").click();
      await expect.poll(() => page.locator("#scrub-result li").count()).toBe(1);
      await page.locator(".add-insurer summary").click();
      await page.locator("#add-id").fill(newInsurerId());
      await page.locator("#add-name").fill("Axe Mutual");
      await page.locator("#add-form button[type=submit]").click();
      await expect.poll(() => page.locator("#add-result").textContent()).toContain("Added");
      const found = await seriousViolations(page);
      expect(found, JSON.stringify(found, null, 2)).toEqual([]);
    });
  }
});
