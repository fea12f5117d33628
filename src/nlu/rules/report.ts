/**
 * What a report settles (DESIGN §8, §13): who called or claimed to, how, when, the code the
 * caller quoted, and whether the owner had refused before. Every date is in the past or today:
 * a contact that is reported has happened.
 */
import type { DirectoryEntry } from "../extractor.js";
import type { ReportChannel, ReportReading } from "../reading.js";
import {
  formatYmd as iso,
  addDays as shift,
  valid,
  weekdayOf as weekday,
  type Ymd,
  parseYmd as ymd,
} from "./calendar.js";
import { contactCue } from "./intent.js";
import { findMentions, findUnknownNames, type Mention } from "./names.js";
import { toNumber } from "./text.js";

const WEEKDAYS_EN = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const WEEKDAYS_ZH = "日一二三四五六";

const CN_DIGIT: Record<string, string> = {
  零: "0",
  〇: "0",
  一: "1",
  幺: "1",
  二: "2",
  两: "2",
  三: "3",
  四: "4",
  五: "5",
  六: "6",
  七: "7",
  八: "8",
  九: "9",
};

/** The day of a reported contact: "yesterday", "上周三", "on Monday", "11月28号" — never in the future. */
export function reportedDate(text: string, today: string): string | undefined {
  const t = ymd(today);
  const checks: [RegExp, (m: RegExpExecArray) => Ymd | undefined][] = [
    [/\bday before yesterday\b|前天/i, () => shift(t, -2)],
    [/\byesterday\b|\blast night\b|昨天|昨晚|昨日/i, () => shift(t, -1)],
    [
      /(?:上个?(?:周|星期|礼拜))([一二三四五六日天])/,
      (m) => {
        const target = WEEKDAYS_ZH.indexOf(m[1] === "天" ? "日" : m[1]!);
        // The previous calendar week, Monday to Sunday.
        const mondayThisWeek = shift(t, -((weekday(t) + 6) % 7));
        return shift(mondayThisWeek, -7 + ((target + 6) % 7));
      },
    ],
    [
      // "下个周三", "这周五", "next Friday" are ahead, no contact that happened: no date from them.
      /\b(last|on|this past) (mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?)\b|(?<![下这本]个?)(?:周|星期|礼拜)([一二三四五六日天])/i,
      (m) => {
        const target = m[2]
          ? WEEKDAYS_EN.indexOf(m[2].toLowerCase().slice(0, 3))
          : WEEKDAYS_ZH.indexOf(m[3] === "天" ? "日" : m[3]!);
        const back = (weekday(t) - target + 7) % 7;
        return shift(t, /last|past/i.test(m[1] ?? "") && back === 0 ? -7 : -back);
      },
    ],
    [
      // A report tells of the past: a bare weekday is the latest one ("Thursday evening").
      /\b(mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?)\b(?=\s+(?:morning|afternoon|evening|night|at|around|about)\b|[,.])/i,
      (m) => {
        const target = WEEKDAYS_EN.indexOf(m[1]!.toLowerCase().slice(0, 3));
        return shift(t, -((weekday(t) - target + 7) % 7));
      },
    ],
    [
      /(\d{1,2})月(\d{1,2})[日号]/,
      (m) => {
        let d = { y: t.y, m: Number(m[1]), d: Number(m[2]) };
        if (iso(d) > iso(t)) d = { ...d, y: t.y - 1 };
        return valid(d) ? d : undefined;
      },
    ],
    [
      /\b(?:on )?(?:the )?(\d{1,2})(?:st|nd|rd|th)? (?:of )?(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b|\b(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?) (\d{1,2})(?:st|nd|rd|th)?\b/i,
      (m) => {
        const months = "janfebmaraprmayjunjulaugsepoctnovdec";
        const mon = months.indexOf((m[2] ?? m[3] ?? "").toLowerCase().slice(0, 3)) / 3 + 1;
        if (mon < 1) return undefined;
        let d = { y: t.y, m: mon, d: Number(m[1] ?? m[4]) };
        if (iso(d) > iso(t)) d = { ...d, y: t.y - 1 };
        return valid(d) ? d : undefined;
      },
    ],
    [
      /\b(?:today|tonight|this (?:morning|afternoon|evening)|just now|just|earlier|an? (?:hour|few minutes?|minute|couple of hours) ago|\d+ (?:minutes?|hours?|mins?|hrs?) ago)\b|今天|今早|今晚|今日|刚才|刚刚|刚(?=[打来收接])|早上|上午|中午|下午|晚上|半夜|凌晨/i,
      () => t,
    ],
  ];
  for (const [re, date] of checks) {
    const m = re.exec(text);
    if (!m) continue;
    const d = date(m);
    if (d && valid(d) && iso(d) <= iso(t)) return iso(d);
  }
  return undefined;
}

/** The clock time of a reported contact: "at 7am", "9:30 tonight", "上午10点", "晚上九点半". */
export function reportedTime(text: string): string | undefined {
  const fmt = (h: number, min: number) =>
    h >= 0 && h < 24 && min >= 0 && min < 60
      ? `${String(h).padStart(2, "0")}:${String(min).padStart(2, "0")}`
      : undefined;
  const zh =
    /(凌晨|早上|早晨|上午|中午|下午|傍晚|晚上|夜里|半夜|昨晚|今晚|昨天晚上|今天晚上)?\s*([\d零一二两三四五六七八九十]{1,3})\s*点(?:(半)|([\d零一二三四五六七八九十]{1,3})分?)?(?!多|不到|左右|前后)/.exec(
      text,
    );
  // "一点" alone is "a little": an hour needs digits, a part of the day, or minutes.
  if (zh && (zh[1] || /\d/.test(zh[2]!) || zh[3] || zh[4])) {
    let h = toNumber(zh[2]!);
    const min = zh[3] ? 30 : zh[4] ? toNumber(zh[4]) : 0;
    if (h !== undefined && min !== undefined) {
      if (/下午|傍晚|晚上|夜里|昨晚|今晚/.test(zh[1] ?? "") && h < 12) h += 12;
      else if (/晚上|夜里|半夜|昨晚|今晚/.test(zh[1] ?? "") && h === 12) h = 0;
      if (zh[1] === "中午" && h < 11) h += 12;
      return fmt(h, min);
    }
  }
  const en =
    /\b(?:at|@)\s*(?:like |around |about )?(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?(?![\d.:]|\s*(?:times?|calls?|texts?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|x\b|%))|\b(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)|\b(\d{1,2})[:.](\d{2})\b(?!\s*(?:%|\d))/i.exec(
      text,
    );
  if (!en) return undefined;
  let h = Number(en[1] ?? en[4] ?? en[7]);
  const min = Number(en[2] ?? en[5] ?? en[8] ?? 0);
  const half = (en[3] ?? en[6] ?? "").toLowerCase();
  const after = text.slice(en.index + en[0].length, en.index + en[0].length + 20);
  const evening =
    half.startsWith("p") || /^\s*(?:tonight|this evening|in the evening|at night|last night)/i.test(after);
  if (evening && h < 12) h += 12;
  if (half.startsWith("a") && h === 12) h = 0;
  if (!half && !evening && /\b(?:tonight|last night|this evening)\b/i.test(text) && h < 12) h += 12;
  return fmt(h, min);
}

const CODE_DIGITS = "[\\d零〇一幺二两三四五六七八九]";
/** Digits said after "报了个", "said" (not global: exec keeps no state in it). */
const SPOKEN_CODE = new RegExp(
  `(?:报了个?|说(?:的)?是|念了|quoted|said(?: it was)?|gave(?: me)?)(?:号码|数字|码)?\\s*((?:${CODE_DIGITS}[\\s-]?){2,7}${CODE_DIGITS})(?![\\s-]?${CODE_DIGITS})`,
  "i",
);

/**
 * The code a caller quoted: digits (or Chinese numerals) after "code"/"验证码", or after "报了个"
 * / "said" once the message speaks of a code; separators dropped.
 */
export function quotedCode(text: string): string | undefined {
  const re =
    /(?:\bcode|验证码|核验码|校验码|暗号)[^\d零〇一幺二两三四五六七八九。.!?！？]{0,30}?((?:[\d零〇一幺二两三四五六七八九][\s-]?){2,7}[\d零〇一幺二两三四五六七八九])(?![\s-]?[\d零〇一幺二两三四五六七八九])/gi;
  for (const m of text.matchAll(re)) {
    // Digits right after "number", "号码", "from" are the caller's number, not a code; a date is a date.
    const between = m[0].slice(0, m[0].length - m[1]!.length);
    if (/(?:number|no\.|号码|来电|电话|from|热线|客服)\s*(?:was|is|:|：|是)?\s*$/i.test(between)) continue;
    if (/^\d{4}-\d{1,2}-\d{1,2}/.test(m[1]!.trim())) continue;
    const digits = [...m[1]!]
      .map((c) => CN_DIGIT[c] ?? c)
      .join("")
      .replace(/[\s-]/g, "");
    if (/^\d{3,8}$/.test(digits)) return digits;
  }
  const m = /\bcode\b|验证码|核验码|校验码/i.test(text) ? SPOKEN_CODE.exec(text) : null;
  const digits = m
    ? [...m[1]!]
        .map((c) => CN_DIGIT[c] ?? c)
        .join("")
        .replace(/[\s-]/g, "")
    : "";
  return /^\d{3,8}$/.test(digits) ? digits : undefined;
}

const AFTER_REFUSAL =
  /\b(?:after i (?:said|told|asked)|even though i|even after i|despite (?:me|my|i)|although i|i (?:already |clearly )?(?:said|told (?:them|him|her|\w+)) (?:no|not to|to stop|stop)|i (?:already |had )?(?:opted out|unsubscribed|stopped them|blocked|refused)|told (?:them|him|her|\w+(?: \w+)?) (?:no|not to|to stop)|said (?:no|stop)(?! (?:telegram|calls?|texts?|sms|e-?mails?|weekends?|mornings?|evenings?))|already (?:say|said|told) (?:no|them)|asked (?:them|him|her) to stop|i (?:said|told) .{0,20}(?:no|stop)\b(?! (?:telegram|calls?|texts?|sms|e-?mails?)))|说(?:了|过)?(?:不要|别|不用|不需要)|我说不要|拒绝(?:了|过)|拒绝.{0,8}(?:次|了|过)|已经(?:让|叫|跟|和|告诉).{0,10}(?:别|不要|不用)|明明|都说了|说好了?(?:不|别)|说得?清清楚楚|谁都不许|已经退订|退订了|取消了|拉黑了/i;

// Global, for every occurrence (matchAll matches on a copy, so sharing them is safe).
const CHANNEL_WORDS: [ReportChannel, RegExp][] = [
  ["sms", /\b(?:texts?|texted|txt|sms|text messages?)\b|短信|短消息|^\s*fwd?\s*:|【[^】]{2,12}】/gi],
  ["email", /\be-?mail(?:s|ed)?\b|邮件|电邮|邮箱/gi],
  ["telegram", /\btelegram\b|\btg\b|电报/gi],
  ["other", /\b(?:wechat\w*|whats ?app\w*|letter|visit(?:ed)?|knocked|door)\b|微信|上门|QQ/gi],
  [
    "call",
    /\b(?:call(?:s|ed|ing)?|rang|ring(?:ing)?|phoned|phone|voicemail|hung up|line)\b|电话|打来|来电|打给|打过来|打了|打我|又打|还打|还在打|一直打|响了/gi,
  ],
];

/** The channel word nearest the contact told of (the first in the text when no cue is found). */
function channelNear(
  text: string,
  cue: { start: number; end: number } | undefined,
): ReportChannel | undefined {
  let best: ReportChannel | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const [channel, re] of CHANNEL_WORDS) {
    for (const m of text.matchAll(re)) {
      const distance = !cue
        ? m.index
        : m.index >= cue.start && m.index < cue.end
          ? 0
          : Math.min(Math.abs(m.index - cue.start), Math.abs(m.index - cue.end));
      if (distance < bestDistance) {
        best = channel;
        bestDistance = distance;
      }
    }
  }
  return best;
}

/** Which mention is the caller: the one nearest before a contact word, else the one after "from"/"自称"/"是". */
function callerMention(text: string, mentions: readonly Mention[]): Mention | undefined {
  const named = mentions.filter((m) => m.id !== undefined);
  if (named.length <= 1) return named[0];
  // A mention in a permission clause ("除了平安谁都不许", "only Ping An") is not the caller.
  const caller = named.filter((m) => {
    const before = text.slice(Math.max(0, m.span.start - 6), m.span.start);
    return !/(?:除了|只要|只让|只允许|only|except|but)\s*$/i.test(before);
  });
  const contact = /called|rang|texted|emailed|messaged|打|来电|发|自称|冒充|说是|from/gi;
  let best: Mention | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const m of caller.length > 0 ? caller : named) {
    contact.lastIndex = m.span.end;
    const next = contact.exec(text);
    const distance = next ? next.index - m.span.end : Number.POSITIVE_INFINITY;
    if (distance < bestDistance) {
      best = m;
      bestDistance = distance;
    }
  }
  return best ?? caller[caller.length - 1];
}

/** The report a message settles; fields it does not settle are absent. */
export function extractReport(
  text: string,
  today: string,
  directory: readonly DirectoryEntry[],
): ReportReading {
  const report: ReportReading = {};
  const mentions = findMentions(text, directory);
  const caller = callerMention(text, mentions);
  if (caller?.id) report.insurer = caller.id;
  else {
    const unknown = findUnknownNames(
      text,
      mentions.map((m) => m.span),
    )[0];
    if (unknown) report.insurerName = unknown.name;
  }
  const channel = channelNear(text, contactCue(text));
  if (channel) report.channel = channel;
  const date = reportedDate(text, today);
  if (date) report.date = date;
  const time = reportedTime(text);
  if (time) report.time = time;
  const code = quotedCode(text);
  if (code) report.code = code;
  if (AFTER_REFUSAL.test(text)) report.afterRefusal = true;
  return report;
}
