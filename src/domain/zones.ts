/**
 * Time zones an owner chooses between when the phone's country has several (DESIGN §4: "a
 * country with several zones asks the owner"). Calling hours and window dates are kept in
 * the owner's zone, so a wrong zone means calls at the wrong hours. Pure: reads only the
 * runtime's time-zone database (Intl), never the clock.
 */
import { timezonesForCountry } from "./phone.js";

/**
 * Where a country has several zones with the same clock, the one people know (a capital or
 * the largest city) names the group; otherwise the first CLDR zone of the group does.
 */
const WELL_KNOWN = new Set([
  "America/New_York",
  "America/Chicago",
  "America/Denver",
  "America/Phoenix",
  "America/Los_Angeles",
  "America/Anchorage",
  "Pacific/Honolulu",
  "America/St_Johns",
  "America/Halifax",
  "America/Toronto",
  "America/Winnipeg",
  "America/Regina",
  "America/Edmonton",
  "America/Vancouver",
  "America/Mexico_City",
  "America/Cancun",
  "America/Tijuana",
  "America/Sao_Paulo",
  "America/Manaus",
  "Europe/Moscow",
  "Asia/Yekaterinburg",
  "Asia/Novosibirsk",
  "Asia/Vladivostok",
  "Australia/Sydney",
  "Australia/Brisbane",
  "Australia/Adelaide",
  "Australia/Darwin",
  "Australia/Perth",
  "Europe/Madrid",
  "Europe/Lisbon",
  "Asia/Jakarta",
  "Asia/Makassar",
  "Asia/Jayapura",
  "Asia/Almaty",
  "Europe/Kyiv",
]);

/** One offset formatter per zone: building one costs tens of µs, using it a few. */
const OFFSET_FORMATS = new Map<string, Intl.DateTimeFormat>();
const MAX_OFFSET_FORMATS = 1_000;

function offsetFormat(zone: string): Intl.DateTimeFormat {
  let format = OFFSET_FORMATS.get(zone);
  if (!format) {
    // Throws for an unknown zone before anything is kept, as the formatter always did.
    format = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "shortOffset" });
    if (OFFSET_FORMATS.size >= MAX_OFFSET_FORMATS) OFFSET_FORMATS.clear();
    OFFSET_FORMATS.set(zone, format);
  }
  return format;
}

/** UTC offset in minutes of `zone` at `at` ("GMT+5:30" → 330). */
export function offsetMinutes(zone: string, at: Date): number {
  const name =
    offsetFormat(zone)
      .formatToParts(at)
      .find((p) => p.type === "timeZoneName")?.value ?? "GMT";
  const m = /^GMT(?:([+-])(\d{1,2})(?::(\d{2}))?)?$/.exec(name);
  if (!m?.[1]) return 0;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
  return m[1] === "-" ? -minutes : minutes;
}

/**
 * One zone per distinct clock of the country in `year` (its winter and summer offsets), east
 * to west; an empty list or one zone means there is nothing to ask.
 */
export function zoneChoices(country: string, year: number): string[] {
  const january = new Date(Date.UTC(year, 0, 15, 12));
  const july = new Date(Date.UTC(year, 6, 15, 12));
  const groups = new Map<string, { offsets: [number, number]; zones: string[] }>();
  for (const zone of timezonesForCountry(country)) {
    const offsets: [number, number] = [offsetMinutes(zone, january), offsetMinutes(zone, july)];
    const key = offsets.join("/");
    const group = groups.get(key) ?? { offsets, zones: [] };
    group.zones.push(zone);
    groups.set(key, group);
  }
  return [...groups.values()]
    .sort((a, b) => b.offsets[0] - a.offsets[0] || b.offsets[1] - a.offsets[1])
    .map((g) => g.zones.find((z) => WELL_KNOWN.has(z)) ?? g.zones[0]!);
}

/** "America/Los_Angeles" → "Los Angeles"; "America/Indiana/Knox" → "Knox". */
export function zoneCity(zone: string): string {
  return (zone.split("/").at(-1) ?? zone).replaceAll("_", " ");
}

/** The choice a typed answer names ("los angeles", "America/Los_Angeles"), if exactly one. */
export function matchZone(text: string, choices: readonly string[]): string | undefined {
  const wanted = text.trim().toLowerCase().replaceAll("_", " ");
  if (wanted.length < 3) return undefined;
  const hits = choices.filter((zone) => {
    const city = zoneCity(zone).toLowerCase();
    return wanted === zone.toLowerCase().replaceAll("_", " ") || wanted.includes(city) || city === wanted;
  });
  return hits.length === 1 ? hits[0] : undefined;
}
