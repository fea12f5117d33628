import { describe, expect, it } from "vitest";
import { maskPhone, normalisePhone, timezonesForCountry } from "../../src/domain/phone.js";

describe("normalisePhone", () => {
  it.each([
    ["138 1234 5678", "CN", "+8613812345678", "CN"],
    ["+86 138-1234-5678", undefined, "+8613812345678", "CN"],
    ["+1 (202) 555-0123", undefined, "+12025550123", "US"],
    ["020 7946 0958", "GB", "+442079460958", "GB"],
    ["+49 30 901820", undefined, "+4930901820", "DE"],
  ])("%s (default %s) is %s", (input, cc, e164, country) => {
    expect(normalisePhone(input, cc)).toEqual({ e164, country });
  });

  it.each([["12345"], ["not a number"], ["+86 123"], [""]])("refuses %j", (input) => {
    expect(normalisePhone(input, "CN")).toBeUndefined();
  });

  it("needs a country for a national number", () => {
    expect(normalisePhone("13812345678")).toBeUndefined();
    expect(normalisePhone("13812345678", "zz")).toBeUndefined();
  });
});

describe("timezonesForCountry", () => {
  it("settles China on its one legal zone", () => {
    expect(timezonesForCountry("CN")).toEqual(["Asia/Shanghai"]);
  });
  it("settles single-zone countries and lists several for large ones", () => {
    expect(timezonesForCountry("GB")).toEqual(["Europe/London"]);
    expect(timezonesForCountry("us")).toContain("America/New_York");
    expect(timezonesForCountry("US").length).toBeGreaterThan(1);
  });
  it("is empty for nonsense", () => {
    expect(timezonesForCountry("")).toEqual([]);
    expect(timezonesForCountry("ZZZ")).toEqual([]);
  });
});

describe("maskPhone", () => {
  it.each([
    ["+8613812345678", "+86 138****5678"],
    ["+12025550123", "+1 202***0123"],
    ["+4930901820", "+49 309*1820"],
  ])("%s shows as %s", (e164, shown) => {
    expect(maskPhone(e164)).toBe(shown);
  });
  it("never shows the whole number", () => {
    expect(maskPhone("+8613812345678")).not.toContain("13812345678");
    expect(maskPhone("garbage")).not.toContain("garbage");
  });
});
