import { describe, expect, it } from "vitest";
import type { PreferencePatch } from "../../src/domain/preferences.js";
import { mergePatches } from "../../src/nlu/merge.js";
import { directory } from "./fixtures/directory.js";

const cases: [string, PreferencePatch, PreferencePatch, PreferencePatch][] = [
  // [label, rules, llm, merged]
  ["nothing from either", {}, {}, {}],
  [
    "the LLM fills what the rules left unset",
    { renewalDate: "2027-07-31" },
    { channels: ["sms"], maxAttempts: 2 },
    { renewalDate: "2027-07-31", channels: ["sms"], maxAttempts: 2 },
  ],
  [
    "an explicit date from the rules is not overridden",
    { renewalDate: "2027-07-31" },
    { renewalDate: "2027-07-30" },
    { renewalDate: "2027-07-31" },
  ],
  [
    "the LLM's date when the rules found none",
    {},
    { renewalDate: "2027-08-15" },
    { renewalDate: "2027-08-15" },
  ],
  [
    "insurers named in the rules are not overridden",
    { insurers: ["pingan"] },
    { insurers: ["picc", "pingan"] },
    { insurers: ["pingan"] },
  ],
  [
    "insurers named in the rules beat an LLM nobody",
    { insurers: ["pingan"] },
    { nobody: true },
    { insurers: ["pingan"] },
  ],
  ["the LLM's insurers when the rules named none", {}, { insurers: ["cpic"] }, { insurers: ["cpic"] }],
  [
    "the LLM's insurers (a typo the rules missed) beat the rules' nobody",
    { nobody: true },
    { insurers: ["pingan"] },
    { insurers: ["pingan"] },
  ],
  ["nobody from the LLM", { channels: ["sms"] }, { nobody: true }, { nobody: true, channels: ["sms"] }],
  [
    "nobody from the rules when the LLM leaves who unset",
    { nobody: true },
    { days: ["mon"] },
    { nobody: true, days: ["mon"] },
  ],
  [
    "unknown insurer ids are dropped",
    {},
    { insurers: ["pingan", "acme", "picc"] },
    { insurers: ["pingan", "picc"] },
  ],
  ["all-unknown insurers leave the field unset", {}, { insurers: ["acme"] }, {}],
  [
    "all-unknown LLM insurers fall back to the rules' nobody",
    { nobody: true },
    { insurers: ["acme"] },
    { nobody: true },
  ],
  ["duplicate ids collapse", {}, { insurers: ["picc", "picc"] }, { insurers: ["picc"] }],
  [
    "other fields: the LLM's reading when it has one",
    { channels: ["call"], days: ["sat"], hours: [{ from: "06:00" }], daysBefore: 7, maxAttempts: 5 },
    {
      channels: ["sms", "telegram", "email"],
      days: ["sat", "sun"],
      hours: [{ from: "18:00" }],
      daysBefore: 14,
      maxAttempts: 2,
    },
    {
      channels: ["sms", "telegram", "email"],
      days: ["sat", "sun"],
      hours: [{ from: "18:00" }],
      daysBefore: 14,
      maxAttempts: 2,
    },
  ],
  [
    "other fields: the rules' reading where the LLM has none",
    { channels: ["call"], days: ["sat"], hours: [{ to: "12:00" }], daysBefore: 7, maxAttempts: 5 },
    {},
    { channels: ["call"], days: ["sat"], hours: [{ to: "12:00" }], daysBefore: 7, maxAttempts: 5 },
  ],
  [
    "a whole message",
    { renewalDate: "2027-07-31", insurers: ["pingan"], days: ["mon", "tue", "wed", "thu", "fri"] },
    {
      renewalDate: "2027-07-01",
      insurers: ["pingan", "allianz"],
      nobody: true,
      channels: ["sms"],
      hours: [{ from: "18:00", to: "20:00" }],
    },
    {
      renewalDate: "2027-07-31",
      insurers: ["pingan"],
      channels: ["sms"],
      days: ["mon", "tue", "wed", "thu", "fri"],
      hours: [{ from: "18:00", to: "20:00" }],
    },
  ],
];

describe("mergePatches", () => {
  it.each(cases)("%s", (_label, rules, llm, merged) => {
    expect(mergePatches(rules, llm, directory)).toEqual(merged);
  });

  it("keeps ids as they are when no directory is given", () => {
    expect(mergePatches({}, { insurers: ["acme"] })).toEqual({ insurers: ["acme"] });
  });

  it("never holds nobody together with insurers, nor an undefined key", () => {
    for (const [, rules, llm] of cases) {
      const merged = mergePatches(rules, llm, directory);
      expect(merged.nobody === true && merged.insurers !== undefined).toBe(false);
      for (const value of Object.values(merged)) expect(value).not.toBeUndefined();
    }
  });

  it("does not modify its inputs", () => {
    const rules: PreferencePatch = { insurers: ["pingan"] };
    const llm: PreferencePatch = { insurers: ["acme"], channels: ["sms"] };
    mergePatches(rules, llm, directory);
    expect(rules).toEqual({ insurers: ["pingan"] });
    expect(llm).toEqual({ insurers: ["acme"], channels: ["sms"] });
  });
});
