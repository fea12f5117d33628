// The checkpointer's worker thread (see checkpointer.ts). Plain JavaScript with no imports of
// ours, so it needs no TypeScript loader.
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

const port = parentPort;
if (!port) throw new Error("checkpointer-thread runs only as a worker thread");
const { file, intervalMs } = workerData;

const db = new Database(file, { fileMustExist: true });
db.pragma("busy_timeout = 1000");

let failing = false;
const timer = setInterval(() => {
  try {
    // PASSIVE: copies what no reader still needs, never waits for or blocks anyone.
    db.pragma("wal_checkpoint(PASSIVE)");
    failing = false;
  } catch (error) {
    // Reported once per run of failures: SQLite's own automatic checkpoint still works.
    if (!failing) port.postMessage({ type: "error", message: String(error?.message ?? error) });
    failing = true;
  }
}, intervalMs);

port.on("message", (msg) => {
  if (msg?.type !== "stop") return;
  clearInterval(timer);
  db.close();
  port.postMessage({ type: "stopped" });
  port.close();
});
port.postMessage({ type: "ready" });
