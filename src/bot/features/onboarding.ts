/**
 * Onboarding: phone → vehicle → renewal date → who → how → summary → "I agree", as one table
 * ({@link FLOW}): each step says when it is still open, which buttons answer it, and how it is
 * asked. Every question takes buttons or free text. Free text is first read for its intent
 * (DESIGN §8): only a statement of preferences fills the draft (one message may settle several
 * questions, which are then skipped); a report, a stop, a renewal, a question or thanks is
 * answered and changes nothing. After "I agree", a change of preferences goes back through
 * the summary.
 */
import { Composer, InlineKeyboard } from "grammy";
import { applyPatch, type DraftNote, missingFields, toPreferences } from "../../domain/draft.js";
import type { Consent, JurisdictionCode } from "../../domain/model.js";
import { maskPhone, normalisePhone } from "../../domain/phone.js";
import { jurisdictionForCountry, packFor, packOfCountry } from "../../domain/policy-packs.js";
import type { Draft, PreferencePatch, Preferences } from "../../domain/preferences.js";
import { localDateOf } from "../../domain/time.js";
import { formatVerificationCode } from "../../domain/verification-code.js";
import { matchZone, offsetMinutes, zoneChoices } from "../../domain/zones.js";
import type { AmbiguousName, Reading } from "../../nlu/reading.js";
import { isSocial } from "../../nlu/rules/intent.js";
import { countryOfZone, findPlace, isTimeZone, readPlace } from "../../nlu/rules/places.js";
import { looksLikeVehicle } from "../../nlu/rules/vehicle.js";
import { suggestInsurers } from "../../nlu/suggest.js";
import { type BotContext, STEPS, type Step } from "../context.js";
import type { BotDeps } from "../deps.js";
import { type ChatInsurer, chatDirectory } from "../directory.js";
import {
  formatChannels,
  formatDays,
  formatHours,
  formatList,
  formatLocal,
  formatPeriod,
  formatZone,
  formatZoneName,
  languageOf,
} from "../format.js";
import {
  changeKeyboard,
  channelsKeyboard,
  contactKeyboard,
  daysKeyboard,
  EDITABLE_FIELDS,
  type EditableField,
  hourPresets,
  hoursKeyboard,
  insurersKeyboard,
  numberKeyboard,
  skipKeyboard,
  summaryKeyboard,
  zonesKeyboard,
} from "../keyboards.js";
import { numberCountryChanged, profileForNumber, verifyContact } from "./contact.js";
import { answerIntent, replyOther } from "./intents.js";

/** Seven or more digits in a row (spaces and dashes allowed): a phone number, not a car. */
const PHONE_LIKE = /\d(?:[\s-]?\d){6,}/;
/** A message that is a phone number and nothing else. */
const WHOLE_PHONE = /^\s*\+?[\d\s().-]{7,20}\s*$/;

type FlowStep = Exclude<Step, "idle">;

/** What a step needs to know about the owner, beyond the session. */
interface FlowEnv {
  /** Time zones to offer: the phone country's, and the service's own for a number from abroad. */
  zones: readonly string[];
  /** Whose rules may apply: the number's country's and, if other, where the owner lives. */
  rules: readonly JurisdictionCode[];
}

/**
 * One question of the onboarding. The flow asks the first step, in {@link STEPS} order, that is
 * still `open`; a button answers only the step that lists it (any other is an old button).
 */
interface StepSpec {
  open(ctx: BotContext, env: FlowEnv): boolean;
  /** The `ob:<action>` buttons that answer this step. */
  buttons: readonly string[];
  /** What free text the step takes, in words (documentation of the table). */
  text: string;
  /** The example repeated when free text settled nothing (a locale key). */
  example?: string;
  /** A multiple-choice step: its selection is kept in `session.pick` until Done. */
  toggles?: true;
}

const draftOpen = (field: FlowStep) => (ctx: BotContext) =>
  (missingFields(ctx.session.draft) as string[]).includes(field);

