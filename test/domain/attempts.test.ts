import { describe, expect, it } from "vitest";
import { type AttemptInput, checkAttempt, withinHours } from "../../src/domain/attempts.js";
import type { AttemptRecord, ContactWindow } from "../../src/domain/model.js";
import { packFor } from "../../src/domain/policy-packs.js";

const CN = packFor("CN");
const US = packFor("US");

/** Wed 2026-07-01 .. Fri 2026-07-31 in Shanghai, weekdays 18:00–20:00, call or SMS, 5 attempts. */
function aWindow(overrides: Partial<ContactWindow> = {}): ContactWindow {
  return {
    id: "w1",
    ownerId: "o1",
    insurerId: "pingan",
    receiptId: "r1",
    consentId: "c1",
    renewalDate: "2026-07-31",
    opensAt: "2026-06-30T16:00:00.000Z",
    closesAt: "2026-07-31T16:00:00.000Z",
    timezone: "Asia/Shanghai",
    days: ["mon", "tue", "wed", "thu", "fri"],
    hours: [{ from: "18:00", to: "20:00" }],
    channels: ["call", "sms"],
    maxAttempts: 5,
    attemptsUsed: 0,
    verificationCode: "123456",
    stopToken: "tok",
    createdAt: "2026-06-01T00:00:00.000Z",
    ...overrides,
  };
}

/** 18:30 Shanghai on Wednesday 2026-07-01. */
const WED_1830 = "2026-07-01T10:30:00.000Z";

function attempt(overrides: Partial<AttemptInput> = {}): AttemptInput {
  return { channel: "call", outcome: "unanswered", at: new Date(WED_1830), ...overrides };
}

function prior(at: string, outcome: AttemptRecord["outcome"] = "unanswered") {
  return { at, outcome };
}

const NOW = new Date("2026-07-01T11:00:00.000Z");

