/**
 * The window object's second guard (DESIGN §2, §5): whatever a caller passes in, owner details
 * appear only on a window that has opened and is not revoked.
 */
import { describe, expect, it } from "vitest";
import type { ContactWindow, Owner, Receipt } from "../../src/domain/model.js";
import { windowView } from "../../src/services/insurer-views.js";

const window: ContactWindow = {
  id: "w1",
  ownerId: "o1",
  insurerId: "cpic",
  receiptId: "r1",
  consentId: "c1",
  renewalDate: "2026-09-30",
  opensAt: "2026-08-30T16:00:00.000Z",
  closesAt: "2026-09-30T16:00:00.000Z",
  timezone: "Asia/Shanghai",
  days: ["mon"],
  hours: [{ from: "09:00", to: "20:00" }],
  channels: ["call"],
  maxAttempts: 3,
  attemptsUsed: 0,
  verificationCode: "482913",
  stopToken: "tok",
  createdAt: "2026-07-01T10:30:00.000Z",
};

const owner: Owner = {
  id: "o1",
  telegramUserId: 1,
  chatId: 1,
  language: "en",
  phone: "+8613800139001",
  phoneVerified: true,
  timezone: "Asia/Shanghai",
  jurisdiction: "CN",
  name: "Chen Jie",
  vehicle: "NIO ES6",
  sandbox: false,
  createdAt: "2026-07-01T10:30:00.000Z",
  updatedAt: "2026-07-01T10:30:00.000Z",
  version: 1,
};

/** A receipt whose claims list the name and the vehicle (the view reads, not verifies, them). */
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const receipt = (dataCategories: string[], language = "en"): Receipt => ({
  id: "r1",
  insurerId: "cpic",
  payloadHash: "",
  issuedAt: window.createdAt,
  jws: `${b64({ alg: "EdDSA" })}.${b64({ dataCategories, consentText: { language } })}.sig`,
});
const ALL = ["phone", "name", "vehicle", "renewal_date"];

const view = (w: Partial<ContactWindow>, now: string, r = receipt(ALL)) =>
  windowView({ ...window, ...w }, owner, r, new Date(now), (t) => `stop_${t}`);

const DURING = "2026-09-10T04:00:00.000Z";
const AFTER = "2026-10-01T00:00:00.000Z";

describe("windowView", () => {
  it.each([
    [
      "closed (renewed) before it opened, seen during its span",
      { closedAt: "2026-07-01T10:31:00.000Z" },
      DURING,
    ],
    [
      "closed (renewed) before it opened, seen after its span",
      { closedAt: "2026-07-01T10:31:00.000Z" },
      AFTER,
    ],
    ["closed at its opening instant", { closedAt: "2026-08-30T16:00:00.000Z" }, DURING],
    ["empty (consent after the renewal day)", { opensAt: "2026-09-30T16:00:00.000Z" }, AFTER],
    ["scheduled", {}, "2026-08-30T15:59:59.999Z"],
  ] as const)("shows no owner details for a window that never opened: %s", (_name, patch, now) => {
    const v = view(patch, now);
    expect(v).not.toHaveProperty("owner");
    expect(v).not.toHaveProperty("vehicle");
    expect(v).not.toHaveProperty("verificationCode");
    const text = JSON.stringify(v);
    expect(text).not.toContain("13800139001");
    expect(text).not.toContain("NIO ES6");
    expect(text).not.toContain("482913");
  });

  it("shows them on a window that opened and then closed", () => {
    const v = view({ closedAt: "2026-09-01T00:00:00.000Z" }, AFTER);
    expect(v).toMatchObject({
      status: "closed",
      owner: { phone: "+8613800139001", name: "Chen Jie", language: "en" },
      vehicle: "NIO ES6",
      verificationCode: "482913",
    });
  });

  it("shows only the details the receipt lists, in the language agreed in", () => {
    const v = view({}, DURING, receipt(["phone", "renewal_date"], "zh"));
    expect(v.owner).toEqual({ phone: "+8613800139001", language: "zh" });
    expect(v).not.toHaveProperty("vehicle");
    expect(view({}, DURING, { ...receipt(ALL), jws: undefined }).owner).toEqual({
      phone: "+8613800139001",
      language: "en",
    });
  });
});
