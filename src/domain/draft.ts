/**
 * Domain validation of preference patches (DESIGN §8): an extractor's reading is merged into
 * the owner's draft only within the pack's bounds, and every value that was refused or narrowed
 * yields a note the bot can tell the owner about.
 */
import type { PolicyPack } from "./policy-packs.js";
import {
  type CalendarDate,
  CHANNELS,
  type Channel,
  type Draft,
  type HourRange,
  type OpenHourRange,
  type PreferencePatch,
  Preferences,
  WEEKDAYS,
  type Weekday,
} from "./preferences.js";
import { addMonths, minutesOf, timeOfMinutes } from "./time.js";

/** How far ahead a renewal date may lie: a policy runs a year, plus a month of slack. */
export const MAX_MONTHS_AHEAD = 13;

/** Something the owner said that was refused or narrowed, for the bot to explain. */
export type DraftNote =
  | { kind: "date_past"; date: CalendarDate }
  | { kind: "date_too_far"; date: CalendarDate; latest: CalendarDate }
  | { kind: "insurer_unknown"; insurer: string }
  | { kind: "insurer_not_choosable"; insurer: string; name: string }
  | { kind: "channels_none_left"; refused: Channel[] }
  | { kind: "hours_clipped"; from: string; to: string; allowed: HourRange }
  | { kind: "hours_outside"; from: string; to: string; allowed: HourRange }
  | { kind: "days_before_negative"; value: number }
  | { kind: "days_before_clipped"; value: number; max: number }
  | { kind: "attempts_invalid"; value: number }
  | { kind: "attempts_clipped"; value: number; max: number };

/** An insurer as the draft needs it: ids are what patches should carry. */
export interface DirectoryEntry {
  id: string;
  name: string;
  aliases: string[];
  /** False for an insurer that is listed but cannot be consented to yet (no contact line). */
  choosable?: boolean;
}

export interface DraftContext {
  /** Today in the owner's zone. */
  today: CalendarDate;
  pack: PolicyPack;
  directory: readonly DirectoryEntry[];
}

/** Keys of a draft in the order the bot asks for them. */
export type PreferenceField = keyof Preferences;
const QUESTION_ORDER: readonly PreferenceField[] = [
  "renewalDate",
  "insurers",
  "channels",
  "days",
  "hours",
  "daysBefore",
  "maxAttempts",
];

function inCanonicalOrder<T>(values: readonly T[], order: readonly T[]): T[] {
  const set = new Set(values);
  return order.filter((v) => set.has(v));
}

function resolveInsurer(text: string, directory: readonly DirectoryEntry[]): string | undefined {
  const byId = directory.find((e) => e.id === text);
  if (byId !== undefined) return byId.id;
  const key = text.trim().toLowerCase();
  return directory.find(
    (e) =>
      e.id.toLowerCase() === key ||
      e.name.toLowerCase() === key ||
      e.aliases.some((a) => a.toLowerCase() === key),
  )?.id;
}

/** Splits a range that wraps midnight ("22:00–07:00") into same-day pieces, in minutes. */
function piecesOf(from: number, to: number): [number, number][] {
  if (from < to) return [[from, to]];
  if (from === to) return [];
  return [
    [0, to],
    [from, 1440],
  ];
}

