/**
 * The evaluation of language understanding (DESIGN §8), pure: per-intent precision and recall,
 * the count of unsafe readings, per-field precision and recall of the preference patch, and the
 * share of messages read fully right. `bench/eval-nlu.ts` runs it; a test holds the rules to it.
 */
import { z } from "zod";
import { CalendarDate, PreferencePatch } from "../domain/preferences.js";
import { INTENTS, type Intent, type Reading, ReportReading, StopReading } from "./reading.js";

/** The patch fields the evaluation scores, in the order they are reported. */
export const SCORED_FIELDS = [
  "renewalDate",
  "insurers",
  "nobody",
  "channels",
  "withoutChannels",
  "days",
  "hours",
  "daysBefore",
  "maxAttempts",
] as const satisfies readonly (keyof PreferencePatch)[];
export type ScoredField = (typeof SCORED_FIELDS)[number];

/** One message's expected patch and what an extractor read. */
export interface ScoredCase {
  expected: PreferencePatch;
  actual: PreferencePatch;
}

/** How well one field was read over a set of messages. */
export interface FieldScore {
  field: ScoredField;
  /** Correct / predicted; 1 when the field was never predicted (nothing claimed, nothing wrong). */
  precision: number;
  /** Correct / relevant; 1 when the field was never expected. */
  recall: number;
  /** How many messages expect the field. */
  support: number;
  /** How many messages the extractor filled the field in. */
  predicted: number;
  /** How many of those were right. */
  correct: number;
}

export interface Score {
  perField: FieldScore[];
  /** Share of messages whose whole patch was right (0 when there are none). */
  exact: number;
  n: number;
}

function key(value: unknown): string {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${key(o[k])}`)
      .join(",")}}`;
  }
  if (Array.isArray(value)) return `[${value.map(key).join(",")}]`;
  return JSON.stringify(value) ?? "undefined";
}

/**
 * Whether two values of one field mean the same: arrays as sets (order and repeats do not
 * matter; hour ranges compared by their `from`/`to`), anything else by deep equality.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    const sa = new Set(a.map(key));
    const sb = new Set(b.map(key));
    return sa.size === sb.size && [...sa].every((k) => sb.has(k));
  }
  return key(a) === key(b);
}

/** Whether the actual patch settles exactly the fields expected, each to the same value. */
export function patchMatches(expected: PreferencePatch, actual: PreferencePatch): boolean {
  return SCORED_FIELDS.every((f) => {
    const e = expected[f];
    const a = actual[f];
    if (e === undefined || a === undefined) return e === a;
    return sameValue(e, a);
  });
}

/**
 * Per-field precision and recall and the exact-match share over a set of readings. A field is
 * *predicted* when present in the actual patch, *relevant* when present in the expected one, and
 * *correct* when both are present and {@link sameValue}. Pure: no I/O, no extractor.
 */
export function scoreCases(results: readonly ScoredCase[]): Score {
  const perField = SCORED_FIELDS.map((field): FieldScore => {
    let predicted = 0;
    let support = 0;
    let correct = 0;
    for (const { expected, actual } of results) {
      const e = expected[field];
      const a = actual[field];
      if (a !== undefined) predicted++;
      if (e !== undefined) support++;
      if (e !== undefined && a !== undefined && sameValue(e, a)) correct++;
    }
    return {
      field,
      precision: predicted === 0 ? 1 : correct / predicted,
      recall: support === 0 ? 1 : correct / support,
      support,
      predicted,
      correct,
    };
  });
  const n = results.length;
  const right = results.filter((r) => patchMatches(r.expected, r.actual)).length;
  return { perField, exact: n === 0 ? 0 : right / n, n };
}

/**
 * One line of an evaluation set (`test/nlu/*.jsonl`). `intent` defaults to `preferences`;
 * `expected` is the patch (`{}` for every other intent); `report` and `stop` what a report or a
 * stop should settle. The tag `nobody-or-stop` marks a message for which "nobody may contact me"
 * and "everyone stop" are both right (DESIGN §8); `heldout` one never tuned on.
 */
export const EvalCase = z
  .object({
    text: z.string().min(1),
    lang: z.enum(["en", "zh"]),
    today: CalendarDate,
    intent: z.enum(INTENTS).default("preferences"),
    expected: PreferencePatch.default({}),
    report: ReportReading.optional(),
    stop: StopReading.optional(),
    tags: z.array(z.string()).default([]),
  })
  .strict();
export type EvalCase = z.infer<typeof EvalCase>;

