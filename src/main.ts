/**
 * Composition root: config → store → services → bot, HTTP, (dispatcher). The only module that
 * starts servers and loops, and the one that stops them on SIGTERM/SIGINT.
 */

import { type RunnerHandle, run } from "@grammyjs/runner";
import { serve as serveHttp } from "@hono/node-server";
import { createBot, registerCommands } from "./bot/create-bot.js";
import type { Config } from "./config.js";
import { createHttpApp } from "./http/create-http-app.js";
import type { Logger } from "./logger.js";
import { createRulesExtractor } from "./nlu/rules/index.js";
import { createServices } from "./services/create-services.js";

export interface RunningService {
  /** The bound HTTP address (port 0 picks a free one). */
  url: string;
  stop(): Promise<void>;
}

/** Starts the whole service: HTTP API, the bot when a token is set, and (later) the dispatcher. */
export async function startService(config: Config, logger: Logger): Promise<RunningService> {
  const services = await createServices(config, logger);
  const app = createHttpApp(services);

  const server = await new Promise<ReturnType<typeof serveHttp>>((resolve) => {
    const s = serveHttp({ fetch: app.fetch, hostname: config.http.host, port: config.http.port }, () =>
      resolve(s),
    );
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.http.port;
  const url = `http://${config.http.host.includes(":") ? `[${config.http.host}]` : config.http.host}:${port}`;

  let runner: RunnerHandle | undefined;
  if (config.bot.enabled) {
    const bot = createBot(
      { token: config.bot.token, apiRoot: config.bot.apiRoot },
      {
        store: services.store,
        owners: services.owners,
        extractor: createRulesExtractor(),
        clock: services.clock,
        defaults: { jurisdiction: config.jurisdiction, timezone: config.defaultTimezone, sandbox: false },
        logger,
      },
    );
    await bot.init();
    await registerCommands(bot);
    await bot.api.deleteWebhook();
    runner = run(bot, {
      runner: { fetch: { allowed_updates: ["message", "callback_query", "edited_message"] } },
    });
    logger.info({ bot: bot.botInfo.username, mode: "polling" }, "bot started");
  } else {
    logger.info(
      `No TELEGRAM_BOT_TOKEN set: the insurer API runs at ${url}/ ; to run the bot, put TELEGRAM_BOT_TOKEN=<token from @BotFather> in .env and restart.`,
    );
  }
  logger.info({ url }, "http listening");

  return {
    url,
    async stop() {
      if (runner?.isRunning()) await runner.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await services.close();
    },
  };
}
