/**
 * Telegram webhook mode through the real HTTP route: the service (startService, in process)
 * with BOT_MODE=webhook, Telegram faked at the wire. Updates are POSTed to the route as
 * Telegram would; replies are read from the fake Bot API. Two service instances on one store
 * stand for two processes behind a load balancer: a re-delivered update_id is handled once.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Update } from "grammy/types";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { webhookPath } from "../../src/bot/webhook.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { type RunningService, startService } from "../../src/main.js";
import { type FakeTelegram, startFakeTelegram } from "../fakes/telegram-server.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../support/redis.js";

const SECRET = "webhook-secret_0123456789abcdef";
const PUBLIC_URL = "https://bot.example.com/ow/";
const HEADER = "X-Telegram-Bot-Api-Secret-Token";
const WELCOME = /Share my contact/;

interface Backend {
  name: string;
  env: () => Record<string, string>;
  cleanup: () => Promise<void>;
}

const redisPrefix = uniquePrefix("webhook");
const backends: Backend[] = [
  { name: "sqlite", env: () => ({}), cleanup: async () => undefined },
  ...(TEST_REDIS_URL
    ? [
        {
          name: "redis",
          env: () => ({ REDIS_URL: TEST_REDIS_URL as string, REDIS_PREFIX: redisPrefix }),
          cleanup: async () => {
            await deleteKeys(TEST_REDIS_URL as string, redisPrefix);
          },
        },
      ]
    : []),
];

describe.each(backends)("telegram webhook mode on $name", (backend) => {
  let fake: FakeTelegram;
  let dir: string;
  const running: RunningService[] = [];

  const start = async (extra: Record<string, string> = {}) => {
    const config = loadConfig({
      TELEGRAM_BOT_TOKEN: fake.token,
      TELEGRAM_API_ROOT: fake.apiRoot,
      BOT_MODE: "webhook",
      PUBLIC_URL,
      TELEGRAM_WEBHOOK_SECRET: SECRET,
      DATA_DIR: path.join(dir, "data"),
      KEYS_DIR: path.join(dir, "keys"),
      PORT: "0",
      DISPATCH_INTERVAL_MS: "60000",
      LOG_LEVEL: "silent",
      ...backend.env(),
      ...extra,
    });
    const service = await startService(config, createLogger("silent"));
    running.push(service);
    return service;
  };

  /** `secret: null` sends no secret header at all. */
  const post = (service: RunningService, update: unknown, secret: string | null = SECRET) =>
    fetch(`${service.url}${webhookPath(fake.token)}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(secret === null ? {} : { [HEADER]: secret }) },
      body: typeof update === "string" ? update : JSON.stringify(update),
    });

  /** How often the bot greeted this chat: once per handled /start of a new owner. */
  const welcomes = (chatId: number) => fake.sent(chatId).filter((m) => WELCOME.test(m.text ?? "")).length;
  const start_ = (userId: number): Update => fake.user(userId).sendCommand("/start");

  beforeAll(async () => {
    fake = await startFakeTelegram();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ow-webhook-"));
  });
  afterEach(async () => {
    for (const service of running.splice(0)) await service.stop();
  });
  afterAll(async () => {
    await fake.close();
    await backend.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("sets the webhook with the secret at start, at a path that does not reveal the token", async () => {
    fake.clearCalls();
    await start();
    const path_ = webhookPath(fake.token);
    expect(path_).toMatch(/^\/telegram\/[0-9a-f]{16}$/);
    for (const part of fake.token.split(":")) expect(path_).not.toContain(part);
    const set = fake.calls.filter((c) => c.method === "setWebhook");
    expect(set).toHaveLength(1);
    expect(set[0]?.payload).toMatchObject({
      url: `https://bot.example.com/ow${path_}`,
      secret_token: SECRET,
      allowed_updates: ["message", "callback_query", "edited_message"],
    });
    expect(fake.webhookUrl()).toBe(`https://bot.example.com/ow${path_}`);
    // No long polling in webhook mode.
    expect(fake.calls.some((c) => c.method === "getUpdates" || c.method === "deleteWebhook")).toBe(false);

    // A second process with the same URL and secret leaves the webhook alone…
    fake.clearCalls();
    await start();
    expect(fake.calls.filter((c) => c.method === "setWebhook")).toHaveLength(0);
    // …and one with a rotated secret sets it again.
    await start({ TELEGRAM_WEBHOOK_SECRET: "rotated-secret" });
    expect(fake.calls.filter((c) => c.method === "setWebhook").map((c) => c.payload.secret_token)).toEqual([
      "rotated-secret",
    ]);
    // Back to the test secret for the rest of the file.
    fake.clearCalls();
    await start();
    expect(fake.calls.filter((c) => c.method === "setWebhook")).toHaveLength(1);
  });

  it("handles an update posted with the right secret", async () => {
    const service = await start();
    const res = await post(service, start_(81_001));
    expect(res.status).toBe(200);
    expect(welcomes(81_001)).toBe(1);
  });

  it("refuses a missing or wrong secret with 401 and handles nothing, without using up the update", async () => {
    const service = await start();
    const update = start_(81_002);
    for (const secret of [null, "", "wrong-secret", `${SECRET}x`, SECRET.slice(0, -1)]) {
      const res = await post(service, update, secret);
      expect(res.status, `${String(secret)} ${await res.text()}`).toBe(401);
    }
    expect(welcomes(81_002)).toBe(0);
    expect(fake.sent(81_002)).toHaveLength(0);
    // The refused requests did not claim the update_id: Telegram's own delivery still works.
    expect((await post(service, update)).status).toBe(200);
    expect(welcomes(81_002)).toBe(1);
  });

  it("answers 404 elsewhere and 400 for a body that is not an update", async () => {
    const service = await start();
    const other = await fetch(`${service.url}/telegram/0000000000000000`, {
      method: "POST",
      headers: { [HEADER]: SECRET, "content-type": "application/json" },
      body: JSON.stringify(start_(81_003)),
    });
    expect(other.status).toBe(404);
    expect((await post(service, "{not json")).status).toBe(400);
    expect(fake.sent(81_003)).toHaveLength(0);
  });

  it("handles a re-delivered update_id once, on one instance and across two on the same store", async () => {
    const a = await start();
    const b = await start();

    // Telegram retries after a slow answer: the same update, one after the other.
    const again = start_(81_004);
    expect((await post(a, again)).status).toBe(200);
    expect((await post(a, again)).status).toBe(200);
    expect((await post(b, again)).status).toBe(200);
    expect(welcomes(81_004)).toBe(1);

    // The repeat lands on another process while the first is still running.
    for (const userId of [81_005, 81_006, 81_007, 81_008]) {
      const update = start_(userId);
      const answers = await Promise.all([post(a, update), post(b, update), post(b, update), post(a, update)]);
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      expect(welcomes(userId), String(userId)).toBe(1);
    }

    // A new update of the same chat is handled as usual.
    const next = fake.user(81_004).sendText("hello");
    const before = fake.sent(81_004).length;
    expect((await post(b, next)).status).toBe(200);
    expect(fake.sent(81_004).length).toBeGreaterThan(before);
  });
});
