/**
 * Turning preferences and records into the short phrases the bot shows, in the chat's
 * language: lists joined as the language joins them, zones by name and offset, periods in words.
 */
import type { Language } from "../domain/model.js";
import { zoneCityZh } from "../domain/places.js";
import type { Channel, HourRange, Weekday } from "../domain/preferences.js";
import { durationText, listOf, zoneName } from "../domain/wording.js";
import { offsetMinutes, zoneCity } from "../domain/zones.js";
import type { BotContext } from "./context.js";

type T = BotContext["t"];

const WEEKDAYS_ONLY = ["mon", "tue", "wed", "thu", "fri"];
const WEEKEND = ["sat", "sun"];

/**
 * The language `t` renders in, read synchronously from the catalogue itself (each locale file
 * names its own code), so formatting never waits on the session.
 */
export function languageOf(t: T): Language {
  return t("language-code") === "zh" ? "zh" : "en";
}

/** A list in the chat's language: "call, SMS, and Telegram" / "电话、短信和Telegram". */
export function formatList(t: T, items: readonly string[]): string {
  return listOf(items, languageOf(t));
}

export function formatDays(t: T, days: readonly Weekday[]): string {
  const key = [...days].join(",");
  if (days.length === 7) return t("button-every-day");
  if (key === WEEKDAYS_ONLY.join(",")) return t("button-weekdays");
  if (key === WEEKEND.join(",")) return t("button-weekends");
  return formatList(
    t,
    days.map((d) => t(`day-${d}`)),
  );
}

export function formatHours(t: T, hours: readonly HourRange[]): string {
  return formatList(
    t,
    hours.map((h) => `${h.from}–${h.to}`),
  );
}

export function formatChannels(t: T, channels: readonly Channel[]): string {
  return formatList(
    t,
    channels.map((c) => t(`channel-${c}`)),
  );
}

/** "5 years", "30 days" / "5年": a period of days in words. */
export function formatPeriod(t: T, days: number): string {
  return durationText(days, languageOf(t));
}

/**
 * A zone as the owner reads it, with its offset at `at`: "Los Angeles (UTC-8)"; in Chinese its
 * Chinese city where one is known, else its name: "洛杉矶（UTC-8）", "中欧时间（UTC+1）".
 */
export function formatZone(t: T, zone: string, at: Date): string {
  const hours = offsetMinutes(zone, at) / 60;
  const offset = hours === 0 ? "UTC" : `UTC${hours > 0 ? "+" : "-"}${formatOffset(Math.abs(hours))}`;
  if (languageOf(t) === "zh") return `${zoneCityZh(zone) ?? zoneName(zone, "zh")}（${offset}）`;
  return `${zoneCity(zone)} (${offset})`;
}

/** The zone's name in a sentence: "Pacific Time", "中国标准时间". */
export function formatZoneName(t: T, zone: string): string {
  return zoneName(zone, languageOf(t));
}

function formatOffset(hours: number): string {
  const whole = Math.floor(hours);
  const minutes = Math.round((hours - whole) * 60);
  return minutes === 0 ? String(whole) : `${whole}:${String(minutes).padStart(2, "0")}`;
}

/** One formatter per zone, kept: building an Intl.DateTimeFormat costs ten times a format. */
const LOCAL_FORMATS = new Map<string, Intl.DateTimeFormat>();

/** "2027-07-01 00:00" in the given zone: what an owner reads as a local time. */
export function formatLocal(instant: string, timeZone: string): string {
  let format = LOCAL_FORMATS.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    LOCAL_FORMATS.set(timeZone, format);
  }
  const parts = format.formatToParts(new Date(instant));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")}`;
}
