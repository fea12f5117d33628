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
import { createHttpApp, handleClientError, MAX_HEADER_BYTES } from "./http/create-http-app.js";
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

/** How long start waits for Telegram before serving without the bot (it joins later). */
const BOT_WAIT_MS = 5000;
/** How long one try to reach Telegram (getMe) lasts before it is logged and tried again. */
const BOT_INIT_TRY_MS = 10_000;

/** How often owners are told about acknowledgements and silent insurers. */
const NOTIFY_INTERVAL_MS = 30_000;

/** Starts the whole service: HTTP API, the bot when a token is set, dispatcher and notifier. */
export async function startService(config: Config, logger: Logger): Promise<RunningService> {
  const services = await createServices(config, logger);
  const metrics = createMetrics({ outboxStats: () => services.store.outboxStats() });

  let runner: RunnerHandle | undefined;
  let botUsername: string | undefined;
  let notifierTimer: NodeJS.Timeout | undefined;
  // The bot's start (startBot below): up once Telegram answered; the retry pending until then.
  let botUp = false;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  let abortInit: (() => void) | undefined;
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
  // The bot's username from its last run; Telegram confirms it (or tells a new one) when the bot
  // joins, which never holds up the API and the dispatcher (startBot below).
  botUsername = await services.store.getMeta("bot.username");
  // The sandbox's links open its own web chat; its address is known once the server listens.
  let optOutLinkPrefix = stopLinkPrefix(botUsername);
  const optOutLink = (token: string) => `${optOutLinkPrefix}${token}`;

  const app = createHttpApp({ ...services, metrics, optOutLink, ...(bot ? { botUp: () => botUp } : {}) });
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
    const s = serveHttp(
      {
        fetch: app.fetch,
        hostname: config.http.host,
        port: config.http.port,
        serverOptions: { maxHeaderSize: MAX_HEADER_BYTES },
      },
      () => resolve(s),
    );
    // Headers too large and malformed requests, refused by Node's parser before Hono, are
    // answered in the API's error shape (client-error.ts).
    s.on("clientError", handleClientError);
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
    // Unknown before the bot's first run: the thread reads it from the store when it is.
    optOutLinkPrefix: botUsername || sandbox ? optOutLinkPrefix : undefined,
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

  /**
   * The bot joins once Telegram answers: the insurer API and the dispatcher already serve (an
   * outage of the messenger must not stop opt-outs reaching insurers). Until then each try is
   * logged at warn, with growing pauses, and /healthz says the bot is not up.
   */
  const startBot = async (b: NonNullable<typeof bot>): Promise<void> => {
    for (let attempt = 0; !stopped; attempt++) {
      try {
        await joinTelegram(b);
        botUp = true;
        return;
      } catch (err) {
        if (stopped) return;
        const retryInMs = Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5));
        logger.warn(
          { err: err instanceof Error ? err.message : String(err), retryInMs },
          "telegram does not answer: the API and the dispatcher serve; the bot joins when it does",
        );
        await new Promise<void>((resolve) => {
          wake = resolve;
          retry = setTimeout(resolve, retryInMs);
        });
      }
    }
  };
  const joinTelegram = async (b: NonNullable<typeof bot>) => {
    // grammY's init retries a network error forever, silently: each try here is bounded, so
    // the outage is logged and a stop is not held up.
    const tryInit = new AbortController();
    abortInit = () => tryInit.abort();
    const timer = setTimeout(() => tryInit.abort(), BOT_INIT_TRY_MS);
    try {
      await b.init(tryInit.signal as Parameters<typeof b.init>[0]);
    } finally {
      clearTimeout(timer);
    }
    if (stopped) return;
    botUsername = b.botInfo.username;
    // Stored before any update is taken, so every process builds the same stop links.
    await services.store.setMeta("bot.username", botUsername);
    optOutLinkPrefix = stopLinkPrefix(botUsername);
    await registerCommands(b);
    if (stopped) return;
    if (webhookRoute) {
      const webhookUrl = publicWebhookUrl(webhookRoute.publicUrl, webhookRoute.path);
      const set = await ensureWebhook(b, { ...webhookRoute, url: webhookUrl, store: services.store });
      logger.info({ path: webhookRoute.path, setWebhook: set }, "telegram webhook ready");
    } else {
      await b.api.deleteWebhook();
      if (stopped) return;
      runner = run(b, { runner: { fetch: { allowed_updates: [...ALLOWED_UPDATES] } } });
    }
    const notifier = createOwnerNotifier({
      store: services.store,
      clock: services.clock,
      i18n: botI18n(),
      send: async (chatId, text) => {
        await b.api.sendMessage(chatId, text);
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
  };

  const botStarting = bot ? startBot(bot) : undefined;
  if (bot) {
    // Telegram answering at once keeps the old order: "bot started" before "http listening".
    await Promise.race([botStarting, new Promise((r) => setTimeout(r, BOT_WAIT_MS).unref())]);
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
      stopped = true;
      if (retry) clearTimeout(retry);
      wake?.();
      abortInit?.();
      // A try that is still waiting on Telegram is not waited for long: it stops at its next step.
      await Promise.race([botStarting, new Promise((r) => setTimeout(r, 1000).unref())]);
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
