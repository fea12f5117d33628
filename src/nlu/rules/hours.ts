import type { OpenHourRange } from "../../domain/preferences.js";
import { NUM, type RuleResult, type Span, toNumber } from "./text.js";

type Meridiem = "am" | "pm" | undefined;

/** Hours of the day named by a word, as wide as a caller would mean them. */
const PERIODS: { re: RegExp; range: OpenHourRange }[] = [
  {
    re: /\b(?:office|business|work(?:ing)?) hours\b|\bduring the day\b|\bdaytime\b|工作时间|上班时间|白天/gi,
    range: { from: "09:00", to: "18:00" },
  },
  { re: /\bafter work\b|下班(?:以?后|之后)/gi, range: { from: "18:00" } },
  { re: /\b(?:any ?time|at any hour)\b|随时|什么时候都(?:行|可以)/gi, range: { from: "00:00", to: "24:00" } },
  { re: /\bafter lunch\b|午饭后|午休后/gi, range: { from: "14:00" } },
  { re: /\bbefore lunch\b/gi, range: { to: "12:00" } },
  { re: /\bmornings?\b|上午|早上|早晨/gi, range: { from: "09:00", to: "12:00" } },
  {
    re: /\b(?:lunch ?(?:time|break)?|midday|noon ?time)\b|中午|午休|午饭/gi,
    range: { from: "12:00", to: "14:00" },
  },
  { re: /\bafternoons?\b|下午/gi, range: { from: "13:00", to: "18:00" } },
  { re: /\b(?:evenings?|tonight|nights?)\b|晚上|傍晚|晚间/gi, range: { from: "18:00", to: "20:00" } },
];

function hhmm(h: number, min: number): string | undefined {
  if (h < 0 || h > 24 || min < 0 || min > 59 || (h === 24 && min > 0)) return undefined;
  return `${String(h).padStart(2, "0")}:${String(min).padStart(2, "0")}`;
}

/**
 * A clock hour without am/pm, read the way a caller means it: 1–7 are afternoon or evening
 * (nobody asks for calls at 6 a.m.), 8–11 morning, 12 noon.
 */
function to24(h: number, meridiem: Meridiem): number {
  if (meridiem === "pm") return h < 12 ? h + 12 : h;
  if (meridiem === "am") return h === 12 ? 0 : h;
  return h >= 1 && h <= 7 ? h + 12 : h;
}

function meridiemOf(word: string | undefined): Meridiem {
  if (!word) return undefined;
  if (/^(?:p|下午|晚上|傍晚|晚)/i.test(word)) return "pm";
  if (/^(?:a|上午|早上|早晨|凌晨)/i.test(word)) return "am";
  if (/^中午/.test(word)) return "pm";
  return undefined;
}

// English clock time: "6", "6pm", "6:30 p.m.", "18:00", "noon", "midnight".
const EN_T = "(?:(noon|midday|midnight)|(\\d{1,2})(?::(\\d{2}))?\\s*(a\\.?m\\.?|p\\.?m\\.?|o'?clock)?)";
// A following word that makes the number a count, not an hour ("from 2 weeks before").
const NOT_HOUR =
  "(?!\\s*(?:days?|weeks?|months?|calls?|times|attempts?|tries|texts?|messages?|x\\b|%|\\d|[/.-]\\d))";
// Chinese clock time: "晚上6点", "6点半", "18:30", "下午两点十分".
const ZH_P = "(早上|早晨|上午|中午|下午|傍晚|晚上|凌晨)?";
const ZH_T = `${ZH_P}\\s*(${NUM})(?:[点时](?:(半)|(${NUM})分?)?|:(\\d{2}))`;

interface Clock {
  h: number;
  min: number;
  meridiem: Meridiem;
}

function enClock(g: (string | undefined)[]): Clock | undefined {
  const [word, h, min, mer] = g;
  if (word)
    return word.toLowerCase() === "midnight"
      ? { h: 24, min: 0, meridiem: "am" }
      : { h: 12, min: 0, meridiem: "pm" };
  const hour = Number(h);
  if (!h || hour > 24) return undefined;
  const m = meridiemOf(mer);
  // "18:00" is already on the 24-hour clock.
  return { h: hour, min: Number(min ?? 0), meridiem: m ?? (hour > 12 || hour === 0 ? "am" : undefined) };
}

function zhClock(g: (string | undefined)[]): Clock | undefined {
  const [period, h, half, min, colonMin] = g;
  const hour = toNumber(h ?? "");
  if (hour === undefined || hour > 24) return undefined;
  const minute = half ? 30 : colonMin ? Number(colonMin) : min ? (toNumber(min) ?? 0) : 0;
  return { h: hour, min: minute, meridiem: meridiemOf(period) ?? (hour > 12 ? "am" : undefined) };
}

function clockString(c: Clock): string | undefined {
  return hhmm(c.h === 24 ? 24 : to24(c.h, c.meridiem), c.min);
}

