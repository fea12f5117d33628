import type { DirectoryEntry } from "../extractor.js";
import type { AmbiguousName } from "../reading.js";
import { findMentions } from "./names.js";
import type { RuleResult, Span } from "./text.js";

/** What the text says about who may contact the owner. */
export interface InsurerReading {
  insurers?: string[];
  nobody?: true;
  /** Parts of names that fit several insurers: the owner is asked which one. */
  ambiguous?: AmbiguousName[];
}

/** "不需要打电话" is about channels, not about insurers. */
const NOT_A_CHANNEL = "(?!.{0,3}(?:打|电话|短信|邮件|电邮|电报|来电|发))";

const NOBODY = new RegExp(
  [
    "\\b(?:nobody|no one|no-one|noone|none of them|no insurers?|no compan(?:y|ies))\\b",
    "\\brenew(?:ing)?(?: it)? (?:by )?myself\\b",
    "\\b(?:my own|through my|via my) (?:agent|broker)\\b",
    "\\b(?:don'?t|do not|never) contact me\\b(?! (?:by|via|on|over|after|before|in)\\b| at (?!all\\b))",
    "\\b(?:don'?t|do not) want (?:any ?(?:one|body)|any (?:insurers?|compan(?:y|ies))|to be contacted)\\b",
    "(?<!\\b(?:then|after that|otherwise|afterwards),? )\\bleave me alone\\b",
    `(?:谁都不要|谁也不要|一个都不要|都不要|不需要)${NOT_A_CHANNEL}`,
    "谁都别|都别联系|(?<!(?:周.|末|日|天|点|以后|之后|以前|之前|晚上|早上|上午|下午|中午|半夜)\\s*)(?:别(?:再)?联系我|不要(?:再)?联系我)|不用(?:再)?联系(?:我|了)|不需要(?:再)?联系|我?自己(?:去)?续保?|自己办|不用了",
  ].join("|"),
  "i",
);

/** Every insurer in the directory ("all of them", "any insurer", "哪家都可以"). */
const EVERYONE =
  /\b(?:all of them|any of them|all insurers|any insurer|every insurer|all (?:the )?compan(?:y|ies)|any company|whoever)\b|哪家都(?:可以|行)|谁都(?:可以|行)|所有(?:保险)?公司/i;

/** A mention of the insurer the owner is with now ("my insurance with PICC", "车险是人保的"): no choice. */
const CURRENT_BEFORE =
  /(?:\b(?:insurance|policy|insured|cover(?:age)?|currently|presently|i'?m|i am)\s+(?:\w+\s+)?(?:with|at|from|through)|\b(?:current|present|old|previous) (?:insurer|company|provider)(?: is| was)?|(?:车险|保险|保单)(?:现在|目前|一直|去年)?是)\s*$/i;
const CURRENT_AFTER = /^\s*(?:的(?!.{0,2}(?:联系|打|发))|买的|续的)/;

const NEGATED_BEFORE =
  /(?:\b(?:not|no|never|exclude|excluding|without|(?:don'?t|do not|never) want (?:to hear from|calls from|anything from|messages from)|nothing from|not from)\s+|不要|别|不用|不想要|不包括|不接受?|不是)\s*$/i;
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
  const all = findMentions(text, directory);
  // A name that fits several insurers: refused, it refuses them all ("not Acme"); chosen, the
  // owner is asked which one.
  const negatedHere = (span: Span) =>
    NEGATED_BEFORE.test(text.slice(Math.max(0, span.start - 24), span.start)) ||
    EXCEPT_BEFORE.test(text.slice(Math.max(0, span.start - 24), span.start)) ||
    NEGATED_AFTER.test(text.slice(span.end, span.end + 8));
  const ambiguous = all.flatMap((m) =>
    m.candidates && !negatedHere(m.span) ? [{ text: m.text, candidates: m.candidates }] : [],
  );
  const mentions = all.flatMap((m) =>
    m.id
      ? [{ id: m.id, span: m.span }]
      : m.candidates && negatedHere(m.span)
        ? m.candidates.map((id) => ({ id, span: m.span }))
        : [],
  );
  const nobodyMatch = NOBODY.exec(text);
  const positive = new Set<string>();
  const negative = new Set<string>();
  // "not PICC or CPIC", "人保和平安不要": names listed together share one reading, taken from
  // the words before the first and after the last.
  const groups: { ids: string[]; span: Span }[] = [];
  for (const { id, span } of mentions) {
    const last = groups[groups.length - 1];
    if (last && /^\s*(?:,|or|and|nor|&|\/|、|和|或者?|及)\s*$/i.test(text.slice(last.span.end, span.start))) {
      last.ids.push(id);
      last.span = { start: last.span.start, end: span.end };
    } else groups.push({ ids: [id], span });
  }
  for (const { ids, span } of groups) {
    const before = text.slice(Math.max(0, span.start - 24), span.start);
    const wider = text.slice(Math.max(0, span.start - 32), span.start);
    const after = text.slice(span.end, span.end + 8);
    if (CURRENT_BEFORE.test(wider) && (!/是\s*$/.test(before) || CURRENT_AFTER.test(after))) continue;
    let target = positive;
    if (EXCEPT_BEFORE.test(before)) {
      const onlyThem = nobodyMatch !== null || /^[^,.;，。；]*?(?:都不|都别|其他|其它|别的)/.test(after);
      target = onlyThem ? positive : negative;
    } else if (NEGATED_BEFORE.test(before) || NEGATED_AFTER.test(after)) target = negative;
    for (const id of ids) target.add(id);
  }
  const spans = all.map((m) => m.span);
  if (nobodyMatch) spans.push({ start: nobodyMatch.index, end: nobodyMatch.index + nobodyMatch[0].length });

  const everyone = nobodyMatch ? null : EVERYONE.exec(text);
  if (everyone) spans.push({ start: everyone.index, end: everyone.index + everyone[0].length });

  let chosen: string[] | undefined;
  if (positive.size > 0) chosen = [...positive].filter((id) => !negative.has(id));
  else if ((negative.size > 0 || everyone) && !nobodyMatch)
    chosen = directory.map((e) => e.id).filter((id) => !negative.has(id));
  const unsure = ambiguous.length > 0 ? { ambiguous } : {};
  if (chosen && chosen.length > 0) return { value: { insurers: [...new Set(chosen)], ...unsure }, spans };
  if (nobodyMatch || chosen) return { value: { nobody: true, ...unsure }, spans };
  return { value: ambiguous.length > 0 ? { ambiguous } : undefined, spans };
}
