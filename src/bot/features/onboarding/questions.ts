/**
 * Asking: which question is open (the first in FLOW order), how it is asked, and what an answer
 * does — a patch applied and echoed, the car saved, an aside answered without changing anything.
 */
import { InlineKeyboard } from "grammy";
import { applyPatch } from "../../../domain/draft.js";
import { packFor } from "../../../domain/policy-packs.js";
import type { PreferencePatch, Preferences } from "../../../domain/preferences.js";
import { localDateOf } from "../../../domain/time.js";
import type { AmbiguousName, Reading } from "../../../nlu/reading.js";
import { type BotContext, STEPS, type Step } from "../../context.js";
import type { BotDeps } from "../../deps.js";
import { chatDirectory } from "../../directory.js";
import { formatZone } from "../../format.js";
import {
  changeKeyboard,
  channelsKeyboard,
  contactKeyboard,
  daysKeyboard,
  hoursKeyboard,
  insurersKeyboard,
  numberKeyboard,
  skipKeyboard,
  zonesKeyboard,
} from "../../keyboards.js";
import { answerIntent, replyOther } from "../intents.js";
import { FLOW, type FlowEnv, initialPick, PHONE_LIKE } from "./flow.js";
import type { OnboardingKit } from "./kit.js";
import { describePatch, nameOfId, renderNote } from "./words.js";

export function createQuestions(
  deps: BotDeps,
  kit: OnboardingKit,
): Pick<
  OnboardingKit,
  | "packOf"
  | "directoryOf"
  | "choosableOf"
  | "todayOf"
  | "nextStep"
  | "advance"
  | "ask"
  | "applyAndAdvance"
  | "saveVehicle"
  | "answerAside"
  | "startFromConsent"
