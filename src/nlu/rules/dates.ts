import * as chrono from "chrono-node";
import { NUM, type RuleResult, type Span, toNumber } from "./text.js";

interface Ymd {
  y: number;
  m: number;
  d: number;
}

interface Candidate {
  span: Span;
  date: Ymd;
  /** The text named the year ("2025-01-01"): kept even when past, for validation to refuse. */
  explicitYear?: boolean;
}

function parseToday(today: string): Ymd {
  const [y, m, d] = today.split("-").map(Number);
  return { y: y ?? 1970, m: m ?? 1, d: d ?? 1 };
}

function lastDay(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

function valid({ y, m, d }: Ymd): boolean {
  return m >= 1 && m <= 12 && d >= 1 && d <= lastDay(y, m);
}

function cmp(a: Ymd, b: Ymd): number {
  return a.y - b.y || a.m - b.m || a.d - b.d;
}

function format({ y, m, d }: Ymd): string {
  return `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
}

/** Month arithmetic on the calendar alone, so no host timezone can shift a day. */
function addMonths(y: number, m: number, n: number): { y: number; m: number } {
  const i = y * 12 + (m - 1) + n;
  return { y: Math.floor(i / 12), m: (i % 12) + 1 };
}

function addDays({ y, m, d }: Ymd, n: number): Ymd {
  const t = new Date(Date.UTC(y, m - 1, d + n));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

const YEAR_WORDS: Record<string, number> = { 今年: 0, 明年: 1, 后年: 2 };

/** "(明年)7月31日", "7月底", "2027年5月1日": a named month, with or without its year. */
function chineseMonthDay(text: string, today: Ymd): Candidate[] {
  const re = new RegExp(`(?:(\\d{4})年|(今年|明年|后年))?(${NUM})月(?:份)?(?:(底|末)|(${NUM})[日号])`, "g");
  const out: Candidate[] = [];
  for (const m of text.matchAll(re)) {
    const month = toNumber(m[3] ?? "");
    if (month === undefined || month < 1 || month > 12) continue;
    const explicitYear = m[1] ? Number(m[1]) : m[2] ? today.y + (YEAR_WORDS[m[2]] ?? 0) : undefined;
    const dayOf = (y: number) => (m[4] ? lastDay(y, month) : (toNumber(m[5] ?? "") ?? 0));
    let y = explicitYear ?? today.y;
    let date = { y, m: month, d: dayOf(y) };
    if (explicitYear === undefined && cmp(date, today) < 0) {
      y += 1;
      date = { y, m: month, d: dayOf(y) };
    }
    if (valid(date)) out.push({ span: { start: m.index, end: m.index + m[0].length }, date });
  }
  return out;
}

/** "下个月底", "下个月15号", "本月底", "月底": months named relative to today. */
function chineseRelativeMonth(text: string, today: Ymd): Candidate[] {
  const re = new RegExp(
    `(下下个?月|下个?月|这个月|本月|(?<![\\d零一二两三四五六七八九十个])(?=月底|月末))(?:(月?底|月?末)|(${NUM})[日号])`,
    "g",
  );
  const out: Candidate[] = [];
  for (const m of text.matchAll(re)) {
    const word = m[1] ?? "";
    const ahead = word.startsWith("下下") ? 2 : word.startsWith("下") ? 1 : 0;
    const { y, m: month } = addMonths(today.y, today.m, ahead);
    const date = { y, m: month, d: m[2] ? lastDay(y, month) : (toNumber(m[3] ?? "") ?? 0) };
    if (valid(date) && cmp(date, today) >= 0)
      out.push({ span: { start: m.index, end: m.index + m[0].length }, date });
  }
  return out;
}

/** "15号": that day of this month, or of next month once it has passed. */
function chineseDayOnly(text: string, today: Ymd): Candidate[] {
  const re = new RegExp(`(?<![\\d零一二两三四五六七八九十月年周期拜])(${NUM})号`, "g");
  const out: Candidate[] = [];
  for (const m of text.matchAll(re)) {
    const d = toNumber(m[1] ?? "") ?? 0;
    let date = { y: today.y, m: today.m, d };
    if (cmp(date, today) < 0) date = { ...addMonths(today.y, today.m, 1), d };
    if (valid(date)) out.push({ span: { start: m.index, end: m.index + m[0].length }, date });
  }
  return out;
}

/** "两周后", "3个月以后": a distance from today. */
function chineseFromNow(text: string, today: Ymd): Candidate[] {
  const re = new RegExp(`(${NUM})\\s*(天|日|周|个?星期|个?礼拜|个?月)(?:之?后|以后)`, "g");
  const out: Candidate[] = [];
  for (const m of text.matchAll(re)) {
    const n = toNumber(m[1] ?? "");
    const unit = m[2] ?? "";
    if (n === undefined) continue;
    let date: Ymd;
    if (unit.endsWith("月")) {
      const ym = addMonths(today.y, today.m, n);
      date = { ...ym, d: Math.min(today.d, lastDay(ym.y, ym.m)) };
    } else date = addDays(today, unit === "天" || unit === "日" ? n : n * 7);
    out.push({ span: { start: m.index, end: m.index + m[0].length }, date });
  }
  return out;
}

/** Phrases chrono reads as a date that are really something else ("2 weeks before", "6pm", "Friday"). */
function acceptChrono(r: chrono.ParsedResult, whole: string): boolean {
  const t = r.text;
  const next = whole.slice(r.index + t.length, r.index + t.length + 12);
  if (/\b(before|ago|earlier|prior|advance|ahead)\b|[前]/i.test(t)) return false;
  if (/^\s*(?:before|ahead|prior|in advance|earlier|out\b)/i.test(next)) return false;
  // A bare weekday ("Friday", "周三") is a calling day; only "next Friday", "下周三" is a date.
  const weekdayName = /\b(mon|tue|wed|thu|fri|sat|sun)|周|星期|礼拜/i.test(t);
  if (weekdayName && !/\b(next|this|coming)\b|(?:下|这|本)个?(?:周|星期|礼拜)/i.test(t)) return false;
  if (/^(next|this|coming)\s+(week|month|year)$/i.test(t.trim())) return false;
  if (r.start.isCertain("day")) {
    // chrono reads bare time-of-day words ("晚上") as today.
    return !/^[\s早上午中下晚傍凌晨今天点时]*$/.test(t) || /今天/.test(t);
  }
  return r.start.isCertain("weekday") && weekdayName;
}

/** How much of chrono's match is the date: a trailing time ("tomorrow evening") is left to the hours rules. */
function dateLength(text: string): number {
  const time =
    /[\s,]*(?:早上|早晨|上午|中午|下午|晚上|傍晚|凌晨|\d{1,2}\s*(?:点|时|:\d|am\b|pm\b)|\b(?:morning|afternoon|evening|night|noon|at \d|after \d|before \d)\b)/i.exec(
      text,
    );
  return time && time.index > 0 ? time.index : text.length;
}

function chronoCandidates(text: string, today: Ymd, lang: "en" | "zh" | undefined): Candidate[] {
  // Noon UTC with an explicit zero offset: chrono's components then equal `today` on any host.
  const ref = { instant: new Date(Date.UTC(today.y, today.m - 1, today.d, 12)), timezone: 0 };
  const parsers = lang === "zh" ? [chrono.zh.hans, chrono.en] : [chrono.en, chrono.zh.hans];
  const out: Candidate[] = [];
  for (const parser of parsers) {
    for (const r of parser.parse(text, ref, { forwardDate: true })) {
      if (!acceptChrono(r, text)) continue;
      const date = { y: r.start.get("year") ?? 0, m: r.start.get("month") ?? 0, d: r.start.get("day") ?? 0 };
      // An explicit year is the owner's word: a past date is kept so validation can say why it is refused.
      const explicitYear = r.start.isCertain("year");
      out.push({ span: { start: r.index, end: r.index + dateLength(r.text) }, date, explicitYear });
    }
  }
  return out;
}

/**
 * The renewal date a message names, as "YYYY-MM-DD", resolved against `today` (the owner's
 * local date) to the next such date on or after it. The first date in the text wins; every
 * date-like span found is returned so other rules skip it ("next Friday" is not a calling day).
 */
export function extractRenewalDate(text: string, today: string, lang?: "en" | "zh"): RuleResult<string> {
  const t = parseToday(today);
  const candidates = [
    ...chineseMonthDay(text, t),
    ...chineseRelativeMonth(text, t),
    ...chineseDayOnly(text, t),
    ...chineseFromNow(text, t),
    ...chronoCandidates(text, t, lang),
  ].filter((c) => valid(c.date) && (c.explicitYear === true || cmp(c.date, t) >= 0));
  candidates.sort((a, b) => a.span.start - b.span.start || b.span.end - a.span.end);
  const first = candidates[0];
  return { value: first ? format(first.date) : undefined, spans: candidates.map((c) => c.span) };
}
