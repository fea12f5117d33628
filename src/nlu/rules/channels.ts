import { CHANNELS, type Channel } from "../../domain/preferences.js";
import type { RuleResult, Span } from "./text.js";

/**
 * A refusal names no channel when a time or day follows it: "don't call before 10am" and "no
 * calls on weekends" limit hours and days, they do not refuse the call ("don't call me at all" does).
 */
const UNLESS_LIMITED =
  "(?!\\s+(?:me\\s+)?(?:before|after|until|till|on|during|between|early|late|past|in the|at (?!all\\b)|from \\d))";

/** Phrases that refuse a channel. */
const REFUSED: { channel: Channel; re: RegExp }[] = [
  {
    channel: "call",
    re: new RegExp(
      `\\b(?:don'?t|do not|never|please don'?t|pls don'?t|no)\\s+(?:phone\\s+)?call(?:s|ing)?\\b${UNLESS_LIMITED}|\\b(?:rather|prefer|want|like) not (?:to )?(?:get|receive|have|be) (?:any )?(?:phone )?call(?:s|ed)\\b(?: at all)?${UNLESS_LIMITED}|\\b(?:don'?t|do not) want (?:any )?(?:phone )?calls\\b${UNLESS_LIMITED}|\\bno (?:phone )?calls\\b${UNLESS_LIMITED}|\\bnot by (?:phone|call)\\b|\\bno phone\\b|\\bstop (?:calling|ringing|phoning)\\b|(?<!其他|其它|别的|别家|其余)(?:别|不要|不用|不准|不许|不想|不需要|不接受?)(?:再)?(?:给我|跟我)?(?:打电话|打我电话|来电|电话|打(?!扰))|电话(?:就)?(?:不要|不行|不接|免了|算了)|不接电话`,
      "gi",
    ),
  },
  {
    channel: "sms",
    re: /\bno (?:texts|sms|text messages|txts?)\b|\b(?:don'?t|do not|never) (?:text|sms|txt)(?: me)?\b|(?:别|不要|不用|不想要?)(?:给我)?发?短信|短信(?:就)?(?:不要|不用|免了|算了)/gi,
  },
  {
    channel: "email",
    re: /\bno e-?mails?\b|\b(?:don'?t|do not|never) e-?mail(?: me)?\b|(?:别|不要|不用)(?:给我)?发?(?:邮件|电邮)|邮件(?:就)?(?:不要|不用|免了|算了)/gi,
  },
  { channel: "telegram", re: /\bno (?:telegram|tg)\b|(?:别|不要|不用)用?(?:电报|telegram)/gi },
];

/** Calls complained about, not asked for ("too many calls", "电话骚扰"). */
const NOT_A_WISH =
  /(?:骚扰|推销)电话|电话(?:骚扰|推销)|\b(?:spam|sales|cold|nuisance|robo) ?calls?\b|\b(?:sick|tired) of (?:all )?(?:the |these |those )?(?:phone )?calls\b|\btoo many (?:phone )?calls\b/gi;

const OTHER_CHANNEL = "(?:text|sms|txt|e-?mail|telegram|tg|messages?)";

/** Words naming a channel positively. "X may call" and "2 calls" describe contact, not a channel. */
const NAMED: { channel: Channel; re: RegExp }[] = [
  {
    channel: "call",
    re: new RegExp(
      `\\b(?:call me|give me a call|ring me|phone me|telephone me|calls? (?:only|is fine|are fine|ok|okay)|(?:only|just) (?:phone )?calls?|by (?:phone|call)|phone calls?|via (?:phone|call)|call is fine)\\b|\\bcalls?(?=\\s*(?:or|and|/|,)\\s*${OTHER_CHANNEL}\\b)|(?<=\\b${OTHER_CHANNEL}\\s*(?:or|and|/|,)\\s*)calls?\\b|打电话|来电|电话|打给我|打我手机|(?<![别不要用])打吧`,
      "gi",
    ),
  },
  {
    channel: "sms",
    re: /\b(?:sms|text(?:s|ing)?(?: me)?|by text|texts? only|text message|txt(?: me)?)\b|短信|短消息/gi,
  },
  { channel: "telegram", re: /\b(?:telegram|tg)\b|电报/gi },
  { channel: "email", re: /\b(?:e-?mails?|mail me)\b|邮件|邮箱|电邮/gi },
];

function blank(text: string, m: RegExpExecArray): string {
  return text.slice(0, m.index) + " ".repeat(m[0].length) + text.slice(m.index + m[0].length);
}

/** One channel word, for lists after a refusal ("no emails or calls", "不要邮件和Telegram"). */
const CHANNEL_WORD: { channel: Channel; re: RegExp }[] = [
  { channel: "call", re: /^(?:phone ?calls?|calls?|calling|phone|电话|打电话|来电)/i },
  { channel: "sms", re: /^(?:sms|texts?|text messages?|txts?|短信)/i },
  { channel: "email", re: /^(?:e-?mails?|邮件|电邮)/i },
  { channel: "telegram", re: /^(?:telegram|tg|电报)/i },
];
// No comma: "no texts, calls are fine" lists a refusal and then a wish.
const LIST_JOINER = /^\s*(?:和|或者?|、|and|or|nor|\/|也不要|也别|也不用)\s*(?:发|打|用)?\s*/i;

/** The channels listed right after a refusal: "no emails *or calls*", "不要邮件*和Telegram*". */
function listedAfter(rest: string): { channels: Channel[]; length: number } {
  const channels: Channel[] = [];
  let at = 0;
  for (;;) {
    const joiner = LIST_JOINER.exec(rest.slice(at));
    if (!joiner) break;
    const after = rest.slice(at + joiner[0].length);
    const word = CHANNEL_WORD.find((w) => w.re.test(after));
    if (!word) break;
    const m = word.re.exec(after)!;
    channels.push(word.channel);
    at += joiner[0].length + m[0].length;
  }
  return { channels, length: at };
}

/** The channels a message allows and the ones it refuses. */
export interface ChannelReading {
  /** Channels named as allowed ("text only", "邮件"), less any the same message refuses. */
  channels?: Channel[];
  /** Channels refused ("don't call", "别发邮件"): a negation removes only what it names. */
  withoutChannels?: Channel[];
}

/**
 * The channels a message names as allowed and the ones it refuses, in the order of
 * {@link CHANNELS}. A refusal alone ("don't call me") names no allowed channel: it removes
 * only what it names (DESIGN §8). A list after a refusal is refused whole ("no emails or
 * calls", "不要邮件和Telegram").
 */
export function extractChannels(text: string): RuleResult<ChannelReading> {
  const spans: Span[] = [];
  let rest = text;
  for (const m of text.matchAll(NOT_A_WISH)) rest = blank(rest, m);
  const refused = new Set<Channel>();
  for (const { channel, re } of REFUSED) {
    for (const m of rest.matchAll(re)) {
      refused.add(channel);
      const list = listedAfter(rest.slice(m.index + m[0].length));
      for (const c of list.channels) refused.add(c);
      const end = m.index + m[0].length + list.length;
      spans.push({ start: m.index, end });
      rest = rest.slice(0, m.index) + " ".repeat(end - m.index) + rest.slice(end);
    }
  }
  for (const m of rest.matchAll(
    /\b(?:(?:don'?t|do not|dont) (?:want|need)(?: any)?|no(?: more)?|not(?: by| via)?|stop)\s+(e-?mails?|texts?|texting|sms|calls?|phone calls?|telegram)\b|(?:不要|别|不用|不想要?)(?:给我)?(?:发|打|用)?(邮件|电邮|短信|电话|电报|telegram|e-?mail|sms|calls?)|(邮件|电邮|短信|电报)(?:就|也)?(?:别|不要|不用)(?:再)?(?:发|打)?/gi,
  )) {
    const first = CHANNEL_WORD.find((w) => w.re.test(m[1] ?? m[2] ?? m[3] ?? ""));
    if (!first) continue;
    refused.add(first.channel);
    const list = listedAfter(rest.slice(m.index + m[0].length));
    for (const c of list.channels) refused.add(c);
    const end = m.index + m[0].length + list.length;
    spans.push({ start: m.index, end });
    rest = rest.slice(0, m.index) + " ".repeat(end - m.index) + rest.slice(end);
  }
  const named = new Set<Channel>();
  for (const { channel, re } of NAMED) {
    for (const m of rest.matchAll(re)) {
      named.add(channel);
      spans.push({ start: m.index, end: m.index + m[0].length });
    }
  }
  for (const c of refused) named.delete(c);
  const value: ChannelReading = {};
  if (named.size > 0) value.channels = CHANNELS.filter((c) => named.has(c));
  if (refused.size > 0) value.withoutChannels = CHANNELS.filter((c) => refused.has(c));
  return { value: named.size > 0 || refused.size > 0 ? value : undefined, spans };
}
