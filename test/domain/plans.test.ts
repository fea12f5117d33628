import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { OptOut, OwnerState } from "../../src/domain/model.js";
import {
  activeOptOut,
  PlanError,
  planAgreement,
  planDeletion,
  planPhoneChange,
  planRenewed,
  planStop,
} from "../../src/domain/plans.js";
import { packFor } from "../../src/domain/policy-packs.js";
import { context, DIRECTORY, META, owner, prefs, state } from "./fixtures.js";

const NOW = "2026-06-01T02:00:00.000Z";

/** The state after applying a changeset, as the store would (enough for chaining plans). */
function apply(s: OwnerState, cs: ReturnType<typeof planStop>): OwnerState {
  const phone = cs.owner?.phone;
  const revoked = new Map(cs.revokeWindows.map((r) => [r.id, r]));
  const closed = new Map(cs.closeWindows.map((r) => [r.id, r]));
  const revokedReceipts = new Map(cs.revokeReceipts.map((r) => [r.id, r]));
  const withdrawn = new Map(cs.withdrawOptOuts.map((r) => [r.id, r]));
  return {
    owner: {
      ...s.owner,
      ...(phone
        ? { phone: phone.phone, phoneVerified: phone.phoneVerified, phoneHash: `hash-${phone.phone}` }
        : {}),
      version: s.owner.version + 1,
    },
    consent: cs.consent ?? s.consent,
    windows: [
      ...s.windows.map((w) => {
        const r = revoked.get(w.id);
        const c = closed.get(w.id);
        return r ? { ...w, revokedAt: r.at, revokeReason: r.reason } : c ? { ...w, closedAt: c.at } : w;
      }),
      ...cs.windows,
    ],
    receipts: [
      ...s.receipts.map((x) => {
        const r = revokedReceipts.get(x.id);
        return r ? { ...x, revokedAt: r.at, revokeReason: r.reason } : x;
      }),
      ...cs.receipts,
    ],
    optOuts: [
      ...s.optOuts.map((o) => {
        const w = withdrawn.get(o.id);
        return w ? { ...o, withdrawnAt: w.at } : o;
      }),
      ...cs.optOuts,
    ],
  };
}

