import { z } from "zod";
import { CalendarDate, PreferencePatch } from "../domain/preferences.js";

/** The patch fields the evaluation scores, in the order they are reported. */
export const SCORED_FIELDS = [
  "renewalDate",
  "insurers",
  "nobody",
  "channels",
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

/** One line of `test/nlu/cases.jsonl`. */
export const EvalCase = z
  .object({
    text: z.string().min(1),
    lang: z.enum(["en", "zh"]),
    today: CalendarDate,
    expected: PreferencePatch,
    tags: z.array(z.string()).default([]),
  })
  .strict();
export type EvalCase = z.infer<typeof EvalCase>;

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
