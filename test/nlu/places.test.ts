/** Where the owner lives, from what they write: only a known place moves calling hours. */
import { describe, expect, it } from "vitest";
import { countryOfZone, findPlace, isTimeZone, readPlace } from "../../src/nlu/rules/places.js";
import { looksLikeVehicle } from "../../src/nlu/rules/vehicle.js";

describe("readPlace", () => {
  it.each([
    ["I live in Beijing", "Asia/Shanghai"],
    ["i live in beijing.", "Asia/Shanghai"],
    ["I'm in Los Angeles now", "America/Los_Angeles"],
    ["I am based in San Francisco, CA", "America/Los_Angeles"],
    ["we live in New York City", "America/New_York"],
    ["I live in the UK", "Europe/London"],
    ["my time zone is America/Chicago", "America/Chicago"],
    ["timezone: Europe/Berlin", "Europe/Berlin"],
    ["我在上海", "Asia/Shanghai"],
    ["我住在香港", "Asia/Hong_Kong"],
    ["我现在住在洛杉矶", "America/Los_Angeles"],
    ["我在上海工作", "Asia/Shanghai"],
    ["我人在伦敦", "Europe/London"],
  ])("%s → %s", (text, zone) => {
    expect(readPlace(text)?.zone).toBe(zone);
  });

  it.each([
    "I'm in a meeting",
    "I'm in love",
    "我在开会",
    "我在平安买的保险",
    "PICC called me from Shanghai",
    "expires 31 July",
    "I live in Atlantis",
  ])("%s → nothing", (text) => {
    expect(readPlace(text)).toBeUndefined();
  });
});

describe("findPlace", () => {
  it("takes a bare city, a Chinese name, a country or an IANA id; the most populous city of a name wins", () => {
    expect(findPlace("Beijing")?.zone).toBe("Asia/Shanghai");
    expect(findPlace("北京")?.zone).toBe("Asia/Shanghai");
    expect(findPlace("Japan")?.zone).toBe("Asia/Tokyo");
    expect(findPlace("London")?.zone).toBe("Europe/London");
    expect(findPlace("Los Angeles")?.zone).toBe("America/Los_Angeles");
    expect(findPlace("Asia/Kolkata")?.zone).toBe("Asia/Kolkata");
    expect(findPlace("somewhere nice")).toBeUndefined();
    expect(findPlace("Mars/Olympus_Mons")).toBeUndefined();
  });

  it("knows a zone's country and which zones are real", () => {
    expect(countryOfZone("Asia/Shanghai")).toBe("CN");
    expect(countryOfZone("America/Los_Angeles")).toBe("US");
    expect(countryOfZone("Europe/London")).toBe("GB");
    expect(isTimeZone("Asia/Tokyo")).toBe(true);
    expect(isTimeZone("Mars/Base")).toBe(false);
    expect(isTimeZone("UTC")).toBe(true);
  });

  it("a Chinese place counts only where a clause about living or working there ends it", () => {
    expect(readPlace("我在上海工作")?.zone).toBe("Asia/Shanghai");
    expect(readPlace("我在深圳市上班")?.zone).toBe("Asia/Shanghai");
    expect(readPlace("我住在香港。")?.zone).toBe("Asia/Hong_Kong");
    expect(readPlace("我在北京这边")?.zone).toBe("Asia/Shanghai");
    // An insurer's name that starts with a country, and where a car was bought.
    expect(readPlace("我在中国平安买的车险")).toBeUndefined();
    expect(readPlace("我在上海买的车")).toBeUndefined();
  });
});

describe("looksLikeVehicle", () => {
  it("takes a car, never a sentence about the owner or a question", () => {
    for (const car of [
      "Tesla Model 3",
      "my old Honda Civic",
      "沪A12345",
      "比亚迪汉",
      "我的车是比亚迪汉",
      "BMW X5 2021",
    ])
      expect(looksLikeVehicle(car), car).toBe(true);
    for (const not of [
      "I'm in a meeting",
      "we're driving now",
      "sorry, later",
      "我在开会",
      "等一下",
      "which car?",
      "你们是谁",
    ])
      expect(looksLikeVehicle(not), not).toBe(false);
  });
});
