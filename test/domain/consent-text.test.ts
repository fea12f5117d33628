import { describe, expect, it } from "vitest";
import {
  CONSENT_TEXT_VERSION,
  type ConsentTextInput,
  consentTextHash,
  dataCategoriesFor,
  renderConsentText,
} from "../../src/domain/consent-text.js";
import { packFor } from "../../src/domain/policy-packs.js";
import { buildReceiptPayload } from "../../src/domain/receipt-payload.js";
import { formatVerificationCode, verificationCodeFrom } from "../../src/domain/verification-code.js";
import { prefs } from "./fixtures.js";

const input: ConsentTextInput = {
  language: "en",
  insurer: { id: "pingan", name: "Ping An", contact: "95511" },
  preferences: prefs(),
  opensAt: "2026-06-30T16:00:00.000Z",
  timezone: "Asia/Shanghai",
  dataCategories: dataCategoriesFor({ vehicle: "Model Y" }, {}),
  pack: packFor("CN"),
};

describe("renderConsentText", () => {
  it("names the recipient, contact line, purpose, method, data, stop and suppression (en)", () => {
    const text = renderConsentText(input);
    // The contact line in a sentence of its own: never "(400-… (demo line))".
    expect(text).toContain("Ping An's contact line: 95511.");
    expect(text).toContain("car-insurance policy that expires on 2026-07-31");
    expect(text).toContain("phone call and SMS; Monday to Friday; 18:00–20:00 (China Standard Time)");
    expect(text).not.toContain("Asia/Shanghai");
    expect(text).toContain("from 2026-07-01 to 2026-07-31");
    expect(text).toContain("at most 5 attempts in total, at most 3 a day");
    expect(text).toContain("phone number, vehicle, and policy renewal date");
    expect(text).not.toContain("name,");
    expect(text).toContain("one tap");
    expect(text).toContain("Every other insurer is told not to contact me for 1 year");
    expect(text).toContain("signed receipt for 5 years");
    expect(text).toContain(CONSENT_TEXT_VERSION);
  });

  it("renders Chinese with the same facts", () => {
    const text = renderConsentText({ ...input, language: "zh" });
    expect(text).toContain("Ping An的联系方式：95511。");
    expect(text).toContain("（中国标准时间）");
    expect(text).not.toMatch(/Asia\/Shanghai|, /);
    expect(text).toContain("车险续保");
    expect(text).toContain("电话和短信");
    expect(text).toContain("周一至周五");
    expect(text).toContain("1年内不得联系我");
    expect(text).toContain("一键停止");
  });

  it("states each pack's suppression period and honour deadline", () => {
    expect(renderConsentText({ ...input, pack: packFor("US") })).toContain("not to contact me for 5 years");
    expect(renderConsentText({ ...input, pack: packFor("US") })).toContain("within 10 business days");
    expect(renderConsentText({ ...input, pack: packFor("EU") })).toContain("until I withdraw it");
  });

  it("differs per insurer, so each gets its own hash", () => {
    const a = consentTextHash(renderConsentText(input));
    const b = consentTextHash(
      renderConsentText({ ...input, insurer: { id: "picc", name: "PICC", contact: "95518" } }),
    );
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(a).not.toBe(b);
    expect(consentTextHash(renderConsentText(input))).toBe(a);
  });
});

describe("consent text wording", () => {
  it("uses the Chinese name in Chinese, and the name only when the owner chose to share it", () => {
    const insurer = { id: "pingan", name: "Ping An", nameZh: "中国平安", contact: "95511" };
    expect(renderConsentText({ ...input, insurer, language: "zh" })).toContain(
      "我同意 onewindow 向中国平安提供",
    );
    expect(renderConsentText({ ...input, insurer })).toContain("gives Ping An my");
    expect(dataCategoriesFor({ name: "Lin Wei" }, {})).toEqual(["phone", "renewal_date"]);
    expect(dataCategoriesFor({ name: "Lin Wei" }, { shareName: true })).toEqual([
      "phone",
      "name",
      "renewal_date",
    ]);
  });

  it("says 'attempt' for one, and a daily cap only where it binds", () => {
    const one = renderConsentText({ ...input, preferences: prefs({ maxAttempts: 1 }) });
    expect(one).toContain("at most 1 attempt in total.");
    const two = renderConsentText({ ...input, preferences: prefs({ maxAttempts: 2 }) });
    // CN allows 3 a day: with 2 in all, "at most 3 a day" would contradict nothing but say nothing.
    expect(two).toContain("at most 2 attempts in total.");
    expect(two).not.toContain("a day");
    const zhTwo = renderConsentText({ ...input, language: "zh", preferences: prefs({ maxAttempts: 2 }) });
    expect(zhTwo).toContain("共最多 2 次。");
    expect(zhTwo).not.toContain("每天");
  });

  it("names the owner's zone in words in both languages", () => {
    const la = { ...input, timezone: "America/Los_Angeles", pack: packFor("US") };
    expect(renderConsentText(la)).toContain("(Pacific Time)");
    expect(renderConsentText({ ...la, language: "zh" })).toContain("（北美太平洋时间）");
  });
});

describe("buildReceiptPayload", () => {
  it("names the owner by match key only and carries the window terms", () => {
    const p = buildReceiptPayload({
      receiptId: "r1",
      issuedAt: new Date("2026-06-01T10:00:00.900Z"),
      jurisdiction: "CN",
      matchKey: "mk-pingan",
      recipient: { id: "pingan", name: "Ping An", contact: "95511" },
      window: {
        id: "w1",
        opensAt: "2026-06-30T16:00:00.000Z",
        closesAt: "2026-07-31T16:00:00.000Z",
        timezone: "Asia/Shanghai",
        days: ["mon"],
        hours: [{ from: "18:00", to: "20:00" }],
        channels: ["sms"],
        maxAttempts: 2,
        renewalDate: "2026-07-31",
      },
      dataCategories: ["phone", "renewal_date"],
      consentText: { version: "2026-01", sha256: "abc", language: "en" },
      retentionYears: 5,
    });
    expect(p).toMatchObject({
      iss: "onewindow",
      jti: "r1",
      sub: "mk-pingan",
      iat: 1780308000,
      phoneVerified: true,
      retention: "5 years",
      purpose: "car-insurance renewal offer",
      window: { maxAttempts: 2, timezone: "Asia/Shanghai" },
    });
    expect(JSON.stringify(p)).not.toContain("+86");
  });
});

describe("verification codes", () => {
  it("are six digits and display as 3-3", () => {
    expect(verificationCodeFrom(42)).toBe("000042");
    expect(formatVerificationCode("482915")).toBe("482-915");
    expect(() => verificationCodeFrom(1_000_000)).toThrow(RangeError);
  });
});
