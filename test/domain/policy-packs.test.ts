import { describe, expect, it } from "vitest";
import { jurisdictionForCountry, POLICY_PACKS, packFor } from "../../src/domain/policy-packs.js";

describe("policy packs", () => {
  it("carry the figures of DESIGN §7", () => {
    expect(packFor("CN").callingHours.value).toEqual({ from: "09:00", to: "20:00" });
    expect(packFor("US").callingHours.value).toEqual({ from: "08:00", to: "21:00" });
    expect(packFor("CN").maxDaysBefore.value).toBe(40);
    expect(packFor("US").maxDaysBefore.value).toBe(60);
    expect(packFor("CN").maxAttemptsPerDay.value).toBe(3);
    expect(packFor("UK").maxAttemptsPerDay.value).toBeNull();
    expect(packFor("CN").optOutDays.value).toBe(365);
    expect(packFor("US").optOutDays.value).toBe(5 * 365);
    expect(packFor("EU").optOutDays.value).toBeNull();
    expect(packFor("US").honourWithinBusinessDays.value).toBe(10);
    expect(packFor("CN").honourWithinBusinessDays.value).toBe(0);
  });

  it("name a source beside every figure", () => {
    for (const pack of Object.values(POLICY_PACKS)) {
      for (const [key, rule] of Object.entries(pack)) {
        if (typeof rule === "object" && rule !== null && "value" in rule) {
          expect(rule.source, `${pack.code}.${key}`).toMatch(/\S{3,}/);
        }
      }
      expect(pack.consentRetentionYears.value).toBe(5);
      expect(pack.optOutBasis.length).toBeGreaterThan(10);
    }
  });

  it.each([
    ["CN", "CN"],
    ["US", "US"],
    ["GB", "UK"],
    ["DE", "EU"],
    ["fr", "EU"],
    ["IE", "EU"],
    ["CH", "CN"],
    ["JP", "CN"],
    [undefined, "CN"],
  ] as const)("country %s maps to %s (fallback CN)", (cc, expected) => {
    expect(jurisdictionForCountry(cc, "CN")).toBe(expected);
  });

  it("uses the fallback given", () => {
    expect(jurisdictionForCountry("NO", "UK")).toBe("UK");
  });
});
