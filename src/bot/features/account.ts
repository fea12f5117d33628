import { Composer, InlineKeyboard, InputFile, type SessionFlavor } from "grammy";
import type { BotContext } from "../context.js";
import type { BotDeps } from "../deps.js";
import { askRenewed } from "./intents.js";

/** /renewed, /export and /delete: what the owner can do with their whole record. */
export function createAccountFeature(deps: BotDeps) {
  const { owners, clock } = deps;
  const feature = new Composer<BotContext>();

  // Closing windows and telling every insurer to stop is asked once and done on the tap, so a
  // misread "I renewed" never closes anything by itself.
  feature.command("renewed", (ctx) => askRenewed(ctx));

  feature.callbackQuery(/^rn:(yes|no):([0-9a-f]+)$/, async (ctx) => {
    if (ctx.session.renewedAsked !== ctx.match[2] || !ctx.owner.phone) {
      await ctx.answerCallbackQuery({ text: ctx.t("outdated-button") });
      return;
    }
    ctx.session.renewedAsked = undefined;
    await ctx.answerCallbackQuery();
    await ctx.editMessageReplyMarkup().catch(() => undefined);
    if (ctx.match[1] !== "yes") {
      await ctx.reply(ctx.t("renewed-cancelled"));
      return;
    }
    const { changeset } = await owners.renewed(ctx.owner.id);
    const changed = changeset.closeWindows.length + changeset.optOuts.length > 0;
    await ctx.reply(ctx.t(changed ? "renewed-done" : "renewed-nothing"));
  });

  feature.command("export", async (ctx) => {
    const data = await owners.exportData(ctx.owner.id);
    const file = new InputFile(Buffer.from(JSON.stringify(data, null, 2)), "onewindow-export.json");
    await ctx.replyWithDocument(file, { caption: ctx.t("export-caption") });
  });

  feature.command("delete", async (ctx) => {
    const kb = new InlineKeyboard()
      .text(ctx.t("button-delete-yes"), "del:yes")
      .text(ctx.t("button-cancel"), "del:no");
    ctx.session.deleteAsked = true;
    await ctx.reply(ctx.t("delete-ask"), { reply_markup: kb });
  });

  feature.callbackQuery(/^del:(yes|no)$/, async (ctx) => {
    if (!ctx.session.deleteAsked) {
      await ctx.answerCallbackQuery({ text: ctx.t("outdated-button") });
      return;
    }
    ctx.session.deleteAsked = undefined;
    await ctx.answerCallbackQuery();
    await ctx.editMessageReplyMarkup().catch(() => undefined);
    if (ctx.match[1] !== "yes") {
      await ctx.reply(ctx.t("delete-cancelled"));
      return;
    }
    await owners.erase(ctx.owner.id);
    // Null makes grammY delete the stored session instead of writing a fresh one back: nothing
    // of the chat is left (the locale of this reply was already negotiated).
    const withSession: SessionFlavor<unknown> = ctx;
    withSession.session = null;
    const receiptsUntil = new Date(clock());
    receiptsUntil.setUTCFullYear(receiptsUntil.getUTCFullYear() + 5);
    await ctx.reply(ctx.t("deleted", { receiptsUntil: receiptsUntil.toISOString().slice(0, 10) }));
  });

  return feature;
}
