/**
 * Calendar and time-zone arithmetic with Intl only (no tz library, no host time zone): every
 * function takes the IANA zone explicitly, so results never depend on where the process runs.
 */
import type { CalendarDate, ClockTime, Weekday } from "./preferences.js";
import { WEEKDAYS } from "./preferences.js";

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallClockOf(ms: number, timeZone: string): WallClock {
  const out: WallClock = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const p of formatterFor(timeZone).formatToParts(new Date(ms))) {
    if (p.type === "year" || p.type === "month" || p.type === "day") out[p.type] = Number(p.value);
    else if (p.type === "hour" || p.type === "minute" || p.type === "second") out[p.type] = Number(p.value);
  }
  return out;
}

/**
 * Offsets already computed, by zone and instant: formatToParts costs microseconds, and every
 * window plan converts the same few local midnights (owners share renewal dates). Bounded; a
 * pure function's memo, so dropping it changes nothing but speed.
 */
const offsets = new Map<string, Map<number, number>>();
const OFFSETS_PER_ZONE = 4096;

/** Offset of `timeZone` from UTC at an instant, in ms (east positive). */
function offsetAt(ms: number, timeZone: string): number {
  let known = offsets.get(timeZone);
  const hit = known?.get(ms);
  if (hit !== undefined) return hit;
  const w = wallClockOf(ms, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  const floored = ms - (((ms % 1000) + 1000) % 1000);
  const offset = asUtc - floored;
  if (known === undefined || known.size >= OFFSETS_PER_ZONE) {
    known = new Map();
    offsets.set(timeZone, known);
  }
  known.set(ms, offset);
  return offset;
}

/**
 * The instant of a local wall-clock reading (as ms-since-epoch read as UTC). Ambiguous readings
 * (clocks set back) take the earlier instant; readings in a gap (clocks set forward) are moved
 * forward by the gap — Temporal's "compatible" disambiguation.
 */
function localMsToUtc(localMs: number, timeZone: string): number {
  const before = offsetAt(localMs - DAY_MS, timeZone);
  const after = offsetAt(localMs + DAY_MS, timeZone);
  const candidates = [localMs - before, localMs - after].filter(
    (t, i) => offsetAt(t, timeZone) === (i === 0 ? before : after),
  );
  if (candidates.length > 0) return Math.min(...candidates);
  return localMs - before;
}

function parseDate(date: CalendarDate): { y: number; m: number; d: number } {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (match === null) throw new RangeError(`expected YYYY-MM-DD, got ${JSON.stringify(date)}`);
  return { y: Number(match[1]), m: Number(match[2]), d: Number(match[3]) };
}

function parseTime(time: ClockTime): { h: number; mi: number } {
  const match = /^(\d{2}):(\d{2})$/.exec(time);
  const h = Number(match?.[1]);
  const mi = Number(match?.[2]);
  if (match === null || h > 24 || mi > 59 || (h === 24 && mi !== 0)) {
    throw new RangeError(`expected HH:MM, got ${JSON.stringify(time)}`);
  }
  return { h, mi };
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

function formatDateUtc(ms: number): CalendarDate {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** Minutes since local midnight of "HH:MM" ("24:00" → 1440). */
export function minutesOf(time: ClockTime): number {
  const { h, mi } = parseTime(time);
  return h * 60 + mi;
}

/** "HH:MM" of minutes since local midnight, 0..1440 (1440 → "24:00"). */
export function timeOfMinutes(minutes: number): ClockTime {
  return `${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

/**
 * The UTC instant of a local date and time in `timeZone`. "24:00" is midnight at the end of
 * `date`. Correct across DST: a time skipped by the clocks moves forward, a repeated one takes
 * its first occurrence.
 * @example zonedDateTimeToUtc("2026-07-31", "24:00", "Asia/Shanghai") // 2026-07-31T16:00:00.000Z
 */
export function zonedDateTimeToUtc(date: CalendarDate, time: ClockTime, timeZone: string): Date {
  const { y, m, d } = parseDate(date);
  const { h, mi } = parseTime(time);
  return new Date(localMsToUtc(Date.UTC(y, m - 1, d, h, mi), timeZone));
}

/** The calendar date of an instant in `timeZone`. */
export function localDateOf(instant: Date, timeZone: string): CalendarDate {
  const w = wallClockOf(instant.getTime(), timeZone);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`;
}

/** The local wall-clock time "HH:MM" of an instant in `timeZone` (00:00..23:59). */
export function localTimeOf(instant: Date, timeZone: string): ClockTime {
  const w = wallClockOf(instant.getTime(), timeZone);
  return `${pad(w.hour)}:${pad(w.minute)}`;
}

/** The calendar date `n` days after `date` (negative `n` goes back). */
export function addDays(date: CalendarDate, n: number): CalendarDate {
  const { y, m, d } = parseDate(date);
  return formatDateUtc(Date.UTC(y, m - 1, d + n));
}

/**
 * The calendar date `n` months after `date`, the day clamped to the target month's length
 * (2026-01-31 + 1 month = 2026-02-28).
 */
export function addMonths(date: CalendarDate, n: number): CalendarDate {
  const { y, m, d } = parseDate(date);
  const lastDay = new Date(Date.UTC(y, m - 1 + n + 1, 0)).getUTCDate();
  return formatDateUtc(Date.UTC(y, m - 1 + n, Math.min(d, lastDay)));
}

/** The weekday of a calendar date. */
export function weekdayOf(date: CalendarDate): Weekday {
  const { y, m, d } = parseDate(date);
  const sundayFirst = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
  return WEEKDAYS[(sundayFirst + 6) % 7]!;
}

/**
 * The instant `n` business days (Monday–Friday in `timeZone`; public holidays are not known)
 * after `instant`, at the same local wall-clock time. A start on a weekend counts from the next
 * Monday. `n` = 0 returns `instant` unchanged.
 */
export function addBusinessDays(instant: Date, n: number, timeZone: string): Date {
  if (n <= 0) return new Date(instant.getTime());
  let date = localDateOf(instant, timeZone);
  let left = n;
  while (left > 0) {
    date = addDays(date, 1);
    const wd = weekdayOf(date);
    if (wd !== "sat" && wd !== "sun") left -= 1;
  }
  const w = wallClockOf(instant.getTime(), timeZone);
  const { y, m, d } = parseDate(date);
  const ms = ((instant.getTime() % 1000) + 1000) % 1000;
  return new Date(localMsToUtc(Date.UTC(y, m - 1, d, w.hour, w.minute, w.second, ms), timeZone));
}

/** Whether `timeZone` is an IANA zone this runtime knows. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}
