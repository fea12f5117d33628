import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  type EvalCase,
  evaluate,
  parseCases,
  patchMatches,
  readingMatches,
  type ScoredField,
  sameValue,
  scoreCases,
} from "../../src/nlu/eval.js";
import type { DirectoryEntry } from "../../src/nlu/extractor.js";
import type { Intent } from "../../src/nlu/reading.js";
import { readWithRules } from "../../src/nlu/rules/index.js";
import { directory, intentDirectory } from "./fixtures/directory.js";

const load = (file: string) =>
  parseCases(readFileSync(fileURLToPath(new URL(file, import.meta.url)), "utf8"));
const cases = load("./cases.jsonl");
const intentCases = load("./intent-cases.jsonl");
const intentCases2 = load("./intent-cases-2.jsonl");
// Two held-out files, written apart from the rules by different hands: read as one set.
const heldout = [...load("./intent-heldout.jsonl"), ...load("./intent-heldout-2.jsonl")];
const readAll = (set: EvalCase[], dir: DirectoryEntry[]) =>
  set.map((c) => readWithRules({ text: c.text, lang: c.lang, today: c.today, directory: dir }));

describe("scoreCases", () => {
  it("compares arrays as sets and hour ranges by their ends", () => {
    const s = scoreCases([
      {
        expected: { days: ["mon", "wed"], hours: [{ from: "09:00", to: "12:00" }, { from: "18:00" }] },
        actual: { days: ["wed", "mon", "mon"], hours: [{ from: "18:00" }, { to: "12:00", from: "09:00" }] },
      },
    ]);
    expect(s.exact).toBe(1);
    expect(s.perField.find((f) => f.field === "days")).toMatchObject({ precision: 1, recall: 1, support: 1 });
    expect(s.perField.find((f) => f.field === "hours")).toMatchObject({
      precision: 1,
      recall: 1,
      support: 1,
    });
    expect(sameValue([{ from: "18:00" }], [{ from: "18:00", to: "20:00" }])).toBe(false);
    expect(sameValue(["sms"], ["sms", "email"])).toBe(false);
  });

  it("counts predicted, relevant and correct per field", () => {
    const s = scoreCases([
      // right date, wrong insurers
      {
        expected: { renewalDate: "2027-07-31", insurers: ["pingan"] },
        actual: { renewalDate: "2027-07-31", insurers: ["picc"] },
      },
      // date missed, channels invented
      { expected: { renewalDate: "2027-01-31" }, actual: { channels: ["sms"] } },
      // nothing expected, nothing read: right
      { expected: {}, actual: {} },
      // nobody read right
      { expected: { nobody: true }, actual: { nobody: true } },
    ]);
    const f = (field: ScoredField) => s.perField.find((x) => x.field === field);
    expect(s.n).toBe(4);
    expect(s.exact).toBe(0.5);
    expect(f("renewalDate")).toMatchObject({
      precision: 1,
      recall: 0.5,
      support: 2,
      predicted: 1,
      correct: 1,
    });
    expect(f("insurers")).toMatchObject({ precision: 0, recall: 0, support: 1 });
    expect(f("channels")).toMatchObject({ precision: 0, recall: 1, support: 0, predicted: 1 });
    expect(f("nobody")).toMatchObject({ precision: 1, recall: 1, support: 1 });
    // A field neither expected nor read claims nothing and misses nothing.
    expect(f("maxAttempts")).toMatchObject({ precision: 1, recall: 1, support: 0, predicted: 0 });
    expect(s.perField.map((x) => x.field)).toEqual([
      "renewalDate",
      "insurers",
      "nobody",
      "channels",
      "withoutChannels",
      "days",
      "hours",
      "daysBefore",
      "maxAttempts",
    ]);
  });

  it("treats an extra field as a wrong reading of the message", () => {
    expect(patchMatches({ insurers: ["pingan"] }, { insurers: ["pingan"], maxAttempts: 2 })).toBe(false);
    expect(patchMatches({ daysBefore: 14 }, { daysBefore: 14 })).toBe(true);
  });

  it("scores an empty set as nothing right", () => {
    const s = scoreCases([]);
    expect(s).toMatchObject({ n: 0, exact: 0 });
    expect(s.perField.every((f) => f.precision === 1 && f.recall === 1 && f.support === 0)).toBe(true);
  });
});

