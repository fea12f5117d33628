import { Composer, InlineKeyboard } from "grammy";
import type { BotContext } from "../context.js";
import type { BotDeps } from "../deps.js";
import { replyReportHelp } from "./intents.js";

/** /language, /privacy, /help, and a polite word for anything else. */
export function createInfoFeature(deps: BotDeps) {
  const feature = new Composer<BotContext>();

  feature.command("language", async (ctx) => {
    const kb = new InlineKeyboard().text("English", "lang:en").text("中文", "lang:zh");
    await ctx.reply(ctx.t("language-ask"), { reply_markup: kb });
  });

  feature.callbackQuery(/^lang:(en|zh)$/, async (ctx) => {
    const language = ctx.match[1] === "zh" ? "zh" : "en";
    ctx.session.lang = language;
    ctx.owner = await deps.store.updateOwnerProfile(ctx.owner.id, { language });
    ctx.i18n.useLocale(language);
    await ctx.answerCallbackQuery();
    await ctx.editMessageReplyMarkup().catch(() => undefined);
    await ctx.reply(ctx.t("language-set"));
  });

  feature.command("privacy", (ctx) => ctx.reply(ctx.t("privacy")));
  feature.command("help", (ctx) => ctx.reply(ctx.t("help")));
  // Until reports can be filed (a later issue), /report says what to note down and where to complain.
  feature.command("report", (ctx) => replyReportHelp(ctx));

  return feature;
}

/** Last in the chain: stickers, photos, unknown commands, stale buttons. Never a crash. */
export function createFallbackFeature() {
  const feature = new Composer<BotContext>();
  feature.on("callback_query", (ctx) => ctx.answerCallbackQuery());
  feature.on("message", (ctx) => ctx.reply(ctx.t("unsupported")));
  return feature;
}
