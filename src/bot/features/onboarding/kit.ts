/**
 * The onboarding's parts, each made by its own module (questions, where, summary) and reaching
 * the others through this one object — asking leads to the summary, a new zone back to asking.
 * createOnboarding fills it in once, before any update is handled.
 */
import type { DraftNote } from "../../../domain/draft.js";
import type { Consent, JurisdictionCode } from "../../../domain/model.js";
import type { PolicyPack } from "../../../domain/policy-packs.js";
import type { PreferencePatch, Preferences } from "../../../domain/preferences.js";
import type { AmbiguousName, Reading } from "../../../nlu/reading.js";
import type { BotContext, Step } from "../../context.js";
import type { ChatInsurer } from "../../directory.js";

type Ctx = BotContext;

export interface OnboardingKit {
  // questions.ts
  packOf(ctx: Ctx): PolicyPack;
  directoryOf(ctx: Ctx): Promise<ChatInsurer[]>;
  choosableOf(ctx: Ctx): Promise<ChatInsurer[]>;
  todayOf(ctx: Ctx): string;
  nextStep(ctx: Ctx): Step;
  advance(ctx: Ctx): Promise<void>;
  ask(ctx: Ctx, step: Step): Promise<void>;
  applyAndAdvance(
    ctx: Ctx,
    patch: PreferencePatch,
    echo: boolean,
    ambiguous?: readonly AmbiguousName[],
  ): Promise<void>;
  saveVehicle(ctx: Ctx, text: string): Promise<void>;
  answerAside(ctx: Ctx, reading: Reading): Promise<void>;
  startFromConsent(ctx: Ctx, p: Preferences): void;
  // where.ts
  zonesOf(ctx: Ctx): string[];
  rulesOf(ctx: Ctx): JurisdictionCode[];
  saveZone(ctx: Ctx, zone: string): Promise<string>;
  setZone(ctx: Ctx, zone: string): Promise<void>;
  reviewConsent(ctx: Ctx, consent: Consent, zoneBefore: string): Promise<void>;
  setRules(ctx: Ctx, code: JurisdictionCode): Promise<void>;
  applyRules(ctx: Ctx, code: JurisdictionCode): Promise<void>;
  recheckDraft(ctx: Ctx): Promise<DraftNote[]>;
  // summary.ts
  dropUnchoosable(ctx: Ctx): Promise<boolean>;
  showSummary(ctx: Ctx): Promise<void>;
  isOldSummary(ctx: Ctx): Promise<boolean>;
  agree(ctx: Ctx): Promise<void>;
}
