import { CHANNELS, type Channel } from "../../domain/preferences.js";
import type { RuleResult, Span } from "./text.js";

/** Phrases that refuse calls; the remaining channels (or the ones named) stay allowed. */
const NO_CALLS =
  /\b(?:don'?t|do not|never|please don'?t|pls don'?t|no)\s+(?:phone\s+)?call(?:s|ing)?\b|\bno (?:phone )?calls\b|\bnot by (?:phone|call)\b|\bno phone\b|(?:别|不要|不用|不准|不许|不想|不需要|不接受?)(?:给我|跟我)?(?:打电话|来电|电话|打)|电话(?:不要|不行|不接|免了)|不接电话/gi;

/** Words naming a channel positively. "X may call" and "2 calls" describe contact, not a channel. */
const NAMED: { channel: Channel; re: RegExp }[] = [
  {
    channel: "call",
    re: /\b(?:call me|give me a call|ring me|phone me|calls? (?:only|is fine|are fine|ok|okay)|(?:only|just) (?:phone )?calls?|by (?:phone|call)|phone calls?|via (?:phone|call)|call is fine)\b|打电话|来电|电话/gi,
  },
  { channel: "sms", re: /\b(?:sms|text(?:s|ing)?(?: me)?|by text|texts? only|text message)\b|短信|短消息/gi },
  { channel: "telegram", re: /\b(?:telegram|tg)\b|电报/gi },
  { channel: "email", re: /\b(?:e-?mails?|mail me)\b|邮件|邮箱|电邮/gi },
];

/**
 * The channels an insurer may use: the ones named ("text only" → sms, "telegram", "邮件"), and
 * after a refusal of calls ("don't call", "别给我打电话") every channel but the call, unless
 * others were named. In the order of {@link CHANNELS}.
 */
export function extractChannels(text: string): RuleResult<Channel[]> {
  const spans: Span[] = [];
  let rest = text;
  let refusesCalls = false;
  for (const m of text.matchAll(NO_CALLS)) {
    refusesCalls = true;
    spans.push({ start: m.index, end: m.index + m[0].length });
    rest = rest.slice(0, m.index) + " ".repeat(m[0].length) + rest.slice(m.index + m[0].length);
  }
  const named = new Set<Channel>();
  for (const { channel, re } of NAMED) {
    for (const m of rest.matchAll(re)) {
      named.add(channel);
      spans.push({ start: m.index, end: m.index + m[0].length });
    }
  }
  if (refusesCalls) named.delete("call");
  const chosen =
    named.size > 0
      ? CHANNELS.filter((c) => named.has(c))
      : refusesCalls
        ? CHANNELS.filter((c) => c !== "call")
        : [];
  return { value: chosen.length > 0 ? chosen : undefined, spans };
}
