import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyPatch, type DraftContext, missingFields, toPreferences } from "../../src/domain/draft.js";
import { packFor } from "../../src/domain/policy-packs.js";
import type { Draft } from "../../src/domain/preferences.js";

const ctx: DraftContext = {
  today: "2026-06-15",
  pack: packFor("CN"),
  directory: [
    { id: "pingan", name: "Ping An", aliases: ["平安"] },
    { id: "picc", name: "PICC", aliases: ["人保"] },
  ],
};

describe("applyPatch: renewal date", () => {
  it("accepts today and up to 13 months ahead", () => {
    expect(applyPatch({}, { renewalDate: "2026-06-15" }, ctx).draft.renewalDate).toBe("2026-06-15");
    expect(applyPatch({}, { renewalDate: "2027-07-15" }, ctx).draft.renewalDate).toBe("2027-07-15");
  });
  it("refuses a past date and asks again: a policy that expired is not the one to plan for", () => {
    const r = applyPatch({ renewalDate: "2026-07-31" }, { renewalDate: "2026-06-14" }, ctx);
    expect(r.draft.renewalDate).toBeUndefined();
    expect(r.notes).toEqual([{ kind: "date_past", date: "2026-06-14" }]);
    expect(missingFields(r.draft)[0]).toBe("renewalDate");
    expect(applyPatch({}, { renewalDate: "2025-01-01" }, ctx).draft.renewalDate).toBeUndefined();
  });
  it("refuses a date more than 13 months ahead", () => {
    const r = applyPatch({}, { renewalDate: "2027-07-16" }, ctx);
    expect(r.draft.renewalDate).toBeUndefined();
    expect(r.notes).toEqual([{ kind: "date_too_far", date: "2027-07-16", latest: "2027-07-15" }]);
  });
});

describe("applyPatch: channels and negations", () => {
  it("a negation removes only what it names from the channels chosen", () => {
    const r = applyPatch({ channels: ["call", "sms", "email"] }, { withoutChannels: ["call"] }, ctx);
    expect(r.draft.channels).toEqual(["sms", "email"]);
    expect(r.notes).toEqual([]);
  });
  it("a negation that leaves nothing clears the choice and says so", () => {
    const r = applyPatch({ channels: ["call"] }, { withoutChannels: ["call"] }, ctx);
    expect(r.draft.channels).toBeUndefined();
    expect(r.draft.refusedChannels).toEqual(["call"]);
    expect(r.notes).toEqual([{ kind: "channels_none_left", refused: ["call"] }]);
    expect(missingFields({ ...r.draft, renewalDate: "2026-07-31", insurers: ["pingan"] })[0]).toBe(
      "channels",
    );
  });
  it("before any choice, a negation is remembered and adds no channel", () => {
    const r = applyPatch({}, { withoutChannels: ["email"] }, ctx);
    expect(r.draft.channels).toBeUndefined();
    expect(r.draft.refusedChannels).toEqual(["email"]);
    expect(applyPatch(r.draft, { withoutChannels: ["call"] }, ctx).draft.refusedChannels).toEqual([
      "call",
      "email",
    ]);
  });
  it("named channels less the refused ones replace the choice", () => {
    const r = applyPatch(
      { channels: ["call"] },
      { channels: ["sms", "call"], withoutChannels: ["call"] },
      ctx,
    );
    expect(r.draft.channels).toEqual(["sms"]);
  });
  it("a choice of nobody carries no channels", () => {
    const r = applyPatch({ channels: ["sms"] }, { nobody: true, channels: ["call"] }, ctx);
    expect(r.draft).toMatchObject({ nobody: true, insurers: [] });
    expect(r.draft.channels).toBeUndefined();
  });
});

describe("applyPatch: insurers", () => {
  it("drops ids not in the directory with a note, and resolves names and aliases", () => {
    const r = applyPatch({}, { insurers: ["pingan", "acme", "人保", "pingan"] }, ctx);
    expect(r.draft.insurers).toEqual(["pingan", "picc"]);
    expect(r.notes).toEqual([{ kind: "insurer_unknown", insurer: "acme" }]);
  });
  it("nobody clears insurers, and choosing insurers clears nobody", () => {
    const a = applyPatch({ insurers: ["pingan"] }, { nobody: true }, ctx).draft;
    expect(a).toMatchObject({ insurers: [], nobody: true });
    const b = applyPatch(a, { insurers: ["picc"] }, ctx).draft;
    expect(b).toMatchObject({ insurers: ["picc"], nobody: false });
  });
  it("keeps the earlier choice when every named insurer is unknown", () => {
    const r = applyPatch({ insurers: ["picc"] }, { insurers: ["acme"] }, ctx);
    expect(r.draft.insurers).toEqual(["picc"]);
  });
});