describe("parseCases", () => {
  it("rejects a line whose expected patch breaks the schema, naming the line", () => {
    const good = JSON.stringify({ text: "hi", lang: "en", today: "2026-12-01", expected: {}, tags: [] });
    const bad = JSON.stringify({ text: "x", lang: "en", today: "2026-12-01", expected: { nobody: false } });
    expect(parseCases(`${good}\n\n`)).toHaveLength(1);
    expect(() => parseCases(`${good}\n${bad}\n`)).toThrow(/line 2/);
  });
});

describe("the evaluation set (test/nlu/cases.jsonl)", () => {
  it("holds at least 150 messages in English, Chinese and both mixed", () => {
    expect(cases.length).toBeGreaterThanOrEqual(150);
    expect(cases.filter((c) => c.lang === "en").length).toBeGreaterThanOrEqual(60);
    expect(cases.filter((c) => c.lang === "zh").length).toBeGreaterThanOrEqual(60);
    for (const tag of ["mixed", "typo", "refusal", "nothing", "long", "relative", "several", "nobody"])
      expect(
        cases.some((c) => c.tags.includes(tag)),
        tag,
      ).toBe(true);
    expect(new Set(cases.map((c) => c.text)).size).toBe(cases.length);
  });
});

describe("evaluate", () => {
  const c = (intent: Intent, extra: Partial<EvalCase> = {}): EvalCase => ({
    text: "x",
    lang: "en",
    today: "2026-12-01",
    intent,
    expected: {},
    tags: [],
    ...extra,
  });

  it("counts a report read as preferences, or given a patch, as unsafe", () => {
    const e = evaluate(
      [c("report"), c("question"), c("other"), c("preferences", { expected: { insurers: ["picc"] } })],
      [
        { intent: "preferences", patch: { insurers: ["picc"], channels: ["call"] } },
        { intent: "question", patch: {} },
        { intent: "preferences", patch: {} },
        { intent: "preferences", patch: { insurers: ["picc"] } },
      ],
    );
    expect(e.unsafe).toBe(2);
    expect(e.intentAccuracy).toBe(0.5);
    expect(e.exact).toBe(0.5);
    const report = e.perIntent.find((i) => i.intent === "report")!;
    expect(report).toMatchObject({ support: 1, predicted: 0, recall: 0 });
    const prefs = e.perIntent.find((i) => i.intent === "preferences")!;
    expect(prefs).toMatchObject({ support: 1, predicted: 3, correct: 1 });
  });

  it("accepts a stop of everyone for 'nobody may contact me', and only there", () => {
    const nobody = c("preferences", { expected: { nobody: true }, tags: ["nobody-or-stop"] });
    const everyone = { intent: "stop" as const, patch: {}, stop: { everyone: true as const } };
    expect(readingMatches(nobody, everyone)).toBe(true);
    expect(readingMatches({ ...nobody, tags: [] }, everyone)).toBe(false);
    expect(readingMatches(nobody, { intent: "stop", patch: {}, stop: { insurers: ["picc"] } })).toBe(false);
  });

  it("holds a report to every field it settles", () => {
    const expected = c("report", { report: { insurer: "picc", channel: "call", date: "2026-11-30" } });
    expect(
      readingMatches(expected, {
        intent: "report",
        patch: {},
        report: { insurer: "picc", channel: "call", date: "2026-11-30" },
      }),
    ).toBe(true);
    expect(
      readingMatches(expected, { intent: "report", patch: {}, report: { insurer: "picc", channel: "call" } }),
    ).toBe(false);
  });
});