describe("planAgreement", () => {
  it("issues one window and one unsigned receipt per chosen insurer and opts out all others", () => {
    const { changeset: cs, receiptPayloads } = planAgreement(
      state(),
      prefs({ insurers: ["pingan", "picc"] }),
      META,
      context(NOW),
    );
    expect(cs.expectedVersion).toBe(3);
    expect(cs.consent).toMatchObject({ ownerId: "owner-1", jurisdiction: "CN", textVersion: "2026-01" });
    expect(cs.windows.map((w) => w.insurerId)).toEqual(["pingan", "picc"]);
    expect(cs.receipts.map((r) => [r.insurerId, r.payloadHash, r.jws])).toEqual([
      ["pingan", "", undefined],
      ["picc", "", undefined],
    ]);
    for (const w of cs.windows) {
      expect(cs.receipts.find((r) => r.id === w.receiptId)?.insurerId).toBe(w.insurerId);
      expect(receiptPayloads[w.receiptId]).toMatchObject({
        sub: `mk-${w.insurerId}`,
        windowId: w.id,
        consentText: { sha256: `h-${w.insurerId}` },
      });
    }
    expect(cs.optOuts.map((o) => [o.insurerId, o.reason])).toEqual([
      ["cpic", "not_chosen"],
      ["taiping", "not_chosen"],
    ]);
  });

  it("times the window per the pack and queues window.opened for opensAt, opt-outs now", () => {
    const { changeset: cs } = planAgreement(state(), prefs(), META, context(NOW));
    const w = cs.windows[0]!;
    expect(w.opensAt).toBe("2026-06-30T16:00:00.000Z");
    expect(w.closesAt).toBe("2026-07-31T16:00:00.000Z");
    const opened = cs.outbox.filter((e) => e.type === "window.opened");
    expect(opened).toEqual([
      expect.objectContaining({ subjectId: w.id, dueAt: w.opensAt, state: "pending" }),
    ]);
    const filed = cs.outbox.filter((e) => e.type === "optout.filed");
    expect(filed).toHaveLength(3);
    expect(filed.every((e) => e.dueAt === NOW)).toBe(true);
    expect(cs.outbox.every((e) => e.webhookId.startsWith("msg_"))).toBe(true);
    expect(new Set(cs.outbox.map((e) => e.webhookId)).size).toBe(cs.outbox.length);
  });

  it("files CN opt-outs for 365 days, honoured at once, with the legal basis and no phone", () => {
    const { changeset: cs } = planAgreement(state(), prefs(), META, context(NOW));
    const o = cs.optOuts[0]!;
    expect(o).toMatchObject({
      effectiveAt: NOW,
      honourBy: NOW,
      until: "2027-06-01T02:00:00.000Z",
      matchKey: "mk-picc",
    });
    expect(o.basis).toMatch(/one year/);
    expect(JSON.stringify(cs.optOuts)).not.toContain("+86");
  });

  it("files US opt-outs for 5 years honoured within 10 business days; EU until withdrawn", () => {
    const us = state({ owner: owner({ timezone: "America/New_York", jurisdiction: "US" }) });
    const cs = planAgreement(
      us,
      prefs({ hours: [{ from: "08:00", to: "21:00" }] }),
      META,
      context(NOW, { pack: packFor("US") }),
    ).changeset;
    expect(cs.optOuts[0]).toMatchObject({
      until: "2031-05-31T02:00:00.000Z",
      honourBy: "2026-06-13T02:00:00.000Z" /* Sun 22:00 NY + 10 business days */,
    });
    const eu = planAgreement(state(), prefs(), META, context(NOW, { pack: packFor("EU") })).changeset;
    expect(eu.optOuts[0]?.until).toBeUndefined();
  });

  it("redraws colliding verification codes so each window's code differs", () => {
    const { changeset: cs } = planAgreement(
      state(),
      prefs({ insurers: ["pingan", "picc", "cpic"] }),
      META,
      context(NOW, { codes: ["111111", "111111", "222222", "111111", "222222", "333333"] }),
    );
    expect(cs.windows.map((w) => w.verificationCode)).toEqual(["111111", "222222", "333333"]);
  });

  it("refuses windows for a phone that is not Telegram-verified, but allows nobody", () => {
    const typed = state({ owner: owner({ phoneVerified: false }) });
    expect(() => planAgreement(typed, prefs(), META, context(NOW))).toThrow(PlanError);
    try {
      planAgreement(typed, prefs(), META, context(NOW));
    } catch (e) {
      expect((e as PlanError).code).toBe("phone_not_verified");
    }
    const cs = planAgreement(typed, prefs({ insurers: [] }), META, context(NOW)).changeset;
    expect(cs.windows).toEqual([]);
    expect(cs.optOuts).toHaveLength(4);
  });

  it("refuses without any phone, for unknown insurers, and for a passed renewal date", () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as PlanError).code;
      }
      return "no error";
    };
    expect(
      code(() => planAgreement(state({ owner: owner({ phone: undefined }) }), prefs(), META, context(NOW))),
    ).toBe("phone_missing");
    expect(code(() => planAgreement(state(), prefs({ insurers: ["acme"] }), META, context(NOW)))).toBe(
      "unknown_insurer",
    );
    expect(code(() => planAgreement(state(), prefs({ renewalDate: "2026-05-31" }), META, context(NOW)))).toBe(
      "renewal_date_passed",
    );
  });

  it("refuses a choice beyond the pack (it may only narrow the bounds), whatever the bot sent", () => {
    const code = (p: Parameters<typeof prefs>[0], pack = packFor("CN")) => {
      try {
        planAgreement(state(), prefs(p), META, context(NOW, { pack }));
      } catch (e) {
        return (e as PlanError).code;
      }
      return "no error";
    };
    // US hours (08:00–21:00) kept after a move onto China's rules (09:00–20:00).
    expect(code({ hours: [{ from: "08:00", to: "21:00" }] })).toBe("outside_pack");
    expect(code({ hours: [{ from: "08:00", to: "21:00" }] }, packFor("US"))).toBe("no error");
    expect(code({ hours: [{ from: "19:00", to: "20:30" }] })).toBe("outside_pack");
    expect(code({ daysBefore: 41 })).toBe("outside_pack");
    expect(code({ daysBefore: 60 }, packFor("US"))).toBe("no error");
    expect(code({ maxAttempts: packFor("CN").maxAttemptsTotal.value + 1 })).toBe("outside_pack");
    // Nobody may call: there are no hours to bound.
    expect(code({ insurers: [], hours: [{ from: "08:00", to: "21:00" }] })).toBe("no error");
  });

  it("does not file a second opt-out where one is in force", () => {
    const existing: OptOut = {
      id: "old",
      ownerId: "owner-1",
      insurerId: "cpic",
      phoneHash: "ph-hash",
      matchKey: "mk-cpic",
      reason: "owner_request",
      effectiveAt: "2026-01-01T00:00:00.000Z",
      honourBy: "2026-01-01T00:00:00.000Z",
      until: "2027-01-01T00:00:00.000Z",
      basis: "x",
    };
    const cs = planAgreement(state({ optOuts: [existing] }), prefs(), META, context(NOW)).changeset;
    expect(cs.optOuts.map((o) => o.insurerId)).toEqual(["picc", "taiping"]);
    const expired = { ...existing, until: "2026-05-01T00:00:00.000Z" };
    expect(activeOptOut(state({ optOuts: [expired] }), "cpic", new Date(NOW))).toBeUndefined();
    const again = planAgreement(state({ optOuts: [expired] }), prefs(), META, context(NOW)).changeset;
    expect(again.optOuts.map((o) => o.insurerId)).toContain("cpic");
  });

  it("a later consent to an opted-out insurer withdraws that opt-out", () => {
    const first = planAgreement(state(), prefs({ insurers: ["pingan"] }), META, context(NOW));
    const s1 = apply(state(), first.changeset);
    const later = "2026-06-02T02:00:00.000Z";
    const second = planAgreement(s1, prefs({ insurers: ["picc"] }), META, context(later)).changeset;
    const piccOptOut = s1.optOuts.find((o) => o.insurerId === "picc")!;
    expect(second.withdrawOptOuts).toEqual([{ id: piccOptOut.id, at: later }]);
    expect(second.outbox.filter((e) => e.type === "optout.withdrawn").map((e) => e.subjectId)).toEqual([
      piccOptOut.id,
    ]);
    // pingan is no longer chosen: its scheduled window is revoked silently and it is opted out
    expect(second.supersedeConsents).toEqual([{ id: first.changeset.consent!.id, at: later }]);
    expect(second.revokeWindows).toEqual([
      { id: first.changeset.windows[0]!.id, at: later, reason: "superseded" },
    ]);
    expect(second.revokeReceipts.map((r) => r.reason)).toEqual(["superseded"]);
    expect(second.outbox.some((e) => e.type === "window.revoked")).toBe(false);
    expect(second.optOuts.map((o) => [o.insurerId, o.reason])).toEqual([["pingan", "not_chosen"]]);
  });

  it("announces the revocation of a window that had already opened", () => {
    const s1 = apply(state(), planAgreement(state(), prefs(), META, context(NOW)).changeset);
    const during = "2026-07-05T02:00:00.000Z";
    const cs = planAgreement(s1, prefs({ maxAttempts: 2 }), META, context(during)).changeset;
    expect(cs.outbox.filter((e) => e.type === "window.revoked").map((e) => e.subjectId)).toEqual([
      s1.windows[0]!.id,
    ]);
    expect(cs.windows[0]?.opensAt).toBe(during);
  });

  it("property: exactly one window per chosen insurer and one opt-out per other insurer", () => {
    const ids = DIRECTORY.map((i) => i.id);
    fc.assert(
      // Up to the CN pack's 40 days: how early beyond it is refused (outside_pack, below).
      fc.property(fc.subarray(ids), fc.integer({ min: 0, max: 40 }), (chosen, daysBefore) => {
        const { changeset: cs, receiptPayloads } = planAgreement(
          state(),
          prefs({ insurers: chosen, daysBefore }),
          META,
          context(NOW),
        );
        expect(cs.windows.map((w) => w.insurerId).sort()).toEqual([...chosen].sort());
        expect(cs.receipts).toHaveLength(chosen.length);
        expect(Object.keys(receiptPayloads)).toHaveLength(chosen.length);
        expect(cs.optOuts.map((o) => o.insurerId).sort()).toEqual(
          ids.filter((i) => !chosen.includes(i)).sort(),
        );
        expect(new Set(cs.windows.map((w) => w.verificationCode)).size).toBe(chosen.length);
        expect(new Set(cs.windows.map((w) => w.stopToken)).size).toBe(chosen.length);
        for (const w of cs.windows) expect(Date.parse(w.opensAt)).toBeGreaterThanOrEqual(Date.parse(NOW));
      }),
    );
  });
});

