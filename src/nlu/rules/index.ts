import { PreferencePatch } from "../../domain/preferences.js";
import type { ExtractInput } from "../extractor.js";
import { type AmbiguousName, Reading } from "../reading.js";
import { extractChannels } from "./channels.js";
import { extractRenewalDate } from "./dates.js";
import { extractDays } from "./days.js";
import { extractHours } from "./hours.js";
import { extractInsurers } from "./insurers.js";
import { readIntent, statementText } from "./intent.js";
import { findMentions, findUnknownNames } from "./names.js";
import { extractNumbers } from "./numbers.js";
import { extractReport } from "./report.js";
import { extractStop } from "./stop.js";
import { correctTypos, mask, normalize } from "./text.js";

/**
 * Reads one message with the rules alone (DESIGN §8), synchronously. Each concern sees the text
 * with what earlier concerns consumed blanked out, in an order chosen so that the more specific
 * reading wins: "next Friday" is a date before it is a calling day, "2 weeks before" a lead time
 * before "from 2" is an hour, a refused call a channel rule only. The patch holds only the
 * fields the text settles, and always satisfies the {@link PreferencePatch} schema. One-slip
 * typos in the words the rules key on are mended first ("wekdays", "tomorow").
 */
export function extractWithRules(input: ExtractInput): PreferencePatch {
  return readPatch(correctTypos(normalize(input.text)), input).patch;
}

function readPatch(
  normalized: string,
  input: ExtractInput,
): { patch: PreferencePatch; ambiguous?: AmbiguousName[] } {
  let text = normalized;
  const patch: PreferencePatch = {};

  const date = extractRenewalDate(text, input.today, input.lang);
  if (date.value) patch.renewalDate = date.value;
  text = mask(text, date.spans);

  const numbers = extractNumbers(text);
  if (numbers.value?.daysBefore !== undefined) patch.daysBefore = numbers.value.daysBefore;
  if (numbers.value?.maxAttempts !== undefined) patch.maxAttempts = numbers.value.maxAttempts;
  text = mask(text, numbers.spans);

  const who = extractInsurers(text, input.directory);
  if (who.value?.insurers) patch.insurers = who.value.insurers;
  if (who.value?.nobody) patch.nobody = true;
  const ambiguous = who.value?.ambiguous;
  text = mask(text, who.spans);

  const hours = extractHours(text);
  if (hours.value) patch.hours = hours.value;
  text = mask(text, hours.spans);

  const days = extractDays(text);
  if (days.value) patch.days = days.value;
  text = mask(text, days.spans);

  // "Nobody may call me" names no channel: a choice of nobody carries none.
  const channels = patch.nobody ? undefined : extractChannels(text).value;
  if (channels?.channels) patch.channels = channels.channels;
  if (channels?.withoutChannels) patch.withoutChannels = channels.withoutChannels;

  return { patch: PreferencePatch.parse(patch), ...(ambiguous ? { ambiguous } : {}) };
}

/**
 * Reads one message with the rules alone (DESIGN §8): its intent from cues of tense and speech
 * act ({@link readIntent}), then the patch for `preferences` only, or what a report or a stop
 * settles. A report, a question or a thank-you never carries a patch, whatever insurers,
 * channels or dates it mentions. Synchronous, and never throws for text.
 */
export function readWithRules(input: ExtractInput): Reading {
  const text = correctTypos(normalize(input.text));
  const first = readPatch(text, input);
  const mentions = findMentions(text, input.directory);
  const namesInsurer =
    mentions.length > 0 ||
    findUnknownNames(
      text,
      mentions.map((m) => m.span),
    ).length > 0;
  const intent = readIntent(text, {
    patch: first.patch,
    namesInsurer,
    ambiguous: first.ambiguous !== undefined,
  });
  const reading: Reading = { intent, patch: {} };
  if (intent === "preferences") {
    // The patch of a statement is read without the sentences that tell of contacts.
    const statement = statementText(text);
    const { patch, ambiguous } = statement === text ? first : readPatch(statement, input);
    reading.patch = patch;
    if (ambiguous) reading.ambiguous = ambiguous;
  }
  if (intent === "report") reading.report = extractReport(text, input.today, input.directory);
  if (intent === "stop") {
    reading.stop = extractStop(text, input.directory);
    if (first.ambiguous) reading.ambiguous = first.ambiguous;
  }
  // Never throws for text: a reading the schema refuses (a name too long to be one) is `other`.
  const checked = Reading.safeParse(reading);
  return checked.success ? checked.data : { intent: "other", patch: {} };
}
