import { CHANNELS, type Channel } from "../../domain/preferences.js";
import type { RuleResult, Span } from "./text.js";

/**
 * A refusal names no channel when a time or day follows it: "don't call before 10am" and "no
 * calls on weekends" limit hours and days, they do not refuse the call ("don't call me at all" does).
 */
const UNLESS_LIMITED =
  "(?!\\s+(?:me\\s+)?(?:before|after|until|till|on|during|between|early|late|past|in the|at (?!all\\b)|from \\d))";

/** Phrases that refuse a channel; the remaining channels (or the ones named) stay allowed. */
const REFUSED: { channel: Channel; re: RegExp }[] = [
  {
    channel: "call",
    re: new RegExp(
      `\\b(?:don'?t|do not|never|please don'?t|pls don'?t|no)\\s+(?:phone\\s+)?call(?:s|ing)?\\b${UNLESS_LIMITED}|\\b(?:rather|prefer|want|like) not (?:to )?(?:get|receive|have|be) (?:any )?(?:phone )?call(?:s|ed)\\b(?: at all)?${UNLESS_LIMITED}|\\b(?:don'?t|do not) want (?:any )?(?:phone )?calls\\b${UNLESS_LIMITED}|\\bno (?:phone )?calls\\b${UNLESS_LIMITED}|\\bnot by (?:phone|call)\\b|\\bno phone\\b|(?:别|不要|不用|不准|不许|不想|不需要|不接受?)(?:给我|跟我)?(?:打电话|来电|电话|打)|电话(?:就)?(?:不要|不行|不接|免了|算了)|不接电话`,
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
      `\\b(?:call me|give me a call|ring me|phone me|calls? (?:only|is fine|are fine|ok|okay)|(?:only|just) (?:phone )?calls?|by (?:phone|call)|phone calls?|via (?:phone|call)|call is fine)\\b|\\bcalls?(?=\\s*(?:or|and|/|,)\\s*${OTHER_CHANNEL}\\b)|(?<=\\b${OTHER_CHANNEL}\\s*(?:or|and|/|,)\\s*)calls?\\b|打电话|来电|电话|打给我|打我手机|(?<![别不要用])打吧`,
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

/**
 * The channels an insurer may use: the ones named ("text only" → sms, "telegram", "邮件"), and
 * after a refusal ("don't call", "别给我打电话", "no texts") every channel but the refused ones,
 * unless others were named. In the order of {@link CHANNELS}.
 */
export function extractChannels(text: string): RuleResult<Channel[]> {
  const spans: Span[] = [];
  let rest = text;
  for (const m of text.matchAll(NOT_A_WISH)) rest = blank(rest, m);
  const refused = new Set<Channel>();
  for (const { channel, re } of REFUSED) {
    for (const m of rest.matchAll(re)) {
      refused.add(channel);
      spans.push({ start: m.index, end: m.index + m[0].length });
      rest = blank(rest, m);
    }
  }
  const named = new Set<Channel>();
  for (const { channel, re } of NAMED) {
    for (const m of rest.matchAll(re)) {
      named.add(channel);
      spans.push({ start: m.index, end: m.index + m[0].length });
    }
  }
  for (const c of refused) named.delete(c);
  const chosen =
    named.size > 0
      ? CHANNELS.filter((c) => named.has(c))
      : refused.size > 0
        ? CHANNELS.filter((c) => !refused.has(c))
        : [];
  return { value: chosen.length > 0 ? chosen : undefined, spans };
}