function clipHours(
  ranges: readonly OpenHourRange[],
  pack: PolicyPack,
  notes: DraftNote[],
): HourRange[] | undefined {
  const allowed = pack.callingHours.value;
  const lo = minutesOf(allowed.from);
  const hi = minutesOf(allowed.to);
  const kept: [number, number][] = [];
  for (const r of ranges) {
    const from = r.from ?? allowed.from;
    const to = r.to ?? allowed.to;
    const clipped: [number, number][] = [];
    // Only a range the owner stated end to end may wrap midnight; "after 21:00" never does.
    const wraps = r.from !== undefined && r.to !== undefined;
    const [fm, tm] = [minutesOf(from), minutesOf(to)];
    for (const [a, b] of wraps || fm < tm ? piecesOf(fm, tm) : []) {
      const ca = Math.max(a, lo);
      const cb = Math.min(b, hi);
      if (ca < cb) clipped.push([ca, cb]);
    }
    if (clipped.length === 0) {
      notes.push({ kind: "hours_outside", from, to, allowed });
      continue;
    }
    const untouched =
      clipped.length === 1 && clipped[0]![0] === minutesOf(from) && clipped[0]![1] === minutesOf(to);
    if (!untouched) notes.push({ kind: "hours_clipped", from, to, allowed });
    kept.push(...clipped);
  }
  if (kept.length === 0) return undefined;
  kept.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const merged: [number, number][] = [];
  for (const [a, b] of kept) {
    const last = merged[merged.length - 1];
    if (last !== undefined && a <= last[1]) last[1] = Math.max(last[1], b);
    else merged.push([a, b]);
  }
  return merged.map(([a, b]) => ({ from: timeOfMinutes(a), to: timeOfMinutes(b) }));
}

/**
 * Merges `patch` into `draft` within the pack's bounds; the input draft is not changed.
 * Refused values add a note and leave the field as it was (an earlier answer stands), except a
 * renewal date before `today`, which clears the date so it is asked again (the policy named
 * has expired): a date more than {@link MAX_MONTHS_AHEAD} months ahead; insurer
 * ids not in the directory (names and aliases are also accepted, case-insensitively); a
 * negative `daysBefore`; hour ranges wholly outside the calling hours. Narrowed values add a
 * note too: hours clipped to the calling hours (open ends take the pack's bounds), `daysBefore`
 * above the pack maximum, `maxAttempts` above the pack's total cap. Choosing insurers clears
 * "nobody" and vice versa (insurers win when a patch carries both). Channels follow
 * {@link applyChannels}: a negation removes only what it names. Duplicates are removed and
 * lists kept in canonical order.
 */
export function applyPatch(
  draft: Draft,
  patch: PreferencePatch,
  ctx: DraftContext,
): { draft: Draft; notes: DraftNote[] } {
  const next: Draft = { ...draft };
  const notes: DraftNote[] = [];

  if (patch.renewalDate !== undefined) {
    const latest = addMonths(ctx.today, MAX_MONTHS_AHEAD);
    if (patch.renewalDate < ctx.today) {
      // A policy that already expired: the date on file is no longer the one to plan for, so
      // the question is asked again for the new policy's expiry.
      notes.push({ kind: "date_past", date: patch.renewalDate });
      delete next.renewalDate;
    } else if (patch.renewalDate > latest)
      notes.push({ kind: "date_too_far", date: patch.renewalDate, latest });
    else next.renewalDate = patch.renewalDate;
  }

  const chosen: string[] = [];
  for (const text of patch.insurers ?? []) {
    const id = resolveInsurer(text, ctx.directory);
    const entry = ctx.directory.find((i) => i.id === id);
    if (id === undefined || entry === undefined) notes.push({ kind: "insurer_unknown", insurer: text });
    else if (entry.choosable === false)
      notes.push({ kind: "insurer_not_choosable", insurer: id, name: entry.name });
    else if (!chosen.includes(id)) chosen.push(id);
  }
  if (chosen.length > 0) {
    next.insurers = chosen;
    next.nobody = false;
  } else if (patch.nobody === true) {
    next.insurers = [];
    next.nobody = true;
  }

  applyChannels(next, patch, notes);
  if (patch.days !== undefined && patch.days.length > 0) {
    next.days = inCanonicalOrder<Weekday>(patch.days, WEEKDAYS);
  }
  if (patch.hours !== undefined) {
    const hours = clipHours(patch.hours, ctx.pack, notes);
    if (hours !== undefined) next.hours = hours;
  }

  if (patch.daysBefore !== undefined) {
    const max = ctx.pack.maxDaysBefore.value;
    if (patch.daysBefore < 0) notes.push({ kind: "days_before_negative", value: patch.daysBefore });
    else if (patch.daysBefore > max) {
      notes.push({ kind: "days_before_clipped", value: patch.daysBefore, max });
      next.daysBefore = max;
    } else next.daysBefore = patch.daysBefore;
  }

  if (patch.maxAttempts !== undefined) {
    const max = ctx.pack.maxAttemptsTotal.value;
    if (patch.maxAttempts < 1) notes.push({ kind: "attempts_invalid", value: patch.maxAttempts });
    else if (patch.maxAttempts > max) {
      notes.push({ kind: "attempts_clipped", value: patch.maxAttempts, max });
      next.maxAttempts = max;
    } else next.maxAttempts = patch.maxAttempts;
  }

  return { draft: next, notes };
}

