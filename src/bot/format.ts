/** Turning preferences and records into the short phrases the bot shows. */
import type { Channel, HourRange, Weekday } from "../domain/preferences.js";
import { offsetMinutes, zoneCity } from "../domain/zones.js";
import type { BotContext } from "./context.js";

type T = BotContext["t"];

const WEEKDAYS_ONLY = ["mon", "tue", "wed", "thu", "fri"];
const WEEKEND = ["sat", "sun"];

export function formatDays(t: T, days: readonly Weekday[]): string {
  const key = [...days].join(",");
  if (days.length === 7) return t("button-every-day");
  if (key === WEEKDAYS_ONLY.join(",")) return t("button-weekdays");
  if (key === WEEKEND.join(",")) return t("button-weekends");
  return days.map((d) => t(`day-${d}`)).join(", ");
}

export function formatHours(hours: readonly HourRange[]): string {
  return hours.map((h) => `${h.from}–${h.to}`).join(", ");
}

export function formatChannels(t: T, channels: readonly Channel[]): string {
  return channels.map((c) => t(`channel-${c}`)).join(", ");
}

/** "2027-07-01 00:00" in the given zone: what an owner reads as a local time. */
/** A zone as a button shows it: "Los Angeles (UTC-8)", with the offset at `at`. */
export function formatZone(zone: string, at: Date): string {
  const hours = offsetMinutes(zone, at) / 60;
  const offset = hours === 0 ? "UTC" : `UTC${hours > 0 ? "+" : "-"}${formatOffset(Math.abs(hours))}`;
  return `${zoneCity(zone)} (${offset})`;
}

function formatOffset(hours: number): string {
  const whole = Math.floor(hours);
  const minutes = Math.round((hours - whole) * 60);
  return minutes === 0 ? String(whole) : `${whole}:${String(minutes).padStart(2, "0")}`;
}

export function formatLocal(instant: string, timeZone: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(new Date(instant));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")}`;
}
