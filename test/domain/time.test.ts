import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  addBusinessDays,
  addDays,
  addMonths,
  localDateOf,
  localTimeOf,
  weekdayOf,
  zonedDateTimeToUtc,
} from "../../src/domain/time.js";

const iso = (d: Date) => d.toISOString();

describe("zonedDateTimeToUtc", () => {
  it.each([
    ["2026-07-31", "24:00", "Asia/Shanghai", "2026-07-31T16:00:00.000Z"],
    ["2026-07-31", "00:00", "Asia/Shanghai", "2026-07-30T16:00:00.000Z"],
    // New York, spring forward on 2026-03-08 at 02:00
    ["2026-03-08", "00:00", "America/New_York", "2026-03-08T05:00:00.000Z"],
    ["2026-03-08", "24:00", "America/New_York", "2026-03-09T04:00:00.000Z"],
    ["2026-03-08", "02:30", "America/New_York", "2026-03-08T07:30:00.000Z"],
    // New York, fall back on 2026-11-01 at 02:00: 01:30 happens twice, take the first
    ["2026-11-01", "01:30", "America/New_York", "2026-11-01T05:30:00.000Z"],
    ["2026-11-01", "24:00", "America/New_York", "2026-11-02T05:00:00.000Z"],
    // London, spring forward on 2026-03-29 at 01:00; fall back on 2026-10-25 at 02:00
    ["2026-03-29", "00:00", "Europe/London", "2026-03-29T00:00:00.000Z"],
    ["2026-03-29", "01:30", "Europe/London", "2026-03-29T01:30:00.000Z"],
    ["2026-03-29", "24:00", "Europe/London", "2026-03-29T23:00:00.000Z"],
    ["2026-10-25", "00:00", "Europe/London", "2026-10-24T23:00:00.000Z"],
    ["2026-10-25", "24:00", "Europe/London", "2026-10-26T00:00:00.000Z"],
  ])("%s %s in %s is %s", (date, time, tz, expected) => {
    expect(iso(zonedDateTimeToUtc(date, time, tz))).toBe(expected);
  });

  it("makes DST days 23 and 25 hours long", () => {
    const hours = (date: string, tz: string) =>
      (zonedDateTimeToUtc(date, "24:00", tz).getTime() - zonedDateTimeToUtc(date, "00:00", tz).getTime()) /
      3.6e6;
    expect(hours("2026-03-08", "America/New_York")).toBe(23);
    expect(hours("2026-11-01", "America/New_York")).toBe(25);
    expect(hours("2026-03-29", "Europe/London")).toBe(23);
    expect(hours("2026-10-25", "Europe/London")).toBe(25);
    expect(hours("2026-07-01", "Asia/Shanghai")).toBe(24);
  });

  it("rejects malformed input", () => {
    expect(() => zonedDateTimeToUtc("2026-7-1", "00:00", "UTC")).toThrow(RangeError);
    expect(() => zonedDateTimeToUtc("2026-07-01", "24:30", "UTC")).toThrow(RangeError);
  });

  it("round-trips local midnight and noon through localDateOf/localTimeOf in any of several zones", () => {
    const zones = ["America/New_York", "Europe/London", "Asia/Shanghai", "Australia/Sydney", "Asia/Kolkata"];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3650 }),
        fc.constantFrom(...zones),
        fc.constantFrom("00:00", "12:00", "23:59"),
        (offset, tz, time) => {
          const date = addDays("2024-01-01", offset);
          const instant = zonedDateTimeToUtc(date, time, tz);
          expect(localDateOf(instant, tz)).toBe(date);
          expect(localTimeOf(instant, tz)).toBe(time);
        },
      ),
    );
  });
});

describe("calendar helpers", () => {
  it.each([
    ["2026-01-31", 1, "2026-02-01"],
    ["2026-12-31", 1, "2027-01-01"],
    ["2028-02-28", 1, "2028-02-29"],
    ["2026-03-01", -1, "2026-02-28"],
    ["2026-07-31", -40, "2026-06-21"],
  ])("addDays(%s, %i) = %s", (date, n, expected) => {
    expect(addDays(date, n)).toBe(expected);
  });

  it("addMonths clamps to the month's last day", () => {
    expect(addMonths("2026-01-31", 1)).toBe("2026-02-28");
    expect(addMonths("2026-06-15", 13)).toBe("2027-07-15");
    expect(addMonths("2027-01-31", 13)).toBe("2028-02-29");
  });

  it("weekdayOf knows the days of the week", () => {
    expect(weekdayOf("2026-07-31")).toBe("fri");
    expect(weekdayOf("2026-08-02")).toBe("sun");
    expect(weekdayOf("2026-08-03")).toBe("mon");
  });

  it("localDateOf gives the owner's date, not UTC's", () => {
    const instant = new Date("2026-07-31T17:00:00Z");
    expect(localDateOf(instant, "Asia/Shanghai")).toBe("2026-08-01");
    expect(localDateOf(instant, "America/New_York")).toBe("2026-07-31");
    expect(localTimeOf(instant, "Asia/Shanghai")).toBe("01:00");
  });
});

describe("addBusinessDays", () => {
  it("skips weekends and keeps the local time", () => {
    // Friday 2026-07-31 15:00 in New York
    const fri = zonedDateTimeToUtc("2026-07-31", "15:00", "America/New_York");
    expect(localDateOf(addBusinessDays(fri, 1, "America/New_York"), "America/New_York")).toBe("2026-08-03");
    const tenth = addBusinessDays(fri, 10, "America/New_York");
    expect(localDateOf(tenth, "America/New_York")).toBe("2026-08-14");
    expect(localTimeOf(tenth, "America/New_York")).toBe("15:00");
  });

  it("keeps the local time across a DST change", () => {
    const start = zonedDateTimeToUtc("2026-10-28", "09:15", "America/New_York");
    const due = addBusinessDays(start, 10, "America/New_York");
    expect(localDateOf(due, "America/New_York")).toBe("2026-11-11");
    expect(localTimeOf(due, "America/New_York")).toBe("09:15");
  });

  it("returns the same instant for 0", () => {
    const t = new Date("2026-07-31T15:00:00.123Z");
    expect(addBusinessDays(t, 0, "Asia/Shanghai").getTime()).toBe(t.getTime());
  });

  it("counts from Monday when starting on a weekend", () => {
    const sat = zonedDateTimeToUtc("2026-08-01", "10:00", "Europe/London");
    expect(localDateOf(addBusinessDays(sat, 1, "Europe/London"), "Europe/London")).toBe("2026-08-03");
  });
});
