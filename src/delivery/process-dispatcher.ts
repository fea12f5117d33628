/**
 * The dispatcher as a process (or a thread) runs it: defaults from config, a lease owner id
 * unique to this process and thread, and dead notices and 410s reported in the log.
 */
import { randomUUID } from "node:crypto";
import os from "node:os";
import { threadId } from "node:worker_threads";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/store.js";
import { createDispatcher, type Dispatcher, type DispatcherDeps } from "./dispatcher.js";

export interface ProcessDispatcherDeps {
  store: Store;
  config: Pick<Config, "allowPrivateWebhooks" | "dispatchLeaseMs">;
  logger: Logger;
  clock: () => Date;
  /** The window's one-tap stop link, the same in every process (services/stop-links). */
  optOutLink: (token: string) => string | Promise<string>;
  metrics?: DispatcherDeps["metrics"];
}

export function createProcessDispatcher(deps: ProcessDispatcherDeps): Dispatcher {
  const { logger } = deps;
  return createDispatcher({
    store: deps.store,
    clock: deps.clock,
    random: Math.random,
    logger,
    metrics: deps.metrics,
    optOutLink: deps.optOutLink,
    allowPrivateWebhooks: deps.config.allowPrivateWebhooks,
    leaseMs: deps.config.dispatchLeaseMs,
    worker: `${os.hostname()}:${process.pid}:${threadId}:${randomUUID().slice(0, 8)}`,
    onDead: (entry) =>
      logger.warn({ outboxId: entry.id, insurerId: entry.insurerId, type: entry.type }, "notice is dead"),
    onGone: (insurer) =>
      logger.warn({ insurerId: insurer.id }, "insurer webhook answered 410 Gone: pushes disabled"),
  });
}
