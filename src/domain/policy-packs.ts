/**
 * Policy packs (DESIGN §7): the legal bounds per jurisdiction, as one table of data. Every
 * figure sits beside its source — a law, or "product default" where no law sets it — so a
 * reviewer can check each number without reading code. Owners may only narrow these bounds.
 */
import type { JurisdictionCode } from "./model.js";
import type { HourRange } from "./preferences.js";

/** One figure of a pack and where it comes from. */
export interface Rule<T> {
  value: T;
  source: string;
}

/** The rules of one jurisdiction. */
export interface PolicyPack {
  code: JurisdictionCode;
  /** Calling hours, owner's local time, that an owner may choose within. */
  callingHours: Rule<HourRange>;
  /** Earliest a window may open: this many days before the renewal date. */
  maxDaysBefore: Rule<number>;
  /** Attempts per insurer per local day; null leaves it to the owner's total cap. */
  maxAttemptsPerDay: Rule<number | null>;
  /** Largest total attempt cap an owner may grant one insurer. */
  maxAttemptsTotal: Rule<number>;
  /** How long an opt-out suppresses contact, in days from filing; null = until withdrawn. */
  optOutDays: Rule<number | null>;
  /** Business days an insurer has to honour an opt-out; 0 = at once. */
  honourWithinBusinessDays: Rule<number>;
  /** Years a consent record (receipt) is kept. */
  consentRetentionYears: Rule<number>;
  /** The legal basis an opt-out notice quotes. */
  optOutBasis: string;
}

const PRODUCT_DEFAULT = "product default";

/** The packs, keyed by jurisdiction. CN is the default (`JURISDICTION`). */
export const POLICY_PACKS: Readonly<Record<JurisdictionCode, PolicyPack>> = {
  CN: {
    code: "CN",
    callingHours: {
      value: { from: "09:00", to: "20:00" },
      source:
        "product default inside CN rules: life-insurance telesales banned 21:00–09:00; Shenzhen 2013 telesales rules 08:00–20:00",
    },
    maxDaysBefore: {
      value: 40,
      source:
        "2013 CIRC notice on property-insurance telesales: renewal calls no earlier than 40 days before expiry",
    },
    maxAttemptsPerDay: {
      value: 3,
      source: "Shenzhen 2013 telesales rules: at most 3 calls a day, none more that day after 3 unanswered",
    },
    maxAttemptsTotal: { value: 10, source: PRODUCT_DEFAULT },
    optOutDays: {
      value: 365,
      source: "CIRC notice on telemarketing by property insurers: no call within one year of a refusal",
    },
    honourWithinBusinessDays: {
      value: 0,
      source: "CIRC notice on telemarketing by property insurers: a refusing number is shielded at once",
    },
    consentRetentionYears: { value: 5, source: PRODUCT_DEFAULT },
    optOutBasis:
      "CN telemarketing notice for property insurers: no call within one year; 2018 harassing-calls plan: no call after a refusal",
  },
  US: {
    code: "US",
    callingHours: { value: { from: "08:00", to: "21:00" }, source: "47 CFR 64.1200(c)(1)" },
    maxDaysBefore: { value: 60, source: PRODUCT_DEFAULT },
    maxAttemptsPerDay: { value: null, source: "owner's cap (product default)" },
    maxAttemptsTotal: { value: 10, source: PRODUCT_DEFAULT },
    optOutDays: {
      value: 5 * 365,
      source: "47 CFR 64.1200(d)(6): company-specific do-not-call request honoured for 5 years",
    },
    honourWithinBusinessDays: {
      value: 10,
      source: "FCC 24-18, 47 CFR 64.1200(a)(10): revocation honoured within 10 business days",
    },
    consentRetentionYears: { value: 5, source: "TSR 16 CFR §310.5: records kept 5 years" },
    optOutBasis: "TCPA, 47 CFR 64.1200(d): company-specific do-not-call request; consent revoked",
  },
  UK: {
    code: "UK",
    callingHours: { value: { from: "09:00", to: "20:00" }, source: PRODUCT_DEFAULT },
    maxDaysBefore: { value: 60, source: PRODUCT_DEFAULT },
    maxAttemptsPerDay: { value: null, source: "owner's cap (product default)" },
    maxAttemptsTotal: { value: 10, source: PRODUCT_DEFAULT },
    optOutDays: {
      value: null,
      source: "UK GDPR Art. 21(3): direct marketing stops on objection, until withdrawn",
    },
    honourWithinBusinessDays: { value: 0, source: "UK GDPR Art. 21(3); PECR reg. 21: at once" },
    consentRetentionYears: { value: 5, source: PRODUCT_DEFAULT },
    optOutBasis: "UK GDPR Art. 21(2)-(3) and PECR reg. 21: objection to direct marketing",
  },
  EU: {
    code: "EU",
    callingHours: { value: { from: "09:00", to: "20:00" }, source: PRODUCT_DEFAULT },
    maxDaysBefore: { value: 60, source: PRODUCT_DEFAULT },
    maxAttemptsPerDay: { value: null, source: "owner's cap (product default)" },
    maxAttemptsTotal: { value: 10, source: PRODUCT_DEFAULT },
    optOutDays: {
      value: null,
      source: "GDPR Art. 21(3): direct marketing stops on objection, until withdrawn",
    },
    honourWithinBusinessDays: { value: 0, source: "GDPR Art. 21(3): at once" },
    consentRetentionYears: { value: 5, source: PRODUCT_DEFAULT },
    optOutBasis: "GDPR Art. 21(2)-(3) and Art. 7(3): objection to direct marketing, consent withdrawn",
  },
};

/** The pack of a jurisdiction. */
export function packFor(code: JurisdictionCode): PolicyPack {
  return POLICY_PACKS[code];
}

const EU_MEMBER_STATES: ReadonlySet<string> = new Set([
  "AT",
  "BE",
  "BG",
  "HR",
  "CY",
  "CZ",
  "DK",
  "EE",
  "FI",
  "FR",
  "DE",
  "GR",
  "HU",
  "IE",
  "IT",
  "LV",
  "LT",
  "LU",
  "MT",
  "NL",
  "PL",
  "PT",
  "RO",
  "SK",
  "SI",
  "ES",
  "SE",
]);

/**
 * The jurisdiction for a phone's ISO 3166 alpha-2 country: CN, US, GB→UK, the 27 EU member
 * states→EU; any other (or unknown) country gets `fallback` (the `JURISDICTION` setting).
 */
export function jurisdictionForCountry(
  alpha2: string | undefined,
  fallback: JurisdictionCode,
): JurisdictionCode {
  return packOfCountry(alpha2) ?? fallback;
}

/** The pack a country has of its own, if any (no fallback: Japan has none). */
export function packOfCountry(alpha2: string | undefined): JurisdictionCode | undefined {
  const cc = alpha2?.toUpperCase();
  if (cc === "CN") return "CN";
  if (cc === "US") return "US";
  if (cc === "GB") return "UK";
  if (cc !== undefined && EU_MEMBER_STATES.has(cc)) return "EU";
  return undefined;
}
