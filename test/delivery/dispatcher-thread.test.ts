/**
 * The dispatcher thread that `onewindow serve` starts: a worker thread with its own store
 * connection delivers what the main thread's services wrote, and reports delivery counts to
 * the main thread's metrics. Real time, real SQLite file, loopback receivers.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config.js";
import { startDispatcherThread } from "../../src/delivery/dispatcher-thread.js";
import { createLogger } from "../../src/logger.js";
import { createMetrics } from "../../src/metrics.js";
import { createServices, type Services } from "../../src/services/create-services.js";
import { stopLinkPrefix } from "../../src/services/insurer-views.js";
import { startWebhookReceiver, type WebhookReceiver } from "../fakes/webhook-receiver.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setUp() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ow-thread-"));
  const config = loadConfig({
    DATA_DIR: path.join(dir, "data"),
    KEYS_DIR: path.join(dir, "keys"),
    LOG_LEVEL: "silent",
    ALLOW_PRIVATE_WEBHOOKS: "1",
  });
  const services = await createServices(config, createLogger("silent"));
  cleanups.push(async () => {
    await services.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const receivers = new Map<string, WebhookReceiver>();
  for (const id of ["alpha", "beta", "gamma"]) {
    const receiver = await startWebhookReceiver("whsec_placeholder");
    cleanups.push(() => receiver.close());
    const creds = await services.insurers.add({ id, name: id, webhookUrl: receiver.url, contact: "hotline" });
    receiver.setSecret(creds.webhookSecret);
    receivers.set(id, receiver);
  }
  return { config, services, receivers };
}

/** An owner with a verified phone who agrees to `chosen`; the window opens at once. */
async function agree(services: Services, telegramUserId: number, chosen: string) {
  const owner = await services.store.ensureOwner({
    telegramUserId,
    chatId: telegramUserId,
    language: "en",
    timezone: "Asia/Shanghai",
    jurisdiction: "CN",
    sandbox: false,
  });
  await services.store.updateOwnerProfile(owner.id, {
    phone: `+86138001${String(telegramUserId).padStart(5, "0")}`,
    phoneVerified: true,
    country: "CN",
  });
  const renewalDate = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
  await services.owners.agree(
    owner.id,
    {
      renewalDate,
      insurers: [chosen],
      channels: ["call"],
      days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
      hours: [{ from: "09:00", to: "20:00" }],
      daysBefore: 30,
      maxAttempts: 2,
    },
    "en",
  );
}

describe("dispatcher thread", () => {
  it("delivers what the main thread wrote, signed, once each, and counts it in the main metrics", async () => {
    const { config, services, receivers } = await setUp();
    const metrics = createMetrics();
    const thread = startDispatcherThread({
      config,
      logger: services.logger,
      metrics,
      optOutLinkPrefix: stopLinkPrefix("onewindow_test_bot"),
      intervalMs: 50,
    });
    let stopped = false;
    cleanups.push(async () => {
      if (!stopped) await thread.stop();
    });
    await thread.ready;

    await agree(services, 1, "alpha");
    await agree(services, 2, "beta");
    const all = () => [...receivers.values()].flatMap((r) => r.accepted());
    await vi.waitFor(() => expect(all()).toHaveLength(6), { timeout: 15_000, interval: 50 });

    expect(all().every((r) => r.signatureValid)).toBe(true);
    const types = (id: string) =>
      receivers
        .get(id)
        ?.accepted()
        .map((r) => r.json?.type)
        .sort();
    expect(types("alpha")).toEqual(["optout.filed", "window.opened"]);
    expect(types("beta")).toEqual(["optout.filed", "window.opened"]);
    expect(types("gamma")).toEqual(["optout.filed", "optout.filed"]);
    const opened = receivers
      .get("alpha")
      ?.accepted()
      .find((r) => r.json?.type === "window.opened");
    expect(String(opened?.json?.data.optOutLink)).toMatch(
      /^https:\/\/t\.me\/onewindow_test_bot\?start=stop_/,
    );
    expect(new Set(all().map((r) => r.headers["webhook-id"])).size).toBe(6);

    await thread.stop();
    stopped = true;
    // Counts reach the main thread's registry by the time stop() resolves.
    const text = await metrics.registry.getSingleMetricAsString("onewindow_deliveries_total");
    expect(text).toMatch(/type="optout.filed",outcome="delivered"} 4/);
    expect(text).toMatch(/type="window.opened",outcome="delivered"} 2/);
    const stats = await services.store.outboxStats();
    expect(stats.pending).toBe(0);
  }, 30_000);

  it("stops promptly when idle, and a second stop is harmless", async () => {
    const { config, services } = await setUp();
    const thread = startDispatcherThread({
      config,
      logger: services.logger,
      optOutLinkPrefix: stopLinkPrefix(undefined),
      intervalMs: 1000,
    });
    await thread.ready;
    const started = Date.now();
    await thread.stop();
    await thread.stop();
    expect(Date.now() - started).toBeLessThan(5000);
  }, 30_000);

  it("says so through ready when the thread cannot start, and neither restarts nor hangs stop()", async () => {
    const { config, services } = await setUp();
    // Keys that cannot be read or created (their directory's parent is a file): the thread
    // fails before it is ready.
    const file = path.join(config.dataDir, "not-a-directory");
    fs.writeFileSync(file, "");
    const thread = startDispatcherThread({
      config: { ...config, keysDir: path.join(file, "keys") },
      logger: services.logger,
      optOutLinkPrefix: stopLinkPrefix(undefined),
      intervalMs: 1000,
    });
    await expect(thread.ready).rejects.toThrow(/before it was ready/);
    const started = Date.now();
    await thread.stop();
    expect(Date.now() - started).toBeLessThan(1000);
  }, 30_000);
});
