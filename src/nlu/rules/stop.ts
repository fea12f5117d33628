/**
 * Whom a stop names (DESIGN §8): directory insurers, names not in the directory ("Geico"), or
 * everyone.
 */
import type { DirectoryEntry } from "../extractor.js";
import type { StopReading } from "../reading.js";
import { EVERYONE_WORDS } from "./intent.js";
import { findMentions, findUnknownNames } from "./names.js";

/** The insurers a stop request names; everyone when it names none but says "all of them". */
export function extractStop(text: string, directory: readonly DirectoryEntry[]): StopReading {
  const mentions = findMentions(text, directory);
  const insurers = [...new Set(mentions.flatMap((m) => (m.id ? [m.id] : [])))];
  const unknown = [
    ...new Set(
      findUnknownNames(
        text,
        mentions.map((m) => m.span),
      ).map((u) => u.name),
    ),
  ];
  if (insurers.length === 0 && unknown.length === 0 && EVERYONE_WORDS.test(text)) return { everyone: true };
  return unknown.length > 0 ? { insurers, unknown } : { insurers };
}
