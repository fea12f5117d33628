/**
 * WAL checkpoints off the request path. In WAL mode SQLite copies the log back into the
 * database file ("checkpoint") inside whichever commit takes the log past 1,000 pages, and
 * that commit waits for the copy and two fsyncs: measured on an agreement (20 insurers), about
 * 40 % of its time, spent on the event loop of the bot and the API, or on the dispatcher
 * thread. `serve` starts this worker thread instead: its own connection runs a PASSIVE
 * checkpoint every `intervalMs` (it never blocks a reader or a writer), so the log rarely
 * reaches the automatic threshold (10,000 pages, db.ts). That threshold stays as the safety
 * net: if this thread falls behind or stops, commits checkpoint as before. Every 500 ms, not
 * more often: a page rewritten many times in between is copied once (with 100 ms, and the
 * threshold at 1,000 pages, the fan-out wrote a sixth more per owner).
 */
import { Worker } from "node:worker_threads";
import type { Logger } from "../../logger.js";

export interface Checkpointer {
  /** Resolves once the thread has opened the file. */
  ready: Promise<void>;
  /** Stops the thread (an idle checkpoint ends within milliseconds). */
  stop(): Promise<void>;
}

const ENTRY = new URL("./checkpointer-thread.js", import.meta.url);

export function startCheckpointer(
  file: string,
  options: { intervalMs?: number; logger: Pick<Logger, "warn"> },
): Checkpointer {
  const worker = new Worker(ENTRY, {
    workerData: { file, intervalMs: options.intervalMs ?? 500 },
    execArgv: [],
  });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    worker.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  const ready = new Promise<void>((resolve, reject) => {
    worker.on("message", (msg: { type: string; message?: string }) => {
      if (msg.type === "ready") resolve();
      else if (msg.type === "error") {
        options.logger.warn(
          { err: msg.message },
          "background WAL checkpoint failed; commits checkpoint automatically meanwhile",
        );
      }
    });
    worker.on("error", (err) => {
      options.logger.warn(
        { err: err.message },
        "checkpointer thread failed; commits checkpoint automatically",
      );
      reject(err);
    });
    void exit.then(() => reject(new Error("checkpointer thread exited before it was ready")));
  });
  ready.catch(() => undefined);
  // The thread never keeps the process alive on its own.
  worker.unref();
  return {
    ready,
    async stop() {
      if (exited) return;
      worker.postMessage({ type: "stop" });
      const timer = setTimeout(() => void worker.terminate(), 5000);
      await exit;
      clearTimeout(timer);
    },
  };
}