describe("planStop", () => {
  const agreed = () =>
    apply(
      state(),
      planAgreement(state(), prefs({ insurers: ["pingan", "picc"] }), META, context(NOW)).changeset,
    );

  it("revokes one insurer's window and receipt and files an owner_request opt-out", () => {
    const s1 = agreed();
    const cs = planStop(s1, { insurerId: "pingan" }, "owner_request", context(NOW));
    const w = s1.windows.find((x) => x.insurerId === "pingan")!;
    expect(cs.revokeWindows).toEqual([{ id: w.id, at: NOW, reason: "owner_request" }]);
    expect(cs.revokeReceipts).toEqual([{ id: w.receiptId, at: NOW, reason: "owner_request" }]);
    expect(cs.optOuts.map((o) => [o.insurerId, o.reason])).toEqual([["pingan", "owner_request"]]);
    // the window had not opened: the insurer never heard of it, so no revocation notice
    expect(cs.outbox.map((e) => e.type)).toEqual(["optout.filed"]);
  });

  it("a refusal on the call in an open window is announced and filed as refused_on_call", () => {
    const s1 = agreed();
    const during = "2026-07-05T02:00:00.000Z";
    const cs = planStop(s1, { insurerId: "picc" }, "refused_on_call", context(during));
    expect(cs.outbox.map((e) => e.type).sort()).toEqual(["optout.filed", "window.revoked"]);
    expect(cs.optOuts[0]).toMatchObject({ reason: "refused_on_call", insurerId: "picc" });
  });

  it("stop everyone revokes every window and opts out only insurers without an opt-out", () => {
    const s1 = agreed();
    const cs = planStop(s1, "all", "owner_request", context(NOW));
    expect(cs.revokeWindows).toHaveLength(2);
    expect(cs.optOuts.map((o) => o.insurerId).sort()).toEqual(["picc", "pingan"]);
  });

  it("stop then agree again: the new consent withdraws the stop's opt-out and issues a fresh window", () => {
    const s1 = agreed();
    const s2 = apply(s1, planStop(s1, { insurerId: "pingan" }, "owner_request", context(NOW)));
    expect(activeOptOut(s2, "pingan", new Date(NOW))?.reason).toBe("owner_request");
    const later = "2026-06-03T00:00:00.000Z";
    const cs = planAgreement(s2, prefs({ insurers: ["pingan"] }), META, context(later)).changeset;
    expect(cs.withdrawOptOuts.map((w) => w.id)).toEqual([activeOptOut(s2, "pingan", new Date(NOW))!.id]);
    expect(cs.windows.map((w) => w.insurerId)).toEqual(["pingan"]);
    // picc's window (still live) is superseded and picc is opted out as not chosen
    expect(cs.revokeWindows.map((r) => r.reason)).toEqual(["superseded"]);
    expect(cs.optOuts.map((o) => o.insurerId)).toEqual(["picc"]);
  });

  it("stopping twice changes nothing the second time", () => {
    const s1 = agreed();
    const s2 = apply(s1, planStop(s1, { insurerId: "pingan" }, "owner_request", context(NOW)));
    const cs = planStop(s2, { insurerId: "pingan" }, "owner_request", context(NOW));
    expect(cs.revokeWindows).toEqual([]);
    expect(cs.optOuts).toEqual([]);
    expect(cs.outbox).toEqual([]);
  });
});

