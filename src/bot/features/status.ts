import { Composer } from "grammy";
import type { ContactWindow, OptOut } from "../../domain/model.js";
import { activeOptOut } from "../../domain/plans.js";
import { windowStatus } from "../../domain/window-plan.js";
import type { BotContext } from "../context.js";
import type { BotDeps } from "../deps.js";
import { formatCode, formatLocal } from "../format.js";

/** /status: per insurer, its window or opt-out, and whether the notice arrived. */
export function createStatusFeature(deps: BotDeps) {
  const feature = new Composer<BotContext>();
  feature.command("status", async (ctx) => {
    const t = ctx.t;
    const state = await deps.store.getOwnerState(ctx.owner.id);
    const now = deps.clock();
    if (!state.consent && state.optOuts.length === 0) {
      await ctx.reply(t("status-none"));
      return;
    }
    const tz = state.owner.timezone;
    const directory = await deps.owners.directoryFor(state.owner);
    const delivery = (item: ContactWindow | OptOut) =>
      item.acknowledgedAt
        ? t("status-delivery-acknowledged", { at: formatLocal(item.acknowledgedAt, tz) })
        : "deliveredAt" in item && item.deliveredAt
          ? t("status-delivery-delivered")
          : "";
    const lines: string[] = [];
    if (state.consent) lines.push(t("status-title", { date: state.consent.preferences.renewalDate }), "");
    for (const insurer of directory) {
      const window = state.windows.filter((w) => w.insurerId === insurer.id && !w.revokedAt).at(-1);
      const optOut = activeOptOut(state, insurer.id, now);
      if (window && !optOut) {
        lines.push(
          t("status-window", {
            insurer: insurer.name,
            state: t(`window-state-${windowStatus(window, now)}`),
            opens: formatLocal(window.opensAt, tz),
            closes: formatLocal(window.closesAt, tz),
            code: formatCode(window.verificationCode),
            used: window.attemptsUsed,
            max: window.maxAttempts,
            delivery: delivery(window),
          }),
        );
      } else if (optOut) {
        const vars = {
          insurer: insurer.name,
          reason: t(`reason-${optOut.reason}`),
          delivery: delivery(optOut),
        };
        lines.push(
          optOut.until
            ? t("status-optout", { ...vars, until: formatLocal(optOut.until, tz).slice(0, 10) })
            : t("status-optout-forever", vars),
        );
      }
    }
    await ctx.reply(lines.join("\n"));
  });
  return feature;
}