/** A range's end without am/pm follows its start ("6-8pm", "晚上6点到8点", "9 to 5"). */
function rangeOf(from: Clock, to: Clock): OpenHourRange | undefined {
  const start = {
    ...from,
    meridiem: from.meridiem ?? (to.meridiem === "pm" && from.h <= to.h ? "pm" : undefined),
  };
  const a = clockString(start);
  let b = clockString({ ...to, meridiem: to.meridiem ?? start.meridiem });
  if (a && b && b <= a && to.meridiem === undefined && to.h < 12) b = hhmm(to.h + 12, to.min);
  if (!a || !b || b <= a) return undefined;
  return { from: a, to: b };
}

interface Rule {
  re: RegExp;
  read(m: RegExpExecArray): OpenHourRange | undefined;
}

const RULES: Rule[] = [
  {
    re: new RegExp(`${ZH_T}\\s*(?:-|~|到|至|—)\\s*${ZH_T}`, "g"),
    read: (m) => {
      const a = zhClock(m.slice(1, 6));
      const b = zhClock(m.slice(6, 11));
      if (!a || !b) return undefined;
      return rangeOf(a, { ...b, meridiem: b.meridiem ?? a.meridiem });
    },
  },
  {
    re: new RegExp(`${ZH_P}\\s*(${NUM})\\s*(?:-|~|到|至)\\s*${ZH_T}`, "g"),
    read: (m) => {
      const b = zhClock(m.slice(3, 8));
      const h = toNumber(m[2] ?? "");
      if (!b || h === undefined) return undefined;
      const a = { h, min: 0, meridiem: meridiemOf(m[1]) ?? b.meridiem };
      return rangeOf(a, { ...b, meridiem: b.meridiem ?? a.meridiem });
    },
  },
  {
    re: new RegExp(`${ZH_T}\\s*(?:以后|之后|以来|后)`, "g"),
    read: (m) => {
      const c = zhClock(m.slice(1, 6));
      const from = c && clockString(c);
      return from ? { from } : undefined;
    },
  },
  {
    re: new RegExp(`${ZH_T}\\s*(?:以前|之前|前)`, "g"),
    read: (m) => {
      const c = zhClock(m.slice(1, 6));
      const to = c && clockString(c);
      return to ? { to } : undefined;
    },
  },
  {
    re: new RegExp(
      `(?:\\bbetween\\s+${EN_T}\\s+and\\s+${EN_T}|(?<![\\d/.:-])${EN_T}\\s*(?:-|–|~|\\bto\\b|\\btill\\b|\\buntil\\b)\\s*${EN_T})${NOT_HOUR}`,
      "gi",
    ),
    read: (m) => {
      const g = m[1] !== undefined || m[2] !== undefined ? m.slice(1, 9) : m.slice(9, 17);
      const a = enClock(g.slice(0, 4));
      const b = enClock(g.slice(4, 8));
      return a && b ? rangeOf(a, b) : undefined;
    },
  },
  {
    re: new RegExp(
      `\\b(?:after|from|since|not before|no earlier than|starting(?: at)?)\\s+${EN_T}${NOT_HOUR}`,
      "gi",
    ),
    read: (m) => {
      const c = enClock(m.slice(1, 5));
      const from = c && clockString(c);
      return from ? { from } : undefined;
    },
  },
  {
    re: new RegExp(`\\b(?:before|until|till|not after|no later than)\\s+${EN_T}${NOT_HOUR}`, "gi"),
    read: (m) => {
      const c = enClock(m.slice(1, 5));
      const to = c && clockString(c);
      return to ? { to } : undefined;
    },
  },
];

/**
 * Calling hours named in the text: explicit times ("after 6pm" → from 18:00, "9-12",
 * "晚上6点到8点", "下午2点以后") first, then period words ("evenings" → 18:00–20:00, "上午" →
 * 09:00–12:00). Ranges come sorted by start, without duplicates.
 */
export function extractHours(text: string): RuleResult<OpenHourRange[]> {
  const ranges: OpenHourRange[] = [];
  const spans: Span[] = [];
  let rest = text;
  const take = (re: RegExp, read: (m: RegExpExecArray) => OpenHourRange | undefined) => {
    const found: Span[] = [];
    for (const m of rest.matchAll(re)) {
      const r = read(m);
      if (!r) continue;
      ranges.push(r);
      found.push({ start: m.index, end: m.index + m[0].length });
    }
    for (const s of found) rest = rest.slice(0, s.start) + " ".repeat(s.end - s.start) + rest.slice(s.end);
    spans.push(...found);
  };
  for (const rule of RULES) take(rule.re, rule.read);
  for (const p of PERIODS) take(p.re, () => p.range);

  const unique = new Map(ranges.map((r) => [`${r.from ?? ""}-${r.to ?? ""}`, r]));
  const sorted = [...unique.values()].sort((a, b) => (a.from ?? "").localeCompare(b.from ?? ""));
  return { value: sorted.length > 0 ? sorted : undefined, spans };
}
