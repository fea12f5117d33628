/** The body of the dispatcher thread (see dispatcher-thread.ts): its own store, the same loop. */
import { parentPort, workerData } from "node:worker_threads";
import { createFieldCipher } from "../crypto/field-cipher.js";
import { loadKeys } from "../crypto/keys.js";
import { createMatchKeys } from "../crypto/match-key.js";
import type { OutboxType } from "../domain/model.js";
import { createLogger } from "../logger.js";
import type { DeliveryOutcome } from "../metrics.js";
import { createStopLinks } from "../services/stop-links.js";
import { openStore } from "../store/open-store.js";
import type { DispatcherThreadData, DispatcherThreadMessage } from "./dispatcher-thread.js";
import { createProcessDispatcher } from "./process-dispatcher.js";

const REPORT_MS = 1000;

const port = parentPort;
if (!port) throw new Error("dispatcher-thread-main runs only as a worker thread");
const { config, optOutLinkPrefix, intervalMs } = workerData as DispatcherThreadData;
const send = (msg: DispatcherThreadMessage) => port.postMessage(msg);

const logger = createLogger(config.logLevel).child({ thread: "dispatcher" });
const clock = () => new Date();
// The main thread has already created or checked the keys against the store's fingerprints.
const keys = await loadKeys({ keysDir: config.keysDir, ...config.keys });
const store = await openStore(
  config.store,
  createFieldCipher(keys.dataKey),
  clock,
  createMatchKeys(keys.dataKey),
);

// Unknown until the bot has run once: then read from the store (services/stop-links.ts).
const stopLinks = createStopLinks(store, optOutLinkPrefix);

const counts = new Map<string, number>();
const report = () => {
  if (counts.size === 0) return;
  send({
    type: "deliveries",
    counts: [...counts].map(([key, n]) => {
      const [type, outcome] = key.split(" ") as [OutboxType, DeliveryOutcome];
      return [type, outcome, n];
    }),
  });
  counts.clear();
};
const reporter = setInterval(report, REPORT_MS);

const dispatcher = createProcessDispatcher({
  store,
  config,
  logger,
  clock,
  optOutLink: stopLinks.link,
  metrics: {
    recordDelivery(type, outcome) {
      const key = `${type} ${outcome}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    },
  },
});

port.on("message", (msg: { type: string }) => {
  if (msg.type === "wake") dispatcher.wake();
  if (msg.type !== "stop") return;
  void (async () => {
    await dispatcher.stop();
    clearInterval(reporter);
    report();
    await store.close();
    send({ type: "stopped" });
    port.close();
  })();
});

dispatcher.start(intervalMs);
send({ type: "ready" });
