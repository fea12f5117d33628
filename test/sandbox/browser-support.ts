/// <reference lib="dom" />
// (page.evaluate callbacks run in the browser and use its globals.)
/**
 * Shared set-up of the browser tests: the whole service in-process on port 0, Debian's Chromium
 * driven by playwright-core, a fresh page (its own sessionStorage) per test, the sandbox's own
 * HTTP API for quick set-up of owners and conversations, and an axe-core check.
 */

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import axe from "axe-core";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { type RunningService, startService } from "../../src/main.js";
import { ROOT } from "../support/cli.js";

export const CHROMIUM = "/usr/bin/chromium";
export const hasChromium = fs.existsSync(CHROMIUM);
export const SHOTS = path.join(ROOT, "docs/screenshots");

export const DESKTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 390, height: 844 } as const;

export interface Snapshot {
  version: number;
  messages: {
    messageId: number;
    from: "bot" | "user";
    text?: string;
    inlineKeyboard?: { text: string; callbackData?: string; url?: string }[][];
    answered?: boolean;
  }[];
  replyKeyboard?: { rows: { text: string; requestContact?: boolean }[][] };
}

export interface BrowserSandbox {
  service: RunningService;
  context: BrowserContext;
  /** A new tab at the given size (fresh sessionStorage). */
  newPage(viewport?: { width: number; height: number }): Promise<Page>;
  /** JSON call to the sandbox's HTTP API (loopback, as the page makes it). */
  api<T = unknown>(path: string, body?: unknown): Promise<T>;
  /** A new sandbox owner (a simulated Telegram user); returns its chat id. */
  newOwner(languageCode?: "en" | "zh"): Promise<number>;
  /** One update as the page sends it; returns the chat snapshot. */
  send(ownerId: number, body: unknown): Promise<Snapshot>;
  /** Presses the newest button with this callback data. */
  press(ownerId: number, snap: Snapshot, data: string): Promise<Snapshot>;
  /** Onboards an owner through the API (buttons only): returns the final snapshot. */
  onboard(ownerId: number, phone: string): Promise<Snapshot>;
  close(): Promise<void>;
}

/** An ISO renewal date 10 days ahead: the window opens at once with "30 days before". */
export const renewalIso = () => new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);

export async function startBrowserSandbox(): Promise<BrowserSandbox> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ow-sandbox-browser-"));
  const config = loadConfig({
    DATA_DIR: path.join(dir, "data"),
    KEYS_DIR: path.join(dir, "keys"),
    PORT: "0",
    DISPATCH_INTERVAL_MS: "200",
    LOG_LEVEL: "silent",
  });
  const service = await startService(config, createLogger("silent"));
  const context = await chromium.launchPersistentContext(path.join(dir, "chromium-profile"), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { ...DESKTOP },
    // The pages' CSP allows only their own scripts; axe-core is injected by the test.
    bypassCSP: true,
  });
  fs.mkdirSync(SHOTS, { recursive: true });

  async function api<T>(p: string, body?: unknown): Promise<T> {
    const res = await fetch(`${service.url}${p}`, {
      method: body === undefined ? "GET" : "POST",
      ...(body === undefined
        ? {}
        : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`${p}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }
  const send = (ownerId: number, body: unknown) =>
    api<Snapshot>(`/sandbox/api/chats/${ownerId}/updates`, body);
  const press = (ownerId: number, snap: Snapshot, data: string) => {
    const m = [...snap.messages]
      .reverse()
      .find((x) => (x.inlineKeyboard ?? []).flat().some((b) => b.callbackData === data));
    if (!m) throw new Error(`no button ${data} in the chat`);
    return send(ownerId, { press: { messageId: m.messageId, data } });
  };

  return {
    service,
    context,
    async newPage(viewport = DESKTOP) {
      const page = await context.newPage();
      await page.setViewportSize({ ...viewport });
      return page;
    },
    api,
    async newOwner(languageCode = "en") {
      return (await api<{ id: number }>("/sandbox/api/owners", { languageCode })).id;
    },
    send,
    press,
    async onboard(ownerId, phone) {
      let snap = await send(ownerId, { text: "/start" });
      snap = await send(ownerId, { contact: { phone } });
      snap = await press(ownerId, snap, "ob:vehicle:skip");
      snap = await send(ownerId, { text: renewalIso() });
      for (const data of [
        "ob:ins:demo-northwind",
        "ob:ins-done",
        "ob:ch:sms",
        "ob:ch-done",
        "ob:days:weekdays",
        "ob:days-done",
        "ob:hr:evening",
        "ob:hr-done",
        "ob:db:30",
        "ob:att:3",
        "ob:agree",
      ]) {
        snap = await press(ownerId, snap, data);
      }
      return snap;
    },
    async close() {
      await context.close();
      await service.stop();
    },
  };
}

/** The chat page opened as one owner. */
/**
 * One sandbox for a describe block, and `tab()` for a fresh page at a size; the tabs are closed
 * after each test (each holds a long poll: closed tabs keep Chromium's six connections per host
 * free), the sandbox after the block.
 */
export function useBrowserSandbox() {
  const pages: Page[] = [];
  const suite = {
    sb: undefined as unknown as BrowserSandbox,
    async tab(viewport: { width: number; height: number } = DESKTOP): Promise<Page> {
      const page = await suite.sb.newPage(viewport);
      pages.push(page);
      return page;
    },
  };
  beforeAll(async () => {
    suite.sb = await startBrowserSandbox();
  }, 60_000);
  afterEach(async () => {
    for (const page of pages.splice(0)) await page.close();
  });
  afterAll(async () => {
    await suite.sb?.close();
  });
  return suite;
}

export async function openChat(sb: BrowserSandbox, page: Page, ownerId: number) {
  await page.goto(`${sb.service.url}/#owner-${ownerId}`);
  await page.locator(`#owner-select option[value="${ownerId}"]`).waitFor({ state: "attached" });
  await page.waitForFunction((id) => location.hash === `#owner-${id}`, ownerId);
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** Runs axe-core in the page; returns the serious and critical violations, readable. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  // axe-core exports its own browser build as `source`.
  await page.addScriptTag({ content: axe.source });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(): Promise<{ violations: unknown[] }> } }).axe;
    const result = await axe.run();
    return result.violations as {
      id: string;
      impact: string | null;
      help: string;
      nodes: { target: string[] }[];
    }[];
  });
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((n) => n.target.join(" ")),
    }));
}

/** The box of an element relative to the viewport, and whether it is wholly inside it. */
export async function inViewport(page: Page, selector: string) {
  return page.evaluate((sel) => {
    const node = document.querySelector(sel);
    if (!node) return { found: false, inside: false, box: null };
    const r = node.getBoundingClientRect();
    const inside =
      r.width > 0 &&
      r.height > 0 &&
      r.top >= 0 &&
      r.left >= 0 &&
      r.bottom <= window.innerHeight + 0.5 &&
      r.right <= window.innerWidth + 0.5;
    return { found: true, inside, box: { top: r.top, bottom: r.bottom, left: r.left, right: r.right } };
  }, selector);
}
