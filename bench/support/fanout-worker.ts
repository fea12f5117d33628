/**
 * One more service process for `bench/fanout.ts --processes N`: the same createServices on the
 * same Redis (the parent's configuration, passed as JSON) with its own dispatcher thread, as a
 * second `onewindow serve` would run. It agrees the owners it is handed when told to, and
 * reports its CPU when the parent has seen every notice arrive.
 */

import { loadConfig } from "../../src/config.js";
import { startDispatcherThread } from "../../src/delivery/dispatcher-thread.js";
import type { Preferences } from "../../src/domain/preferences.js";
import { createLogger } from "../../src/logger.js";
import { createServices } from "../../src/services/create-services.js";
import { stopLinkPrefix } from "../../src/services/insurer-views.js";

const env = JSON.parse(process.argv[2] ?? "{}") as Record<string, string>;
const interval = Number(process.argv[3] ?? 1000);
const send = (msg: unknown) => process.send?.(msg);

const config = loadConfig(env);
const services = await createServices(config, createLogger("silent"), () => new Date());
const thread = startDispatcherThread({
  config: { ...config, dispatchIntervalMs: interval },
  logger: services.logger,
  optOutLinkPrefix: stopLinkPrefix("onewindow_bench_bot"),
  intervalMs: interval,
});
await thread.ready;
services.outboxWritten.subscribe(() => thread.wake());
let cpu0 = process.cpuUsage();

process.on("message", (msg: { type: string; owners?: [string, Preferences][]; concurrency?: number }) => {
  void (async () => {
    if (msg.type === "go") {
      cpu0 = process.cpuUsage();
      const work = [...(msg.owners ?? [])];
      await Promise.all(
        Array.from({ length: msg.concurrency ?? 4 }, async () => {
          for (let next = work.shift(); next; next = work.shift()) {
            await services.owners.agree(next[0], next[1], "en");
          }
        }),
      );
      send({ type: "agreed" });
    } else if (msg.type === "cpu") {
      const cpu = process.cpuUsage(cpu0);
      send({ type: "cpu", micros: cpu.user + cpu.system });
    } else if (msg.type === "stop") {
      await thread.stop();
      await services.close();
      send({ type: "stopped" });
      process.exit(0);
    }
  })();
});
send({ type: "ready" });
