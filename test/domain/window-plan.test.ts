import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ContactWindow } from "../../src/domain/model.js";
import { packFor } from "../../src/domain/policy-packs.js";
import { addDays, localDateOf, localTimeOf, zonedDateTimeToUtc } from "../../src/domain/time.js";
import { hasOpened, planWindowTimes, windowStatus } from "../../src/domain/window-plan.js";

const CN = packFor("CN");

describe("planWindowTimes", () => {
  it("opens at local midnight daysBefore the renewal date and closes at its end", () => {
    const t = planWindowTimes({
      renewalDate: "2026-07-31",
      daysBefore: 30,
      timezone: "Asia/Shanghai",
      consentAt: new Date("2026-05-01T00:00:00Z"),
      pack: CN,
    });
    expect(t).toEqual({ opensAt: "2026-06-30T16:00:00.000Z", closesAt: "2026-07-31T16:00:00.000Z" });
  });

  it("never opens earlier than the pack allows (CN 40 days)", () => {
    const t = planWindowTimes({
      renewalDate: "2026-07-31",
      daysBefore: 90,
      timezone: "Asia/Shanghai",
      consentAt: new Date("2026-01-01T00:00:00Z"),
      pack: CN,
    });
    expect(localDateOf(new Date(t.opensAt), "Asia/Shanghai")).toBe("2026-06-21");
  });

  it("never opens before consent", () => {
    const consentAt = new Date("2026-07-20T03:17:00Z");
    const t = planWindowTimes({
      renewalDate: "2026-07-31",
      daysBefore: 30,
      timezone: "Asia/Shanghai",
      consentAt,
      pack: CN,
    });
    expect(t.opensAt).toBe(consentAt.toISOString());
  });

  it("uses the owner's zone across a DST change (New York, US pack)", () => {
    const t = planWindowTimes({
      renewalDate: "2026-03-10",
      daysBefore: 5,
      timezone: "America/New_York",
      consentAt: new Date("2026-01-01T00:00:00Z"),
      pack: packFor("US"),
    });
    expect(t.opensAt).toBe("2026-03-05T05:00:00.000Z");
    expect(t.closesAt).toBe("2026-03-11T04:00:00.000Z");
  });

  it("yields an empty, not inverted, window when consent comes after the close", () => {
    const t = planWindowTimes({
      renewalDate: "2026-07-31",
      daysBefore: 3,
      timezone: "Asia/Shanghai",
      consentAt: new Date("2026-08-05T00:00:00Z"),
      pack: CN,
    });
    expect(t.opensAt).toBe(t.closesAt);
  });

  it("property: opens no earlier than consent or the pack limit, closes at local midnight after renewal", () => {
    const zones = ["Asia/Shanghai", "America/New_York", "Europe/London", "America/Los_Angeles"];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 800 }),
        fc.integer({ min: -5, max: 120 }),
        fc.integer({ min: 0, max: 400 * 86_400 }),
        fc.constantFrom(...zones),
        fc.constantFrom("CN", "US", "UK", "EU" as const),
        (dayOffset, daysBefore, consentOffsetS, tz, code) => {
          const pack = packFor(code);
          const renewalDate = addDays("2026-01-01", dayOffset);
          const consentAt = new Date(Date.UTC(2025, 11, 1) + consentOffsetS * 1000);
          const t = planWindowTimes({ renewalDate, daysBefore, timezone: tz, consentAt, pack });
          const opens = Date.parse(t.opensAt);
          const closes = Date.parse(t.closesAt);
          const limit = zonedDateTimeToUtc(addDays(renewalDate, -pack.maxDaysBefore.value), "00:00", tz);
          expect(opens).toBeGreaterThanOrEqual(Math.min(consentAt.getTime(), closes));
          expect(opens).toBeGreaterThanOrEqual(limit.getTime());
          expect(opens).toBeLessThanOrEqual(closes);
          expect(localDateOf(new Date(closes), tz)).toBe(addDays(renewalDate, 1));
          expect(localTimeOf(new Date(closes), tz)).toBe("00:00");
        },
      ),
    );
  });
});

