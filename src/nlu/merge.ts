import { PreferencePatch } from "../domain/preferences.js";
import type { DirectoryEntry } from "./extractor.js";
import { type Intent, Reading } from "./reading.js";

/** The fields other than the certain ones, where the LLM's reading is preferred when it has one. */
const READ_FIELDS = ["channels", "withoutChannels", "days", "hours", "daysBefore", "maxAttempts"] as const;

/**
 * Merges the rules' and the LLM's readings of one message (DESIGN §8, issue 5):
 *
 * - What the rules find with certainty is never overridden by the LLM's guess: an explicit
 *   `renewalDate` (the rules only report a date they parsed), and explicit `insurers` (the rules
 *   only report insurers named from the directory). `nobody` travels with `insurers` — they are
 *   one question, "who may contact me" — so explicit insurers from the rules also drop an LLM
 *   `nobody`.
 * - Every other field: the LLM's reading when it gave one (it reads refusals, typos and
 *   phrasing the rules do not know), else the rules'. So the LLM fills what the rules left unset.
 * - Insurer ids that are not in `directory` are dropped (and the field with them when none is
 *   left); when `directory` is not given, ids are kept as they are.
 *
 * The result holds only settled fields and satisfies {@link PreferencePatch}; it is still a
 * reading, validated by the domain like any other input before anything is consented.
 */
export function mergePatches(
  rules: PreferencePatch,
  llm: PreferencePatch,
  directory?: readonly Pick<DirectoryEntry, "id">[],
): PreferencePatch {
  const known = directory ? new Set(directory.map((e) => e.id)) : undefined;
  const inDirectory = (ids: string[] | undefined) => {
    if (!ids) return undefined;
    const kept = [...new Set(known ? ids.filter((id) => known.has(id)) : ids)];
    return kept.length > 0 ? kept : undefined;
  };

  const merged: PreferencePatch = {};
  const renewalDate = rules.renewalDate ?? llm.renewalDate;
  if (renewalDate !== undefined) merged.renewalDate = renewalDate;

  const rulesInsurers = inDirectory(rules.insurers);
  const llmInsurers = inDirectory(llm.insurers);
  if (rulesInsurers) merged.insurers = rulesInsurers;
  else if (llmInsurers) merged.insurers = llmInsurers;
  else if (llm.nobody || rules.nobody) merged.nobody = true;

  for (const field of READ_FIELDS) {
    const value = llm[field] ?? rules[field];
    if (value !== undefined) (merged as Record<string, unknown>)[field] = value;
  }
  return PreferencePatch.parse(merged);
}

/**
 * Merges the rules' and the LLM's readings of one message. The intent is the LLM's, except
 * that a message the LLM reads as `preferences` while the rules find a report, a renewal, a
 * stop or a question keeps the rules' intent: where the two disagree, the reading that changes
 * no consent wins (DESIGN §8). A preferences patch merges both patches ({@link mergePatches});
 * a report takes the LLM's fields and fills the rest from the rules'; a stop is the LLM's, or
 * the rules' when the LLM named none.
 */
export function mergeReadings(
  rules: Reading,
  rulesPatch: PreferencePatch,
  llm: Reading,
  directory?: readonly Pick<DirectoryEntry, "id">[],
): Reading {
  const safer = llm.intent === "preferences" && rules.intent !== "preferences" && rules.intent !== "other";
  const intent: Intent = safer ? rules.intent : llm.intent;
  const merged: Reading = { intent, patch: {} };
  if (intent === "preferences") {
    merged.patch = mergePatches(rulesPatch, llm.patch, directory);
    if (rules.ambiguous && !merged.patch.insurers) merged.ambiguous = rules.ambiguous;
  }
  if (intent === "report") merged.report = { ...rules.report, ...(safer ? {} : llm.report) };
  if (intent === "stop") {
    const fromLlm = safer ? undefined : llm.stop;
    const named = fromLlm && ("everyone" in fromLlm || fromLlm.insurers.length > 0 || fromLlm.unknown);
    merged.stop = (named ? fromLlm : rules.stop) ?? rules.stop ?? { everyone: true };
  }
  return Reading.parse(merged);
}
