/**
 * Whom a stop names (DESIGN §8): directory insurers, names not in the directory ("Geico"), or
 * everyone — never an insurer the same message keeps ("stop all except Ping An", "平安就行，
 * 别的都停掉" name everyone but Ping An).
 */
import type { DirectoryEntry } from "../extractor.js";
import type { StopReading } from "../reading.js";
import { EVERYONE_WORDS } from "./intent.js";
import { findMentions, findUnknownNames, type Mention } from "./names.js";

/** Words before a name that keep it out of a stop. */
const KEPT_BEFORE =
  /(?:\b(?:except(?: for)?|but(?: not)?|besides|other than|apart from|keep|keeping|leave|not)\s+|除了|留着|只留|只要|保留|不包括)\s*$/i;
/** Words after a name that keep it. */
const KEPT_AFTER = /^\s*(?:就行|就好|可以|留着|不用停|不要停|除外|is (?:fine|ok|okay)|can stay|stays)/i;
/** "the rest", "其他", "别的": a stop of everyone not kept. */
const THE_REST = /\b(?:the rest|others|all|everyone|everybody|every other)\b|其他|其它|别的|其余|都/i;

function kept(text: string, m: Mention): boolean {
  const before = text.slice(Math.max(0, m.span.start - 14), m.span.start);
  const after = text.slice(m.span.end, m.span.end + 8);
  return KEPT_BEFORE.test(before) || KEPT_AFTER.test(after);
}

/** The insurers a stop request names; everyone when it names none but says "all of them". */
export function extractStop(text: string, directory: readonly DirectoryEntry[]): StopReading {
  const mentions = findMentions(text, directory);
  const keep = new Set(mentions.filter((m) => m.id && kept(text, m)).map((m) => m.id!));
  const unknown = [
    ...new Set(
      findUnknownNames(
        text,
        mentions.map((m) => m.span),
      ).map((u) => u.name),
    ),
  ];
  if (keep.size > 0 && THE_REST.test(text)) {
    // "Stop all except Ping An": everyone else, by name, so no button stops the one kept.
    const insurers = directory.map((e) => e.id).filter((id) => !keep.has(id));
    return unknown.length > 0 ? { insurers, unknown } : { insurers };
  }
  const insurers = [...new Set(mentions.flatMap((m) => (m.id && !keep.has(m.id) ? [m.id] : [])))];
  if (insurers.length === 0 && unknown.length === 0 && keep.size === 0 && EVERYONE_WORDS.test(text))
    return { everyone: true };
  return unknown.length > 0 ? { insurers, unknown } : { insurers };
}
