/** The `ob:` buttons: each answers only its own step (FLOW); any other is an old button. */
import type { CallbackQueryContext } from "grammy";
import type { PreferencePatch } from "../../../domain/preferences.js";
import { isTimeZone } from "../../../nlu/rules/places.js";
import type { BotContext } from "../../context.js";
import {
  changeKeyboard,
  channelsKeyboard,
  daysKeyboard,
  EDITABLE_FIELDS,
  type EditableField,
  hourPresets,
  hoursKeyboard,
  insurersKeyboard,
} from "../../keyboards.js";
import { BUTTON_STEP, initialPick } from "./flow.js";
import type { OnboardingKit } from "./kit.js";

export function createButtonHandler(kit: OnboardingKit) {
  return async (ctx: CallbackQueryContext<BotContext>) => {
    const [, action = "", value = ""] = ctx.match as RegExpMatchArray;
    const step = ctx.session.step;
    // A button answers only its own step; "one" (which of several insurers a name meant)
    // answers whatever step is open.
    const offered = action === "one" && (ctx.session.oneOf ?? []).includes(value);
    const owner =
      action === "one" ? (offered && step !== "idle" ? step : undefined) : BUTTON_STEP.get(action);
    if (owner !== step) {
      await ctx.answerCallbackQuery({ text: ctx.t("outdated-button") });
      return;
    }
    ctx.session.pick ??= initialPick(ctx.session.draft, step);
    const pick = ctx.session.pick;
    const toggle = (v: string) => {
      ctx.session.pick = pick.includes(v) ? pick.filter((x) => x !== v) : [...pick, v];
    };
    const refresh = async () => {
      const t = ctx.t;
      const p = ctx.session.pick ?? [];
      const markup =
        step === "insurers"
          ? insurersKeyboard(t, await kit.choosableOf(ctx), p)
          : step === "channels"
            ? channelsKeyboard(t, p, ctx.session.draft.refusedChannels ?? [])
            : step === "days"
              ? daysKeyboard(t, p)
              : hoursKeyboard(t, kit.packOf(ctx), p);
      await ctx.editMessageReplyMarkup({ reply_markup: markup }).catch(() => undefined);
    };
    const done = async (patch: PreferencePatch | undefined) => {
      await ctx.editMessageReplyMarkup().catch(() => undefined);
      if (!patch) {
        await ctx.reply(ctx.t("pick-at-least-one"));
        return kit.ask(ctx, step);
      }
      return kit.applyAndAdvance(ctx, patch, false);
    };
    await ctx.answerCallbackQuery();

    switch (action) {
      case "tz": {
        await ctx.editMessageReplyMarkup().catch(() => undefined);
        // Any real zone is the owner's to pick (DESIGN §7); anything else is asked again.
        if (!isTimeZone(value)) return kit.ask(ctx, step);
        return kit.setZone(ctx, value);
      }
      case "rules": {
        await ctx.editMessageReplyMarkup().catch(() => undefined);
        const code = kit.rulesOf(ctx).find((c) => c === value);
        if (!code) return kit.ask(ctx, step);
        return kit.setRules(ctx, code);
      }
      case "name": {
        if (await kit.isOldSummary(ctx)) return;
        // Share the name, or not: the summary is shown again with the choice.
        ctx.session.draft = { ...ctx.session.draft, shareName: ctx.session.draft.shareName !== true };
        if (!ctx.session.draft.shareName) delete ctx.session.draft.shareName;
        return kit.showSummary(ctx);
      }
      case "vehicle":
        ctx.session.vehicleAsked = true;
        await ctx.editMessageReplyMarkup().catch(() => undefined);
        return kit.advance(ctx);
      case "ins":
      case "ch":
      case "day":
      case "hr":
        toggle(value);
        return refresh();
      case "days":
        ctx.session.pick =
          value === "weekdays"
            ? ["mon", "tue", "wed", "thu", "fri"]
            : value === "weekends"
              ? ["sat", "sun"]
              : ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        return refresh();
      case "ins-nobody":
        return done({ nobody: true });
      case "ins-done":
        return done(pick.length ? { insurers: pick } : undefined);
      case "ch-done":
        return done(pick.length ? ({ channels: pick } as PreferencePatch) : undefined);
      case "days-done":
        return done(pick.length ? ({ days: pick } as PreferencePatch) : undefined);
      case "hr-done": {
        const presets = hourPresets(kit.packOf(ctx));
        const hours = pick.flatMap((name) => (presets[name] ? [presets[name]] : []));
        return done(hours.length ? { hours } : undefined);
      }
      case "db":
        await ctx.editMessageReplyMarkup().catch(() => undefined);
        return kit.applyAndAdvance(ctx, { daysBefore: Number(value) }, false);
      case "att":
        await ctx.editMessageReplyMarkup().catch(() => undefined);
        return kit.applyAndAdvance(ctx, { maxAttempts: Number(value) }, false);
      case "change":
        await ctx.editMessageReplyMarkup().catch(() => undefined);
        ctx.session.editing = true;
        ctx.session.summaryMessageId = undefined;
        await ctx.reply(ctx.t("ask-change"), {
          reply_markup: changeKeyboard(ctx.t, ctx.session.draft.nobody === true),
        });
        return;
      case "edit": {
        if (value === "timezone") {
          ctx.session.zoneAsked = undefined;
          ctx.session.rulesAsked = undefined;
          ctx.session.step = "timezone";
          await ctx.editMessageReplyMarkup().catch(() => undefined);
          return kit.ask(ctx, "timezone");
        }
        if (!(EDITABLE_FIELDS as readonly string[]).includes(value)) return;
        const field = value as EditableField;
        const draft = { ...ctx.session.draft };
        delete draft[field];
        if (field === "insurers") delete draft.nobody;
        ctx.session.draft = draft;
        ctx.session.step = field;
        ctx.session.pick = undefined;
        await ctx.editMessageReplyMarkup().catch(() => undefined);
        return kit.ask(ctx, field);
      }
      case "agree":
        if (await kit.isOldSummary(ctx)) return;
        return kit.agree(ctx);
      case "one": {
        await ctx.editMessageReplyMarkup().catch(() => undefined);
        ctx.session.oneOf = undefined;
        if (!(await kit.choosableOf(ctx)).some((i) => i.id === value)) return kit.ask(ctx, step);
        // The one meant joins the insurers already chosen ("Ping An and Acme" → which Acme?).
        const insurers = [...new Set([...(ctx.session.draft.insurers ?? []), value])];
        return kit.applyAndAdvance(ctx, { insurers }, true);
      }
    }
  };
}
