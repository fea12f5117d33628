/**
 * Inline keyboards. Callback data stays well under Telegram's 64 bytes: "ob:<what>:<value>"
 * with directory ids of at most 32 characters.
 */
import { InlineKeyboard, Keyboard } from "grammy";
import type { Insurer } from "../domain/model.js";
import type { PolicyPack } from "../domain/policy-packs.js";
import { CHANNELS, type HourRange, WEEKDAYS } from "../domain/preferences.js";
import type { BotContext } from "./context.js";

type T = BotContext["t"];
const mark = (on: boolean, label: string) => (on ? `✅ ${label}` : label);

export function contactKeyboard(t: T) {
  return new Keyboard().requestContact(t("button-share-contact")).resized().oneTime();
}

export function skipKeyboard(t: T) {
  return new InlineKeyboard().text(t("button-skip"), "ob:vehicle:skip");
}

export function insurersKeyboard(t: T, directory: readonly Insurer[], picked: readonly string[]) {
  const kb = new InlineKeyboard();
  directory.forEach((insurer, i) => {
    kb.text(mark(picked.includes(insurer.id), insurer.name), `ob:ins:${insurer.id}`);
    if (i % 2 === 1) kb.row();
  });
  return kb.row().text(t("button-nobody"), "ob:ins-nobody").row().text(t("button-done"), "ob:ins-done");
}

/** One toggle per channel; the ones the owner refused in words are marked 🚫 (a tap still picks them). */
export function channelsKeyboard(t: T, picked: readonly string[], refused: readonly string[] = []) {
  const kb = new InlineKeyboard();
  for (const c of CHANNELS) {
    const label = refused.includes(c) && !picked.includes(c) ? `🚫 ${t(`channel-${c}`)}` : t(`channel-${c}`);
    kb.text(mark(picked.includes(c), label), `ob:ch:${c}`);
  }
  return kb.row().text(t("button-done"), "ob:ch-done");
}

export function daysKeyboard(t: T, picked: readonly string[]) {
  const kb = new InlineKeyboard();
  WEEKDAYS.forEach((d, i) => {
    kb.text(mark(picked.includes(d), t(`day-${d}`)), `ob:day:${d}`);
    if (i === 3) kb.row();
  });
  return kb
    .row()
    .text(t("button-weekdays"), "ob:days:weekdays")
    .text(t("button-weekends"), "ob:days:weekends")
    .text(t("button-every-day"), "ob:days:all")
    .row()
    .text(t("button-done"), "ob:days-done");
}

/** Named hour ranges, clipped to the pack's calling hours. */
export function hourPresets(pack: PolicyPack): Record<string, HourRange> {
  const { from, to } = pack.callingHours.value;
  // "HH:MM" strings order like the times they name.
  const later = (a: string, b: string) => (a.localeCompare(b) >= 0 ? a : b);
  const earlier = (a: string, b: string) => (a.localeCompare(b) <= 0 ? a : b);
  const clip = (r: HourRange): HourRange => ({ from: later(r.from, from), to: earlier(r.to, to) });
  return {
    morning: clip({ from, to: "12:00" }),
    afternoon: clip({ from: "12:00", to: "18:00" }),
    evening: clip({ from: "18:00", to }),
    any: { from, to },
  };
}

export function hoursKeyboard(t: T, pack: PolicyPack, picked: readonly string[]) {
  const kb = new InlineKeyboard();
  for (const [name, range] of Object.entries(hourPresets(pack))) {
    kb.text(
      mark(picked.includes(name), `${t(`hours-${name}`)} ${range.from}–${range.to}`),
      `ob:hr:${name}`,
    ).row();
  }
  return kb.text(t("button-done"), "ob:hr-done");
}

export function numberKeyboard(kind: "db" | "att", values: readonly number[], label: (n: number) => string) {
  const kb = new InlineKeyboard();
  for (const n of values) kb.text(label(n), `ob:${kind}:${n}`);
  return kb;
}

/** One button per zone choice (domain/zones.ts), two to a row. */
export function zonesKeyboard(zones: readonly string[], label: (zone: string) => string) {
  const kb = new InlineKeyboard();
  zones.forEach((zone, i) => {
    kb.text(label(zone), `ob:tz:${zone}`);
    if (i % 2 === 1) kb.row();
  });
  return kb;
}

/** "I agree", "Change something", and — when there is a name to share — whether to share it. */
export function summaryKeyboard(t: T, name?: { name: string; shared: boolean }) {
  const kb = new InlineKeyboard().text(t("button-agree"), "ob:agree").row();
  if (name)
    kb.text(t(name.shared ? "button-name-hide" : "button-name-share", { name: name.name }), "ob:name").row();
  return kb.text(t("button-change"), "ob:change");
}

export const EDITABLE_FIELDS = [
  "renewalDate",
  "insurers",
  "channels",
  "days",
  "hours",
  "daysBefore",
  "maxAttempts",
] as const;
export type EditableField = (typeof EDITABLE_FIELDS)[number];

/** One button per field to change, and where the owner lives (any zone, DESIGN §7). */
export function changeKeyboard(t: T, nobody: boolean) {
  const kb = new InlineKeyboard();
  const fields = nobody ? EDITABLE_FIELDS.slice(0, 2) : EDITABLE_FIELDS;
  fields.forEach((f, i) => {
    kb.text(t(`field-${f}`), `ob:edit:${f}`);
    if (i % 3 === 2) kb.row();
  });
  return kb.row().text(t("field-timezone"), "ob:edit:timezone");
}
