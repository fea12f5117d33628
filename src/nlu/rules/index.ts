import { PreferencePatch } from "../../domain/preferences.js";
import type { ExtractInput } from "../extractor.js";
import { extractChannels } from "./channels.js";
import { extractRenewalDate } from "./dates.js";
import { extractDays } from "./days.js";
import { extractHours } from "./hours.js";
import { extractInsurers } from "./insurers.js";
import { extractNumbers } from "./numbers.js";
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
  let text = correctTypos(normalize(input.text));
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
  text = mask(text, who.spans);

  const hours = extractHours(text);
  if (hours.value) patch.hours = hours.value;
  text = mask(text, hours.spans);

  const days = extractDays(text);
  if (days.value) patch.days = days.value;
  text = mask(text, days.spans);

  const channels = extractChannels(text);
  if (channels.value) patch.channels = channels.value;

  return PreferencePatch.parse(patch);
}
