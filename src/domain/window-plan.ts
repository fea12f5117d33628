/** When a consented contact window opens and closes, and what state it is in (DESIGN §7). */
import type { ContactWindow, WindowStatus } from "./model.js";
import type { PolicyPack } from "./policy-packs.js";
import type { CalendarDate } from "./preferences.js";
import { addDays, zonedDateTimeToUtc } from "./time.js";

export interface WindowTimesInput {
  renewalDate: CalendarDate;
  /** Days before the renewal date the owner allows contact to start; clipped to the pack. */
  daysBefore: number;
  /** The owner's IANA zone: both bounds are local midnights there. */
  timezone: string;
  /** When the owner agreed: nothing opens before consent. */
  consentAt: Date;
  pack: PolicyPack;
}

/** Window bounds as ISO 8601 UTC strings. */
export interface WindowTimes {
  opensAt: string;
  closesAt: string;
}

/**
 * `opensAt = max(consentAt, 00:00 local of renewalDate − min(daysBefore, pack max))`,
 * `closesAt = 24:00 local of renewalDate`. A negative `daysBefore` counts as 0. If consent comes
 * after the close, `opensAt` equals `closesAt` (an empty window) rather than an inverted one.
 */
export function planWindowTimes(input: WindowTimesInput): WindowTimes {
  const days = Math.max(0, Math.min(input.daysBefore, input.pack.maxDaysBefore.value));
  const earliest = zonedDateTimeToUtc(addDays(input.renewalDate, -days), "00:00", input.timezone);
  const closes = zonedDateTimeToUtc(input.renewalDate, "24:00", input.timezone);
  const opens = Math.min(Math.max(earliest.getTime(), input.consentAt.getTime()), closes.getTime());
  return { opensAt: new Date(opens).toISOString(), closesAt: closes.toISOString() };
}

/**
 * The state of a window at `now`, first match wins: revoked (revokedAt set), closed (closedAt
 * set or `now ≥ closesAt`), exhausted (attempts used up), scheduled (`now < opensAt`), open.
 */
export function windowStatus(
  window: Pick<
    ContactWindow,
    "opensAt" | "closesAt" | "revokedAt" | "closedAt" | "attemptsUsed" | "maxAttempts"
  >,
  now: Date,
): WindowStatus {
  const t = now.getTime();
  if (window.revokedAt !== undefined) return "revoked";
  if (window.closedAt !== undefined || t >= Date.parse(window.closesAt)) return "closed";
  if (window.attemptsUsed >= window.maxAttempts) return "exhausted";
  if (t < Date.parse(window.opensAt)) return "scheduled";
  return "open";
}

/**
 * Whether a window has opened by `now`: the one rule for what an insurer may ever see of it
 * (DESIGN §2: nothing about the owner before the window opens; §5: scheduled windows are
 * invisible). True iff `opensAt ≤ now`, `opensAt < closesAt` (an empty window never opens),
 * and it was neither revoked nor closed early at or before `opensAt` — a window revoked,
 * superseded, stopped or renewed while still scheduled never opened, and never shows, however
 * late it is asked. Stays true once a window that did open is later revoked or closed.
 * Any time that does not parse counts against opening. The store feeds (sqlite/feeds.ts,
 * redis/feeds.ts) apply this same rule.
 */
export function hasOpened(
  window: Pick<ContactWindow, "opensAt" | "closesAt" | "revokedAt" | "closedAt">,
  now: Date,
): boolean {
  const opens = Date.parse(window.opensAt);
  // Written as negated comparisons so that NaN (an unparsable time) fails closed.
  if (!(opens <= now.getTime())) return false;
  if (!(opens < Date.parse(window.closesAt))) return false;
  if (window.revokedAt !== undefined && !(Date.parse(window.revokedAt) > opens)) return false;
  if (window.closedAt !== undefined && !(Date.parse(window.closedAt) > opens)) return false;
  return true;
}

/** Whether a window still stands at `now` (scheduled, open or exhausted): what a change revokes. */
export function isLiveWindow(
  window: Pick<
    ContactWindow,
    "opensAt" | "closesAt" | "revokedAt" | "closedAt" | "attemptsUsed" | "maxAttempts"
  >,
  now: Date,
): boolean {
  const status = windowStatus(window, now);
  return status === "scheduled" || status === "open" || status === "exhausted";
}
