import type { Insurer, Owner, OwnerState } from "../../src/domain/model.js";
import type { PlanContext } from "../../src/domain/plans.js";
import { type PolicyPack, packFor } from "../../src/domain/policy-packs.js";
import type { Preferences } from "../../src/domain/preferences.js";

export function insurer(id: string, extra: Partial<Insurer> = {}): Insurer {
  return {
    id,
    name: id.toUpperCase(),
    aliases: [],
    contact: `${id} hotline 95500`,
    sandbox: false,
    createdAt: "2026-01-01T00:00:00.000Z",
    ...extra,
  };
}

export const DIRECTORY: Insurer[] = [insurer("pingan"), insurer("picc"), insurer("cpic"), insurer("taiping")];

export function owner(extra: Partial<Owner> = {}): Owner {
  return {
    id: "owner-1",
    telegramUserId: 42,
    chatId: 42,
    language: "en",
    phone: "+8613812345678",
    phoneHash: "ph-hash",
    phoneVerified: true,
    country: "CN",
    timezone: "Asia/Shanghai",
    jurisdiction: "CN",
    sandbox: false,
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:00.000Z",
    version: 3,
    ...extra,
  };
}

export function state(extra: Partial<OwnerState> = {}): OwnerState {
  return { owner: owner(), windows: [], optOuts: [], receipts: [], ...extra };
}

export function prefs(extra: Partial<Preferences> = {}): Preferences {
  return {
    renewalDate: "2026-07-31",
    insurers: ["pingan"],
    channels: ["call", "sms"],
    days: ["mon", "tue", "wed", "thu", "fri"],
    hours: [{ from: "18:00", to: "20:00" }],
    daysBefore: 30,
    maxAttempts: 5,
    ...extra,
  };
}

/** A deterministic context: sequential ids, tokens and codes (codes may be scripted). */
export function context(
  now: string,
  opts: { insurers?: Insurer[]; pack?: PolicyPack; codes?: string[] } = {},
): PlanContext & { ids: () => number } {
  let n = 0;
  let c = 0;
  const codes = opts.codes;
  return {
    now: new Date(now),
    insurers: opts.insurers ?? DIRECTORY,
    pack: opts.pack ?? packFor("CN"),
    matchKeyFor: (id) => `mk-${id}`,
    newId: () => `id${++n}`,
    newToken: () => `tok${++n}`,
    newCode: () => (codes ? (codes[c++ % codes.length] ?? "000000") : String(100000 + ++c)),
    ids: () => n,
  };
}

export const META = {
  textVersion: "2026-01",
  textHashes: { pingan: "h-pingan", picc: "h-picc" },
  language: "en" as const,
};
