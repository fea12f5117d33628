/**
 * Where the owner lives and whose rules apply (DESIGN §7): the zones and packs to offer, a zone
 * or pack kept, and what a change means for the draft and for a consent on file.
 */
import { applyPatch, type DraftNote } from "../../../domain/draft.js";
import type { Consent, JurisdictionCode } from "../../../domain/model.js";
import { jurisdictionForCountry, packOfCountry } from "../../../domain/policy-packs.js";
import { offsetMinutes, zoneChoices } from "../../../domain/zones.js";
import { countryOfZone } from "../../../nlu/rules/places.js";
import type { BotContext } from "../../context.js";
import type { BotDeps } from "../../deps.js";
import { formatZone, formatZoneName } from "../../format.js";
import { draftAsPatch } from "./flow.js";
import type { OnboardingKit } from "./kit.js";
import { renderNote } from "./words.js";

export function createWhere(
  deps: BotDeps,
  kit: OnboardingKit,
): Pick<
  OnboardingKit,
  | "zonesOf"
  | "rulesOf"
  | "saveZone"
  | "setZone"
  | "reviewConsent"
  | "setRules"
  | "applyRules"
  | "recheckDraft"
> {
  const { store, clock } = deps;

  /**
   * The zones to offer: one per clock of the phone's country, plus the service's own zone for
   * a number from abroad (a +1 owner may live in Beijing) and the owner's current zone. One
   * zone means there is nothing to ask, unless the owner asks to change it.
   */
  function zonesOf(ctx: BotContext): string[] {
    const at = clock();
    const country = ctx.owner.country;
    const zones = country ? zoneChoices(country, at.getUTCFullYear()) : [];
    const home = deps.defaults.timezone;
    const sameClock = (a: string, b: string) =>
      a === b || (offsetMinutes(a, at) === offsetMinutes(b, at) && countryOfZone(a) === countryOfZone(b));
    for (const extra of [country && countryOfZone(home) !== country ? home : undefined, ctx.owner.timezone]) {
      if (extra && !zones.some((z) => sameClock(z, extra))) zones.push(extra);
    }
    return zones;
  }

  /**
   * Whose rules may apply: the pack of the number's country first (the default), then the
   * pack of where the owner lives, when that is another.
   */
  function rulesOf(ctx: BotContext): JurisdictionCode[] {
    const byPhone = jurisdictionForCountry(ctx.owner.country ?? undefined, deps.defaults.jurisdiction);
    // A country without a pack of its own offers no second option (it is not "China").
    const home = countryOfZone(ctx.owner.timezone);
    const byHome = home ? packOfCountry(home) : undefined;
    return byHome === undefined || byPhone === byHome ? [byPhone] : [byPhone, byHome];
  }

  /**
   * Keeps where the owner lives, says so, and settles whose rules apply when only one pack
   * can (a +1 owner on China's rules who moves to Los Angeles is on US rules again); when two
   * can, the rules question is open again. Returns the zone the owner had before.
   */
  async function saveZone(ctx: BotContext, zone: string): Promise<string> {
    const before = ctx.owner.timezone;
    ctx.owner = await store.updateOwnerProfile(ctx.owner.id, { timezone: zone });
    ctx.session.zoneAsked = true;
    ctx.session.rulesAsked = undefined;
    const t = ctx.t;
    await ctx.reply(
      t("timezone-saved", { zone: formatZone(t, zone, clock()), name: formatZoneName(t, zone) }),
    );
    const rules = ctx.owner.phone ? kit.rulesOf(ctx) : [];
    if (rules.length === 1 && rules[0] !== ctx.owner.jurisdiction) await kit.applyRules(ctx, rules[0]!);
    return before;
  }

  /**
   * Where the owner lives, then on with the flow. Outside it, a consent that lets someone call
   * goes back through the summary (the windows on file keep the zone they were agreed in until
   * "I agree"), as does any consent when whose rules apply must be asked; with no consent the
   * zone is kept for when onboarding goes on.
   */
  async function setZone(ctx: BotContext, zone: string) {
    const before = await kit.saveZone(ctx, zone);
    if (ctx.session.step !== "idle") return kit.advance(ctx);
    const consent = (await store.getOwnerState(ctx.owner.id)).consent;
    if (!consent) return;
    return kit.reviewConsent(ctx, consent, before);
  }

  /**
   * After the zone or the rules changed outside the flow: the consent on file as a draft, to
   * agree to again at the summary, when it lets someone call in another zone or whose rules
   * apply is to be asked; otherwise nothing is open.
   */
  async function reviewConsent(ctx: BotContext, consent: Consent, zoneBefore: string) {
    const moved = zoneBefore !== ctx.owner.timezone && consent.preferences.insurers.length > 0;
    if (!moved && kit.rulesOf(ctx).length < 2 && consent.jurisdiction === ctx.owner.jurisdiction) return;
    kit.startFromConsent(ctx, consent.preferences);
    await kit.recheckDraft(ctx);
    if (moved)
      await ctx.reply(
        ctx.t("timezone-needs-agree", {
          old: formatZoneName(ctx.t, consent.timezone),
          name: formatZoneName(ctx.t, ctx.owner.timezone),
        }),
      );
    return kit.advance(ctx);
  }

  /** Keeps whose rules apply, from the rules question. */
  async function setRules(ctx: BotContext, code: JurisdictionCode) {
    ctx.session.rulesAsked = true;
    await kit.applyRules(ctx, code);
    return kit.advance(ctx);
  }

  /**
   * Puts the owner on a pack and checks the draft again against its bounds: what the new pack
   * forbids is dropped (and asked again), never kept from the old one.
   */
  async function applyRules(ctx: BotContext, code: JurisdictionCode) {
    ctx.owner = await store.updateOwnerProfile(ctx.owner.id, { jurisdiction: code });
    await ctx.reply(ctx.t("rules-saved", { rules: ctx.t(`rules-${code}`) }));
    const notes = await kit.recheckDraft(ctx);
    if (notes.length > 0) await ctx.reply(notes.map((n) => renderNote(ctx, n)).join("\n"));
  }

  /** The draft checked again against the owner's pack, replacing the old one; its notes. */
  async function recheckDraft(ctx: BotContext): Promise<DraftNote[]> {
    const { refusedChannels, shareName } = ctx.session.draft;
    const { draft, notes } = applyPatch({}, draftAsPatch(ctx.session.draft), {
      today: kit.todayOf(ctx),
      pack: kit.packOf(ctx),
      directory: await kit.directoryOf(ctx),
    });
    ctx.session.draft = {
      ...draft,
      ...(refusedChannels ? { refusedChannels } : {}),
      ...(shareName ? { shareName } : {}),
    };
    return notes;
  }

  return { zonesOf, rulesOf, saveZone, setZone, reviewConsent, setRules, applyRules, recheckDraft };
}