describe("checkAttempt", () => {
  const cases: {
    name: string;
    window?: Partial<ContactWindow>;
    prior?: { at: string; outcome: AttemptRecord["outcome"] }[];
    attempt?: Partial<AttemptInput>;
    now?: Date;
    pack?: typeof CN;
    expected: ReturnType<typeof checkAttempt>;
  }[] = [
    { name: "an attempt inside everything", expected: { ok: true, remaining: 4 } },
    {
      name: "answered counts the same",
      attempt: { outcome: "answered" },
      expected: { ok: true, remaining: 4 },
    },
    { name: "refused leaves nothing", attempt: { outcome: "refused" }, expected: { ok: true, remaining: 0 } },
    {
      name: "revoked wins over everything",
      window: { revokedAt: "2026-07-01T01:00:00.000Z", closedAt: "2026-07-01T01:00:00.000Z" },
      attempt: { channel: "email", at: new Date("2026-07-04T02:00:00.000Z") },
      expected: { ok: false, code: "revoked" },
    },
    {
      name: "closed early (renewed)",
      window: { closedAt: "2026-07-01T01:00:00.000Z" },
      expected: { ok: false, code: "window_closed" },
    },
    {
      name: "closed by time at now",
      now: new Date("2026-07-31T16:00:00.000Z"),
      expected: { ok: false, code: "window_closed" },
    },
    {
      name: "at before the window opened",
      attempt: { at: new Date("2026-06-30T10:30:00.000Z") },
      expected: { ok: false, code: "window_closed" },
    },
    {
      name: "window_closed comes before channel",
      window: { closedAt: "2026-07-01T01:00:00.000Z" },
      attempt: { channel: "email" },
      expected: { ok: false, code: "window_closed" },
    },
    {
      name: "channel not allowed",
      attempt: { channel: "telegram" },
      expected: { ok: false, code: "channel_not_allowed" },
    },
    {
      name: "channel comes before hours",
      attempt: { channel: "email", at: new Date("2026-07-01T02:00:00.000Z") },
      expected: { ok: false, code: "channel_not_allowed" },
    },
    {
      name: "before the hour range (17:59 local)",
      attempt: { at: new Date("2026-07-01T09:59:00.000Z") },
      expected: { ok: false, code: "outside_hours" },
    },
    {
      name: "at the end of the range is outside (20:00 local)",
      attempt: { at: new Date("2026-07-01T12:00:00.000Z") },
      expected: { ok: false, code: "outside_hours" },
    },
    {
      name: "start of the range is inside (18:00 local)",
      attempt: { at: new Date("2026-07-01T10:00:00.000Z") },
      expected: { ok: true, remaining: 4 },
    },
    {
      name: "Saturday in Shanghai, though still Friday in UTC",
      // 2026-07-03T16:30Z is Sat 00:30 in Shanghai; widen hours to the whole day.
      window: { hours: [{ from: "00:00", to: "24:00" }] },
      attempt: { at: new Date("2026-07-03T16:30:00.000Z") },
      now: new Date("2026-07-03T17:00:00.000Z"),
      expected: { ok: false, code: "outside_hours" },
    },
    {
      name: "hours come before exhaustion",
      window: { attemptsUsed: 5 },
      attempt: { at: new Date("2026-07-01T02:00:00.000Z") },
      expected: { ok: false, code: "outside_hours" },
    },
    {
      name: "total cap used up (counter)",
      window: { attemptsUsed: 5 },
      expected: { ok: false, code: "attempts_exhausted" },
    },
    {
      name: "total cap used up (records)",
      window: { maxAttempts: 2 },
      prior: [prior("2026-06-30T10:30:00.000Z"), prior("2026-06-30T11:00:00.000Z")],
      expected: { ok: false, code: "attempts_exhausted" },
    },
    {
      name: "the last attempt leaves 0",
      window: { maxAttempts: 2, attemptsUsed: 1 },
      prior: [prior("2026-06-30T10:30:00.000Z")],
      expected: { ok: true, remaining: 0 },
    },
    {
      name: "CN: a fourth attempt the same local day",
      window: { maxAttempts: 10 },
      prior: [
        prior("2026-07-01T10:00:00.000Z", "answered"),
        prior("2026-07-01T10:10:00.000Z", "answered"),
        prior("2026-07-01T10:20:00.000Z", "answered"),
      ],
      expected: { ok: false, code: "attempts_exhausted" },
    },
    {
      name: "CN: three unanswered stop the day",
      window: { maxAttempts: 10 },
      prior: [
        prior("2026-07-01T10:00:00.000Z"),
        prior("2026-07-01T10:10:00.000Z"),
        prior("2026-07-01T10:20:00.000Z"),
      ],
      attempt: { outcome: "answered" },
      expected: { ok: false, code: "attempts_exhausted" },
    },
    {
      name: "CN: the next local day starts afresh",
      window: { maxAttempts: 10 },
      prior: [
        prior("2026-06-30T10:00:00.000Z"),
        prior("2026-06-30T10:10:00.000Z"),
        prior("2026-06-30T10:20:00.000Z"),
      ],
      expected: { ok: true, remaining: 6 },
    },
    {
      name: "CN: the day is the window's local day, not UTC's",
      // 2026-06-30T16:30Z is Wed 00:30 in Shanghai: the same local day as WED_1830.
      window: { maxAttempts: 10, hours: [{ from: "00:00", to: "24:00" }] },
      prior: [
        prior("2026-06-30T16:30:00.000Z"),
        prior("2026-06-30T16:40:00.000Z"),
        prior("2026-06-30T16:50:00.000Z"),
      ],
      expected: { ok: false, code: "attempts_exhausted" },
    },
    {
      name: "US: no per-day cap, only the owner's total",
      window: { maxAttempts: 10 },
      prior: [
        prior("2026-07-01T10:00:00.000Z"),
        prior("2026-07-01T10:10:00.000Z"),
        prior("2026-07-01T10:20:00.000Z"),
      ],
      pack: US,
      expected: { ok: true, remaining: 6 },
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const result = checkAttempt(
        aWindow(c.window),
        c.prior ?? [],
        attempt(c.attempt),
        c.now ?? NOW,
        c.pack ?? CN,
      );
      expect(result).toEqual(c.expected);
    });
  }
});

describe("withinHours", () => {
  it("accepts any of several ranges", () => {
    const w = aWindow({
      hours: [
        { from: "09:00", to: "10:00" },
        { from: "18:00", to: "20:00" },
      ],
    });
    expect(withinHours(w, new Date("2026-07-01T01:30:00.000Z"))).toBe(true); // 09:30
    expect(withinHours(w, new Date("2026-07-01T03:30:00.000Z"))).toBe(false); // 11:30
    expect(withinHours(w, new Date(WED_1830))).toBe(true);
  });

  it("reads the window's timezone, not the host's", () => {
    const ny = aWindow({ timezone: "America/New_York" });
    // 18:30 in New York on Wed 2026-07-01 (EDT, UTC-4) is 22:30Z.
    expect(withinHours(ny, new Date("2026-07-01T22:30:00.000Z"))).toBe(true);
    expect(withinHours(ny, new Date(WED_1830))).toBe(false);
  });
});
