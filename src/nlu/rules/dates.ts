import * as chrono from "chrono-node";
import {
  addDays,
  cmp,
  formatYmd as format,
  lastDay,
  parseYmd as parseToday,
  valid,
  type Ymd,
} from "./calendar.js";
import { EN_NUM, NUM, type RuleResult, type Span, toNumber } from "./text.js";

interface Candidate {
  span: Span;
  date: Ymd;
  /** The text named the year ("2025-01-01"): kept even when past, for validation to refuse. */
  explicitYear?: boolean;
  /** Named relative to today ("下个月15号", "in 3 weeks"): never moved a year back. */
  relative?: boolean;
}

/** Month arithmetic on the calendar alone, so no host timezone can shift a day. */
function addMonths(y: number, m: number, n: number): { y: number; m: number } {
  const i = y * 12 + (m - 1) + n;
  return { y: Math.floor(i / 12), m: (i % 12) + 1 };
}

const YEAR_WORDS: Record<string, number> = { 今年: 0, 明年: 1, 后年: 2 };

// The expressions below are built once (matchAll matches on a copy, so sharing them is safe).

const CHINESE_MONTH_DAY = new RegExp(
  `(?:(\\d{4})年|(今年|明年|后年))?(${NUM})月(?:份)?(?:(底|末)|(${NUM})[日号])`,
  "g",
);

/** "(明年)7月31日", "7月底", "2027年5月1日": a named month, with or without its year. */
function chineseMonthDay(text: string, today: Ymd): Candidate[] {
  const out: Candidate[] = [];
  for (const m of text.matchAll(CHINESE_MONTH_DAY)) {
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
    if (valid(date))
      out.push({
        span: { start: m.index, end: m.index + m[0].length },
        date,
        explicitYear: explicitYear !== undefined,
      });
  }
  return out;
}

const CHINESE_RELATIVE_MONTH = new RegExp(
  `(上个?月|下下个?月|下个?月|这个月|本月|(?<![\\d零一二两三四五六七八九十个])(?=月底|月末))(?:(月?底|月?末)|(${NUM})[日号])`,
  "g",
);

/** "下个月底", "下个月15号", "本月底", "月底": months named relative to today. */
function chineseRelativeMonth(text: string, today: Ymd): Candidate[] {
  const out: Candidate[] = [];
  for (const m of text.matchAll(CHINESE_RELATIVE_MONTH)) {
    const word = m[1] ?? "";
    const ahead = word.startsWith("下下") ? 2 : word.startsWith("下") ? 1 : word.startsWith("上") ? -1 : 0;
    const { y, m: month } = addMonths(today.y, today.m, ahead);
    const date = { y, m: month, d: m[2] ? lastDay(y, month) : (toNumber(m[3] ?? "") ?? 0) };
    // "上个月28号" names a past date on purpose: kept, for validation to say why it is refused.
    if (valid(date) && (ahead < 0 || cmp(date, today) >= 0))
      out.push({
        span: { start: m.index, end: m.index + m[0].length },
        date,
        explicitYear: ahead < 0,
        relative: true,
      });
  }
  return out;
}

const CHINESE_DAY_ONLY = new RegExp(`(?<![\\d零一二两三四五六七八九十月年周期拜])(${NUM})号`, "g");

/** "15号": that day of this month, or of next month once it has passed. */
function chineseDayOnly(text: string, today: Ymd): Candidate[] {
  const out: Candidate[] = [];
  for (const m of text.matchAll(CHINESE_DAY_ONLY)) {
    const d = toNumber(m[1] ?? "") ?? 0;
    let date = { y: today.y, m: today.m, d };
    if (cmp(date, today) < 0) date = { ...addMonths(today.y, today.m, 1), d };
    if (valid(date)) out.push({ span: { start: m.index, end: m.index + m[0].length }, date });
  }
  return out;
}

const FROM_NOW_UNIT = "(天|日|周|个?星期|个?礼拜|个?月)";
const CHINESE_FROM_NOW = new RegExp(
  `(?:还有|还剩|再过)\\s*(${NUM})\\s*${FROM_NOW_UNIT}|(${NUM})\\s*${FROM_NOW_UNIT}(?:之?后|以后)`,
  "g",
);

