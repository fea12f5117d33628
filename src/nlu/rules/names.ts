/**
 * Insurer names in free text (DESIGN §8): an insurer is named by its name, an alias, or any
 * distinctive part of its name ("Acme" for "Acme Insurance", "阳光" for "阳光保险"), unless that
 * part fits several insurers — then the mention is ambiguous and the bot asks. Names that look
 * like an insurer's but are not in the directory ("Sunshine Insurance", "大地保险") are found too,
 * for reports and stops.
 */
import type { DirectoryEntry } from "../extractor.js";
import { normalize, type Span } from "./text.js";

/** A directory insurer named in the text; `candidates` when the words fit several. */
export interface Mention {
  span: Span;
  /** The insurer meant, when the words fit one. */
  id?: string;
  /** Every insurer the words fit, when they fit more than one. */
  candidates?: string[];
  /** The text as written. */
  text: string;
}

/** Words that say what kind of company, not which one: never a distinctive part of a name. */
const GENERIC_WORDS = new Set([
  "insurance",
  "insurer",
  "insurers",
  "assurance",
  "mutual",
  "company",
  "co",
  "ltd",
  "limited",
  "inc",
  "corp",
  "corporation",
  "group",
  "life",
  "general",
  "property",
  "casualty",
  "auto",
  "car",
  "motor",
  "china",
  "chinese",
  "the",
  "of",
  "and",
  "national",
  "international",
]);

/** Affixes of Chinese insurer names that name the kind of company ("中国…", "…保险公司"). */
const GENERIC_CJK = /^中国|(?:财产|人寿|股份|有限|保险|财险|产险|车险|公司|集团)+$/g;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A Latin term matches as whole words with any spacing ("Ping An", "PingAn", "ping-an"). */
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

/**
 * The distinctive part of one name: what is left once the words that say what kind of company
 * it is are taken away ("Acme Insurance" → "Acme", "China Pacific" → "Pacific", "阳光保险" →
 * "阳光"). A name with no such word has no part: "Ping An" is not named by "Ping".
 */
function partsOf(name: string): string[] {
  const n = normalize(name);
  const parts: string[] = [];
  const words = n.split(/[\s-]+/).filter(Boolean);
  const kept = words.filter((w) => !GENERIC_WORDS.has(w.toLowerCase()));
  const rest = kept.join(" ");
  // At least four letters, and no word of the calendar: "Sun" of "Sun Life" would catch "Sat and Sun".
  if (kept.length > 0 && kept.length < words.length && /[a-z]{4}/i.test(rest) && !CALENDAR_WORD.test(rest))
    parts.push(rest);
  if (/\p{Script=Han}/u.test(n)) {
    const core = n.replace(/\s+/g, "").replace(GENERIC_CJK, "");
    if (core.length >= 2 && core !== n.replace(/\s+/g, "")) parts.push(core);
  }
  return parts;
}

