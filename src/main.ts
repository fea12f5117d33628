/**
 * Composition root: config → store → services → bot, HTTP, dispatcher, owner notifier. The
 * only module that starts servers and loops, and the one that stops them on SIGTERM/SIGINT.
 */
import { type RunnerHandle, run } from "@grammyjs/runner";
import { serve as serveHttp } from "@hono/node-server";
import { botI18n, createBot, registerCommands } from "./bot/create-bot.js";
import { ALLOWED_UPDATES, ensureWebhook, mountWebhook, publicWebhookUrl } from "./bot/webhook.js";
import type { Config } from "./config.js";
import { startDispatcherThread } from "./delivery/dispatcher-thread.js";
import { createHttpApp } from "./http/create-http-app.js";
import type { Logger } from "./logger.js";
import { createMetrics } from "./metrics.js";
import { createExtractor } from "./nlu/create-extractor.js";
import { createSandbox } from "./sandbox/create-sandbox.js";
import { createServices } from "./services/create-services.js";
import { sandboxStopLinkPrefix, stopLinkPrefix } from "./services/insurer-views.js";
import { createOwnerNotifier } from "./services/owner-notifier.js";
import { startCheckpointer } from "./store/sqlite/checkpointer.js";

export interface RunningService {
  /** The bound HTTP address (port 0 picks a free one). */
  url: string;
  stop(): Promise<void>;
}

/** How often owners are told about acknowledgements and silent insurers. */
const NOTIFY_INTERVAL_MS = 30_000;

/** Starts the whole service: HTTP API, the bot when a token is set, dispatcher and notifier. */
export async function startService(config: Config, logger: Logger): Promise<RunningService> {
  const services = await createServices(config, logger);
  const metrics = createMetrics({ outboxStats: () => services.store.outboxStats() });

  let runner: RunnerHandle | undefined;
  let botUsername: string | undefined;
  let notifierTimer: NodeJS.Timeout | undefined;
  const bot = config.bot.enabled
    ? createBot(
        { token: config.bot.token, apiRoot: config.bot.apiRoot },
        {
          store: services.store,
          owners: services.owners,
          extractor: createExtractor({ openai: config.openai, logger }),
          clock: services.clock,
          defaults: { jurisdiction: config.jurisdiction, timezone: config.defaultTimezone, sandbox: false },
          logger,
          metrics,
        },
      )
    : undefined;
  if (bot) {
    await bot.init();
    botUsername = bot.botInfo.username;
    // `onewindow dispatch` and other processes build the same stop links from this.
    await services.store.setMeta("bot.username", botUsername);
  } else {
    botUsername = await services.store.getMeta("bot.username");
  }
  // The sandbox's links open its own web chat; its address is known once the server listens.
  let optOutLinkPrefix = stopLinkPrefix(botUsername);
  const optOutLink = (token: string) => `${optOutLinkPrefix}${token}`;

  const app = createHttpApp({ ...services, metrics, optOutLink });
  // Webhook mode: Telegram posts updates to this route (mounted before the server listens).
  const webhookRoute =
    bot && config.bot.enabled && config.bot.mode === "webhook"
      ? {
          path: mountWebhook(app, bot, { token: config.bot.token, secret: config.bot.secret, logger }),
          publicUrl: config.bot.publicUrl,
          secret: config.bot.secret,
          token: config.bot.token,
        }
      : undefined;
  // No token: the sandbox (web chat + insurer console, loopback only) on the same app.
  const sandbox = !bot && config.sandbox ? await createSandbox({ services, metrics }) : undefined;
  if (sandbox) app.route("/", sandbox.app);
  const server = await new Promise<ReturnType<typeof serveHttp>>((resolve) => {
    const s = serveHttp({ fetch: app.fetch, hostname: config.http.host, port: config.http.port }, () =>
      resolve(s),
    );
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.http.port;
  const url = `http://${config.http.host.includes(":") ? `[${config.http.host}]` : config.http.host}:${port}`;
  if (sandbox) optOutLinkPrefix = sandboxStopLinkPrefix(url);

  // SQLite: WAL checkpoints on a thread of their own, not inside an agreement's commit.
  const checkpointer =
    config.store.kind === "sqlite" ? startCheckpointer(config.store.file, { logger }) : undefined;
  const dispatcher = startDispatcherThread({
    config,
    logger,
    metrics,
    optOutLinkPrefix,
    intervalMs: config.dispatchIntervalMs,
  });
  // Notices queued in this process go out at once, not at the next interval.
  const unsubscribe = services.outboxWritten.subscribe(() => dispatcher.wake());
  try {
    await dispatcher.ready;
  } catch (err) {
    unsubscribe();
    // Nothing would deliver: do not keep serving as if all were well.
    sandbox?.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await checkpointer?.stop();
    await services.close();
    throw err;
  }

  if (bot) {
    await registerCommands(bot);
    if (webhookRoute) {
      const webhookUrl = publicWebhookUrl(webhookRoute.publicUrl, webhookRoute.path);
      const set = await ensureWebhook(bot, { ...webhookRoute, url: webhookUrl, store: services.store });
      logger.info({ path: webhookRoute.path, setWebhook: set }, "telegram webhook ready");
    } else {
      await bot.api.deleteWebhook();
      runner = run(bot, { runner: { fetch: { allowed_updates: [...ALLOWED_UPDATES] } } });
    }
    const notifier = createOwnerNotifier({
      store: services.store,
      clock: services.clock,
      i18n: botI18n(),
      send: async (chatId, text) => {
        await bot.api.sendMessage(chatId, text);
      },
      logger,
    });
    const tick = async () => {
      // Every process runs the timer; one claim per interval lets exactly one of them send.
      const tickId = -Math.floor(services.clock().getTime() / NOTIFY_INTERVAL_MS);
      if (!(await services.store.claimUpdate(tickId, 2 * NOTIFY_INTERVAL_MS))) return;
      await notifier.runOnce();
    };
    notifierTimer = setInterval(() => {
      tick().catch((err: unknown) =>
        logger.error({ err: err instanceof Error ? err.message : String(err) }, "owner notifier failed"),
      );
    }, NOTIFY_INTERVAL_MS);
    notifierTimer.unref();
    logger.info({ bot: botUsername, mode: webhookRoute ? "webhook" : "polling" }, "bot started");
  } else if (sandbox) {
    await sandbox.start(url);
    logger.info(
      `No TELEGRAM_BOT_TOKEN set: open the sandbox at ${url}/ (web chat; insurer console at ${url}/console); to run the real bot, put TELEGRAM_BOT_TOKEN=<token from @BotFather> in .env and restart.`,
    );
  } else {
    logger.info(
      `No TELEGRAM_BOT_TOKEN set: the insurer API runs at ${url}/ ; to run the bot, put TELEGRAM_BOT_TOKEN=<token from @BotFather> in .env and restart.`,
    );
  }
  logger.info({ url }, "http listening");

  return {
    url,
    async stop() {
      // No new updates or requests; in-flight deliveries finish or their leases lapse.
      if (notifierTimer) clearInterval(notifierTimer);
      if (runner?.isRunning()) await runner.stop();
      // The sandbox ends its long polls first, or open pages would hold the server open.
      sandbox?.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dispatcher.stop();
      await checkpointer?.stop();
      await services.close();
    },
  };
}