/** The onboarding, step by step: when each question is open, what answers it. */
export const FLOW: Readonly<Record<FlowStep, StepSpec>> = {
  phone: {
    open: (ctx) => !ctx.owner.phone,
    buttons: [],
    text: "a shared contact (verified), or a typed number (opt-outs only)",
  },
  timezone: {
    open: (ctx, env) => !ctx.session.zoneAsked && env.zones.length > 1,
    buttons: ["tz"],
    text: "any city or IANA zone (city-timezones, domain/places.ts)",
  },
  rules: {
    open: (ctx, env) => !ctx.session.rulesAsked && env.rules.length > 1,
    buttons: ["rules"],
    text: "none: one of the two buttons",
  },
  vehicle: {
    open: (ctx) => !ctx.session.vehicleAsked,
    buttons: ["vehicle"],
    text: "the car (model or plate), never a phone number",
    example: "example-vehicle",
  },
  renewalDate: {
    open: draftOpen("renewalDate"),
    buttons: [],
    text: "a date, in the future and at most 13 months ahead",
  },
  insurers: {
    open: draftOpen("insurers"),
    buttons: ["ins", "ins-nobody", "ins-done"],
    text: "insurer names, aliases or a distinctive part of a name; nobody",
    toggles: true,
  },
  channels: {
    open: draftOpen("channels"),
    buttons: ["ch", "ch-done"],
    text: "channels, or a negation that removes one",
    example: "example-channels",
    toggles: true,
  },
  days: {
    open: draftOpen("days"),
    buttons: ["day", "days", "days-done"],
    text: "weekdays, weekends, named days, exclusions",
    example: "example-days",
    toggles: true,
  },
  hours: {
    open: draftOpen("hours"),
    buttons: ["hr", "hr-done"],
    text: "times of day, clipped to the pack's calling hours",
    example: "example-hours",
    toggles: true,
  },
  daysBefore: {
    open: draftOpen("daysBefore"),
    buttons: ["db"],
    text: "how many days before expiry, at most the pack's maximum",
    example: "example-days-before",
  },
  maxAttempts: {
    open: draftOpen("maxAttempts"),
    buttons: ["att"],
    text: "a number of attempts, capped by the pack",
    example: "example-attempts",
  },
  summary: {
    open: () => true,
    buttons: ["agree", "change", "edit", "name"],
    text: "any change of preferences (shown again); nothing else changes it",
  },
};

/** The step a button belongs to: "ob:ch:sms" answers the channels question only. */
const BUTTON_STEP: ReadonlyMap<string, FlowStep> = new Map(
  (Object.entries(FLOW) as [FlowStep, StepSpec][]).flatMap(([step, spec]) =>
    spec.buttons.map((b) => [b, step] as const),
  ),
);

