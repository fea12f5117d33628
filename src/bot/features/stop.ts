import { Composer, InlineKeyboard } from "grammy";
import { activeOptOut } from "../../domain/plans.js";
import type { BotContext } from "../context.js";
import type { BotDeps } from "../deps.js";
import { chatDirectory, chatInsurerName } from "../directory.js";
import { formatLocal } from "../format.js";
import { consentMarkOf } from "./intents.js";

/**
 * /stop (one button per insurer, and everyone) and the one-tap deep link
 * `/start stop_<token>` carried by a window's optOutLink.
 */
export function createStopFeature(deps: BotDeps) {
  const { store, owners, clock } = deps;
  const feature = new Composer<BotContext>();

  async function stopOne(ctx: BotContext, insurerId: string) {
    const { state } = await owners.stop(ctx.owner.id, { insurerId }, "owner_request");
    const after = await store.getOwnerState(state.owner.id);
    const optOut = activeOptOut(after, insurerId, clock(), after.owner.phoneHash);
    const name = await chatInsurerName(ctx, deps, insurerId);
    await ctx.reply(
      optOut?.until
        ? ctx.t("stopped", {
            insurer: name,
            until: formatLocal(optOut.until, after.owner.timezone).slice(0, 10),
          })
        : ctx.t("stopped-forever", { insurer: name }),
    );
  }

  feature.command("start", async (ctx, next) => {
    const payload = ctx.match;
    if (!payload.startsWith("stop_")) return next();
    const window = await store.findWindowByStopToken(payload.slice("stop_".length));
    // Someone else's link answers exactly like a stale one.
    if (!window || window.ownerId !== ctx.owner.id) {
      await ctx.reply(ctx.t("stop-link-invalid"));
      return;
    }
    await stopOne(ctx, window.insurerId);
  });

  feature.command("stop", async (ctx) => {
    if (!ctx.owner.phone) {
      await ctx.reply(ctx.t("status-none"));
      return;
    }
    const state = await store.getOwnerState(ctx.owner.id);
    const now = clock();
    const open = (await chatDirectory(ctx, deps)).filter(
      (i) => !activeOptOut(state, i.id, now, state.owner.phoneHash),
    );
    if (open.length === 0) {
      await ctx.reply(ctx.t("stop-nothing"));
      return;
    }
    const kb = new InlineKeyboard();
    for (const insurer of open) kb.text(`🛑 ${insurer.name}`, `stop:${insurer.id}`).row();
    kb.text(ctx.t("button-stop-everyone"), "stop:all");
    await ctx.reply(ctx.t("stop-ask"), { reply_markup: kb });
  });

  // "stop:<id>" from /stop; "stop:<id>:<mark>" offered from a message, valid only under the
  // consent it was offered under (consentMarkOf), so it never revokes a window agreed later.
  feature.callbackQuery(/^stop:([^:]+)(?::([0-9a-f]+))?$/, async (ctx) => {
    const [, target = "", mark] = ctx.match;
    if (mark !== undefined) {
      const consent = (await store.getOwnerState(ctx.owner.id)).consent;
      if (consentMarkOf(consent?.id) !== mark) {
        await ctx.answerCallbackQuery({ text: ctx.t("outdated-button") });
        return;
      }
    }
    await ctx.answerCallbackQuery();
    await ctx.editMessageReplyMarkup().catch(() => undefined);
    if (!ctx.owner.phone) {
      await ctx.reply(ctx.t("status-none"));
      return;
    }
    if (target === "all") {
      await owners.stop(ctx.owner.id, "all", "owner_request");
      await ctx.reply(ctx.t("stopped-all"));
      return;
    }
    // Only an insurer of the owner's own directory (a sandbox owner never reaches a real one).
    if (!(await owners.directoryFor(ctx.owner)).some((i) => i.id === target)) return;
    await stopOne(ctx, target);
  });

  return feature;
}
