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
  {
    re: /\b(?:evenings?|tonight|nights?(?! ?shifts?))\b|晚上|傍晚|晚间/gi,
    range: { from: "18:00", to: "20:00" },
  },
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
  // "10am-12", "上午10点到12点": an end of 12 that borrows its half of the day is noon.
  let b = clockString({ ...to, meridiem: to.meridiem ?? (to.h === 12 ? "pm" : start.meridiem) });
  if (a && b && b <= a && to.meridiem === undefined && to.h < 12) b = hhmm(to.h + 12, to.min);
  if (!a || !b || b <= a) return undefined;
  return { from: a, to: b };
}

interface Rule {
  re: RegExp;
  read(m: RegExpExecArray): OpenHourRange | undefined;
}

/** "别" and the like after a time: contact is refused on that side of it. */
const ZH_REFUSE = "(?:别|不要|不能|不许|不准)(?:打电话|来电|打|联系|发短信|发)?";

const RULES: Rule[] = [
  {
    // "don't call before 10am" → from 10:00; "no texts after 8pm" → until 20:00.
    re: new RegExp(
      `\\b(?:don'?t|do not|never|no)\\s+(?:call(?:s|ing)?|contact(?:ing)?|texts?|texting|ring(?:ing)?|messages?)(?:\\s+me)?\\s+(before|after|until|till|past)\\s+${EN_T}${NOT_HOUR}`,
      "gi",
    ),
    read: (m) => {
      const c = enClock(m.slice(2, 6));
      const at = c && clockString(c);
      if (!at) return undefined;
      return /^(?:before)$/i.test(m[1] ?? "") ? { from: at } : { to: at };
    },
  },
  {
    // "早上10点前别打" → from 10:00; "晚上9点以后别打电话" → until 21:00.
    re: new RegExp(`${ZH_T}\\s*(以前|之前|前|以后|之后|后)\\s*${ZH_REFUSE}`, "g"),
    read: (m) => {
      const c = zhClock(m.slice(1, 6));
      const at = c && clockString(c);
      if (!at) return undefined;
      return /前/.test(m[6] ?? "") ? { from: at } : { to: at };
    },
  },
  {
    re: new RegExp(`${ZH_T}\\s*(?:-|~|到|至|—)\\s*${ZH_T}`, "g"),
    read: (m) => {
      const a = zhClock(m.slice(1, 6));
      const b = zhClock(m.slice(6, 11));
      if (!a || !b) return undefined;
      return rangeOf(a, b);
    },
  },
  {
    re: new RegExp(`${ZH_P}\\s*(${NUM})\\s*(?:-|~|到|至)\\s*${ZH_T}`, "g"),
    read: (m) => {
      const b = zhClock(m.slice(3, 8));
      const h = toNumber(m[2] ?? "");
      if (!b || h === undefined) return undefined;
      const a = { h, min: 0, meridiem: meridiemOf(m[1]) ?? b.meridiem };
      return rangeOf(a, b);
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
      `(?<!\\bnot\\s)\\b(?:after|from|since|not before|no earlier than|starting(?: at)?)\\s+${EN_T}${NOT_HOUR}`,
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

const QUALIFIED = /\b(\d{1,2}(?::\d{2})?)\s+(?:in the|at) (morning|afternoon|evening|night)\b/gi;

const RULED_OUT_BEFORE =
  /\b(?:busy|not free|unavailable|driving|working|at work|in meetings?|not|never|no calls?|don'?t call(?: me)?)\b[^,.;!?]{0,12}$/i;
const RULED_OUT_AFTER = /^\s*(?:不方便|不行|不可以|没空|没时间|不要|别打|不在|要上班|上班)/;

/** A refusal right after an open range: "以后不要联系", "之后别打". */
const REFUSED_AFTER =
  /^\s*(?:就)?(?:不要|别|不准|不许|不可以|不能)(?:再)?(?:联系我?|打电话|打|来电|发短信|发)?/;

function ruledOut(text: string, m: RegExpExecArray): boolean {
  const before = text.slice(Math.max(0, m.index - 28), m.index);
  const after = text.slice(m.index + m[0].length, m.index + m[0].length + 6);
  return (
    RULED_OUT_BEFORE.test(before) || /(?:不是|不要|别在|不在)\s*$/.test(before) || RULED_OUT_AFTER.test(after)
  );
}

/** Whether an explicit range starts or ends inside a period ("evening" 18:00–20:00). */
function overlaps(e: OpenHourRange, period: OpenHourRange): boolean {
  const from = period.from ?? "00:00";
  const to = period.to ?? "24:00";
  return (
    (e.from !== undefined && e.from >= from && e.from < to) ||
    (e.to !== undefined && e.to > from && e.to <= to)
  );
}

/**
 * Calling hours named in the text: explicit times ("after 6pm" → from 18:00, "9-12",
 * "晚上6点到8点", "下午2点以后", "don't call before 10" → from 10:00) first, then period words
 * ("evenings" → 18:00–20:00, "上午" → 09:00–12:00) unless an explicit time falls inside them.
 * Ranges come sorted by start, without duplicates.
 */
export function extractHours(text: string): RuleResult<OpenHourRange[]> {
  const ranges: OpenHourRange[] = [];
  const spans: Span[] = [];
  let rest = text;
  const take = (re: RegExp, read: (m: RegExpExecArray) => OpenHourRange | null | undefined) => {
    const found: Span[] = [];
    for (const m of rest.matchAll(re)) {
      // undefined: not an hour after all, left for others; null: consumed, but no range.
      let r = read(m);
      if (r === undefined) continue;
      let end = m.index + m[0].length;
      // "晚上8点以后不要联系我", "after 9pm no calls": the open end refused is the other side.
      const refusal = REFUSED_AFTER.exec(text.slice(end, end + 8));
      if (r && refusal && (r.from === undefined) !== (r.to === undefined)) {
        r = r.from !== undefined ? { to: r.from } : { from: r.to! };
        end += refusal[0].length;
      }
      found.push({ start: m.index, end });
      if (r) ranges.push(r);
    }
    for (const s of found) rest = rest.slice(0, s.start) + " ".repeat(s.end - s.start) + rest.slice(s.end);
    spans.push(...found);
  };
  // "8 in the evening" is "8pm": rewritten in place (same length), so no period is read from it.
  rest = rest.replace(QUALIFIED, (all, clock: string, half: string) =>
    `${clock}${/morning/i.test(half) ? "am" : "pm"}`.padEnd(all.length, " "),
  );
  for (const rule of RULES) take(rule.re, rule.read);
  const explicit = ranges.length;
  // "busy during the day", "晚上不方便": a period ruled out is consumed, not offered.
  for (const p of PERIODS) take(p.re, (m) => (ruledOut(rest, m) ? null : p.range));

  // A period word around an explicit time only says which half of the day it is in ("between 7
  // and 9 in the evening", "in the afternoon, between 2 and 5"): the explicit time wins.
  const exact = ranges.slice(0, explicit);
  const kept = ranges.filter((r, i) => i < explicit || !exact.some((e) => overlaps(e, r)));
  // "not before 10am and not after 7pm": one open start and one open end make one range.
  const starts = kept.filter((r) => r.from !== undefined && r.to === undefined);
  const ends = kept.filter((r) => r.to !== undefined && r.from === undefined);
  if (starts.length === 1 && ends.length === 1 && starts[0]!.from! < ends[0]!.to!) {
    const joined = { from: starts[0]!.from!, to: ends[0]!.to! };
    kept.splice(0, kept.length, ...kept.filter((r) => r !== starts[0] && r !== ends[0]), joined);
  }
  const unique = new Map(kept.map((r) => [`${r.from ?? ""}-${r.to ?? ""}`, r]));
  const sorted = [...unique.values()].sort((a, b) => (a.from ?? "").localeCompare(b.from ?? ""));
  return { value: sorted.length > 0 ? sorted : undefined, spans };
}