/** How well one intent was recognised. */
export interface IntentScore {
  intent: Intent;
  precision: number;
  recall: number;
  support: number;
  predicted: number;
  correct: number;
}

/** The whole evaluation of a set of readings. */
export interface Evaluation {
  n: number;
  perIntent: IntentScore[];
  /** Share of messages whose intent was right. */
  intentAccuracy: number;
  /**
   * Messages that are not preferences but were read as preferences or given a patch: the
   * readings that could change a consent the owner never meant to change.
   */
  unsafe: number;
  /** Patch fields over every message (a stray field on a report counts against precision). */
  patch: Score;
  /** Reports whose settled fields were all read right, of those that expect a report. */
  reportsRight: { right: number; of: number };
  /** Stops whose targets were read right. */
  stopsRight: { right: number; of: number };
  /** Share of messages read fully right: intent, patch, and report or stop. */
  exact: number;
}

/** "nobody may contact me" read as a stop of everyone is right too (DESIGN §8). */
function intentRight(c: EvalCase, r: Reading): boolean {
  if (r.intent === c.intent) return true;
  return (
    c.tags.includes("nobody-or-stop") && r.intent === "stop" && r.stop !== undefined && "everyone" in r.stop
  );
}

/** Whether a reading gets one case right in every part the case settles. */
export function readingMatches(c: EvalCase, r: Reading): boolean {
  if (!intentRight(c, r)) return false;
  if (r.intent !== c.intent) return true; // the accepted alternative: a stop of everyone
  if (!patchMatches(c.expected, r.patch)) return false;
  if (c.report !== undefined && !sameValue(c.report, r.report ?? {})) return false;
  if (c.stop !== undefined && !stopMatches(c.stop, r.stop)) return false;
  return true;
}

function stopMatches(
  expected: z.infer<typeof StopReading>,
  actual: z.infer<typeof StopReading> | undefined,
): boolean {
  if (actual === undefined) return false;
  if ("everyone" in expected || "everyone" in actual) return "everyone" in expected && "everyone" in actual;
  return (
    sameValue(expected.insurers, actual.insurers) && sameValue(expected.unknown ?? [], actual.unknown ?? [])
  );
}

/** Scores readings against their cases (same order). Pure: no I/O, no extractor. */
export function evaluate(cases: readonly EvalCase[], readings: readonly Reading[]): Evaluation {
  const pairs = cases.map((c, i) => ({ c, r: readings[i] ?? { intent: "other" as const, patch: {} } }));
  const perIntent = INTENTS.map((intent): IntentScore => {
    const support = pairs.filter(({ c }) => c.intent === intent).length;
    const predicted = pairs.filter(({ r }) => r.intent === intent).length;
    const correct = pairs.filter(({ c, r }) => c.intent === intent && r.intent === intent).length;
    return {
      intent,
      support,
      predicted,
      correct,
      precision: predicted === 0 ? 1 : correct / predicted,
      recall: support === 0 ? 1 : correct / support,
    };
  });
  const unsafe = pairs.filter(
    ({ c, r }) =>
      c.intent !== "preferences" && (r.intent === "preferences" || Object.keys(r.patch).length > 0),
  ).length;
  const reports = pairs.filter(({ c }) => c.report !== undefined);
  const stops = pairs.filter(({ c }) => c.stop !== undefined);
  const n = pairs.length;
  return {
    n,
    perIntent,
    intentAccuracy: n === 0 ? 0 : pairs.filter(({ c, r }) => intentRight(c, r)).length / n,
    unsafe,
    patch: scoreCases(pairs.map(({ c, r }) => ({ expected: c.expected, actual: r.patch }))),
    reportsRight: {
      right: reports.filter(({ c, r }) => r.intent === "report" && sameValue(c.report, r.report ?? {}))
        .length,
      of: reports.length,
    },
    stopsRight: {
      right: stops.filter(({ c, r }) => r.intent === "stop" && stopMatches(c.stop!, r.stop)).length,
      of: stops.length,
    },
    exact: n === 0 ? 0 : pairs.filter(({ c, r }) => readingMatches(c, r)).length / n,
  };
}

/** Reads a JSON-lines evaluation set; blank lines are skipped, a bad line throws with its number. */
export function parseCases(jsonl: string): EvalCase[] {
  const out: EvalCase[] = [];
  jsonl.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    const parsed = EvalCase.safeParse(JSON.parse(line));
    if (!parsed.success) throw new Error(`cases line ${i + 1}: ${parsed.error.message}`);
    out.push(parsed.data);
  });
  return out;
}
