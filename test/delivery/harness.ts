/**
 * A real SQLite-backed service (createServices) in a temp dir, loopback webhook receivers per
 * insurer, a controlled clock, and dispatchers wired to them. Time moves only by `advance()`.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { loadConfig } from "../../src/config.js";
import { createDispatcher, type Dispatcher, type DispatcherDeps } from "../../src/delivery/dispatcher.js";
import type { Insurer, OutboxEntry } from "../../src/domain/model.js";
import type { Preferences } from "../../src/domain/preferences.js";
import { createLogger } from "../../src/logger.js";
import { createServices, type Services } from "../../src/services/create-services.js";
import { telegramStopLink } from "../../src/services/insurer-views.js";
import { type Reply, startWebhookReceiver, type WebhookReceiver } from "../fakes/webhook-receiver.js";

export const PHONE = "+8613800138000";
export const DIGITS = "13800138000";
export const START = new Date("2026-12-01T02:00:00.000Z");

export interface TestInsurer {
  id: string;
  secret: string;
  apiKey: string;
  receiver: WebhookReceiver;
}

export interface Harness {
  dir: string;
  services: Services;
  clock: () => Date;
  now(): Date;
  advance(ms: number): void;
  set(at: Date): void;
  insurers: TestInsurer[];
  receiver(id: string): WebhookReceiver;
  /** Every log line written by the harness's loggers (JSON text). */
  logs: string[];
  addInsurer(id: string, options?: { fallback?: Reply; webhook?: boolean }): Promise<TestInsurer>;
  /** A verified owner (phone shared by contact); returns its id. */
  newOwner(telegramUserId: number, phone?: string): Promise<string>;
  agree(ownerId: string, insurers: string[], prefs?: Partial<Preferences>): Promise<void>;
  dispatcher(overrides?: Partial<DispatcherDeps>, services?: Services): Dispatcher;
  /** Another Services over the same data and keys directories (a second process). */
  openSecond(): Promise<Services>;
  outbox(ownerId: string): Promise<OutboxEntry[]>;
  getInsurer(id: string): Promise<Insurer | undefined>;
  close(): Promise<void>;
}

/** Preferences whose window is open right away at {@link START}. */
export function openPrefs(insurers: string[], extra: Partial<Preferences> = {}): Preferences {
  return {
    renewalDate: "2026-12-20",
    insurers,
    channels: ["call", "sms"],
    days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    hours: [{ from: "09:00", to: "20:00" }],
    daysBefore: 30,
    maxAttempts: 3,
    ...extra,
  };
}

export async function createHarness(
  options: { insurers?: string[]; fallback?: Reply } = {},
): Promise<Harness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ow-delivery-"));
  let now = START;
  const clock = () => now;
  const env = {
    DATA_DIR: path.join(dir, "data"),
    KEYS_DIR: path.join(dir, "keys"),
    LOG_LEVEL: "silent",
    ALLOW_PRIVATE_WEBHOOKS: "1",
  };
  const config = loadConfig(env);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  // Debug level, so every line the dispatcher can write is checked for personal data.
  const logger = createLogger("debug", sink);
  const services = await createServices(config, logger, clock);
  const insurers: TestInsurer[] = [];
  const dispatchers: Dispatcher[] = [];
  const extra: Services[] = [];
  let worker = 0;

  const h: Harness = {
    dir,
    services,
    clock,
    now: () => now,
    advance(ms) {
      now = new Date(now.getTime() + ms);
    },
    set(at) {
      now = at;
    },
    insurers,
    logs,
    receiver(id) {
      const found = insurers.find((i) => i.id === id);
      if (!found) throw new Error(`no insurer ${id}`);
      return found.receiver;
    },
    async addInsurer(id, opts = {}) {
      const receiver = await startWebhookReceiver("whsec_placeholder", opts.fallback ?? options.fallback);
      const creds = await services.insurers.add({
        id,
        name: `Insurer ${id}`,
        ...(opts.webhook === false ? {} : { webhookUrl: receiver.url }),
        contact: `${id} hotline 95500`,
      });
      receiver.setSecret(creds.webhookSecret);
      const t = { id, secret: creds.webhookSecret, apiKey: creds.apiKey, receiver };
      insurers.push(t);
      return t;
    },
    async newOwner(telegramUserId, phone = PHONE) {
      const owner = await services.store.ensureOwner({
        telegramUserId,
        chatId: telegramUserId,
        language: "en",
        timezone: "Asia/Shanghai",
        jurisdiction: "CN",
        sandbox: false,
      });
      await services.store.updateOwnerProfile(owner.id, { phone, phoneVerified: true, country: "CN" });
      return owner.id;
    },
    async agree(ownerId, chosen, prefs = {}) {
      await services.owners.agree(ownerId, openPrefs(chosen, prefs), "en");
    },
    dispatcher(overrides = {}, svc = services) {
      const d = createDispatcher({
        store: svc.store,
        clock,
        random: () => 0.5,
        logger,
        optOutLink: telegramStopLink("onewindow_test_bot"),
        allowPrivateWebhooks: true,
        worker: `test-worker-${++worker}`,
        timeoutMs: 2000,
        ...overrides,
      });
      dispatchers.push(d);
      return d;
    },
    async openSecond() {
      const s = await createServices(loadConfig(env), logger, clock);
      extra.push(s);
      return s;
    },
    outbox: (ownerId) => services.store.listOutboxForOwner(ownerId),
    getInsurer: (id) => services.store.getInsurer(id),
    async close() {
      await Promise.all(dispatchers.map((d) => d.stop()));
      await Promise.all(insurers.map((i) => i.receiver.close()));
      for (const s of extra) await s.close();
      await services.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  for (const id of options.insurers ?? []) await h.addInsurer(id);
  return h;
}