describe("windowStatus", () => {
  const base: ContactWindow = {
    id: "w",
    ownerId: "o",
    insurerId: "i",
    receiptId: "r",
    consentId: "c",
    renewalDate: "2026-07-31",
    opensAt: "2026-07-01T00:00:00.000Z",
    closesAt: "2026-08-01T00:00:00.000Z",
    timezone: "UTC",
    days: ["mon"],
    hours: [{ from: "09:00", to: "20:00" }],
    channels: ["call"],
    maxAttempts: 3,
    attemptsUsed: 0,
    verificationCode: "123456",
    stopToken: "t",
    createdAt: "2026-06-01T00:00:00.000Z",
  };
  it.each([
    ["scheduled before it opens", {}, "2026-06-30T23:59:59Z", "scheduled"],
    ["open from opensAt", {}, "2026-07-01T00:00:00Z", "open"],
    ["closed at closesAt", {}, "2026-08-01T00:00:00Z", "closed"],
    ["closed early", { closedAt: "2026-07-10T00:00:00Z" }, "2026-07-05T00:00:00Z", "closed"],
    [
      "revoked over everything",
      { revokedAt: "2026-07-02T00:00:00Z", attemptsUsed: 3 },
      "2026-07-05T00:00:00Z",
      "revoked",
    ],
    ["exhausted at the cap", { attemptsUsed: 3 }, "2026-07-05T00:00:00Z", "exhausted"],
    ["closed beats exhausted", { attemptsUsed: 3 }, "2026-08-05T00:00:00Z", "closed"],
  ] as const)("%s", (_name, patch, now, expected) => {
    expect(windowStatus({ ...base, ...patch }, new Date(now))).toBe(expected);
  });
});

describe("hasOpened", () => {
  const base = {
    opensAt: "2026-07-01T00:00:00.000Z",
    closesAt: "2026-08-01T00:00:00.000Z",
  };
  it.each([
    ["not before opensAt", {}, "2026-06-30T23:59:59.999Z", false],
    ["from opensAt", {}, "2026-07-01T00:00:00.000Z", true],
    ["still after it closed by time", {}, "2026-09-01T00:00:00.000Z", true],
    ["revoked after opening", { revokedAt: "2026-07-01T00:00:00.001Z" }, "2026-07-05T00:00:00.000Z", true],
    ["closed after opening", { closedAt: "2026-07-02T00:00:00.000Z" }, "2026-07-05T00:00:00.000Z", true],
    [
      "never, once revoked before opening",
      { revokedAt: "2026-06-20T00:00:00.000Z" },
      "2026-07-05T00:00:00.000Z",
      false,
    ],
    [
      "never, once revoked at the opening instant",
      { revokedAt: "2026-07-01T00:00:00.000Z" },
      "2026-07-05T00:00:00.000Z",
      false,
    ],
    [
      "never, once closed before opening",
      { closedAt: "2026-06-20T00:00:00.000Z" },
      "2026-07-05T00:00:00.000Z",
      false,
    ],
    [
      "never, once closed at the opening instant",
      { closedAt: "2026-07-01T00:00:00.000Z" },
      "2026-07-05T00:00:00.000Z",
      false,
    ],
    [
      "never, when empty (opensAt = closesAt)",
      { closesAt: "2026-07-01T00:00:00.000Z" },
      "2026-09-01T00:00:00.000Z",
      false,
    ],
    ["never, when inverted", { closesAt: "2026-06-01T00:00:00.000Z" }, "2026-09-01T00:00:00.000Z", false],
    ["never, when a time does not parse", { revokedAt: "yesterday" }, "2026-07-05T00:00:00.000Z", false],
  ] as const)("%s", (_name, patch, now, expected) => {
    expect(hasOpened({ ...base, ...patch }, new Date(now))).toBe(expected);
  });

  it("holds for every open or exhausted window, and for none that is scheduled", () => {
    const instant = fc.integer({ min: Date.parse("2026-01-01"), max: Date.parse("2027-01-01") });
    fc.assert(
      fc.property(
        instant,
        instant,
        instant,
        fc.option(instant, { nil: undefined }),
        fc.option(instant, { nil: undefined }),
        (opens, closes, now, revoked, closed) => {
          const iso = (ms: number) => new Date(ms).toISOString();
          const w = {
            opensAt: iso(opens),
            closesAt: iso(closes),
            ...(revoked === undefined ? {} : { revokedAt: iso(revoked) }),
            ...(closed === undefined ? {} : { closedAt: iso(closed) }),
            attemptsUsed: 0,
            maxAttempts: 3,
          };
          const status = windowStatus(w, new Date(now));
          if (status === "open" || status === "exhausted") expect(hasOpened(w, new Date(now))).toBe(true);
          if (status === "scheduled" || now < opens) expect(hasOpened(w, new Date(now))).toBe(false);
        },
      ),
    );
  });
});