describe("planRenewed", () => {
  it("closes live windows, announces opened ones, files renewed opt-outs where none is active", () => {
    const s1 = apply(
      state(),
      planAgreement(state(), prefs({ insurers: ["pingan"] }), META, context(NOW)).changeset,
    );
    const during = "2026-07-05T02:00:00.000Z";
    const cs = planRenewed(s1, context(during));
    expect(cs.closeWindows).toEqual([{ id: s1.windows[0]!.id, at: during }]);
    expect(cs.revokeWindows).toEqual([]);
    expect(cs.outbox.filter((e) => e.type === "window.revoked")).toHaveLength(1);
    expect(cs.optOuts.map((o) => [o.insurerId, o.reason])).toEqual([["pingan", "renewed"]]);
    expect(cs.owner).toEqual({ renewedAt: during });
  });
});

describe("planDeletion", () => {
  it("revokes all live windows and every receipt, and files deleted opt-outs where none is active", () => {
    const s1 = apply(
      state(),
      planAgreement(state(), prefs({ insurers: ["pingan", "picc"] }), META, context(NOW)).changeset,
    );
    const cs = planDeletion(s1, context(NOW));
    expect(cs.revokeWindows.map((r) => r.reason)).toEqual(["deleted", "deleted"]);
    expect(cs.revokeReceipts).toHaveLength(2);
    expect(cs.optOuts.map((o) => [o.insurerId, o.reason]).sort()).toEqual([
      ["picc", "deleted"],
      ["pingan", "deleted"],
    ]);
  });

  it("revokes receipts of windows that already closed, so verification says revoked", () => {
    const s1 = apply(
      state(),
      planAgreement(state(), prefs({ insurers: ["pingan"] }), META, context(NOW)).changeset,
    );
    const after = "2026-09-01T00:00:00.000Z";
    const cs = planDeletion(s1, context(after));
    expect(cs.revokeWindows).toEqual([]);
    expect(cs.revokeReceipts).toEqual([{ id: s1.receipts[0]!.id, at: after, reason: "deleted" }]);
  });
});