const CALENDAR_WORD =
  /^(?:mon|tue|wed|thu|fri|sat|sun|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*$|^(?:today|tomorrow|week|weekend|morning|evening|night)$/i;

interface Term {
  term: string;
  ids: string[];
}

/**
 * Every term that names insurers: full names and aliases (each one insurer), and distinctive
 * parts (one insurer, or several when shared). A full name or alias of one insurer is never
 * also read as another's part. Longest first, so "China Pacific" wins over "Pacific".
 */
export function directoryTerms(directory: readonly DirectoryEntry[]): Term[] {
  const whole = new Map<string, string[]>();
  const add = (into: Map<string, string[]>, term: string, id: string) => {
    const key = normalize(term).toLowerCase();
    if (key === "") return;
    const ids = into.get(key) ?? [];
    if (!ids.includes(id)) ids.push(id);
    into.set(key, ids);
  };
  for (const e of directory) for (const t of [e.name, ...e.aliases]) add(whole, t, e.id);
  const parts = new Map<string, string[]>();
  for (const e of directory)
    for (const t of [e.name, ...e.aliases]) for (const p of partsOf(t)) add(parts, p, e.id);
  const terms: Term[] = [...whole].map(([term, ids]) => ({ term, ids }));
  for (const [term, ids] of parts) if (!whole.has(term)) terms.push({ term, ids });
  return terms.sort((a, b) => b.term.length - a.term.length);
}

/** A directory's terms with their expressions compiled, as {@link findMentions} matches them. */
interface CompiledTerms {
  terms: readonly { readonly ids: readonly string[]; readonly re: RegExp }[];
  /**
   * Every term's pattern in one alternation: it matches somewhere exactly when some term
   * does, so a message that names no insurer (most of them) is scanned once, not per term.
   */
  any: RegExp;
}

/**
 * Compiled terms of the directories read lately, most recent first. Building them costs
 * ≈ 100 µs for 20 insurers (the terms, then one RegExp each), and a message is read against
 * the same directory two or three times (the preferences, the intent, the report or stop),
 * every message: built once per distinct directory instead. Found by content, not identity:
 * callers build a fresh array per message (the chat's localised directory), and a directory
 * that differs in any id, name or alias, or in their order, matches no snapshot and is built
 * anew. Comparing with a snapshot is a string comparison per name (≈ 1 µs), cheaper than
 * building a key of the whole directory. Bounded: a process sees a few directories (per
 * language, sandbox or not); the least recently used goes first.
 */
const kept: { snapshot: DirectoryEntry[]; compiled: CompiledTerms }[] = [];
const MAX_DIRECTORIES = 16;

/** Whether `directory` has exactly the ids, names and aliases of `snapshot`, in order. */
function sameDirectory(directory: readonly DirectoryEntry[], snapshot: readonly DirectoryEntry[]): boolean {
  if (directory.length !== snapshot.length) return false;
  for (let i = 0; i < directory.length; i++) {
    const e = directory[i]!;
    const s = snapshot[i]!;
    if (e.id !== s.id || e.name !== s.name || e.aliases.length !== s.aliases.length) return false;
    for (let j = 0; j < e.aliases.length; j++) if (e.aliases[j] !== s.aliases[j]) return false;
  }
  return true;
}

function compiledTerms(directory: readonly DirectoryEntry[]): CompiledTerms {
  const at = kept.findIndex((k) => sameDirectory(directory, k.snapshot));
  if (at >= 0) {
    const found = kept[at]!;
    if (at > 0) kept.unshift(...kept.splice(at, 1));
    return found.compiled;
  }
  const patterns = directoryTerms(directory).map(({ term, ids }) => ({ ids, pattern: termPattern(term) }));
  const compiled: CompiledTerms = {
    terms: patterns.map(({ ids, pattern }) => ({ ids, re: new RegExp(pattern, "gi") })),
    // No term at all: an alternation of nothing would match everywhere.
    any: patterns.length === 0 ? /$^/ : new RegExp(patterns.map((p) => `(?:${p.pattern})`).join("|"), "i"),
  };
  // A copy: the caller's entries may change after this call.
  const snapshot = directory.map(({ id, name, aliases }) => ({ id, name, aliases: [...aliases] }));
  kept.unshift({ snapshot, compiled });
  if (kept.length > MAX_DIRECTORIES) kept.pop();
  return compiled;
}

/** The directory insurers the text names, in the order they appear; overlapping terms yield to longer ones. */
export function findMentions(text: string, directory: readonly DirectoryEntry[]): Mention[] {
  const { terms, any } = compiledTerms(directory);
  // Not global: test() keeps no state in the shared expression.
  if (!any.test(text)) return [];
  const found: Mention[] = [];
  // matchAll matches on a copy of the expression: the shared one's lastIndex never moves.
  for (const { ids, re } of terms) {
    for (const m of text.matchAll(re)) {
      const span = { start: m.index, end: m.index + m[0].length };
      if (found.some((f) => f.span.start < span.end && span.start < f.span.end)) continue;
      // The cached ids are never handed out: a caller may keep or change its candidates.
      found.push(
        ids.length === 1 ? { span, id: ids[0]!, text: m[0] } : { span, candidates: [...ids], text: m[0] },
      );
    }
  }
  return found.sort((a, b) => a.span.start - b.span.start);
}

/** Latin words that start a sentence or name a person, never a company that called. */
const NOT_A_COMPANY = new Set(
  "i it he she they we you someone somebody some a an the this that then so and but my your his her their our who what why when where how ok okay hi hey no yes also again today yesterday please pls stop tell block telegram sms email wechat whatsapp only just both all everyone nobody".split(
    " ",
  ),
);

/**
 * Names that look like an insurer's but are in no directory entry: "<Name> Insurance",
 * "<名>保险/财险/人寿", and a capitalised word that calls or is told to stop ("Geico called",
 * "Geico, stop"). Spans already read as directory mentions are skipped.
 */
export function findUnknownNames(text: string, taken: readonly Span[]): { name: string; span: Span }[] {
  const out: { name: string; span: Span }[] = [];
  const free = (s: Span) => !taken.some((t) => t.start < s.end && s.start < t.end);
  const push = (name: string, start: number) => {
    const span = { start, end: start + name.length };
    // A name is short: anything longer is not one (and must not reach the reading's schema).
    if (name.trim().length > 40) return;
    if (free(span) && !out.some((o) => o.span.start < span.end && span.start < o.span.end))
      out.push({ name: name.trim(), span });
  };
  for (const m of text.matchAll(
    /(?<![A-Za-z])((?:[A-Z][A-Za-z]+\s){1,2}(?:Insurance|Assurance|Insurers?|Mutual))\b/g,
  ))
    push(m[1]!, m.index);
  for (const m of text.matchAll(
    /(?:^|[^\p{Script=Han}]|[让叫跟和及、把被是给])([\p{Script=Han}]{2,4}?(?:保险|财险|人寿))(?:公司)?/gu,
  )) {
    // Words that run into a name ("让阳光保险", "又有卖保险的") are not part of it.
    const name = m[1]!
      .replace(/^.*(?:冒充|假冒|假装|自称|说是|说他是|说她是)/u, "")
      .replace(/^[让叫跟和及、把被是给又有卖的了在都也还说从人]+/u, "");
    if (name.length < 4) continue;
    if (
      /^(?:推销|卖|买|车险|保险|续保|这个|那个|一个|哪个|别的|其他|其它|所有|商业|交强|任何|各家|每家)/u.test(
        name,
      )
    )
      continue;
    push(name, m.index + m[0].lastIndexOf(name));
  }
  // "让太平阳别再打": whoever is told to stop is an insurer, named or not.
  for (const m of text.matchAll(/[让叫]([\p{Script=Han}A-Za-z]{2,6}?)(?:以后)?(?:别|不要|不许)再?/gu)) {
    const name = m[1]!;
    if (!/^(?:他们|她们|它们|他|她|它|所有|全部|大家|别人|其他|其它|这些|那些|保险公司)/u.test(name))
      push(name, m.index + 1);
  }
  // "stop Geico", "block Progressive": whoever a stop names.
  for (const m of text.matchAll(
    /\b(?:stop|block|unsubscribe(?: me)? from|unsub(?: me)? from|opt (?:me )?out of|tell)\s+([A-Z][A-Za-z]{2,})\b/gi,
  )) {
    if (/^[A-Z]/.test(m[1]!) && !NOT_A_COMPANY.has(m[1]!.toLowerCase()))
      push(m[1]!, m.index + m[0].lastIndexOf(m[1]!));
  }
  for (const m of text.matchAll(
    /(?<![A-Za-z])([A-Z][A-Za-z]{2,})(?=\s*(?:,\s*stop|called|calls|rang|texted|emailed|messaged|keeps|kept|has been|is calling))/g,
  )) {
    if (!NOT_A_COMPANY.has(m[1]!.toLowerCase())) push(m[1]!, m.index);
  }
  // "from Geico", "Progressive and Ping An": a capitalised name beside a caller or a listed insurer.
  for (const m of text.matchAll(/\bfrom\s+([A-Z][A-Za-z]{2,})\b/g)) {
    if (!NOT_A_COMPANY.has(m[1]!.toLowerCase()) && !MONTH_OR_DAY.test(m[1]!))
      push(m[1]!, m.index + m[0].lastIndexOf(m[1]!));
  }
  for (const t of taken) {
    const before = /(?<![A-Za-z])([A-Z][A-Za-z]{2,})\s*(?:,|and|&|or)\s*$/.exec(
      text.slice(Math.max(0, t.start - 30), t.start),
    );
    if (before && !NOT_A_COMPANY.has(before[1]!.toLowerCase())) push(before[1]!, t.start - before[0].length);
    const after = /^\s*(?:,|and|&|or)\s*([A-Z][A-Za-z]{2,})(?![A-Za-z])/.exec(text.slice(t.end, t.end + 30));
    if (after && !NOT_A_COMPANY.has(after[1]!.toLowerCase()))
      push(after[1]!, t.end + after[0].lastIndexOf(after[1]!));
  }
  return out.sort((a, b) => a.span.start - b.span.start);
}

const MONTH_OR_DAY =
  /^(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun)[a-z]*$|^(?:today|tomorrow|yesterday)$/i;
