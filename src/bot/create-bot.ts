/**
 * Wires the bot: plugins, then one Composer per feature. Order matters where noted.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { autoRetry } from "@grammyjs/auto-retry";
import { I18n } from "@grammyjs/i18n";
import { limit } from "@grammyjs/ratelimiter";
import { sequentialize } from "@grammyjs/runner";
import { Bot, type BotConfig, type BotError, session } from "grammy";
import type { UserFromGetMe } from "grammy/types";
import { isStorageUnavailable } from "../store/faults.js";
import type { BotContext } from "./context.js";
import { freshSession } from "./context.js";
import { dedupeUpdates } from "./dedupe.js";
import type { BotDeps } from "./deps.js";
import { createAccountFeature } from "./features/account.js";
import { createFallbackFeature, createInfoFeature } from "./features/info.js";
import { createOnboarding } from "./features/onboarding/index.js";
import { createStatusFeature } from "./features/status.js";
import { createStopFeature } from "./features/stop.js";
import { keepBundleMatches } from "./i18n-bundles.js";
import { storeSessionAdapter } from "./session-storage.js";
import { guardUpdates } from "./update-guard.js";

const LOCALES_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "locales");

export interface CreateBotOptions {
  token: string;
  /** Bot API root: a local Bot API server, or a loopback fake in tests. */
  apiRoot?: string;
  /** Skips the getMe call at init (tests, and the sandbox). */
  botInfo?: UserFromGetMe;
  /** A custom fetch for the Bot API client (the sandbox's in-process transport). */
  fetch?: NonNullable<BotConfig<BotContext>["client"]>["fetch"];
}

let shared: I18n<BotContext> | undefined;

/**
 * The process's one I18n instance: the Fluent catalogues are loaded on first use and shared by
 * every bot, the command menu and the owner notifier.
 */
export function botI18n(): I18n<BotContext> {
  shared ??= createI18n();
  return shared;
}

function createI18n(): I18n<BotContext> {
  const i18n = new I18n<BotContext>({
    defaultLocale: "en",
    // Plain text: Fluent's isolation marks would show up in messages and break matching.
    fluentBundleOptions: { useIsolating: false },
    localeNegotiator: (ctx) =>
      ctx.session?.lang ?? ctx.owner?.language ?? (ctx.from?.language_code?.startsWith("zh") ? "zh" : "en"),
  });
  i18n.loadLocalesDirSync(LOCALES_DIR);
  // Each t() would otherwise match the locale against every bundle again (i18n-bundles.ts).
  keepBundleMatches(i18n.fluent);
  return i18n;
}

