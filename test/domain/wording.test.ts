import { describe, expect, it } from "vitest";
import { insurerName, insurerNames } from "../../src/domain/insurer-name.js";
import { zoneCityZh } from "../../src/domain/places.js";
import { durationText, listOf, zoneName } from "../../src/domain/wording.js";

describe("wording", () => {
  it("joins lists as each language does", () => {
    expect(listOf(["call"], "en")).toBe("call");
    expect(listOf(["call", "SMS"], "en")).toBe("call and SMS");
    expect(listOf(["call", "SMS", "Telegram"], "en")).toBe("call, SMS, and Telegram");
    expect(listOf(["电话", "短信"], "zh")).toBe("电话和短信");
    expect(listOf(["电话", "短信", "Telegram"], "zh")).toBe("电话、短信和Telegram");
  });

  it("gives periods in words", () => {
    expect(durationText(1825, "en")).toBe("5 years");
    expect(durationText(365, "en")).toBe("1 year");
    expect(durationText(1, "en")).toBe("1 day");
    expect(durationText(1000, "en")).toBe("1,000 days");
    expect(durationText(1825, "zh")).toBe("5年");
    expect(durationText(30, "zh")).toBe("30天");
  });

  it("names zones, never by IANA id, and in Chinese by a Chinese city where one is known", () => {
    expect(zoneName("Asia/Shanghai", "en")).toBe("China Standard Time");
    expect(zoneName("America/Los_Angeles", "en")).toBe("Pacific Time");
    expect(zoneName("Asia/Shanghai", "zh")).toBe("中国标准时间");
    expect(zoneName("America/Los_Angeles", "zh")).toBe("北美太平洋时间");
    expect(zoneCityZh("America/Los_Angeles")).toBe("洛杉矶");
    expect(zoneCityZh("Asia/Shanghai")).toBe("北京");
    expect(zoneCityZh("Africa/Lagos")).toBeUndefined();
  });

  it("names a zone the same every time it is asked (names are kept), and refuses an unknown zone every time", () => {
    const zones = Intl.supportedValuesOf("timeZone");
    const first = zones.flatMap((z) => [zoneName(z, "en"), zoneName(z, "zh")]);
    const again = zones.flatMap((z) => [zoneName(z, "en"), zoneName(z, "zh")]);
    expect(again).toEqual(first);
    expect(first.some((name) => zones.includes(name))).toBe(false);
    expect(() => zoneName("Mars/Olympus", "en")).toThrow(RangeError);
    expect(() => zoneName("Mars/Olympus", "en")).toThrow(RangeError);
  });

  it("uses the Chinese name in Chinese and keeps every name typeable", () => {
    const insurer = { name: "Ping An", nameZh: "中国平安", aliases: ["平安"] };
    expect(insurerName(insurer, "zh")).toBe("中国平安");
    expect(insurerName(insurer, "en")).toBe("Ping An");
    expect(insurerName({ name: "Allianz" }, "zh")).toBe("Allianz");
    expect(insurerNames(insurer)).toEqual(["Ping An", "中国平安", "平安"]);
  });
});
