import type { I18nFlavor } from "@grammyjs/i18n";
import type { Context, SessionFlavor } from "grammy";
import type { Language, Owner } from "../domain/model.js";
import type { Draft } from "../domain/preferences.js";

/** The onboarding questions, in the order they are asked. */
export const STEPS = [
  "phone",
  "timezone",
  "rules",
  "vehicle",
  "renewalDate",
  "insurers",
  "channels",
  "days",
  "hours",
  "daysBefore",
  "maxAttempts",
  "summary",
] as const;
export type Step = (typeof STEPS)[number] | "idle";

/**
 * Per-chat state: an explicit state machine instead of a replayed conversation, so a restart,
 * another process, or an old button finds the same state (DESIGN §11 allows either). Stored
 * encrypted by the store: the draft holds what the owner wrote.
 */
export interface SessionData {
  /** Bumped when the shape changes; an older session is started afresh. */
  v: 1;
  step: Step;
  draft: Draft;
  /** The vehicle question was answered or skipped. */
  vehicleAsked?: boolean;
  /** The time-zone question (a number from abroad, or a country with several zones) was answered. */
  zoneAsked?: boolean;
  /** Whose rules apply was answered (asked when the owner lives outside their number's country). */
  rulesAsked?: boolean;
  /** The selection of a multiple-choice question, committed on "Done". */
  pick?: string[];
  /** Set by /edit: after a changed field, go back to the summary. */
  editing?: boolean;
  /** Set by /delete: only then does "Yes, delete" act (an old or forged button does not). */
  deleteAsked?: boolean;
  /** Set by /renewed (or "I already renewed"): only its own "Yes, I renewed" button acts. */
  renewedAsked?: string;
  /** The message that shows the summary now: only its "I agree" agrees (an older one is outdated). */
  summaryMessageId?: number;
  /** The language that summary's consent text was shown in: the one "I agree" signs. */
  summaryLanguage?: Language;
  /** The insurers a name fitted, while the owner is asked which one they meant. */
  oneOf?: string[];
  lang?: Language;
}

export function freshSession(): SessionData {
  return { v: 1, step: "idle", draft: {} };
}

export interface OwnerFlavor {
  /** The owner behind this private chat; loaded by the owner middleware. */
  owner: Owner;
}

export type BotContext = Context & SessionFlavor<SessionData> & I18nFlavor & OwnerFlavor;
