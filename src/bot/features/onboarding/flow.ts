/**
 * The onboarding as one table ({@link FLOW}): each step says when it is still open, which buttons
 * answer it, and what free text it takes; plus the pure helpers the steps share.
 */
import { missingFields } from "../../../domain/draft.js";
import type { JurisdictionCode } from "../../../domain/model.js";
import type { Draft, PreferencePatch } from "../../../domain/preferences.js";
import { type BotContext, STEPS, type Step } from "../../context.js";

/** Seven or more digits in a row (spaces and dashes allowed): a phone number, not a car. */
export const PHONE_LIKE = /\d(?:[\s-]?\d){6,}/;
/** A message that is a phone number and nothing else. */
export const WHOLE_PHONE = /^\s*\+?[\d\s().-]{7,20}\s*$/;

export type FlowStep = Exclude<Step, "idle">;

/** What a step needs to know about the owner, beyond the session. */
export interface FlowEnv {
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
export const BUTTON_STEP: ReadonlyMap<string, FlowStep> = new Map(
  (Object.entries(FLOW) as [FlowStep, StepSpec][]).flatMap(([step, spec]) =>
    spec.buttons.map((b) => [b, step] as const),
  ),
);

/**
 * A number of another country asks afresh where the owner lives and whose rules apply; a zone
 * stated before the first number stays settled (profileForNumber kept it).
 */
export function keepZoneUnlessMoved(ctx: BotContext, countryChanged: boolean, firstNumber: boolean) {
  if (!countryChanged) return;
  if (!firstNumber) ctx.session.zoneAsked = undefined;
  ctx.session.rulesAsked = undefined;
}

/** A draft as a patch, to check it again against another pack's bounds. */
export function draftAsPatch(draft: Draft): PreferencePatch {
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
export function initialPick(draft: Draft, step: Step): string[] {
  if (step === "idle" || !FLOW[step].toggles) return [];
  if (step === "insurers") return [...(draft.insurers ?? [])];
  if (step === "channels") return [...(draft.channels ?? [])];
  if (step === "days") return [...(draft.days ?? [])];
  return [];
}
