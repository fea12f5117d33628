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
 * only knows an offset ("GMT+8"), its standard name ("Coordinated Universal Time"), else the
 * IANA city. CLDR names Britain's clock after the country ("United Kingdom Time"); English
 * says "UK time".
 */
export function zoneName(zone: string, language: Language): string {
  // Pure in (zone, language), and costly (a formatter with zone names: ≈ 100 µs; /status and
  // every consent text name a zone): each answer is kept. Zones are a few hundred names.
  const key = `${language} ${zone}`;
  let name = ZONE_NAMES.get(key);
  if (name === undefined) {
    if (ZONE_NAMES.size >= MAX_ZONE_NAMES) ZONE_NAMES.clear();
    name = nameZone(zone, language);
    ZONE_NAMES.set(key, name);
  }
  return name;
}

const ZONE_NAMES = new Map<string, string>();
const MAX_ZONE_NAMES = 2_000;

function nameZone(zone: string, language: Language): string {
  const locale = language === "zh" ? "zh-CN" : "en";
  const named = (style: "longGeneric" | "long") => {
    const name = new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: style })
      .formatToParts(NAMING_INSTANT)
      .find((p) => p.type === "timeZoneName")?.value;
    return name && !/^GMT|^UTC/.test(name) ? name : undefined;
  };
  const generic = named("longGeneric");
  if (generic) return EN_RENAMED[generic] && language === "en" ? EN_RENAMED[generic] : generic;
  // Only a zone without daylight saving has one standard name for the whole year.
  const standard = fixedOffset(zone) ? named("long") : undefined;
  if (standard) return standard;
  // "Etc/GMT+5" is five hours *behind* UTC (POSIX signs): name it by its real offset.
  if (zone.startsWith("Etc/")) return offsetName(zone);
  const city = (zone.split("/").at(-1) ?? zone).replaceAll("_", " ");
  return language === "zh" ? `${city}时间` : `${city} time`;
}

const EN_RENAMED: Readonly<Record<string, string>> = { "United Kingdom Time": "UK time" };

function offsetName(zone: string): string {
  const offset =
    new Intl.DateTimeFormat("en", { timeZone: zone, timeZoneName: "longOffset" })
      .formatToParts(NAMING_INSTANT)
      .find((p) => p.type === "timeZoneName")?.value ?? "GMT";
  return offset.replace(/^GMT/, "UTC");
}

/** Whether the zone keeps one offset all year (UTC, Etc/GMT+5): its standard name is always true. */
function fixedOffset(zone: string): boolean {
  const offset = (month: number) =>
    new Intl.DateTimeFormat("en", { timeZone: zone, timeZoneName: "longOffset" })
      .formatToParts(new Date(Date.UTC(2026, month, 15, 12)))
      .find((p) => p.type === "timeZoneName")?.value;
  return offset(0) === offset(6);
}
