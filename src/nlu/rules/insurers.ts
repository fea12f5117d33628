import type { DirectoryEntry } from "../extractor.js";
import { normalize, type RuleResult, type Span } from "./text.js";

/** What the text says about who may contact the owner. */
export interface InsurerReading {
  insurers?: string[];
  nobody?: true;
}

interface Mention {
  id: string;
  span: Span;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A Latin name matches as whole words with any spacing ("Ping An", "PingAn", "ping-an"). */
function termPattern(term: string): string {
  const t = normalize(term);
  if (!/[a-z0-9]/i.test(t)) return escapeRegExp(t);
  const body = t
    .split(/[\s-]+/)
    .filter(Boolean)
    .map(escapeRegExp)
    .join("[\\s-]*");
  return `(?<![a-z0-9])${body}(?![a-z0-9])`;
}

function findMentions(text: string, directory: readonly DirectoryEntry[]): Mention[] {
  const terms = directory
    .flatMap((e) => [e.name, ...e.aliases].map((term) => ({ id: e.id, term })))
    .filter((t) => normalize(t.term) !== "")
    .sort((a, b) => b.term.length - a.term.length);
  const found: Mention[] = [];
  for (const { id, term } of terms) {
    for (const m of text.matchAll(new RegExp(termPattern(term), "gi"))) {
      const span = { start: m.index, end: m.index + m[0].length };
      if (!found.some((f) => f.span.start < span.end && span.start < f.span.end)) found.push({ id, span });
    }
  }
  return found.sort((a, b) => a.span.start - b.span.start);
}

/** "不需要打电话" is about channels, not about insurers. */
const NOT_A_CHANNEL = "(?!.{0,3}(?:打|电话|短信|邮件|电邮|电报|来电|发))";

const NOBODY = new RegExp(
  [
    "\\b(?:nobody|no one|no-one|noone|none of them|no insurers?|no compan(?:y|ies))\\b",
    "\\brenew(?:ing)?(?: it)? (?:by )?myself\\b",
    "\\b(?:my own|through my|via my) (?:agent|broker)\\b",
    "\\b(?:don'?t|do not|never) contact me\\b(?! (?:by|via|on|over|after|before|at|in)\\b)",
    "\\bleave me alone\\b",
    `(?:谁都不要|谁也不要|一个都不要|都不要|不需要)${NOT_A_CHANNEL}`,
    "谁都别|都别联系|别联系我|不要联系我|不用联系我|我?自己(?:去)?续保?|自己办|不用了",
  ].join("|"),
  "i",
);

const NEGATED_BEFORE =
  /(?:\b(?:not|no|never|exclude|excluding|without)\s+|不要|别|不用|不想要|不包括|不接受?)\s*$/i;
const EXCEPT_BEFORE = /(?:\b(?:except(?: for)?|but(?: not)?|other than|apart from|besides)\s+|除了)\s*$/i;
const NEGATED_AFTER = /^\s*(?:不要|不行|不可以|除外|别|免了|就算了)/;

/**
 * Who may contact the owner: directory ids ("only Ping An", "平安"), or `nobody` ("nobody",
 * "I renew myself", "谁都不要", "不需要"). Names match case- and width-insensitively, Latin ones
 * as whole words. "not PICC" / "除了人保" alone means every other insurer; "nobody except
 * Ping An" and "除了平安都不要" mean only Ping An.
 */
export function extractInsurers(
  text: string,
  directory: readonly DirectoryEntry[],
): RuleResult<InsurerReading> {
  const mentions = findMentions(text, directory);
  const nobodyMatch = NOBODY.exec(text);
  const positive = new Set<string>();
  const negative = new Set<string>();
  for (const { id, span } of mentions) {
    const before = text.slice(Math.max(0, span.start - 16), span.start);
    const after = text.slice(span.end, span.end + 8);
    if (EXCEPT_BEFORE.test(before)) {
      const onlyThem = nobodyMatch !== null || /^[^,.;，。；]*?(?:都不|都别|其他|其它|别的)/.test(after);
      (onlyThem ? positive : negative).add(id);
    } else if (NEGATED_BEFORE.test(before) || NEGATED_AFTER.test(after)) negative.add(id);
    else positive.add(id);
  }
  const spans = mentions.map((m) => m.span);
  if (nobodyMatch) spans.push({ start: nobodyMatch.index, end: nobodyMatch.index + nobodyMatch[0].length });

  let chosen: string[] | undefined;
  if (positive.size > 0) chosen = [...positive].filter((id) => !negative.has(id));
  else if (negative.size > 0 && !nobodyMatch)
    chosen = directory.map((e) => e.id).filter((id) => !negative.has(id));
  if (chosen && chosen.length > 0) return { value: { insurers: [...new Set(chosen)] }, spans };
  if (nobodyMatch || chosen) return { value: { nobody: true }, spans };
  return { value: undefined, spans };
}