> {
  const { store, clock } = deps;
  const packOf = (ctx: BotContext) => packFor(ctx.owner.jurisdiction);
  const directoryOf = (ctx: BotContext) => chatDirectory(ctx, deps);
  const choosableOf = async (ctx: BotContext) => (await directoryOf(ctx)).filter((i) => i.choosable);
  const todayOf = (ctx: BotContext) => localDateOf(clock(), ctx.owner.timezone);

  /** The first question still open, in the order of the flow. */
  function nextStep(ctx: BotContext): Step {
    const env: FlowEnv = { zones: kit.zonesOf(ctx), rules: ctx.owner.phone ? kit.rulesOf(ctx) : [] };
    return STEPS.find((step) => FLOW[step].open(ctx, env)) ?? "summary";
  }

  async function advance(ctx: BotContext) {
    ctx.session.step = kit.nextStep(ctx);
    ctx.session.pick = undefined;
    await kit.ask(ctx, ctx.session.step);
  }

  /** Sends the question for a step, with its buttons. */
  async function ask(ctx: BotContext, step: Step): Promise<void> {
    const t = ctx.t;
    const pack = kit.packOf(ctx);
    ctx.session.pick ??= initialPick(ctx.session.draft, step);
    const pick = ctx.session.pick;
    switch (step) {
      case "phone":
        await ctx.reply(t("ask-phone"), { reply_markup: contactKeyboard(t) });
        return;
      case "timezone": {
        const at = clock();
        await ctx.reply(t("ask-timezone", { zone: formatZone(t, ctx.owner.timezone, at) }), {
          reply_markup: zonesKeyboard(kit.zonesOf(ctx), (zone) => formatZone(t, zone, at)),
        });
        return;
      }
      case "rules": {
        const [byPhone, byHome] = kit.rulesOf(ctx);
        const kb = new InlineKeyboard();
        if (byPhone)
          kb.text(
            t("button-rules-phone", { rules: t(`rules-name-${byPhone}`) }),
            `ob:rules:${byPhone}`,
          ).row();
        if (byHome)
          kb.text(t("button-rules-home", { rules: t(`rules-name-${byHome}`) }), `ob:rules:${byHome}`);
        if (!byPhone || !byHome) return kit.advance(ctx);
        await ctx.reply(
          t("ask-rules", { phoneRules: t(`rules-${byPhone}`), homeRules: t(`rules-${byHome}`) }),
          {
            reply_markup: kb,
          },
        );
        return;
      }
      case "vehicle":
        await ctx.reply(t("ask-vehicle"), { reply_markup: skipKeyboard(t) });
        return;
      case "renewalDate":
        await ctx.reply(t("ask-renewal"));
        return;
      case "insurers":
        await ctx.reply(t("ask-insurers"), {
          reply_markup: insurersKeyboard(t, await kit.choosableOf(ctx), pick),
        });
        return;
      case "channels":
        await ctx.reply(t("ask-channels"), {
          reply_markup: channelsKeyboard(t, pick, ctx.session.draft.refusedChannels ?? []),
        });
        return;
      case "days":
        await ctx.reply(t("ask-days"), { reply_markup: daysKeyboard(t, pick) });
        return;
      case "hours":
        await ctx.reply(t("ask-hours", pack.callingHours.value), {
          reply_markup: hoursKeyboard(t, pack, pick),
        });
        return;
      case "daysBefore": {
        const max = pack.maxDaysBefore.value;
        const options = [...new Set([7, 14, 30, max].filter((n) => n <= max))].sort((a, b) => a - b);
        await ctx.reply(t("ask-days-before", { max }), {
          reply_markup: numberKeyboard("db", options, (n) => t("days-count", { n })),
        });
        return;
      }
      case "maxAttempts":
        await ctx.reply(t("ask-attempts"), {
          reply_markup: numberKeyboard(
            "att",
            [1, 2, 3, 5].filter((n) => n <= pack.maxAttemptsTotal.value),
            String,
          ),
        });
        return;
      case "summary":
        await kit.showSummary(ctx);
        return;
      case "idle":
        return;
    }
  }

  /**
   * Applies a patch (from text or a button), tells what was understood, moves on. Names that
   * fit several insurers are asked about, one button per insurer they fit.
   */
  async function applyAndAdvance(
    ctx: BotContext,
    patch: PreferencePatch,
    echo: boolean,
    ambiguous?: readonly AmbiguousName[],
  ) {
    const directory = await kit.directoryOf(ctx);
    const { draft, notes } = applyPatch(ctx.session.draft, patch, {
      today: kit.todayOf(ctx),
      pack: kit.packOf(ctx),
      directory,
    });
    ctx.session.draft = draft;
    if (ctx.session.step === "vehicle") ctx.session.vehicleAsked = true;
    const messages: string[] = [];
    if (echo) {
      const nameOf = (id: string) => nameOfId(directory, id);
      const what = describePatch(ctx, patch, draft, nameOf);
      if (what) messages.push(ctx.t("understood", { what }));
    }
    messages.push(...notes.map((n) => renderNote(ctx, n)));
    if (messages.length > 0) await ctx.reply(messages.join("\n"));
    for (const name of ambiguous ?? []) {
      // Only insurers that can be chosen are offered (a name may also fit one without a contact line).
      const candidates = name.candidates.filter((id) => directory.some((i) => i.id === id && i.choosable));
      if (candidates.length === 0) continue;
      const kb = new InlineKeyboard();
      for (const id of candidates) kb.text(nameOfId(directory, id), `ob:one:${id}`).row();
      ctx.session.oneOf = [...new Set([...(ctx.session.oneOf ?? []), ...candidates])];
      await ctx.reply(ctx.t("ambiguous-insurer", { name: name.text }), { reply_markup: kb });
    }
    await kit.advance(ctx);
  }

  /** The car, typed at its question; never a phone number (it goes to the chosen insurer). */
  async function saveVehicle(ctx: BotContext, text: string) {
    if (PHONE_LIKE.test(text)) {
      await ctx.reply(ctx.t("not-understood", { example: ctx.t("example-vehicle") }), {
        reply_markup: skipKeyboard(ctx.t),
      });
      return;
    }
    const vehicle = text.trim().slice(0, 64);
    ctx.owner = await store.updateOwnerProfile(ctx.owner.id, { vehicle });
    ctx.session.vehicleAsked = true;
    await ctx.reply(ctx.t("vehicle-saved", { vehicle }));
    return kit.advance(ctx);
  }

  /**
   * A report, a stop, a renewal, a question or thanks: answered, and the draft, the summary
   * and any consent stay as they were. Mid-flow, the open question is asked again (the summary
   * above keeps its buttons, so it is only pointed at).
   */
  async function answerAside(ctx: BotContext, reading: Reading) {
    const step = ctx.session.step;
    if (reading.intent === "other") {
      const consent = step === "idle" ? (await store.getOwnerState(ctx.owner.id)).consent : undefined;
      await replyOther(ctx, consent !== undefined);
    } else await answerIntent(ctx, reading, deps);
    if (step === "summary" && ctx.session.editing && ctx.session.summaryMessageId === undefined)
      await ctx.reply(ctx.t("ask-change"), {
        reply_markup: changeKeyboard(ctx.t, ctx.session.draft.nobody === true),
      });
    else if (step === "summary") await ctx.reply(ctx.t("summary-unchanged"));
    else if (step !== "idle") await kit.ask(ctx, step);
  }

  /** The draft of a change after "I agree": what was agreed, to change and agree again. */
  function startFromConsent(ctx: BotContext, p: Preferences) {
    ctx.session.draft = p.insurers.length === 0 ? { renewalDate: p.renewalDate, nobody: true } : { ...p };
    ctx.session.vehicleAsked = true;
    ctx.session.editing = true;
    ctx.session.pick = undefined;
  }

  return {
    packOf,
    directoryOf,
    choosableOf,
    todayOf,
    nextStep,
    advance,
    ask,
    applyAndAdvance,
    saveVehicle,
    answerAside,
    startFromConsent,
  };
}
