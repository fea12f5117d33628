/** A half-open range of character positions in the normalized text. */
export interface Span {
  start: number;
  end: number;
}

/** What one concern read from the text, and where, so later concerns do not read it again. */
export interface RuleResult<T> {
  value: T | undefined;
  spans: Span[];
}

/**
 * Folds full-width forms to ASCII (NFKC: "１５：００" → "15:00", "，" → ",") and collapses
 * whitespace, so every rule sees one spelling. Positions in later spans refer to this text.
 */
export function normalize(text: string): string {
  return text.normalize("NFKC").replace(/\s+/g, " ").trim();
}

/** Blanks the spans out with spaces, keeping every other position where it was. */
export function mask(text: string, spans: readonly Span[]): string {
  let out = text;
  for (const { start, end } of spans) {
    out = out.slice(0, start) + " ".repeat(end - start) + out.slice(end);
  }
  return out;
}

/** A number written with digits or Chinese numerals (up to 99). */
export const NUM = "(?:\\d{1,4}|[零一二两三四五六七八九十]{1,3})";

/** An English count: digits, a word up to twelve, or "a"/"an" (one). */
export const EN_NUM =
  "(?:\\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a couple of|a few)";

const CN_DIGITS: Record<string, number> = {
  零: 0,
  一: 1,
  二: 2,
  两: 2,
  三: 3,
  四: 4,
  五: 5,
  六: 6,
  七: 7,
  八: 8,
  九: 9,
};

const EN_WORDS: Record<string, number> = {
  a: 1,
  an: 1,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  "a couple of": 2,
  "a few": 3,
};

/** Reads "15", "十五", "二十一", "两", "three", "a"; undefined for anything else. */
export function toNumber(raw: string): number | undefined {
  const s = raw.trim().toLowerCase();
  if (/^\d+$/.test(s)) return Number(s);
  if (s in EN_WORDS) return EN_WORDS[s];
  if (!/^[零一二两三四五六七八九十]+$/.test(s)) return undefined;
  const ten = s.indexOf("十");
  if (ten === -1) return s.length === 1 ? CN_DIGITS[s] : undefined;
  const tens = ten === 0 ? 1 : CN_DIGITS[s.slice(0, ten)];
  const rest = s.slice(ten + 1);
  const ones = rest === "" ? 0 : CN_DIGITS[rest];
  if (tens === undefined || ones === undefined || ten > 1 || rest.length > 1) return undefined;
  return tens * 10 + ones;
}

/**
 * Optimal-string-alignment distance (Levenshtein plus one swap of neighbours), capped: returns
 * `max + 1` as soon as the distance must exceed `max`. "Pign An" is one swap from "Ping An".
 */
export function editDistance(a: string, b: string, max = 2): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, (prev2[j - 2] ?? 0) + 1);
      cur[j] = d;
      rowMin = Math.min(rowMin, d);
    }
    if (rowMin > max) return max + 1;
    prev2 = prev;
    prev = cur;
  }
  return prev[b.length] ?? max + 1;
}

/**
 * `editDistance(a, b, 1) <= 1` without the table: equal, or one substitution, insertion,
 * deletion or swap of neighbours apart. Linear and allocation-free; {@link correctTypos} asks it
 * for every long word against every vocabulary word, on every message.
 */
export function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  const la = a.length;
  const lb = b.length;
  if (la === lb) {
    let i = 0;
    while (a[i] === b[i]) i++;
    // One substitution, or the swap of two neighbours.
    if (a.slice(i + 1) === b.slice(i + 1)) return true;
    return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
  }
  if (Math.abs(la - lb) !== 1) return false;
  const [short, long] = la < lb ? [a, b] : [b, a];
  let i = 0;
  while (i < short.length && short[i] === long[i]) i++;
  // One insertion into the shorter word.
  return short.slice(i) === long.slice(i + 1);
}

/** The words the rules key on, long enough that one slip of the finger cannot make another word. */
const VOCABULARY = [
  "tomorrow",
  "weekday",
  "weekdays",
  "weekend",
  "weekends",
  "morning",
  "mornings",
  "afternoon",
  "afternoons",
  "evening",
  "evenings",
  "telegram",
  "monday",
  "mondays",
  "tuesday",
  "tuesdays",
  "wednesday",
  "wednesdays",
  "thursday",
  "thursdays",
  "friday",
  "fridays",
  "saturday",
  "saturdays",
  "sunday",
  "sundays",
  "january",
  "february",
  "august",
  "september",
  "october",
  "november",
  "december",
  "attempts",
  "messages",
  "nobody",
];
const KNOWN = new Set(VOCABULARY);
/** Real words one edit away from a vocabulary word, left alone. */
const REAL_WORDS = new Set([
  "mourning",
  "weekly",
  "attempt",
  "message",
  "messaged",
  "sundae",
  "sundaes",
  "augusta",
]);

/**
 * Mends one-slip typos in the words the rules key on ("wekdays", "evenigs", "tomorow",
 * "telegarm"): a Latin word of six letters or more, not itself a known word, one edit from
 * one vocabulary word (or its plural) becomes that word. Case is folded for the mended words only.
 */
export function correctTypos(text: string): string {
  return text.replace(/\b[a-z]{6,}\b/gi, (word) => {
    const w = word.toLowerCase();
    if (KNOWN.has(w) || REAL_WORDS.has(w)) return word;
    const hits = VOCABULARY.filter((v) => withinOneEdit(w, v));
    // "weekdas" is one edit from both "weekday" and "weekdays": fine, one word. Near two
    // different words, it stays as written.
    const stems = new Set(hits.map((h) => h.replace(/s$/, "")));
    return stems.size === 1 ? (hits[0] ?? word) : word;
  });
}