export function createOnboarding(deps: BotDeps) {
  const { store, owners, extractor, clock } = deps;
  const feature = new Composer<BotContext>();

  const packOf = (ctx: BotContext) => packFor(ctx.owner.jurisdiction);
  const directoryOf = (ctx: BotContext) => chatDirectory(ctx, deps);
  const choosableOf = async (ctx: BotContext) => (await directoryOf(ctx)).filter((i) => i.choosable);
  const todayOf = (ctx: BotContext) => localDateOf(clock(), ctx.owner.timezone);

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

  /** The first question still open, in the order of the flow. */
  function nextStep(ctx: BotContext): Step {
    const env: FlowEnv = { zones: zonesOf(ctx), rules: ctx.owner.phone ? rulesOf(ctx) : [] };
    return STEPS.find((step) => FLOW[step].open(ctx, env)) ?? "summary";
  }

  async function advance(ctx: BotContext) {
    ctx.session.step = nextStep(ctx);
    ctx.session.pick = undefined;
    await ask(ctx, ctx.session.step);
  }

  /** Sends the question for a step, with its buttons. */
  async function ask(ctx: BotContext, step: Step): Promise<void> {
    const t = ctx.t;
    const pack = packOf(ctx);
    ctx.session.pick ??= initialPick(ctx.session.draft, step);
    const pick = ctx.session.pick;
    switch (step) {
      case "phone":
        await ctx.reply(t("ask-phone"), { reply_markup: contactKeyboard(t) });
        return;
      case "timezone": {
        const at = clock();
        await ctx.reply(t("ask-timezone", { zone: formatZone(t, ctx.owner.timezone, at) }), {
          reply_markup: zonesKeyboard(zonesOf(ctx), (zone) => formatZone(t, zone, at)),
        });
        return;
      }
      case "rules": {
        const [byPhone, byHome] = rulesOf(ctx);
        const kb = new InlineKeyboard();
        if (byPhone)
          kb.text(
            t("button-rules-phone", { rules: t(`rules-name-${byPhone}`) }),
            `ob:rules:${byPhone}`,
          ).row();
        if (byHome)
          kb.text(t("button-rules-home", { rules: t(`rules-name-${byHome}`) }), `ob:rules:${byHome}`);
        if (!byPhone || !byHome) return advance(ctx);
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
          reply_markup: insurersKeyboard(t, await choosableOf(ctx), pick),
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
        await showSummary(ctx);
        return;
      case "idle":
        return;
    }
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
    const rules = ctx.owner.phone ? rulesOf(ctx) : [];
    if (rules.length === 1 && rules[0] !== ctx.owner.jurisdiction) await applyRules(ctx, rules[0]!);
    return before;
  }

  /**
   * Where the owner lives, then on with the flow. Outside it, a consent that lets someone call
   * goes back through the summary (the windows on file keep the zone they were agreed in until
   * "I agree"), as does any consent when whose rules apply must be asked; with no consent the
   * zone is kept for when onboarding goes on.
   */
  async function setZone(ctx: BotContext, zone: string) {
    const before = await saveZone(ctx, zone);
    if (ctx.session.step !== "idle") return advance(ctx);
    const consent = (await store.getOwnerState(ctx.owner.id)).consent;
    if (!consent) return;
    return reviewConsent(ctx, consent, before);
  }

  /**
   * After the zone or the rules changed outside the flow: the consent on file as a draft, to
   * agree to again at the summary, when it lets someone call in another zone or whose rules
   * apply is to be asked; otherwise nothing is open.
   */
  async function reviewConsent(ctx: BotContext, consent: Consent, zoneBefore: string) {
    const moved = zoneBefore !== ctx.owner.timezone && consent.preferences.insurers.length > 0;
    if (!moved && rulesOf(ctx).length < 2 && consent.jurisdiction === ctx.owner.jurisdiction) return;
    startFromConsent(ctx, consent.preferences);
    await recheckDraft(ctx);
    if (moved)
      await ctx.reply(
        ctx.t("timezone-needs-agree", {
          old: formatZoneName(ctx.t, consent.timezone),
          name: formatZoneName(ctx.t, ctx.owner.timezone),
        }),
      );
    return advance(ctx);
  }

  /** Keeps whose rules apply, from the rules question. */
  async function setRules(ctx: BotContext, code: JurisdictionCode) {
    ctx.session.rulesAsked = true;
    await applyRules(ctx, code);
    return advance(ctx);
  }

  /**
   * Puts the owner on a pack and checks the draft again against its bounds: what the new pack
   * forbids is dropped (and asked again), never kept from the old one.
   */
  async function applyRules(ctx: BotContext, code: JurisdictionCode) {
    ctx.owner = await store.updateOwnerProfile(ctx.owner.id, { jurisdiction: code });
    await ctx.reply(ctx.t("rules-saved", { rules: ctx.t(`rules-${code}`) }));
    const notes = await recheckDraft(ctx);
    if (notes.length > 0) await ctx.reply(notes.map((n) => renderNote(ctx, n)).join("\n"));
  }

  /** The draft checked again against the owner's pack, replacing the old one; its notes. */
  async function recheckDraft(ctx: BotContext): Promise<DraftNote[]> {
    const { refusedChannels, shareName } = ctx.session.draft;
    const { draft, notes } = applyPatch({}, draftAsPatch(ctx.session.draft), {
      today: todayOf(ctx),
      pack: packOf(ctx),
      directory: await directoryOf(ctx),
    });
    ctx.session.draft = {
      ...draft,
      ...(refusedChannels ? { refusedChannels } : {}),
      ...(shareName ? { shareName } : {}),
    };
    return notes;
  }

  /**
   * Drops chosen insurers that can no longer be chosen (one lost its contact line since), with
   * the reason; when none is left, the insurers question is open again. True when it dropped any.
   */
  async function dropUnchoosable(ctx: BotContext): Promise<boolean> {
    const chosen = ctx.session.draft.insurers ?? [];
    if (chosen.length === 0) return false;
    const directory = await directoryOf(ctx);
    const gone = chosen.filter((id) => !directory.some((i) => i.id === id && i.choosable));
    if (gone.length === 0) return false;
    const insurers = chosen.filter((id) => !gone.includes(id));
    const { insurers: _old, ...rest } = ctx.session.draft;
    ctx.session.draft = insurers.length > 0 ? { ...rest, insurers } : rest;
    await ctx.reply(
      gone
        .map((id) =>
          renderNote(ctx, { kind: "insurer_not_choosable", insurer: id, name: nameOfId(directory, id) }),
        )
        .join("\n"),
    );
    return true;
  }

  async function showSummary(ctx: BotContext) {
    const t = ctx.t;
    if (await dropUnchoosable(ctx)) return advance(ctx);
    const prefs = toPreferences(ctx.session.draft);
    if (!prefs) return advance(ctx);
    const pack = packOf(ctx);
    const directory = await directoryOf(ctx);
    const chosen = directory.filter((i) => prefs.insurers.includes(i.id));
    const lines = [t("summary-title"), "", t("summary-renewal", { date: prefs.renewalDate })];
    if (chosen.length === 0) {
      lines.push(t("summary-nobody"));
    } else {
      const perDay = pack.maxAttemptsPerDay.value;
      lines.push(
        t("summary-insurers", {
          names: formatList(
            t,
            chosen.map((i) => i.name),
          ),
        }),
        t("summary-how", {
          channels: formatChannels(t, prefs.channels),
          days: formatDays(t, prefs.days),
          hours: formatHours(t, prefs.hours),
          zone: formatZoneName(t, ctx.owner.timezone),
        }),
        t("summary-when", {
          daysBefore: prefs.daysBefore,
          attempts: prefs.maxAttempts,
          perDay: perDay !== null && perDay < prefs.maxAttempts ? perDay : 0,
        }),
      );
      const shared = [t("shared-phone"), t("shared-renewal")];
      if (ctx.owner.vehicle) shared.push(t("shared-vehicle", { vehicle: ctx.owner.vehicle }));
      if (ctx.owner.name && prefs.shareName) shared.push(t("shared-name", { name: ctx.owner.name }));
      lines.push(t("summary-shared", { details: formatList(t, shared), count: chosen.length }));
      const period =
        pack.optOutDays.value === null ? t("period-until-withdrawn") : formatPeriod(t, pack.optOutDays.value);
      lines.push(t("summary-others", { period }));
    }
    const language = languageOf(t);
    const consentTexts = chosen.map(
      (insurer) =>
        `${t("summary-consent-heading", { insurer: insurer.name })}\n${owners.consentTextFor(
          ctx.owner,
          insurer,
          prefs,
          language,
        )}`,
    );
    const text = [lines.join("\n"), ...consentTexts].join("\n\n");
    // Only the newest summary can be agreed to: the previous one loses its buttons, and its
    // "I agree" is answered as outdated (it showed other choices).
    const previous = ctx.session.summaryMessageId;
    if (previous !== undefined && ctx.chat)
      await ctx.api.editMessageReplyMarkup(ctx.chat.id, previous).catch(() => undefined);
    if (text.length > 4000) for (const consent of consentTexts) await ctx.reply(consent.slice(0, 4000));
    // Offered only when there is a name to share and someone to share it with.
    const name =
      chosen.length > 0 && ctx.owner.name
        ? { name: ctx.owner.name, shared: prefs.shareName === true }
        : undefined;
    const sent = await ctx.reply(text.length <= 4000 ? text : lines.join("\n"), {
      reply_markup: summaryKeyboard(t, name),
    });
    ctx.session.summaryMessageId = sent.message_id;
    ctx.session.summaryLanguage = language;
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
    const directory = await directoryOf(ctx);
    const { draft, notes } = applyPatch(ctx.session.draft, patch, {
      today: todayOf(ctx),
      pack: packOf(ctx),
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
    await advance(ctx);
  }

  function describePatch(
    ctx: BotContext,
    patch: PreferencePatch,
    draft: Draft,
    nameOf: (id: string) => string,
  ): string {
    const t = ctx.t;
    const parts: string[] = [];
    if (patch.renewalDate && draft.renewalDate === patch.renewalDate) parts.push(draft.renewalDate);
    if (patch.nobody && draft.nobody) parts.push(t("button-nobody"));
    if (patch.insurers && draft.insurers?.length) parts.push(formatList(t, draft.insurers.map(nameOf)));
    if (patch.channels && draft.channels) parts.push(formatChannels(t, draft.channels));
    else if (patch.withoutChannels && !draft.nobody)
      parts.push(t("understood-without", { channels: formatChannels(t, patch.withoutChannels) }));
    if (patch.days && draft.days) parts.push(formatDays(t, draft.days));
    if (patch.hours && draft.hours) parts.push(formatHours(t, draft.hours));
    if (patch.daysBefore !== undefined && draft.daysBefore !== undefined)
      parts.push(t("days-count", { n: draft.daysBefore }));
    if (patch.maxAttempts !== undefined && draft.maxAttempts !== undefined)
      parts.push(t("understood-attempts", { n: draft.maxAttempts }));
    return parts.join(" · ");
  }

  // /start (without a stop_ payload; the stop feature handles those first).
  feature.command("start", async (ctx) => {
    const consent = (await store.getOwnerState(ctx.owner.id)).consent;
    if (consent && ctx.session.step === "idle") {
      await ctx.reply(ctx.t("welcome-back"));
      return;
    }
    if (ctx.session.step === "idle") {
      await ctx.reply(ctx.t("welcome"));
      return advance(ctx);
    }
    // Mid-flow: re-ask the open question (a restart or a lost message resumes here).
    await ask(ctx, ctx.session.step);
  });

  feature.command("edit", async (ctx) => {
    const consent = (await store.getOwnerState(ctx.owner.id)).consent;
    if (!consent) {
      await ctx.reply(ctx.t("welcome"));
      return advance(ctx);
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
      const directory = await directoryOf(ctx);
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
    if (ctx.session.step === "phone" || ctx.session.step === "idle") return advance(ctx);
    await ask(ctx, ctx.session.step);
  });

  feature.on("message:text", async (ctx, next) => {
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
        return advance(ctx);
      }
    }
    // The answer to "where do you live?": a city offered, any city, or an IANA zone. What the
    // message says besides ("Beijing, renewal on 31 July") is read below like any answer.
    const answeredZone =
      step === "timezone"
        ? (matchZone(text, zonesOf(ctx)) ?? (findPlace(text) ?? readPlace(text))?.zone)
        : undefined;

    const reading = await extractor.read({
      text,
      lang: languageOf(ctx.t),
      today: todayOf(ctx),
      directory: await directoryOf(ctx),
    });

    if (answeredZone) {
      await saveZone(ctx, answeredZone);
      if (reading.intent === "preferences" && Object.keys(reading.patch).length > 0)
        return applyAndAdvance(ctx, reading.patch, true, reading.ambiguous);
      return advance(ctx);
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
          zoneBefore = await saveZone(ctx, place.zone);
        } else if (step === "phone") {
          await saveZone(ctx, place.zone);
          return ask(ctx, "phone");
        } else {
          return setZone(ctx, place.zone);
        }
      }
    }

    // At the car question, words that are nothing else are the car.
    // (A sentence about the owner — "I'm in a meeting" — is no car: the question is asked again.)
    if (step === "vehicle" && reading.intent === "other" && !isSocial(text) && looksLikeVehicle(text))
      return saveVehicle(ctx, text);
    // Mid-flow, words that are no answer get the question again with an example (below);
    // thanks and greetings get a short word first.
    const unanswered = reading.intent === "other" && step !== "idle" && !isSocial(text);
    if (reading.intent !== "preferences" && !unanswered) return answerAside(ctx, reading);

    const patch = unanswered ? {} : reading.patch;
    const settled = Object.keys(patch).length > 0;
    if (step === "idle") {
      const consent = (await store.getOwnerState(ctx.owner.id)).consent;
      if (consent) {
        if (!settled) return answerAside(ctx, { intent: "other", patch: {} });
        // A change after "I agree" starts from what was agreed and ends at the summary: nothing
        // changes until "I agree" is tapped again.
        startFromConsent(ctx, consent.preferences);
        const before = JSON.stringify(ctx.session.draft);
        const { draft } = applyPatch(ctx.session.draft, patch, {
          today: todayOf(ctx),
          pack: packOf(ctx),
          directory: await directoryOf(ctx),
        });
        if (JSON.stringify(draft) === before && !reading.ambiguous) {
          // "31 July" again: nothing to agree to anew, unless the same message moved the owner.
          ctx.session.step = "idle";
          ctx.session.draft = {};
          ctx.session.editing = undefined;
          if (zoneBefore !== undefined) return reviewConsent(ctx, consent, zoneBefore);
          await ctx.reply(ctx.t("change-none"));
          return;
        }
        if (missingFields(draft).length === 0) await ctx.reply(ctx.t("change-needs-agree"));
        return applyAndAdvance(ctx, patch, true, reading.ambiguous);
      }
      if (!settled) {
        await ctx.reply(ctx.t("help"));
        return;
      }
      await ctx.reply(ctx.t("welcome"));
    }
    if (step === "vehicle" && !settled && looksLikeVehicle(text)) return saveVehicle(ctx, text);
    if (settled || reading.ambiguous) return applyAndAdvance(ctx, patch, true, reading.ambiguous);

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
      return ask(ctx, step);
    }
    if (step === "rules") return ask(ctx, step);
    if (step === "insurers") {
      const suggestions = suggestInsurers(text, await choosableOf(ctx));
      const kb = suggestions.map((s: { id: string; name: string }) => [
        { text: s.name, callback_data: `ob:ins:${s.id}` },
      ]);
      await ctx.reply(
        suggestions.length > 0
          ? `${ctx.t("insurers-unknown")} ${ctx.t("insurers-did-you-mean")}`
          : ctx.t("insurers-unknown"),
        suggestions.length > 0 ? { reply_markup: { inline_keyboard: kb } } : {},
      );
      return ask(ctx, step);
    }
    const example = step === "idle" ? undefined : FLOW[step].example;
    await ctx.reply(ctx.t("not-understood", { example: example ? ctx.t(example) : "" }));
    return ask(ctx, step);
  });

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
    return advance(ctx);
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
    else if (step !== "idle") await ask(ctx, step);
  }

  /** The draft of a change after "I agree": what was agreed, to change and agree again. */
  function startFromConsent(ctx: BotContext, p: Preferences) {
    ctx.session.draft = p.insurers.length === 0 ? { renewalDate: p.renewalDate, nobody: true } : { ...p };
    ctx.session.vehicleAsked = true;
    ctx.session.editing = true;
    ctx.session.pick = undefined;
  }

  feature.callbackQuery(/^ob:([a-z-]+)(?::(.+))?$/i, async (ctx) => {
    const [, action = "", value = ""] = ctx.match;
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
          ? insurersKeyboard(t, await choosableOf(ctx), p)
          : step === "channels"
            ? channelsKeyboard(t, p, ctx.session.draft.refusedChannels ?? [])
            : step === "days"
              ? daysKeyboard(t, p)
              : hoursKeyboard(t, packOf(ctx), p);
      await ctx.editMessageReplyMarkup({ reply_markup: markup }).catch(() => undefined);
    };
    const done = async (patch: PreferencePatch | undefined) => {
      await ctx.editMessageReplyMarkup().catch(() => undefined);
      if (!patch) {
        await ctx.reply(ctx.t("pick-at-least-one"));
        return ask(ctx, step);
      }
      return applyAndAdvance(ctx, patch, false);
    };
    await ctx.answerCallbackQuery();

    switch (action) {
      case "tz": {
        await ctx.editMessageReplyMarkup().catch(() => undefined);
        // Any real zone is the owner's to pick (DESIGN §7); anything else is asked again.
        if (!isTimeZone(value)) return ask(ctx, step);
        return setZone(ctx, value);
      }
      case "rules": {
        await ctx.editMessageReplyMarkup().catch(() => undefined);
        const code = rulesOf(ctx).find((c) => c === value);
        if (!code) return ask(ctx, step);
        return setRules(ctx, code);
      }
      case "name": {
        if (await isOldSummary(ctx)) return;
        // Share the name, or not: the summary is shown again with the choice.
        ctx.session.draft = { ...ctx.session.draft, shareName: ctx.session.draft.shareName !== true };
        if (!ctx.session.draft.shareName) delete ctx.session.draft.shareName;
        return showSummary(ctx);
      }
      case "vehicle":
        ctx.session.vehicleAsked = true;
        await ctx.editMessageReplyMarkup().catch(() => undefined);
        return advance(ctx);
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
        const presets = hourPresets(packOf(ctx));
        const hours = pick.flatMap((name) => (presets[name] ? [presets[name]] : []));
        return done(hours.length ? { hours } : undefined);
      }
      case "db":
        await ctx.editMessageReplyMarkup().catch(() => undefined);
        return applyAndAdvance(ctx, { daysBefore: Number(value) }, false);
      case "att":
        await ctx.editMessageReplyMarkup().catch(() => undefined);
        return applyAndAdvance(ctx, { maxAttempts: Number(value) }, false);
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
          return ask(ctx, "timezone");
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
        return ask(ctx, field);
      }
      case "agree":
        if (await isOldSummary(ctx)) return;
        return agree(ctx);
      case "one": {
        await ctx.editMessageReplyMarkup().catch(() => undefined);
        ctx.session.oneOf = undefined;
        if (!(await choosableOf(ctx)).some((i) => i.id === value)) return ask(ctx, step);
        // The one meant joins the insurers already chosen ("Ping An and Acme" → which Acme?).
        const insurers = [...new Set([...(ctx.session.draft.insurers ?? []), value])];
        return applyAndAdvance(ctx, { insurers }, true);
      }
    }
  });

  /** A button of a summary that a newer one replaced: answered as outdated (it showed other choices). */
  async function isOldSummary(ctx: BotContext): Promise<boolean> {
    const from = ctx.callbackQuery?.message?.message_id;
    if (ctx.session.summaryMessageId === undefined || from === ctx.session.summaryMessageId) return false;
    await ctx.editMessageReplyMarkup().catch(() => undefined);
    await ctx.reply(ctx.t("summary-outdated"));
    return true;
  }

  async function agree(ctx: BotContext) {
    const t = ctx.t;
    // Agreed to as shown: an insurer that lost its contact line since is dropped, and asked about.
    if (await dropUnchoosable(ctx)) return advance(ctx);
    const prefs = toPreferences(ctx.session.draft);
    if (!prefs) return advance(ctx);
    if (prefs.insurers.length > 0 && !ctx.owner.phoneVerified) {
      await ctx.reply(t("agree-needs-verified"), { reply_markup: contactKeyboard(t) });
      ctx.session.step = "phone";
      return;
    }
    // The consent text signed is the one the owner read, in the language it was shown in. The
    // button goes only once the agreement is stored: a store that cannot write leaves it there.
    const { changeset } = await owners.agree(
      ctx.owner.id,
      prefs,
      ctx.session.summaryLanguage ?? languageOf(t),
    );
    await ctx.editMessageReplyMarkup().catch(() => undefined);
    const directory = await directoryOf(ctx);
    const nameOf = (id: string) => nameOfId(directory, id);
    const lines = [t("agreed")];
    for (const w of changeset.windows) {
      lines.push(
        "",
        t("agreed-window", {
          insurer: nameOf(w.insurerId),
          opens: formatLocal(w.opensAt, w.timezone),
          closes: formatLocal(w.closesAt, w.timezone),
          zone: formatZoneName(t, w.timezone),
          code: formatVerificationCode(w.verificationCode),
        }),
        t("agreed-receipt", { receipt: w.receiptId }),
      );
    }
    if (changeset.windows.length === 0) lines.push(t("agreed-nobody"));
    lines.push(
      "",
      ...optOutLines(
        ctx,
        directory,
        changeset.optOuts.map((o) => o.insurerId),
      ),
    );
    ctx.session.step = "idle";
    ctx.session.draft = {};
    ctx.session.pick = undefined;
    ctx.session.editing = undefined;
    ctx.session.summaryMessageId = undefined;
    ctx.session.summaryLanguage = undefined;
    ctx.session.oneOf = undefined;
    // A "Yes, I renewed" asked before this agreement must not close the windows it opens.
    ctx.session.renewedAsked = undefined;
    await ctx.reply(lines.join("\n"));
  }

  return feature;
}

