/**
 * Onboarding: phone → vehicle → renewal date → who → how → summary → "I agree", as one table
 * ({@link FLOW}): each step says when it is still open, which buttons answer it, and how it is
 * asked. Every question takes buttons or free text. Free text is first read for its intent
 * (DESIGN §8): only a statement of preferences fills the draft (one message may settle several
 * questions, which are then skipped); a report, a stop, a renewal, a question or thanks is
 * answered and changes nothing. After "I agree", a change of preferences goes back through
 * the summary.
 */
import { Composer } from "grammy";
import type { BotContext } from "../../context.js";
import type { BotDeps } from "../../deps.js";
import { formatList } from "../../format.js";
import { changeKeyboard } from "../../keyboards.js";
import { verifyContact } from "../contact.js";
import { createButtonHandler } from "./buttons.js";
import { keepZoneUnlessMoved } from "./flow.js";
import type { OnboardingKit } from "./kit.js";
import { createQuestions } from "./questions.js";
import { createSummary } from "./summary.js";
import { createTextHandler } from "./text.js";
import { createWhere } from "./where.js";
import { nameOfId } from "./words.js";

export { FLOW } from "./flow.js";

export function createOnboarding(deps: BotDeps) {
  const { store } = deps;
  const feature = new Composer<BotContext>();
  const kit = {} as OnboardingKit;
  Object.assign(kit, createQuestions(deps, kit), createWhere(deps, kit), createSummary(deps, kit));

  feature.command("start", async (ctx) => {
    const consent = (await store.getOwnerState(ctx.owner.id)).consent;
    if (consent && ctx.session.step === "idle") {
      await ctx.reply(ctx.t("welcome-back"));
      return;
    }
    if (ctx.session.step === "idle") {
      await ctx.reply(ctx.t("welcome"));
      return kit.advance(ctx);
    }
    // Mid-flow: re-ask the open question (a restart or a lost message resumes here).
    await kit.ask(ctx, ctx.session.step);
  });

  feature.command("edit", async (ctx) => {
    const consent = (await store.getOwnerState(ctx.owner.id)).consent;
    if (!consent) {
      await ctx.reply(ctx.t("welcome"));
      return kit.advance(ctx);
    }
    const p = consent.preferences;
    ctx.session.draft = p.insurers.length === 0 ? { renewalDate: p.renewalDate, nobody: true } : { ...p };
    ctx.session.vehicleAsked = true;
    ctx.session.editing = true;
    ctx.session.step = "summary";
    ctx.session.summaryMessageId = undefined;
    await ctx.reply(ctx.t("ask-change"), { reply_markup: changeKeyboard(ctx.t, p.insurers.length === 0) });
  });

  feature.on("message:contact", async (ctx) => {
    const firstNumber = !ctx.owner.phone;
    const result = await verifyContact(ctx, deps);
    if (!result) return;
    keepZoneUnlessMoved(ctx, result.countryChanged, firstNumber);
    if (result.revokedInsurers.length > 0) {
      // The windows named the old number: say so, and offer what was agreed for the new one,
      // unless a flow in progress leads to the summary anyway.
      const directory = await kit.directoryOf(ctx);
      const names = result.revokedInsurers.map((id) => nameOfId(directory, id));
      await ctx.reply(ctx.t("phone-changed-reagree", { insurers: formatList(ctx.t, names) }));
      const consent = (await store.getOwnerState(ctx.owner.id)).consent;
      if (consent && (ctx.session.step === "phone" || ctx.session.step === "idle")) {
        const p = consent.preferences;
        ctx.session.draft = p.insurers.length === 0 ? { renewalDate: p.renewalDate, nobody: true } : { ...p };
        ctx.session.vehicleAsked = true;
        ctx.session.editing = true;
      }
    } else if (result.optOutsFiled) {
      await ctx.reply(ctx.t("phone-changed-optouts"));
    }
    if (ctx.session.step === "phone" || ctx.session.step === "idle") return kit.advance(ctx);
    await kit.ask(ctx, ctx.session.step);
  });

  feature.on("message:text", createTextHandler(deps, kit));
  feature.callbackQuery(/^ob:([a-z-]+)(?::(.+))?$/i, createButtonHandler(kit));
  return feature;
}
