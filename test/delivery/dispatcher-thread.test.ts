/**
 * The dispatcher thread that `onewindow serve` starts: a worker thread with its own store
 * connection delivers what the main thread's services wrote, and reports delivery counts to
 * the main thread's metrics. Real time, real SQLite file, loopback receivers.
 */
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { startDispatcherThread } from "../../src/delivery/dispatcher-thread.js";
import { createMetrics } from "../../src/metrics.js";
import { stopLinkPrefix } from "../../src/services/insurer-views.js";
import { createHarness } from "./harness.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * The delivery harness's service and receivers, on real time: the thread's clock is the wall
 * clock, so the harness's clock is set to now and windows are planned ten days out.
 */
async function setUp() {
  const h = await createHarness({ insurers: ["alpha", "beta", "gamma"] });
  cleanups.push(() => h.close());
  h.set(new Date());
  const receivers = new Map(h.insurers.map((i) => [i.id, i.receiver] as const));
  const renewalDate = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
  /** An owner with a verified phone who agrees to `chosen`; the window opens at once. */
  const agree = async (telegramUserId: number, chosen: string) => {
    const ownerId = await h.newOwner(telegramUserId, `+86138001${String(telegramUserId).padStart(5, "0")}`);
    await h.agree(ownerId, [chosen], { renewalDate });
  };
  return { config: h.services.config, services: h.services, receivers, agree };
}

describe("dispatcher thread", () => {
  it("delivers what the main thread wrote, signed, once each, and counts it in the main metrics", async () => {
    const { config, services, receivers, agree } = await setUp();
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

    await agree(1, "alpha");
    await agree(2, "beta");
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

  it("is woken by commits that queue notices, instead of waiting for its interval", async () => {
    const { config, services, receivers, agree } = await setUp();
    const thread = startDispatcherThread({
      config,
      logger: services.logger,
      optOutLinkPrefix: stopLinkPrefix(undefined),
      // Its first look finds nothing; the next would be a minute later.
      intervalMs: 60_000,
    });
    cleanups.push(() => thread.stop());
    services.outboxWritten.subscribe(() => thread.wake());
    await thread.ready;
    await new Promise((r) => setTimeout(r, 200));
    await agree(3, "gamma");
    const all = () => [...receivers.values()].flatMap((r) => r.accepted());
    await vi.waitFor(() => expect(all()).toHaveLength(3), { timeout: 10_000, interval: 50 });
    expect(all().every((r) => r.signatureValid)).toBe(true);
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