/**
 * What the confirmation says about the opt-outs just filed, as it is at that moment (DESIGN
 * §7): each is on the insurer's pull feed at once; those with a push endpoint are being sent,
 * and /status tells when each arrives. Nothing is called delivered before it is.
 */
function optOutLines(
  ctx: BotContext,
  directory: readonly ChatInsurer[],
  insurerIds: readonly string[],
): string[] {
  const t = ctx.t;
  if (insurerIds.length === 0) return [t("agreed-optouts-none")];
  const filed = insurerIds.map((id) => directory.find((i) => i.id === id));
  const pushed = filed.filter((i) => i?.webhookUrl && !i.webhookDisabledAt);
  const feedOnly = filed.filter((i) => i && !pushed.includes(i));
  const names = (list: typeof filed) =>
    formatList(
      t,
      list.map((i) => i?.name ?? "?"),
    );
  const lines = [t("agreed-optouts", { count: insurerIds.length })];
  if (pushed.length > 0)
    lines.push(t("agreed-optouts-sending", { names: names(pushed), count: pushed.length }));
  if (feedOnly.length > 0)
    lines.push(t("agreed-optouts-feed", { names: names(feedOnly), count: feedOnly.length }));
  lines.push(t("agreed-optouts-status"));
  return lines;
}

