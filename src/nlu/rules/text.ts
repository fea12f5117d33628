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

/** The span of a regex match. */
export function spanOf(m: RegExpExecArray): Span {
  return { start: m.index, end: m.index + m[0].length };
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

/** Whether the text holds CJK ideographs. */
export function hasCjk(text: string): boolean {
  return /\p{Script=Han}/u.test(text);
}