describe("planPhoneChange", () => {
  const NEW = {
    phone: "+8613900139000",
    phoneHash: "hash-+8613900139000",
    phoneVerified: true,
    country: "CN",
  };
  /** The context of the owner with the new phone: its match keys. */
  const newContext = (now: string) => ({ ...context(now), matchKeyFor: (id: string) => `mk2-${id}` });
  const agreed = () =>
    apply(state(), planAgreement(state(), prefs({ insurers: ["pingan"] }), META, context(NOW)).changeset);

  it("a different number revokes every live window and receipt, and opts the new number out where the old one was", () => {
    const s1 = agreed();
    const later = "2026-06-02T00:00:00.000Z";
    const cs = planPhoneChange(s1, NEW, newContext(later));
    const w = s1.windows[0]!;
    expect(cs.owner).toEqual({
      phone: { phone: NEW.phone, phoneVerified: true, country: "CN" },
    });
    expect(cs.revokeWindows).toEqual([{ id: w.id, at: later, reason: "superseded" }]);
    expect(cs.revokeReceipts).toEqual([{ id: w.receiptId, at: later, reason: "superseded" }]);
    // the window had not opened: no revocation notice; the chosen insurer is not opted out
    expect(cs.optOuts.map((o) => [o.insurerId, o.reason, o.phoneHash, o.matchKey])).toEqual([
      ["picc", "not_chosen", NEW.phoneHash, "mk2-picc"],
      ["cpic", "not_chosen", NEW.phoneHash, "mk2-cpic"],
      ["taiping", "not_chosen", NEW.phoneHash, "mk2-taiping"],
    ]);
    expect(cs.outbox.map((e) => e.type)).toEqual(["optout.filed", "optout.filed", "optout.filed"]);
    // the old number's opt-outs are left alone; the consent stays current, to be agreed again
    expect(cs.withdrawOptOuts).toEqual([]);
    expect(cs.supersedeConsents).toEqual([]);
    expect(cs.consent).toBeUndefined();
  });

  it("keeps each opt-out's reason, announces revoking an opened window, and skips expired opt-outs", () => {
    const two = planAgreement(state(), prefs({ insurers: ["pingan", "picc"] }), META, context(NOW));
    const s1 = apply(state(), two.changeset);
    const s2 = apply(s1, planStop(s1, { insurerId: "picc" }, "owner_request", context(NOW)));
    const during = "2026-07-05T02:00:00.000Z";
    const expired = {
      ...s2,
      optOuts: s2.optOuts.map((o) => (o.insurerId === "cpic" ? { ...o, until: NOW } : o)),
    };
    const cs = planPhoneChange(expired, NEW, newContext(during));
    expect(cs.outbox.filter((e) => e.type === "window.revoked").map((e) => e.insurerId)).toEqual(["pingan"]);
    expect(cs.optOuts.map((o) => [o.insurerId, o.reason])).toEqual([
      ["picc", "owner_request"],
      ["taiping", "not_chosen"],
    ]);
  });

  it("re-agreeing after the change gives the chosen insurer a window for the new number and opts out nobody twice", () => {
    const s2 = apply(agreed(), planPhoneChange(agreed(), NEW, newContext(NOW)));
    const { changeset, receiptPayloads } = planAgreement(
      s2,
      prefs({ insurers: ["pingan"] }),
      META,
      newContext(NOW),
    );
    expect(changeset.windows.map((w) => w.insurerId)).toEqual(["pingan"]);
    expect(receiptPayloads[changeset.receipts[0]!.id]).toMatchObject({ sub: "mk2-pingan" });
    expect(changeset.optOuts).toEqual([]);
  });

  it("an opt-out kept for an old number does not stand in for the new one", () => {
    const s1 = agreed();
    // as if the number had changed without planPhoneChange: opt-outs only for the old one
    const moved = { ...s1, owner: { ...s1.owner, phone: NEW.phone, phoneHash: NEW.phoneHash } };
    const cs = planStop(moved, "all", "owner_request", newContext(NOW));
    expect(cs.optOuts.map((o) => o.insurerId).sort()).toEqual(["cpic", "picc", "pingan", "taiping"]);
  });

  it("the same number, or a first one, only updates the profile", () => {
    const s1 = agreed();
    const same = planPhoneChange(
      s1,
      { ...NEW, phone: s1.owner.phone!, phoneHash: s1.owner.phoneHash! },
      context(NOW),
    );
    expect(same.owner?.phone?.phone).toBe(s1.owner.phone);
    expect([same.revokeWindows, same.revokeReceipts, same.optOuts, same.outbox]).toEqual([[], [], [], []]);
    const fresh = state({ owner: owner({ phone: undefined, phoneHash: undefined, phoneVerified: false }) });
    const first = planPhoneChange(fresh, NEW, newContext(NOW));
    expect([first.revokeWindows, first.optOuts, first.outbox]).toEqual([[], [], []]);
  });

  it("a typed number never replaces a verified one; a deleted owner gets no number", () => {
    expect(() => planPhoneChange(agreed(), { ...NEW, phoneVerified: false }, newContext(NOW))).toThrow(
      expect.objectContaining({ code: "phone_not_verified" }),
    );
    const typed = state({ owner: owner({ phoneVerified: false }) });
    expect(
      planPhoneChange(typed, { ...NEW, phoneVerified: false }, newContext(NOW)).owner?.phone,
    ).toMatchObject({
      phoneVerified: false,
    });
    const deleted = state({ owner: owner({ deletedAt: NOW }) });
    expect(() => planPhoneChange(deleted, NEW, newContext(NOW))).toThrow(PlanError);
  });
});