/**
 * A number of another country asks afresh where the owner lives and whose rules apply; a zone
 * stated before the first number stays settled (profileForNumber kept it).
 */
function keepZoneUnlessMoved(ctx: BotContext, countryChanged: boolean, firstNumber: boolean) {
  if (!countryChanged) return;
  if (!firstNumber) ctx.session.zoneAsked = undefined;
  ctx.session.rulesAsked = undefined;
}

/** A draft as a patch, to check it again against another pack's bounds. */
function draftAsPatch(draft: Draft): PreferencePatch {
  const { refusedChannels: _refused, shareName: _share, ...fields } = draft;
  const patch: PreferencePatch = {};
  if (fields.renewalDate) patch.renewalDate = fields.renewalDate;
  if (fields.insurers?.length) patch.insurers = fields.insurers;
  if (fields.nobody) patch.nobody = true;
  if (fields.channels?.length) patch.channels = fields.channels;
  if (fields.days?.length) patch.days = fields.days;
  if (fields.hours?.length) patch.hours = fields.hours;
  if (fields.daysBefore !== undefined) patch.daysBefore = fields.daysBefore;
  if (fields.maxAttempts !== undefined) patch.maxAttempts = fields.maxAttempts;
  return patch;
}

/** What a toggle question starts with: the current answer, so /edit shows it ticked. */
function initialPick(draft: Draft, step: Step): string[] {
  if (step === "idle" || !FLOW[step].toggles) return [];
  if (step === "insurers") return [...(draft.insurers ?? [])];
  if (step === "channels") return [...(draft.channels ?? [])];
  if (step === "days") return [...(draft.days ?? [])];
  return [];
}

