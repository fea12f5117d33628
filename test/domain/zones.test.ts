import { describe, expect, it } from "vitest";
import { matchZone, offsetMinutes, zoneChoices, zoneCity } from "../../src/domain/zones.js";

describe("time-zone choices for a phone's country", () => {
  it("offers one zone per clock in the US, east to west, named by the well-known city", () => {
    const us = zoneChoices("US", 2026);
    expect(us.slice(0, 5)).toEqual([
      "America/New_York",
      "America/Chicago",
      "America/Denver",
      "America/Phoenix",
      "America/Los_Angeles",
    ]);
    expect(us).toContain("America/Anchorage");
    expect(us).toContain("Pacific/Honolulu");
    // 29 CLDR zones collapse to a handful of clocks; no duplicates.
    expect(us.length).toBeLessThan(10);
    expect(new Set(us).size).toBe(us.length);
  });

  it("has nothing to ask where the country has one clock", () => {
    expect(zoneChoices("CN", 2026)).toEqual(["Asia/Shanghai"]);
    expect(zoneChoices("GB", 2026)).toEqual(["Europe/London"]);
    expect(zoneChoices("ZZ", 2026)).toEqual([]);
  });

  it("tells apart zones with the same winter clock but other summer rules (Denver, Phoenix)", () => {
    expect(offsetMinutes("America/Denver", new Date("2026-01-15T12:00:00Z"))).toBe(-420);
    expect(offsetMinutes("America/Denver", new Date("2026-07-15T12:00:00Z"))).toBe(-360);
    expect(offsetMinutes("America/Phoenix", new Date("2026-07-15T12:00:00Z"))).toBe(-420);
    expect(offsetMinutes("Asia/Kolkata", new Date("2026-07-15T12:00:00Z"))).toBe(330);
    expect(offsetMinutes("UTC", new Date("2026-07-15T12:00:00Z"))).toBe(0);
  });

  it("gives each zone's offset at each instant with the zone's kept formatter, and refuses an unknown zone every time", () => {
    const winter = new Date("2026-01-15T12:00:00Z");
    const summer = new Date("2026-07-15T12:00:00Z");
    for (let round = 0; round < 2; round++) {
      expect(offsetMinutes("America/Denver", winter)).toBe(-420);
      expect(offsetMinutes("America/Denver", summer)).toBe(-360);
      expect(offsetMinutes("Europe/London", summer)).toBe(60);
      expect(offsetMinutes("Europe/London", winter)).toBe(0);
      expect(() => offsetMinutes("Mars/Olympus", winter)).toThrow(RangeError);
    }
  });

  it("reads a typed city or zone id, and only when it names exactly one choice", () => {
    const us = zoneChoices("US", 2026);
    expect(matchZone("I live in Los Angeles", us)).toBe("America/Los_Angeles");
    expect(matchZone("chicago", us)).toBe("America/Chicago");
    expect(matchZone("America/New_York", us)).toBe("America/New_York");
    expect(matchZone("Tokyo", us)).toBeUndefined();
    expect(matchZone("a", us)).toBeUndefined();
    expect(zoneCity("America/Indiana/Knox")).toBe("Knox");
  });
});