/**
 * Channels: a positive list replaces the choice (less what the same message refuses); a
 * negation alone removes only what it names from the channels already chosen, and adds none.
 * Before any channel was chosen a negation is remembered for the channel question. A negation
 * that would leave no channel clears the choice, so the question is asked again. "Nobody"
 * carries no channels at all.
 */
function applyChannels(next: Draft, patch: PreferencePatch, notes: DraftNote[]): void {
  if (next.nobody === true) {
    delete next.channels;
    delete next.refusedChannels;
    return;
  }
  const refused = new Set<Channel>(patch.withoutChannels ?? []);
  if (patch.channels !== undefined && patch.channels.length > 0) {
    const kept = inCanonicalOrder<Channel>(
      patch.channels.filter((c) => !refused.has(c)),
      CHANNELS,
    );
    if (kept.length > 0) {
      next.channels = kept;
      delete next.refusedChannels;
      return;
    }
  }
  if (refused.size === 0) return;
  if (next.channels === undefined || next.channels.length === 0) {
    const all = new Set([...(next.refusedChannels ?? []), ...refused]);
    next.refusedChannels = inCanonicalOrder<Channel>([...all], CHANNELS);
    return;
  }
  const left = next.channels.filter((c) => !refused.has(c));
  if (left.length === 0) {
    notes.push({ kind: "channels_none_left", refused: inCanonicalOrder<Channel>([...refused], CHANNELS) });
    delete next.channels;
    next.refusedChannels = inCanonicalOrder<Channel>([...refused], CHANNELS);
    return;
  }
  next.channels = left;
}

/**
 * The fields still to ask for, in question order. With "nobody" only the renewal date is
 * needed (it dates the opt-outs' context and next year's reminder).
 */
export function missingFields(draft: Draft): PreferenceField[] {
  if (draft.nobody === true) return draft.renewalDate === undefined ? ["renewalDate"] : [];
  return QUESTION_ORDER.filter((field) => {
    const value = draft[field];
    return value === undefined || (Array.isArray(value) && value.length === 0);
  });
}

/**
 * The complete preferences of a draft, or undefined while a field is missing or invalid.
 * "Nobody" yields `insurers: []` with neutral defaults for what was not asked (calling hours of
 * `pack`, every day, SMS, 0 days before, 1 attempt): no window is issued from them.
 */
export function toPreferences(draft: Draft, pack?: PolicyPack): Preferences | undefined {
  if (missingFields(draft).length > 0) return undefined;
  const candidate =
    draft.nobody === true
      ? {
          renewalDate: draft.renewalDate,
          insurers: [],
          channels: draft.channels?.length ? draft.channels : ["sms"],
          days: draft.days?.length ? draft.days : [...WEEKDAYS],
          hours: draft.hours?.length
            ? draft.hours
            : [pack?.callingHours.value ?? { from: "09:00", to: "20:00" }],
          daysBefore: draft.daysBefore ?? 0,
          maxAttempts: draft.maxAttempts ?? 1,
        }
      : {
          renewalDate: draft.renewalDate,
          insurers: draft.insurers,
          channels: draft.channels,
          days: draft.days,
          hours: draft.hours,
          daysBefore: draft.daysBefore,
          maxAttempts: draft.maxAttempts,
          ...(draft.shareName ? { shareName: true } : {}),
        };
  const parsed = Preferences.safeParse(candidate);
  return parsed.success ? parsed.data : undefined;
}