function nameOfId(directory: readonly ChatInsurer[], id: string): string {
  return directory.find((i) => i.id === id)?.name ?? id;
}

function renderNote(ctx: BotContext, note: DraftNote): string {
  const t = ctx.t;
  switch (note.kind) {
    case "date_past":
      return t("note-date-past", { date: note.date });
    case "date_too_far":
      return t("note-date-too-far", { date: note.date });
    case "insurer_unknown":
      return t("note-unknown-insurer", { name: note.insurer });
    case "insurer_not_choosable":
      return t("note-insurer-not-choosable", { name: note.name });
    case "channels_none_left":
      return t("note-channels-none-left", { channels: formatChannels(t, note.refused) });
    case "hours_clipped":
      return t("note-hours-clipped", { ...hoursVars(note) });
    case "hours_outside":
      return t("note-hours-dropped", { ...hoursVars(note) });
    case "days_before_negative":
      return t("not-understood", { example: t("example-days-before") });
    case "days_before_clipped":
      return t("note-days-before-clipped", { max: note.max });
    case "attempts_invalid":
      return t("not-understood", { example: t("example-attempts") });
    case "attempts_clipped":
      return t("note-attempts-clipped", { max: note.max });
  }
}

function hoursVars(note: { from: string; to: string; allowed: { from: string; to: string } }) {
  return { from: note.from, to: note.to, allowed: `${note.allowed.from}–${note.allowed.to}` };
}
