/**
 * The rules parse Chinese dates with chrono's own Simplified Chinese parsers, their patterns
 * built once (dates.ts ZH_HANS): every message of the NLU cases must parse exactly as with
 * `chrono.zh.hans`, on any reference date, forward or not, however often it is parsed.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import * as chrono from "chrono-node";
import { describe, expect, it } from "vitest";
import { ZH_HANS } from "../../src/nlu/rules/dates.js";

const texts = [
  "cases.jsonl",
  "intent-cases.jsonl",
  "intent-cases-2.jsonl",
  "intent-heldout.jsonl",
  "intent-heldout-2.jsonl",
].flatMap((file) =>
  readFileSync(path.join(import.meta.dirname, file), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => (JSON.parse(line) as { text: string }).text),
);

const seen = (results: chrono.ParsedResult[]) =>
  results.map((r) => ({
    index: r.index,
    text: r.text,
    start: r.start.date().toISOString(),
    certain: ["year", "month", "day", "hour", "minute", "weekday"].map((c) =>
      r.start.isCertain(c as chrono.Component),
    ),
    end: r.end?.date().toISOString(),
    tags: [...r.tags()].sort(),
  }));

describe("the Chinese date parser with kept patterns", () => {
  it("parses every NLU case as chrono.zh.hans does", () => {
    expect(texts.length).toBeGreaterThan(500);
    const extra = [
      "明天下午三点",
      "下周三晚上",
      "2027年3月15日",
      "三天后",
      "昨天晚上9点",
      "十二月一日",
      "今晚",
    ];
    for (const instant of [new Date(Date.UTC(2026, 11, 1, 12)), new Date(Date.UTC(2027, 5, 30, 23))]) {
      const ref = { instant, timezone: 0 };
      for (const forwardDate of [true, false]) {
        for (const text of [...texts, ...extra, ...extra]) {
          expect(seen(ZH_HANS.parse(text, ref, { forwardDate })), text).toEqual(
            seen(chrono.zh.hans.parse(text, ref, { forwardDate })),
          );
        }
      }
    }
  });
});
