/**
 * Words shared by the consent text and the chat, in English and Chinese: lists joined as each
 * language joins them ("call, SMS, and Telegram", "电话、短信和 Telegram"), durations in words
 * ("5 years", not "1,825 days") and time zones by their names ("China Standard Time",
 * "中国标准时间"), never a raw IANA id inside a sentence. Pure: Intl only, never the clock.
 */
import type { Language } from "./model.js";

const LISTS: Record<Language, Intl.ListFormat> = {
  en: new Intl.ListFormat("en", { type: "conjunction" }),
  zh: new Intl.ListFormat("zh", { type: "conjunction" }),
};

/** "a, b, and c" / "a、b和c". */
export function listOf(items: readonly string[], language: Language): string {
  return LISTS[language].format(items);
}

/** A period of days in words: whole years as years, otherwise days. */
export function durationText(days: number, language: Language): string {
  const years = days / 365;
  if (Number.isInteger(years) && years > 0) {
    if (language === "zh") return `${years}年`;
    return years === 1 ? "1 year" : `${years} years`;
  }
  if (language === "zh") return `${days}天`;
  return days === 1 ? "1 day" : `${days.toLocaleString("en")} days`;
}

/** A fixed instant, so a zone's name never depends on today's date (the hash must not). */
const NAMING_INSTANT = new Date(Date.UTC(2026, 0, 15, 12));

/**
 * The zone's generic name in the language ("Pacific Time", "北美太平洋时间"); where the runtime
 * only knows an offset ("GMT+8"), the IANA city instead.
 */
export function zoneName(zone: string, language: Language): string {
  const name = new Intl.DateTimeFormat(language === "zh" ? "zh-CN" : "en", {
    timeZone: zone,
    timeZoneName: "longGeneric",
  })
    .formatToParts(NAMING_INSTANT)
    .find((p) => p.type === "timeZoneName")?.value;
  if (name && !/^GMT|^UTC/.test(name)) return name;
  const city = (zone.split("/").at(-1) ?? zone).replaceAll("_", " ");
  return language === "zh" ? `${city}时间` : `${city} time`;
}