/** "两周后", "3个月以后", "还有10天(到期)": a distance from today. */
function chineseFromNow(text: string, today: Ymd): Candidate[] {
  const out: Candidate[] = [];
  for (const m of text.matchAll(CHINESE_FROM_NOW)) {
    const n = toNumber(m[1] ?? m[3] ?? "");
    const unit = m[2] ?? m[4] ?? "";
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

const MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec";

/** "ends on the 20th", "due the 3rd": that day of this month, or of next month once it has passed. */
/** "the 2nd of next month", "on the 15th next month": a day of the month after this one. */
function englishDayNextMonth(text: string, today: Ymd): Candidate[] {
  const out: Candidate[] = [];
  for (const m of text.matchAll(/\bthe\s+(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?next month\b/gi)) {
    const date = { ...addMonths(today.y, today.m, 1), d: Number(m[1]) };
    if (valid(date)) out.push({ span: { start: m.index, end: m.index + m[0].length }, date });
  }
  return out;
}

const ENGLISH_DAY_ONLY = new RegExp(
  `\\b(?:on|by|until|till|ends?|expires?|due|is|runs? out)\\s+the\\s+(\\d{1,2})(?:st|nd|rd|th)\\b(?!\\s*(?:of\\b|${MONTHS}))`,
  "gi",
);

function englishDayOnly(text: string, today: Ymd): Candidate[] {
  const out: Candidate[] = [];
  for (const m of text.matchAll(ENGLISH_DAY_ONLY)) {
    const d = Number(m[1]);
    // "next month on the 12th": the month was named a few words before.
    const ahead = /\bnext month\b/i.test(text.slice(Math.max(0, m.index - 30), m.index)) ? 1 : 0;
    let date = { ...addMonths(today.y, today.m, ahead), d };
    if (cmp(date, today) < 0) date = { ...addMonths(today.y, today.m, 1), d };
    if (valid(date)) out.push({ span: { start: m.index, end: m.index + m[0].length }, date });
  }
  return out;
}

/** "01.04.2027": with dots the day comes first, wherever the owner is from. */
function dottedDayFirst(text: string): Candidate[] {
  const out: Candidate[] = [];
  for (const m of text.matchAll(/(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4})(?![\d.]*\d)/g)) {
    const date = { y: Number(m[3]), m: Number(m[2]), d: Number(m[1]) };
    out.push({ span: { start: m.index, end: m.index + m[0].length }, date, explicitYear: true });
  }
  return out;
}

const ENGLISH_FORTNIGHT = new RegExp(
  `\\bin\\s+(${EN_NUM})\\s+fortnights?\\b(?!\\s*(?:before|ahead|prior|in advance|out)\\b)`,
  "gi",
);

/** "in a fortnight", "in two fortnights": chrono does not know the word. */
function englishFortnight(text: string, today: Ymd): Candidate[] {
  const out: Candidate[] = [];
  for (const m of text.matchAll(ENGLISH_FORTNIGHT)) {
    const n = toNumber(m[1] ?? "");
    if (n !== undefined)
      out.push({ span: { start: m.index, end: m.index + m[0].length }, date: addDays(today, 14 * n) });
  }
  return out;
}

/** "end of the year", "年底", "明年年底", "2027年底": the last day of a year. */
function yearEnd(text: string, today: Ymd): Candidate[] {
  const re =
    /\b(?:the )?end of (this|the|next) year\b|\byear[- ]end\b|(\d{4})年(?:底|末)|(今年|明年|后年)年?(?:底|末)|(?<![\d月])年(?:底|末)/gi;
  const out: Candidate[] = [];
  for (const m of text.matchAll(re)) {
    const explicit = m[2] ? Number(m[2]) : undefined;
    const ahead = m[1]?.toLowerCase() === "next" ? 1 : m[3] ? (YEAR_WORDS[m[3]] ?? 0) : 0;
    const date = { y: explicit ?? today.y + ahead, m: 12, d: 31 };
    out.push({
      span: { start: m.index, end: m.index + m[0].length },
      date,
      explicitYear: explicit !== undefined,
    });
  }
  return out;
}

/** Fixed-date holidays an owner may name as the expiry ("元旦", "Christmas Eve"). */
const HOLIDAYS: { re: RegExp; m: number; d: number }[] = [
  { re: /\bnew year'?s eve\b|除夕夜?(?=.{0,3}到期)/gi, m: 12, d: 31 },
  { re: /\bnew year'?s(?: day)?\b|元旦/gi, m: 1, d: 1 },
  { re: /\bchristmas eve\b|平安夜/gi, m: 12, d: 24 },
  { re: /\b(?:christmas|xmas)(?: day)?\b(?! eve)|圣诞节?/gi, m: 12, d: 25 },
  { re: /国庆节?/g, m: 10, d: 1 },
  { re: /劳动节/g, m: 5, d: 1 },
];

function holidays(text: string, today: Ymd): Candidate[] {
  const out: Candidate[] = [];
  for (const h of HOLIDAYS) {
    for (const m of text.matchAll(h.re)) {
      let date = { y: today.y, m: h.m, d: h.d };
      if (cmp(date, today) < 0) date = { ...date, y: today.y + 1 };
      out.push({ span: { start: m.index, end: m.index + m[0].length }, date });
    }
  }
  return out;
}

/** Phrases chrono reads as a date that are really something else ("2 weeks before", "6pm", "Friday"). */
function acceptChrono(r: chrono.ParsedResult, whole: string): boolean {
  const t = r.text;
  const next = whole.slice(r.index + t.length, r.index + t.length + 12);
  if (/\b(before|ago|earlier|prior|advance|ahead|out)\b|[前]/i.test(t)) return false;
  // "4S店" is a car dealer, not a date.
  if (/^\d{1,2}\s*[a-z]{1,2}$/i.test(t.trim()) && !/\d\s*(?:am|pm|st|nd|rd|th)$/i.test(t.trim()))
    return false;
  // "到期前10天": a lead time, not a date ten days from now.
  if (/前\s*$/.test(whole.slice(Math.max(0, r.index - 3), r.index))) return false;
  // "in the last week" is a lead time, not a date in the past.
  if (/^(?:last|past|previous|final)\s+(?:\S+\s+)?(?:days?|weeks?|months?|years?)$/i.test(t.trim()))
    return false;
  // "in two months": chrono leaves the day uncertain, but today's day of the month is meant.
  if (/^in\s+\S+(?:\s+\S+)?\s+(?:months?|years?)$/i.test(t.trim())) return true;
  if (/^\s*(?:before|ahead|prior|in advance|earlier|out\b)/i.test(next)) return false;
  // A bare weekday ("Friday", "周三") is a calling day; only "next Friday", "下周三" is a date.
  const weekdayName = /\b(mon|tue|wed|thu|fri|sat|sun)|周|星期|礼拜/i.test(t);
  if (weekdayName && !/\b(next|this|coming|last)\b|(?:下|这|本|上)个?(?:周|星期|礼拜)/i.test(t)) return false;
  if (/^(next|this|coming)\s+(week|month|year)$/i.test(t.trim())) return false;
  // "I'm with Allianz now", "during the day": no date is named.
  if (/^(?:now|right now|just now|the day|that day|this day|现在|刚才)$/i.test(t.trim())) return false;
  if (r.start.isCertain("day")) {
    // chrono reads bare time-of-day words ("晚上") as today.
    return !/^[\s早上午中下晚傍凌晨今天点时半夜]*$/.test(t) || /今天/.test(t);
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

/** A parser whose pattern is built on its first use and kept (see {@link ZH_HANS}). */
function keptPattern(parser: chrono.Parser): chrono.Parser {
  let pattern: RegExp | undefined;
  return {
    pattern: (context) => {
      pattern ??= parser.pattern(context);
      return pattern;
    },
    extract: (context, match) => parser.extract(context, match),
  };
}

/**
 * chrono's Simplified Chinese casual parser (`chrono.zh.hans.parse`: the same parsers and
 * refiners, in order, from its public configuration), with each parser's pattern built once.
 * Two of them (dates, casual dates) build their RegExp anew on every parse, and twice, to see
 * whether it changed: most of a Chinese parse's time (≈ 35 instead of ≈ 115 µs for a long
 * Chinese message). No zh parser's pattern depends on the text, the reference or the options
 * (none reads its argument), so the first one is the one every parse would build. Exported
 * for its test, which compares it with chrono's own on every message of the NLU cases.
 */
export const ZH_HANS = (() => {
  const configuration = chrono.zh.hans.createCasualConfiguration();
  return new chrono.Chrono({
    parsers: configuration.parsers.map(keptPattern),
    refiners: configuration.refiners,
  });
})();

function chronoCandidates(
  text: string,
  today: Ymd,
  lang: "en" | "zh" | undefined,
  forward = true,
): Candidate[] {
  // Noon UTC with an explicit zero offset: chrono's components then equal `today` on any host.
  const ref = { instant: new Date(Date.UTC(today.y, today.m - 1, today.d, 12)), timezone: 0 };
  const parsers = lang === "zh" ? [ZH_HANS, chrono.en] : [chrono.en, ZH_HANS];
  const out: Candidate[] = [];
  for (const parser of parsers) {
    for (const r of parser.parse(text, ref, { forwardDate: forward })) {
      if (!acceptChrono(r, text)) continue;
      const date = { y: r.start.get("year") ?? 0, m: r.start.get("month") ?? 0, d: r.start.get("day") ?? 0 };
      // An explicit year is the owner's word: a past date is kept so validation can say why it is refused.
      // chrono marks the year certain for "last week" too; only a written year counts.
      const explicitYear =
        r.start.isCertain("year") && /\d{4}|'\d{2}\b|\d{1,2}[/.-]\d{1,2}[/.-]\d{2}\b/.test(r.text);
      out.push({ span: { start: r.index, end: r.index + dateLength(r.text) }, date, explicitYear });
    }
  }
  return out;
}

/**
 * Words that put the expiry in the past ("it expired on 3 November", "上个月28号就到期了"): the
 * date named in the same clause is then the most recent such date, not the next one, so
 * validation can say it has passed instead of silently planning for a year later.
 */
const PAST_EXPIRY =
  /\b(?:expired|ran out|lapsed|was due)\b|已经?(?:到期|过期)|早就到期|过期了|已过期|(?:上个?月|上周|上星期|昨天|前天|去年)[^快要将即就]{0,10}(?:到期|过期)/i;
/** "到期了" alone is past or about to be: past only when the next such date is most of a year away. */
const PAST_OR_SOON = /(?<![快要将就马上即会])到期了|\bended\b/i;
const MOSTLY_A_YEAR_DAYS = 300;

/** The clause of `text` around a span, where a word like "expired" belongs to that date. */
function clauseOf(text: string, span: Span): string {
  const before = text.slice(0, span.start).search(/[^,.;!?，。；！？]*$/);
  const rest = text.slice(span.end);
  const end = rest.search(/[,.;!?，。；！？]/);
  return text.slice(before, end < 0 ? text.length : span.end + end);
}

function daysBetween(a: Ymd, b: Ymd): number {
  return (Date.UTC(b.y, b.m - 1, b.d) - Date.UTC(a.y, a.m - 1, a.d)) / 86_400_000;
}

/** The same month and day a year earlier, or undefined when that day does not exist. */
function yearEarlier(date: Ymd): Ymd | undefined {
  const back = { ...date, y: date.y - 1 };
  return valid(back) ? back : undefined;
}

/**
 * The renewal date a message names, as "YYYY-MM-DD", resolved against `today` (the owner's
 * local date) to the next such date on or after it — unless the text puts it in the past
 * ({@link PAST_EXPIRY}), when it is the latest such date before today. The first date in the
 * text wins; every date-like span found is returned so other rules skip it ("next Friday" is
 * not a calling day).
 */
export function extractRenewalDate(text: string, today: string, lang?: "en" | "zh"): RuleResult<string> {
  const t = parseToday(today);
  const past = PAST_EXPIRY.test(text) || PAST_OR_SOON.test(text);
  const candidates = [
    ...chineseMonthDay(text, t),
    ...chineseRelativeMonth(text, t),
    ...chineseDayOnly(text, t),
    ...chineseFromNow(text, t).map((c) => ({ ...c, relative: true })),
    ...dottedDayFirst(text),
    ...englishDayOnly(text, t),
    ...englishDayNextMonth(text, t).map((c) => ({ ...c, relative: true })),
    ...englishFortnight(text, t).map((c) => ({ ...c, relative: true })),
    ...yearEnd(text, t),
    ...holidays(text, t),
    ...chronoCandidates(text, t, lang, !past),
  ]
    .map((c) => {
      if (!past || c.explicitYear || c.relative) return c;
      const clause = clauseOf(text, c.span);
      if (cmp(c.date, t) < 0) {
        // Read backwards because of another clause ("my old policy ended, the new one expires
        // 31 July"): a date its own clause does not put in the past is the next one.
        if (PAST_EXPIRY.test(clause) || PAST_OR_SOON.test(clause)) return c;
        const ahead = { ...c.date, y: c.date.y + 1 };
        return valid(ahead) && cmp(ahead, t) >= 0 ? { ...c, date: ahead } : c;
      }
      const moved =
        PAST_EXPIRY.test(clause) ||
        (PAST_OR_SOON.test(clause) && daysBetween(t, c.date) > MOSTLY_A_YEAR_DAYS);
      const back = moved ? yearEarlier(c.date) : undefined;
      return back && cmp(back, t) < 0 ? { ...c, date: back, explicitYear: true } : c;
    })
    .filter(
      (c) =>
        valid(c.date) &&
        (c.explicitYear === true ||
          cmp(c.date, t) >= 0 ||
          // "expired last Sunday": a past date the clause itself says has passed.
          (past && PAST_EXPIRY.test(clauseOf(text, c.span)))),
    );
  candidates.sort((a, b) => a.span.start - b.span.start || b.span.end - a.span.end);
  const first = candidates[0];
  return { value: first ? format(first.date) : undefined, spans: candidates.map((c) => c.span) };
}
