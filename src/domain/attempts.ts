/**
 * Whether a contact attempt an insurer reports is covered by the owner's consent (DESIGN §5,
 * §7): a pure check over the window, the attempts already recorded on it, and the policy pack.
 * The HTTP API answers 409 with the first code that applies.
 */
import type { AttemptRecord, ContactWindow } from "./model.js";
import type { PolicyPack } from "./policy-packs.js";
import type { Channel } from "./preferences.js";
import { localDateOf, localTimeOf, minutesOf, weekdayOf } from "./time.js";

/** The refusals, in the order they are checked: the first that applies is answered. */
export const ATTEMPT_CONFLICTS = [
  "revoked",
  "window_closed",
  "channel_not_allowed",
  "outside_hours",
  "attempts_exhausted",
] as const;
export type AttemptConflict = (typeof ATTEMPT_CONFLICTS)[number];

export interface AttemptInput {
  channel: Channel;
  outcome: AttemptRecord["outcome"];
  /** When the attempt happened. */
  at: Date;
}

export type AttemptCheck = { ok: true; remaining: number } | { ok: false; code: AttemptConflict };

/** "After this many unanswered attempts in one local day, none more that day" (CN, Shenzhen 2013). */
const UNANSWERED_DAILY_STOP = 3;

/**
 * Checks one attempt, first match wins:
 * - `revoked` — the window was revoked;
 * - `window_closed` — closed early, or closed at `now`, or `at` lies outside [opensAt, closesAt);
 * - `channel_not_allowed` — the channel is not one the owner allowed;
 * - `outside_hours` — the weekday or the time of `at`, in the window's timezone, is not allowed
 *   (each hour range is [from, to));
 * - `attempts_exhausted` — the total cap is used up, or the pack's per-day cap for the local day
 *   of `at` (CN: 3), or that day already saw 3 unanswered attempts.
 *
 * `remaining` counts attempts left on the total cap after this one; a refusal leaves none
 * (the window is revoked with it).
 */
export function checkAttempt(
  window: Pick<
    ContactWindow,
    | "opensAt"
    | "closesAt"
    | "revokedAt"
    | "closedAt"
    | "timezone"
    | "days"
    | "hours"
    | "channels"
    | "maxAttempts"
    | "attemptsUsed"
  >,
  priorAttempts: readonly Pick<AttemptRecord, "at" | "outcome">[],
  attempt: AttemptInput,
  now: Date,
  pack: Pick<PolicyPack, "maxAttemptsPerDay">,
): AttemptCheck {
  const at = attempt.at.getTime();
  if (window.revokedAt !== undefined) return { ok: false, code: "revoked" };
  const opens = Date.parse(window.opensAt);
  const closes = Date.parse(window.closesAt);
  if (window.closedAt !== undefined || now.getTime() >= closes || at < opens || at >= closes) {
    return { ok: false, code: "window_closed" };
  }
  if (!window.channels.includes(attempt.channel)) return { ok: false, code: "channel_not_allowed" };
  if (!withinHours(window, attempt.at)) return { ok: false, code: "outside_hours" };

  const used = Math.max(window.attemptsUsed, priorAttempts.length);
  if (used >= window.maxAttempts) return { ok: false, code: "attempts_exhausted" };
  const perDay = pack.maxAttemptsPerDay.value;
  if (perDay !== null) {
    const day = localDateOf(attempt.at, window.timezone);
    const sameDay = priorAttempts.filter((a) => localDateOf(new Date(a.at), window.timezone) === day);
    const unanswered = sameDay.filter((a) => a.outcome === "unanswered").length;
    if (sameDay.length >= perDay || unanswered >= UNANSWERED_DAILY_STOP) {
      return { ok: false, code: "attempts_exhausted" };
    }
  }
  const remaining = attempt.outcome === "refused" ? 0 : window.maxAttempts - used - 1;
  return { ok: true, remaining };
}

/** Whether an instant falls on an allowed weekday and inside an allowed hour range, locally. */
export function withinHours(
  window: Pick<ContactWindow, "timezone" | "days" | "hours">,
  instant: Date,
): boolean {
  const weekday = weekdayOf(localDateOf(instant, window.timezone));
  if (!window.days.includes(weekday)) return false;
  const minutes = minutesOf(localTimeOf(instant, window.timezone));
  return window.hours.some((h) => minutes >= minutesOf(h.from) && minutes < minutesOf(h.to));
}
