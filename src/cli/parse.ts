import { parseArgs } from "node:util";
import type { DetailedExtractor } from "../nlu/create-extractor.js";
import type { DirectoryEntry, ExtractInput } from "../nlu/extractor.js";
import type { Reading } from "../nlu/reading.js";
import { readWithRules } from "../nlu/rules/index.js";

/** What `onewindow parse` needs from the composition root. */
export interface ParseDeps {
  directory: DirectoryEntry[];
  /** DEFAULT_TIMEZONE: the zone `--now` (and its default, today) is a date in. */
  defaultTimezone: string;
  now: Date;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** The configured extractor (LLM with rules fallback); rules alone when absent. */
  extractor?: DetailedExtractor;
}

const USAGE = 'usage: onewindow parse "<text>" [--lang en|zh] [--now YYYY-MM-DD]';

/** The calendar date of `now` in `timeZone`, "YYYY-MM-DD", whatever the host's zone. */
export function calendarDateIn(now: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).formatToParts(now);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? "";
  return `${part("year")}-${part("month")}-${part("day")}`;
}

function isCalendarDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

/**
 * `onewindow parse "<text>" [--lang en|zh] [--now YYYY-MM-DD]` (DESIGN §3, §8); `args` are the
 * arguments after `parse`. Prints one JSON line `{"intent","patch","extractor","ms"}` (plus
 * `report`, `stop` and `ambiguous` when the reading has them) and returns 0; on bad usage (no text, unknown option, bad --lang, malformed --now) writes the reason to
 * stderr and returns 2.
 */
export async function runParse(args: string[], deps: ParseDeps): Promise<number> {
  let values: { lang?: string; now?: string };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: { lang: { type: "string" }, now: { type: "string" } },
      allowPositionals: true,
      strict: true,
    }));
  } catch (err) {
    deps.stderr(`${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 2;
  }
  const text = positionals.join(" ").trim();
  const problems: string[] = [];
  if (text === "") problems.push("missing the text to parse");
  if (values.lang !== undefined && values.lang !== "en" && values.lang !== "zh") {
    problems.push(`--lang must be en or zh, got "${values.lang}"`);
  }
  if (values.now !== undefined && !isCalendarDate(values.now)) {
    problems.push(`--now must be a calendar date YYYY-MM-DD, got "${values.now}"`);
  }
  if (problems.length > 0) {
    deps.stderr(`${problems.join("; ")}\n${USAGE}\n`);
    return 2;
  }

  const today = values.now ?? calendarDateIn(deps.now, deps.defaultTimezone);
  const lang = values.lang === "en" || values.lang === "zh" ? values.lang : undefined;
  const input: ExtractInput = { text, today, directory: deps.directory, ...(lang ? { lang } : {}) };
  if (deps.extractor) {
    const { reading, extractor, ms } = await deps.extractor.readDetailed(input);
    deps.stdout(`${JSON.stringify(printed(reading, extractor, ms))}\n`);
    return 0;
  }
  const started = performance.now();
  const reading = readWithRules(input);
  deps.stdout(`${JSON.stringify(printed(reading, "rules", performance.now() - started))}\n`);
  return 0;
}

/** The printed object: intent and patch first, as DESIGN §8 writes it. */
function printed(reading: Reading, extractor: "rules" | "llm", ms: number) {
  const { intent, patch, report, stop, ambiguous } = reading;
  return {
    intent,
    patch,
    extractor,
    ms: Math.round(ms * 100) / 100,
    ...(report ? { report } : {}),
    ...(stop ? { stop } : {}),
    ...(ambiguous ? { ambiguous } : {}),
  };
}
