/**
 * Free text at any step (DESIGN §8): what a step reads itself first (a typed number, a city),
 * then the message's intent — only a statement of preferences fills the draft.
 */
import type { Filter, NextFunction } from "grammy";
import { applyPatch, missingFields } from "../../../domain/draft.js";
import { maskPhone, normalisePhone } from "../../../domain/phone.js";
import { matchZone } from "../../../domain/zones.js";
import { isSocial } from "../../../nlu/rules/intent.js";
import { findPlace, readPlace } from "../../../nlu/rules/places.js";
import { looksLikeVehicle } from "../../../nlu/rules/vehicle.js";
import { suggestInsurers } from "../../../nlu/suggest.js";
import type { BotContext } from "../../context.js";
import type { BotDeps } from "../../deps.js";
import { languageOf } from "../../format.js";
import { contactKeyboard } from "../../keyboards.js";
import { numberCountryChanged, profileForNumber } from "../contact.js";
import { FLOW, keepZoneUnlessMoved, WHOLE_PHONE } from "./flow.js";
import type { OnboardingKit } from "./kit.js";

export function createTextHandler(deps: BotDeps, kit: OnboardingKit) {
  const { store, owners, extractor } = deps;
  return async (ctx: Filter<BotContext, "message:text">, next: NextFunction) => {
    if (ctx.message.text.startsWith("/")) return next();
    const text = ctx.message.text;
    const step = ctx.session.step;

    // What a step reads itself, before the language understanding: a typed number, a city.
    // Only a message that is a number is the owner's number ("PICC called me from 139…" is not).
    if ((step === "phone" || step === "idle") && WHOLE_PHONE.test(text)) {
      const typed = normalisePhone(text, ctx.owner.country ?? undefined);
      // A typed number never replaces a verified one (planPhoneChange refuses it too).
      if (typed && !ctx.owner.phoneVerified) {
        const profile = profileForNumber(ctx, deps, typed.country);
        keepZoneUnlessMoved(ctx, numberCountryChanged(ctx, typed.country), !ctx.owner.phone);
        const changed = await owners.changePhone(ctx.owner.id, {
          phone: typed.e164,
          phoneVerified: false,
          ...profile,
        });
        ctx.owner = changed.owner;
        await ctx.reply(ctx.t("phone-typed", { phone: maskPhone(typed.e164) }));
        if (changed.optOuts.length > 0) await ctx.reply(ctx.t("phone-changed-optouts"));
        return kit.advance(ctx);
      }
    }
    // The answer to "where do you live?": a city offered, any city, or an IANA zone. What the
    // message says besides ("Beijing, renewal on 31 July") is read below like any answer.
    const answeredZone =
      step === "timezone"
        ? (matchZone(text, kit.zonesOf(ctx)) ?? (findPlace(text) ?? readPlace(text))?.zone)
        : undefined;

    const reading = await extractor.read({
      text,
      lang: languageOf(ctx.t),
      today: kit.todayOf(ctx),
      directory: await kit.directoryOf(ctx),
    });

    if (answeredZone) {
      await kit.saveZone(ctx, answeredZone);
      if (reading.intent === "preferences" && Object.keys(reading.patch).length > 0)
        return kit.applyAndAdvance(ctx, reading.patch, true, reading.ambiguous);
      return kit.advance(ctx);
    }

    // "I live in Beijing", "我在上海", at any step: where the owner lives, whatever the phone's
    // country — only from a message that states something, never from a report or a question.
    // Before a number is shared too: the contact then keeps it (session.zoneAsked).
    let zoneBefore: string | undefined;
    if (reading.intent === "preferences" || reading.intent === "other") {
      const place = readPlace(text);
      // The zone already on file is news only when it was never stated ("I live in Beijing"
      // before sharing a number settles it; later, the same place again changes nothing).
      if (place && (place.zone !== ctx.owner.timezone || !ctx.session.zoneAsked)) {
        if (reading.intent === "preferences" && Object.keys(reading.patch).length > 0) {
          zoneBefore = await kit.saveZone(ctx, place.zone);
        } else if (step === "phone") {
          await kit.saveZone(ctx, place.zone);
          return kit.ask(ctx, "phone");
        } else {
          return kit.setZone(ctx, place.zone);
        }
      }
    }

    // At the car question, words that are nothing else are the car.
    // (A sentence about the owner — "I'm in a meeting" — is no car: the question is asked again.)
    if (step === "vehicle" && reading.intent === "other" && !isSocial(text) && looksLikeVehicle(text))
      return kit.saveVehicle(ctx, text);
    // Mid-flow, words that are no answer get the question again with an example (below);
    // thanks and greetings get a short word first.
    const unanswered = reading.intent === "other" && step !== "idle" && !isSocial(text);
    if (reading.intent !== "preferences" && !unanswered) return kit.answerAside(ctx, reading);

    const patch = unanswered ? {} : reading.patch;
    const settled = Object.keys(patch).length > 0;
    if (step === "idle") {
      const consent = (await store.getOwnerState(ctx.owner.id)).consent;
      if (consent) {
        if (!settled) return kit.answerAside(ctx, { intent: "other", patch: {} });
        // A change after "I agree" starts from what was agreed and ends at the summary: nothing
        // changes until "I agree" is tapped again.
        kit.startFromConsent(ctx, consent.preferences);
        const before = JSON.stringify(ctx.session.draft);
        const { draft } = applyPatch(ctx.session.draft, patch, {
          today: kit.todayOf(ctx),
          pack: kit.packOf(ctx),
          directory: await kit.directoryOf(ctx),
        });
        if (JSON.stringify(draft) === before && !reading.ambiguous) {
          // "31 July" again: nothing to agree to anew, unless the same message moved the owner.
          ctx.session.step = "idle";
          ctx.session.draft = {};
          ctx.session.editing = undefined;
          if (zoneBefore !== undefined) return kit.reviewConsent(ctx, consent, zoneBefore);
          await ctx.reply(ctx.t("change-none"));
          return;
        }
        if (missingFields(draft).length === 0) await ctx.reply(ctx.t("change-needs-agree"));
        return kit.applyAndAdvance(ctx, patch, true, reading.ambiguous);
      }
      if (!settled) {
        await ctx.reply(ctx.t("help"));
        return;
      }
      await ctx.reply(ctx.t("welcome"));
    }
    if (step === "vehicle" && !settled && looksLikeVehicle(text)) return kit.saveVehicle(ctx, text);
    if (settled || reading.ambiguous) return kit.applyAndAdvance(ctx, patch, true, reading.ambiguous);

    // Nothing settled: say so with an example and ask the same question again.
    if (step === "phone") {
      await ctx.reply(ctx.t("phone-bad"), { reply_markup: contactKeyboard(ctx.t) });
      return;
    }
    if (step === "renewalDate") {
      await ctx.reply(ctx.t("renewal-bad"));
      return;
    }
    if (step === "timezone") {
      await ctx.reply(ctx.t("timezone-bad"));
      return kit.ask(ctx, step);
    }
    if (step === "rules") return kit.ask(ctx, step);
    if (step === "insurers") {
      const suggestions = suggestInsurers(text, await kit.choosableOf(ctx));
      const kb = suggestions.map((s: { id: string; name: string }) => [
        { text: s.name, callback_data: `ob:ins:${s.id}` },
      ]);
      await ctx.reply(
        suggestions.length > 0
          ? `${ctx.t("insurers-unknown")} ${ctx.t("insurers-did-you-mean")}`
          : ctx.t("insurers-unknown"),
        suggestions.length > 0 ? { reply_markup: { inline_keyboard: kb } } : {},
      );
      return kit.ask(ctx, step);
    }
    const example = step === "idle" ? undefined : FLOW[step].example;
    await ctx.reply(ctx.t("not-understood", { example: example ? ctx.t(example) : "" }));
    return kit.ask(ctx, step);
  };
}