describe("the intent evaluation sets", () => {
  it("cover every intent in both languages, with a held-out set of its own", () => {
    for (const set of [intentCases, heldout]) {
      for (const intent of ["preferences", "report", "renewed", "stop", "question", "other"] as const)
        for (const lang of ["en", "zh"] as const)
          expect(
            set.some((x) => x.intent === intent && x.lang === lang),
            `${intent} ${lang}`,
          ).toBe(true);
    }
    expect(intentCases.length + intentCases2.length + heldout.length).toBeGreaterThanOrEqual(150);
    // A third of the intent cases is held out.
    expect(
      heldout.length / (intentCases.length + intentCases2.length + heldout.length),
    ).toBeGreaterThanOrEqual(1 / 3);
    expect(heldout.every((x) => x.tags.includes("heldout"))).toBe(true);
    const texts = [...cases, ...intentCases, ...intentCases2, ...heldout].map((x) => x.text);
    expect(new Set(texts).size).toBe(texts.length);
  });
});

describe("the rules on the preferences set (cases.jsonl)", () => {
  const e = evaluate(cases, readAll(cases, directory));
  const field = (f: ScoredField) => e.patch.perField.find((x) => x.field === f)!;

  // The figures the rules reached (floored to a percent): a regression below any of them fails.
  it("reads at least 96% of the messages fully right, none unsafely", () => {
    expect(e.exact).toBeGreaterThanOrEqual(0.96);
    expect(e.unsafe).toBe(0);
  });

  it.each([
    ["renewalDate", 1.0, 1.0],
    ["insurers", 0.96, 0.93],
    ["nobody", 1.0, 0.76],
    ["channels", 1.0, 0.98],
    ["withoutChannels", 1.0, 1.0],
    ["days", 1.0, 1.0],
    ["hours", 1.0, 1.0],
    ["daysBefore", 1.0, 0.95],
    ["maxAttempts", 1.0, 0.96],
  ] as [ScoredField, number, number][])("%s: precision >= %d, recall >= %d", (f, precision, recall) => {
    expect(field(f).precision).toBeGreaterThanOrEqual(precision);
    expect(field(f).recall).toBeGreaterThanOrEqual(recall);
  });
});

describe("the rules on the intent sets", () => {
  it("tuning set: intents at least 98% right, fully right at least 96%, nothing unsafe", () => {
    const e = evaluate(intentCases, readAll(intentCases, intentDirectory));
    expect(e.intentAccuracy).toBeGreaterThanOrEqual(0.98);
    expect(e.exact).toBeGreaterThanOrEqual(0.96);
    expect(e.unsafe).toBe(0);
  });

  it("second tuning set: intents at least 96% right, fully right at least 90%, at most 1 unsafe", () => {
    const e = evaluate(intentCases2, readAll(intentCases2, intentDirectory));
    expect(e.intentAccuracy).toBeGreaterThanOrEqual(0.96);
    expect(e.exact).toBeGreaterThanOrEqual(0.9);
    expect(e.unsafe).toBeLessThanOrEqual(1);
  });

  // Never tuned on: these are the figures to expect on new text (README, docs).
  it("held-out set: the figures measured when it was first read", () => {
    const e = evaluate(heldout, readAll(heldout, intentDirectory));
    expect(e.intentAccuracy).toBeGreaterThanOrEqual(HELDOUT.intentAccuracy);
    expect(e.exact).toBeGreaterThanOrEqual(HELDOUT.exact);
    expect(e.unsafe).toBeLessThanOrEqual(HELDOUT.unsafe);
  });
});

/**
 * Held-out figures (floored), read after each round of tuning on the other sets, never its
 * failures. 2026-12-07, first file (83): first rules 79.5 % intent right / 66.3 % fully right /
 * 10 unsafe; after the second tuning set 84.3 % / 72.3 % / 7. Second file (100), first read on
 * that version: 85.0 % / 74.0 % / 7. Both (183): 84.7 % / 73.2 % / 14 unsafe; after the fixes
 * of a review (questions and complaints never a choice, stops that keep an insurer) 85.2 % /
 * 74.3 % / 11.
 */
const HELDOUT = { intentAccuracy: 0.85, exact: 0.74, unsafe: 11 };
