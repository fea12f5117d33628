/**
 * The claims of a consent receipt, shaped after the Kantara Consent Receipt: what an insurer
 * can show a regulator. It names the owner only by the insurer-specific match key, never by
 * phone number, so a leaked receipt identifies nobody to anyone else.
 */
import type { DataCategory } from "./consent-text.js";
import type { JurisdictionCode, Language } from "./model.js";
import type { Channel, HourRange, Weekday } from "./preferences.js";

/** Receipt format version; bump on any change of shape. */
export const RECEIPT_VERSION = "onewindow-receipt/1";

/** Stated purpose of every window. */
export const RECEIPT_PURPOSE = "car-insurance renewal offer";

export interface ReceiptPayload {
  version: typeof RECEIPT_VERSION;
  jurisdiction: JurisdictionCode;
  /** Issued at, seconds since the epoch. */
  iat: number;
  /** The receipt id. */
  jti: string;
  iss: "onewindow";
  /** The insurer-specific match key of the owner's phone (DESIGN §6). */
  sub: string;
  recipient: { id: string; name: string; contact?: string };
  windowId: string;
  purpose: string;
  channels: Channel[];
  window: {
    opensAt: string;
    closesAt: string;
    timezone: string;
    days: Weekday[];
    hours: HourRange[];
    maxAttempts: number;
  };
  renewalDate: string;
  dataCategories: DataCategory[];
  consentText: { version: string; sha256: string; language: Language };
  phoneVerified: true;
  retention: string;
}

export interface ReceiptPayloadInput {
  receiptId: string;
  issuedAt: Date;
  jurisdiction: JurisdictionCode;
  matchKey: string;
  recipient: { id: string; name: string; contact?: string };
  window: {
    id: string;
    opensAt: string;
    closesAt: string;
    timezone: string;
    days: Weekday[];
    hours: HourRange[];
    channels: Channel[];
    maxAttempts: number;
    renewalDate: string;
  };
  dataCategories: readonly DataCategory[];
  consentText: { version: string; sha256: string; language: Language };
  retentionYears: number;
}

/** The receipt claims for one window; the caller signs them (crypto/receipts). */
export function buildReceiptPayload(input: ReceiptPayloadInput): ReceiptPayload {
  const w = input.window;
  const recipient =
    input.recipient.contact === undefined
      ? { id: input.recipient.id, name: input.recipient.name }
      : { id: input.recipient.id, name: input.recipient.name, contact: input.recipient.contact };
  return {
    version: RECEIPT_VERSION,
    jurisdiction: input.jurisdiction,
    iat: Math.floor(input.issuedAt.getTime() / 1000),
    jti: input.receiptId,
    iss: "onewindow",
    sub: input.matchKey,
    recipient,
    windowId: w.id,
    purpose: RECEIPT_PURPOSE,
    channels: [...w.channels],
    window: {
      opensAt: w.opensAt,
      closesAt: w.closesAt,
      timezone: w.timezone,
      days: [...w.days],
      hours: w.hours.map((h) => ({ ...h })),
      maxAttempts: w.maxAttempts,
    },
    renewalDate: w.renewalDate,
    dataCategories: [...input.dataCategories],
    consentText: { ...input.consentText },
    phoneVerified: true,
    retention: `${input.retentionYears} years`,
  };
}
