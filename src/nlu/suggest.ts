import type { DirectoryEntry } from "./extractor.js";

/** Words that name the kind of company, not which one ("Ping An Insurance", "太平洋保险公司"). */
const FILLER =
  /\b(?:insurance|insurer|assurance|company|co|ltd|group|inc|corp(?:oration)?|property|casualty)\b|保险|财险|产险|股份|有限|公司|集团|车险/gi;

function fold(s: string): string {
  return s
    .normalize("NFKC")
    .toLowerCase()
    .replace(FILLER, " ")
    .replace(/[\s\p{P}]+/gu, "");
}

function levenshtein(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[y.length] ?? 0;
}

function longestCommonRun(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let best = 0;
  for (let i = 0; i < x.length; i++) {
    for (let j = 0; j < y.length; j++) {
      let k = 0;
      while (x[i + k] !== undefined && x[i + k] === y[j + k]) k++;
      best = Math.max(best, k);
    }
  }
  return best;
}

/** 0..1: how alike a typed name is to one directory name. */
function similarity(query: string, term: string): number {
  if (query === "" || term === "") return 0;
  const len = Math.max([...query].length, [...term].length);
  const edit = 1 - levenshtein(query, term) / len;
  // A name inside a longer phrase ("太平洋" in "太平洋保险公司") is as good as said.
  const run = longestCommonRun(query, term);
  const termLen = [...term].length;
  const contained = run >= Math.min(2, termLen) && run === termLen ? 0.9 : 0;
  const partial = run >= 2 && /\p{Script=Han}/u.test(term) ? (0.8 * run) / termLen : 0;
  return Math.max(edit, contained, partial);
}

/**
 * "Did you mean": the directory entries whose name or an alias is most like `text` (an insurer
 * name the rules did not recognise, e.g. "Ping Ann", "太平洋保险公司"), best first, at most
 * `max`, and only those alike enough to be worth offering. Edit distance and shared runs of
 * characters; no pinyin.
 */
export function suggestInsurers(
  text: string,
  directory: readonly DirectoryEntry[],
  max = 3,
): DirectoryEntry[] {
  const query = fold(text);
  if (query === "" || max <= 0) return [];
  return directory
    .map((entry) => ({
      entry,
      score: Math.max(...[entry.name, ...entry.aliases].map((t) => similarity(query, fold(t)))),
    }))
    .filter((s) => s.score >= 0.6)
    .sort((a, b) => b.score - a.score)
    .slice(0, max)
    .map((s) => s.entry);
}
