import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseCases, patchMatches, type ScoredField, sameValue, scoreCases } from "../../src/nlu/eval.js";
import { extractWithRules } from "../../src/nlu/rules/index.js";
import { directory } from "./fixtures/directory.js";

const cases = parseCases(readFileSync(fileURLToPath(new URL("./cases.jsonl", import.meta.url)), "utf8"));

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

describe("the rules on the evaluation set", () => {
  const score = scoreCases(
    cases.map((c) => ({
      expected: c.expected,
      actual: extractWithRules({ text: c.text, lang: c.lang, today: c.today, directory }),
    })),
  );
  const field = (f: ScoredField) => score.perField.find((x) => x.field === f)!;

  // The figures the rules reached (floored to a percent): a regression below any of them fails.
  it("reads at least 96% of the messages fully right (issue 5 asks for 85%)", () => {
    expect(score.exact).toBeGreaterThanOrEqual(0.96);
  });

  it.each([
    ["renewalDate", 1.0, 1.0],
    ["insurers", 0.96, 0.93],
    ["nobody", 1.0, 0.8],
    ["channels", 0.98, 0.98],
    ["days", 1.0, 1.0],
    ["hours", 1.0, 1.0],
    ["daysBefore", 1.0, 0.95],
    ["maxAttempts", 1.0, 0.96],
  ] as [ScoredField, number, number][])("%s: precision >= %d, recall >= %d", (f, precision, recall) => {
    expect(field(f).precision).toBeGreaterThanOrEqual(precision);
    expect(field(f).recall).toBeGreaterThanOrEqual(recall);
  });
});