export function createBot(options: CreateBotOptions, deps: BotDeps): Bot<BotContext> {
  const bot = new Bot<BotContext>(options.token, {
    botInfo: options.botInfo,
    client: {
      ...(options.apiRoot ? { apiRoot: options.apiRoot } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    },
  });
  // Telegram's 429s and 5xx are retried; network errors surface instead of retrying forever.
  bot.api.config.use(autoRetry({ rethrowHttpErrors: true, maxRetryAttempts: 3, maxDelaySeconds: 30 }));

  // Every error of a feature ends here, in every mode: polling, the runner, the webhook and the
  // sandbox all hand updates to handleUpdate, which (unlike grammY's own polling loop) does not
  // call bot.catch by itself. The owner is told; the update is done.
  const onError = async (err: BotError<BotContext>) => {
    const ctx = err.ctx;
    deps.metrics?.botErrors.inc();
    // Never the update itself: it holds message text and contacts.
    deps.logger.error(
      {
        updateId: ctx.update.update_id,
        err: err.error instanceof Error ? err.error.message : String(err.error),
      },
      "bot update failed",
    );
    // A store that cannot write (a full disk, Redis refusing writes) changed nothing: say so,
    // and that the same tap or message will work shortly; the buttons on screen still stand.
    const key = isStorageUnavailable(err.error) ? "error-storage" : "error";
    const text = ctx.t
      ? ctx.t(key)
      : botI18n().t(ctx.from?.language_code?.startsWith("zh") ? "zh" : "en", key);
    if (ctx.callbackQuery) await ctx.answerCallbackQuery().catch(() => undefined);
    if (ctx.chat) await ctx.reply(text).catch(() => undefined);
  };
  bot.catch(onError);
  const root = bot.errorBoundary(onError);

  // First: an update whose parts the features read are malformed is dropped (update-guard.ts).
  root.use(guardUpdates(deps.logger));
  // Then: a re-delivered update_id is dropped, across processes (the sandbox numbers its own
  // updates from 1 on every start, and nothing re-delivers them).
  if (!deps.defaults.sandbox) root.use(dedupeUpdates(deps.store, { logger: deps.logger }));
  root.use(async (_ctx, next) => {
    deps.metrics?.botUpdates.inc();
    await next();
  });

  // One chat's updates in order (its session is read-modify-write); different chats in parallel
  // under @grammyjs/runner. Must come before anything that reads the session.
  root.use(sequentialize((ctx) => ctx.chat?.id.toString()));

  // Only private chats: groups and channels never reach an owner's data.
  const pm = root.chatType("private");
  pm.use(session({ initial: freshSession, storage: storeSessionAdapter(deps.store) }));
  pm.use(botI18n());
  const timeFrame = deps.rateLimit?.timeFrameMs ?? 10_000;
  const warned = floodNotice(timeFrame);
  pm.use(
    limit({
      // A person tapping toggles quickly stays well under this; a script flooding does not.
      timeFrame,
      limit: deps.rateLimit?.limit ?? 30,
      // Every update over the limit comes here: each button press is answered (or the owner's
      // client keeps spinning), while a flood of messages gets one notice per time frame.
      alwaysReply: true,
      onLimitExceeded: async (ctx) => {
        if (ctx.callbackQuery)
          await ctx.answerCallbackQuery({ text: ctx.t("rate-limited") }).catch(() => undefined);
        else if (warned(String(ctx.from?.id))) await ctx.reply(ctx.t("rate-limited")).catch(() => undefined);
      },
      keyGenerator: (ctx) => ctx.from?.id.toString(),
    }),
  );
  // The owner behind the chat; created on first contact.
  pm.use(async (ctx, next) => {
    if (!ctx.from) return;
    const language = ctx.session.lang ?? (ctx.from.language_code?.startsWith("zh") ? "zh" : "en");
    ctx.owner = await deps.store.ensureOwner({
      telegramUserId: ctx.from.id,
      chatId: ctx.chat.id,
      language,
      timezone: deps.defaults.timezone,
      jurisdiction: deps.defaults.jurisdiction,
      sandbox: deps.defaults.sandbox,
    });
    await next();
  });

  // Stop first: it owns `/start stop_<token>` and passes plain /start on to onboarding.
  pm.use(createStopFeature(deps));
  pm.use(createOnboarding(deps));
  pm.use(createStatusFeature(deps));
  pm.use(createAccountFeature(deps));
  pm.use(createInfoFeature(deps));
  pm.use(createFallbackFeature());
  // A button press outside a private chat (an inline message, a group) is still answered, so
  // the client stops its spinner; nothing else happens.
  root.on("callback_query", (ctx) => ctx.answerCallbackQuery().catch(() => undefined));
  return bot;
}

/**
 * True the first time a key floods within `timeFrameMs`: its one "very fast" notice. Wall-clock
 * time, as the rate limiter's own window: a flood is about now, not about the service's clock.
 */
function floodNotice(timeFrameMs: number): (key: string) => boolean {
  const last = new Map<string, number>();
  return (key) => {
    const now = performance.now();
    const at = last.get(key);
    if (at !== undefined && now - at < timeFrameMs) return false;
    if (last.size > 10_000) for (const [k, t] of last) if (now - t >= timeFrameMs) last.delete(k);
    last.set(key, now);
    return true;
  };
}

export const COMMANDS = [
  "start",
  "status",
  "edit",
  "stop",
  "report",
  "renewed",
  "export",
  "delete",
  "language",
  "privacy",
  "help",
];

/** Registers the command menu in English (default) and Chinese. */
export async function registerCommands(bot: Bot<BotContext>): Promise<void> {
  const i18n = botI18n();
  for (const lang of ["en", "zh"] as const) {
    const commands = COMMANDS.map((command) => ({ command, description: i18n.t(lang, `cmd-${command}`) }));
    await bot.api.setMyCommands(commands, lang === "en" ? {} : { language_code: lang });
  }
}
