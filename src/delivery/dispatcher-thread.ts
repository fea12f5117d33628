/**
 * The dispatcher of `onewindow serve`, on a worker thread of its own. A fan-out (an agreement
 * sends 20 notices; adding an insurer backfills one per owner) is CPU work — reading rows,
 * JSON, HMAC, HTTP — that would otherwise share the event loop with the bot and the insurer
 * API; on its own thread it uses another core and leaves their latency alone. The thread opens
 * its own connection to the same store (SQLite in WAL mode and Redis both take several), and
 * claims with leases exactly as another process would, so nothing about delivery changes.
 *
 * The main thread keeps the metrics registry: the thread reports delivery counts once a
 * second and on stop. A thread that dies is restarted after RESTART_MS; what it had claimed is
 * sent again after the lease, under the same webhook-id.
 */
import { Worker } from "node:worker_threads";
import type { Config } from "../config.js";
import type { OutboxType } from "../domain/model.js";
import type { Logger } from "../logger.js";
import type { DeliveryOutcome } from "../metrics.js";

export interface DispatcherThreadOptions {
  config: Config;
  logger: Pick<Logger, "info" | "warn" | "error">;
  metrics?: { recordDelivery(type: OutboxType, outcome: DeliveryOutcome): void };
  /**
   * The windows' one-tap stop link before its token (insurer-views `stopLinkPrefix`), when known;
   * otherwise it is read from the store once the bot has stored its username.
   */
  optOutLinkPrefix?: string;
  intervalMs: number;
}

/** What the main thread hands the worker (structured-cloned). */
export interface DispatcherThreadData {
  config: Config;
  optOutLinkPrefix?: string;
  intervalMs: number;
}

/** Messages from the worker. */
export type DispatcherThreadMessage =
  | { type: "ready" }
  | { type: "deliveries"; counts: [type: OutboxType, outcome: DeliveryOutcome, n: number][] }
  | { type: "stopped" };

export interface DispatcherThread {
  /** Resolves once the thread has opened the store and started its loop. */
  ready: Promise<void>;
  /** Notices were queued: the thread looks now instead of at its next interval. */
  wake(): void;
  /** Stops claiming, lets sends in flight finish (each within its 10 s timeout), closes the thread. */
  stop(): Promise<void>;
}

const RESTART_MS = 1000;
/** Longer than a webhook timeout (10 s): in-flight sends end first. */
const STOP_GRACE_MS = 15_000;

const ENTRY = new URL("./dispatcher-thread-entry.js", import.meta.url);

export function startDispatcherThread(options: DispatcherThreadOptions): DispatcherThread {
  const { logger, metrics } = options;
  const data: DispatcherThreadData = {
    config: options.config,
    optOutLinkPrefix: options.optOutLinkPrefix,
    intervalMs: options.intervalMs,
  };
  let stopping = false;
  let worker: Worker;
  /** The current worker has not exited. */
  let alive = false;
  /** A worker has reported ready at least once: only then is a dead one restarted. */
  let started = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let markReady: () => void = () => undefined;
  let failReady: (err: Error) => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  // A start-up failure is reported through `ready`; keep it from being unhandled meanwhile.
  ready.catch(() => undefined);
  let stopped: (() => void) | undefined;
  /** A wake-up is on its way for this turn of the event loop: many commits, one message. */
  let wakePosted = false;

  const spawn = () => {
    restartTimer = undefined;
    // execArgv is not inherited: the entry registers the TypeScript loader itself.
    worker = new Worker(ENTRY, { workerData: data, execArgv: [] });
    alive = true;
    worker.on("message", (msg: DispatcherThreadMessage) => {
      if (msg.type === "ready") {
        started = true;
        markReady();
      } else if (msg.type === "deliveries") {
        for (const [type, outcome, n] of msg.counts) {
          for (let i = 0; i < n; i++) metrics?.recordDelivery(type, outcome);
        }
      } else if (msg.type === "stopped") stopped?.();
    });
    worker.on("error", (err) => {
      logger.error({ err: err.message }, "dispatcher thread failed");
    });
    worker.on("exit", (code) => {
      alive = false;
      if (stopping) return;
      if (!started) {
        // It never got going (bad store, bad keys): restarting would only fail again.
        failReady(new Error(`dispatcher thread exited with code ${code} before it was ready`));
        return;
      }
      logger.warn({ code }, "dispatcher thread exited; restarting it");
      restartTimer = setTimeout(() => {
        if (!stopping) spawn();
      }, RESTART_MS);
      restartTimer.unref();
    });
  };
  spawn();

  return {
    ready,
    wake() {
      if (wakePosted || stopping || !alive) return;
      wakePosted = true;
      setImmediate(() => {
        wakePosted = false;
        if (alive && !stopping) worker.postMessage({ type: "wake" });
      });
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      if (!alive) return;
      const done = new Promise<void>((resolve) => {
        stopped = resolve;
        worker.once("exit", () => resolve());
      });
      worker.postMessage({ type: "stop" });
      const timer = setTimeout(() => {
        logger.warn("dispatcher thread did not stop in time; terminating it (its claims lapse)");
        void worker.terminate();
      }, STOP_GRACE_MS);
      await done;
      clearTimeout(timer);
      if (alive) await worker.terminate();
    },
  };
}
