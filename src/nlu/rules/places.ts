/**
 * Where the owner lives, from what they write ("I live in Beijing", "I'm in Los Angeles",
 * "我在上海", "我住在香港", "timezone: Europe/Berlin"): the time zone calling hours are kept in
 * (DESIGN §7: any owner may say where they live, whatever their phone's country). English city
 * names come from city-timezones (the most populous city of that name wins); Chinese names and
 * countries from domain/places.ts. A phrase that names no known place reads as nothing, so
 * "I'm in a meeting" or "我在平安买的" never move anyone's calling hours.
 */
import { createRequire } from "node:module";
import type { CityData } from "city-timezones";
import { placeZone, placeZoneAtStart } from "../../domain/places.js";

// city-timezones is CommonJS; its data is read once.
const { cityMapping } = createRequire(import.meta.url)("city-timezones") as { cityMapping: CityData[] };

/** Lower-cased city name → its most populous city. */
const CITIES = new Map<string, CityData>();
/** IANA zone → the country (ISO alpha-2) of its most populous city. */
const ZONE_COUNTRY = new Map<string, { iso2: string; pop: number }>();
for (const city of cityMapping) {
  for (const name of [city.city, city.city_ascii]) {
    const key = name.toLowerCase();
    const known = CITIES.get(key);
    if (!known || known.pop < city.pop) CITIES.set(key, city);
  }
  const zone = ZONE_COUNTRY.get(city.timezone);
  if (!zone || zone.pop < city.pop) ZONE_COUNTRY.set(city.timezone, { iso2: city.iso2, pop: city.pop });
}

const VALID_ZONES = new Set(Intl.supportedValuesOf("timeZone"));

/** Whether the runtime knows `zone` as an IANA time zone. */
export function isTimeZone(zone: string): boolean {
  if (VALID_ZONES.has(zone)) return true;
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    // Only Area/City ids (and UTC): abbreviations like "EST" name no place's rules on DST.
    return zone === "UTC" || zone.includes("/");
  } catch {
    return false;
  }
}

/** The country (ISO alpha-2) a zone belongs to, if known ("Asia/Shanghai" → "CN"). */
export function countryOfZone(zone: string): string | undefined {
  return ZONE_COUNTRY.get(zone)?.iso2;
}

export interface Place {
  zone: string;
  /** The place as the owner wrote it. */
  place: string;
}

/** A smaller city of a common word ("Love", "Home") is not taken from "I'm in …". */
const LOOSE_PHRASE_MIN_POP = 500_000;

/**
 * The place a name alone gives ("Beijing", "上海", "los angeles", "America/Chicago"): the
 * answer to "where do you live?".
 */
export function findPlace(text: string, minPop = 0): Place | undefined {
  const name = text
    .trim()
    .replace(/[.!?。！？,，]+$/u, "")
    .trim();
  if (name.length < 2 || name.length > 60) return undefined;
  const direct = /^[A-Za-z]+(?:\/[A-Za-z0-9_+-]+)+$/.test(name) && isTimeZone(name) ? name : undefined;
  if (direct) return { zone: direct, place: name };
  const table = placeZone(name);
  if (table) return { zone: table, place: name };
  const city = CITIES.get(name.toLowerCase());
  if (city && city.pop >= minPop && isTimeZone(city.timezone)) return { zone: city.timezone, place: name };
  const atStart = placeZoneAtStart(name);
  if (atStart && /[\u4e00-\u9fff]/.test(atStart.place)) return atStart;
  return undefined;
}

/** "I live in X", "I'm based in X", "my time zone is X"; "I'm in X" only for a large city. */
const EN_FIRM =
  /\b(?:i\s+(?:now\s+)?(?:live|reside|stay)|i\s+am\s+living|i'm\s+living|we\s+live|i\s+am\s+based|i'm\s+based|based|living|my\s+home\s+is|my\s+time\s*zone\s+is|time\s*zone\s*(?:is|:))\s+(?:in\s+|at\s+|near\s+)?(.+)$/i;
const EN_LOOSE = /\b(?:i\s+am|i'm|im)\s+(?:now\s+)?in\s+(.+)$/i;
const ZH =
  /(?:我(?:现在|目前|平时|人)?(?:住|居住|生活|常住)?在|我住|居住在|生活在|常住|人在|时区(?:是|为|[:：])?)\s*(.+)$/u;

/**
 * What may follow a Chinese place name for it to be where the owner is: the end of the clause,
 * or words about living or working there ("我在上海工作", "我在北京这边"). Anything else makes it
 * part of a longer name or another statement: "我在中国平安买的车险" is about an insurer, and
 * "我在上海买的车" says where the car was bought, not where the owner lives.
 */
const PLACE_END =
  /^(?:$|[\s,.;!?，。；！？、()（）]|(?:市|省|区|县)?(?:工作|上班|生活|居住|住|定居|读书|上学|这边|那边|这里|那里|呢|了|啦|哦|啊|呀|的时间|时间))/u;

function endsPlace(after: string): boolean {
  return PLACE_END.test(after);
}

/** Candidate place names from the words after the cue: the whole clause, then shorter heads. */
function heads(rest: string): string[] {
  const clause = rest.split(/[,.;!?，。；！？()（）]|\s+(?:and|but|so|now|these days)\b/i)[0]?.trim() ?? "";
  const words = clause
    .replace(/^the\s+/i, "")
    .split(/\s+/)
    .filter(Boolean);
  const out: string[] = [];
  for (let n = Math.min(words.length, 4); n >= 1; n--) out.push(words.slice(0, n).join(" "));
  return out;
}

/** Where a message says the owner lives, if it says so and names a known place. */
export function readPlace(text: string): Place | undefined {
  const zh = ZH.exec(text);
  if (zh?.[1]) {
    const rest = zh[1].trim();
    const atStart = placeZoneAtStart(rest);
    if (atStart && endsPlace(rest.slice(atStart.place.length))) return atStart;
    for (const head of heads(rest)) {
      const found = /[A-Za-z]/.test(head) ? findPlace(head) : undefined;
      if (found) return found;
    }
  }
  for (const [cue, minPop] of [
    [EN_FIRM, 0],
    [EN_LOOSE, LOOSE_PHRASE_MIN_POP],
  ] as const) {
    const m = cue.exec(text);
    if (!m?.[1]) continue;
    for (const head of heads(m[1])) {
      const found = findPlace(head, minPop);
      if (found) return found;
    }
  }
  return undefined;
}