describe("applyPatch: hours, days, channels", () => {
  it("fills open ends from the pack's calling hours", () => {
    const r = applyPatch({}, { hours: [{ from: "18:00" }] }, ctx);
    expect(r.draft.hours).toEqual([{ from: "18:00", to: "20:00" }]);
    expect(r.notes).toEqual([]);
  });
  it("clips hours to the pack with a note", () => {
    const r = applyPatch({}, { hours: [{ from: "07:00", to: "10:00" }] }, ctx);
    expect(r.draft.hours).toEqual([{ from: "09:00", to: "10:00" }]);
    expect(r.notes).toEqual([
      { kind: "hours_clipped", from: "07:00", to: "10:00", allowed: { from: "09:00", to: "20:00" } },
    ]);
  });
  it("drops a range entirely outside the calling hours", () => {
    const r = applyPatch({ hours: [{ from: "12:00", to: "13:00" }] }, { hours: [{ from: "21:00" }] }, ctx);
    expect(r.draft.hours).toEqual([{ from: "12:00", to: "13:00" }]);
    expect(r.notes[0]).toMatchObject({ kind: "hours_outside", from: "21:00" });
  });
  it("splits a range over midnight and merges overlaps", () => {
    const r = applyPatch(
      {},
      {
        hours: [
          { from: "19:00", to: "10:00" },
          { from: "09:30", to: "11:00" },
        ],
      },
      ctx,
    );
    expect(r.draft.hours).toEqual([
      { from: "09:00", to: "11:00" },
      { from: "19:00", to: "20:00" },
    ]);
  });
  it("US pack allows 08:00–21:00", () => {
    const r = applyPatch({}, { hours: [{ from: "08:00", to: "21:00" }] }, { ...ctx, pack: packFor("US") });
    expect(r.draft.hours).toEqual([{ from: "08:00", to: "21:00" }]);
    expect(r.notes).toEqual([]);
  });
  it("removes duplicate days and channels and keeps canonical order", () => {
    const r = applyPatch({}, { days: ["fri", "mon", "fri"], channels: ["sms", "call", "sms"] }, ctx);
    expect(r.draft.days).toEqual(["mon", "fri"]);
    expect(r.draft.channels).toEqual(["call", "sms"]);
  });
  it("property: every kept hour range lies within the pack and is non-empty", () => {
    const time = fc
      .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
      .map(([h, m]) => `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`);
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ from: fc.option(time, { nil: undefined }), to: fc.option(time, { nil: undefined }) }),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        fc.constantFrom("CN", "US", "UK" as const),
        (ranges, code) => {
          const pack = packFor(code);
          const hours = ranges.map((r) => ({
            ...(r.from === undefined ? {} : { from: r.from }),
            ...(r.to === undefined ? {} : { to: r.to }),
          }));
          const out = applyPatch({}, { hours }, { ...ctx, pack }).draft.hours ?? [];
          for (const h of out) {
            expect(h.from < h.to).toBe(true);
            expect(h.from >= pack.callingHours.value.from).toBe(true);
            expect(h.to <= pack.callingHours.value.to).toBe(true);
          }
        },
      ),
    );
  });
});

describe("applyPatch: daysBefore and maxAttempts", () => {
  it("clips daysBefore to the pack max with a note", () => {
    const r = applyPatch({}, { daysBefore: 90 }, ctx);
    expect(r.draft.daysBefore).toBe(40);
    expect(r.notes).toEqual([{ kind: "days_before_clipped", value: 90, max: 40 }]);
  });
  it("refuses negative daysBefore", () => {
    const r = applyPatch({ daysBefore: 10 }, { daysBefore: -3 }, ctx);
    expect(r.draft.daysBefore).toBe(10);
    expect(r.notes).toEqual([{ kind: "days_before_negative", value: -3 }]);
  });
  it("caps maxAttempts at the pack's total cap", () => {
    const r = applyPatch({}, { maxAttempts: 50 }, ctx);
    expect(r.draft.maxAttempts).toBe(10);
    expect(r.notes).toEqual([{ kind: "attempts_clipped", value: 50, max: 10 }]);
    expect(applyPatch({}, { maxAttempts: 2 }, ctx).draft.maxAttempts).toBe(2);
  });
  it("does not change the input draft", () => {
    const draft: Draft = { daysBefore: 5 };
    applyPatch(draft, { daysBefore: 7 }, ctx);
    expect(draft).toEqual({ daysBefore: 5 });
  });
});

describe("missingFields and toPreferences", () => {
  const full: Draft = {
    renewalDate: "2026-07-31",
    insurers: ["pingan"],
    channels: ["call"],
    days: ["mon"],
    hours: [{ from: "18:00", to: "20:00" }],
    daysBefore: 10,
    maxAttempts: 3,
  };
  it("lists what is missing in question order", () => {
    expect(missingFields({})).toEqual([
      "renewalDate",
      "insurers",
      "channels",
      "days",
      "hours",
      "daysBefore",
      "maxAttempts",
    ]);
    expect(missingFields({ ...full, insurers: [], hours: undefined })).toEqual(["insurers", "hours"]);
    expect(missingFields(full)).toEqual([]);
  });
  it("with nobody only the renewal date is needed", () => {
    expect(missingFields({ nobody: true })).toEqual(["renewalDate"]);
    const p = toPreferences({ nobody: true, renewalDate: "2026-07-31" }, packFor("US"));
    expect(p).toMatchObject({
      renewalDate: "2026-07-31",
      insurers: [],
      hours: [{ from: "08:00", to: "21:00" }],
    });
  });
  it("builds preferences only when complete", () => {
    expect(toPreferences({ ...full, maxAttempts: undefined })).toBeUndefined();
    expect(toPreferences(full)).toEqual(full);
  });
});
