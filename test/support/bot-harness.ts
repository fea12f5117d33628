/**
 * A real bot on a real SQLite store, talking to a loopback fake of the Bot API. Updates go in
 * through `bot.handleUpdate` (as the runner would hand them over); replies are read from what
 * the fake server received.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Update } from "grammy/types";
import { createBot } from "../../src/bot/create-bot.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { createExtractor } from "../../src/nlu/create-extractor.js";
import { createServices, type Services } from "../../src/services/create-services.js";
import {
  type FakeTelegram,
  type SentMessage,
  type SimUserOptions,
  startFakeTelegram,
} from "../fakes/telegram-server.js";

export const DIRECTORY = [
  { id: "pingan", name: "Ping An", nameZh: "中国平安", aliases: ["平安", "PingAn"], contact: "95511" },
  { id: "picc", name: "PICC", nameZh: "中国人保", aliases: ["人保"], contact: "95518" },
  { id: "cpic", name: "CPIC", nameZh: "太平洋保险", aliases: ["太平洋", "China Pacific"], contact: "95500" },
  { id: "allianz", name: "Allianz", aliases: ["安联"], contact: "+86 400 800 2020" },
];

export interface HarnessOptions {
  now?: Date;
  dir?: string;
  fake?: FakeTelegram;
  seed?: boolean;
}

export async function startBotHarness(options: HarnessOptions = {}) {
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "ow-bot-"));
  const fake = options.fake ?? (await startFakeTelegram());
  let now = options.now ?? new Date("2026-12-01T02:00:00.000Z");
  const clock = () => now;
  const config = loadConfig({
    DATA_DIR: path.join(dir, "data"),
    KEYS_DIR: path.join(dir, "keys"),
    LOG_LEVEL: "silent",
  });
  const logger = createLogger("silent");
  const services: Services = await createServices(config, logger, clock);
  if (options.seed !== false) {
    for (const i of DIRECTORY) await services.insurers.add({ ...i });
  }
  const bot = createBot(
    { token: fake.token, apiRoot: fake.apiRoot, botInfo: fake.botInfo },
    {
      store: services.store,
      owners: services.owners,
      extractor: createExtractor({ logger }),
      clock,
      defaults: { jurisdiction: "CN", timezone: "Asia/Shanghai", sandbox: false },
      logger,
    },
  );

  /** Hands one update to the bot and returns what the bot sent in answer. */
  async function deliver(update: Update): Promise<SentMessage[]> {
    const before = fake.sent().length;
    await bot.handleUpdate(update);
    return fake.sent().slice(before);
  }

  function user(id: number, opts?: SimUserOptions) {
    const sim = fake.user(id, opts);
    const texts = (sent: SentMessage[]) => sent.map((m) => m.text ?? "").join("\n---\n");
    return {
      sim,
      id,
      async send(text: string) {
        return deliver(sim.sendText(text));
      },
      async command(command: string, payload?: string) {
        return deliver(sim.sendCommand(command, payload));
      },
      async contact(phone: string, userId?: number | null, firstName = "Lin") {
        return deliver(sim.shareContact({ phone_number: phone, user_id: userId, first_name: firstName }));
      },
      async press(data: string, messageId?: number) {
        return deliver(sim.pressButton(data, messageId));
      },
      deliver,
      texts,
      /** Every button label on the last message the bot sent to this user. */
      lastLabels(): string[] {
        const last = fake.sent(id).at(-1);
        const markup = last?.replyMarkup as { inline_keyboard?: { text: string }[][] } | undefined;
        return (markup?.inline_keyboard ?? []).flat().map((b) => b.text);
      },
      /** Every callback_data on the last message the bot sent to this user. */
      lastButtons(): string[] {
        const last = fake.sent(id).at(-1);
        const markup = last?.replyMarkup as { inline_keyboard?: { callback_data?: string }[][] } | undefined;
        return (markup?.inline_keyboard ?? [])
          .flat()
          .flatMap((b) => (b.callback_data ? [b.callback_data] : []));
      },
    };
  }

  return {
    dir,
    fake,
    bot,
    services,
    user,
    deliver,
    setNow(d: Date) {
      now = d;
    },
    async close(closeFake = true) {
      await services.close();
      if (closeFake) await fake.close();
    },
  };
}

export type BotHarness = Awaited<ReturnType<typeof startBotHarness>>;
