/**
 * Small builders for store tests. Deliberately independent of domain/plans: the store must
 * persist whatever a valid changeset says, and these tests must not move when planning does.
 */
import { randomUUID } from "node:crypto";
import type {
  AttemptRecord,
  Changeset,
  Consent,
  ContactWindow,
  Insurer,
  InsurerSecrets,
  OptOut,
  OutboxEntry,
  Owner,
  Receipt,
  ScrubHit,
} from "../../src/domain/model.js";
import { emptyChangeset } from "../../src/domain/model.js";
import type { NewOwner, Store } from "../../src/store/store.js";

export const T0 = "2026-06-01T08:00:00.000Z";

export function anInsurer(id: string, overrides: Partial<Insurer> = {}): Insurer {
  return {
    id,
    name: `Insurer ${id}`,
    aliases: [id.toUpperCase()],
    sandbox: false,
    createdAt: T0,
    ...overrides,
  };
}

export function secretsFor(id: string): InsurerSecrets {
  return {
    apiKeyHash: `hash-of-${id}`,
    webhookSecret: `whsec_${Buffer.from(`secret-${id}`).toString("base64")}`,
  };
}

export function aNewOwner(telegramUserId: number, overrides: Partial<NewOwner> = {}): NewOwner {
  return {
    telegramUserId,
    chatId: telegramUserId,
    language: "en",
    timezone: "Asia/Shanghai",
    jurisdiction: "CN",
    sandbox: false,
    ...overrides,
  };
}

export interface ConsentPlan {
  changeset: Changeset;
  consent: Consent;
  receipts: Receipt[];
  windows: ContactWindow[];
  optOuts: OptOut[];
  outbox: OutboxEntry[];
}

/** What `I agree` with `chosen` insurers produces: windows for them, opt-outs for `others`. */
export function consentPlan(
  owner: Owner,
  chosen: string[],
  others: string[],
  options: {
    at?: string;
    phoneHash?: string;
    /** Applied to every window (e.g. opensAt, revokedAt); the outbox follows opensAt. */
    window?: Partial<ContactWindow>;
    /** Applied to every opt-out (e.g. effectiveAt). */
    optOut?: Partial<OptOut>;
  } = {},
): ConsentPlan {
  const at = options.at ?? T0;
  const consent: Consent = {
    id: randomUUID(),
    ownerId: owner.id,
    preferences: {
      renewalDate: "2026-07-31",
      insurers: chosen,
      channels: ["call", "sms"],
      days: ["mon", "tue", "wed"],
      hours: [{ from: "18:00", to: "20:00" }],
      daysBefore: 30,
      maxAttempts: 3,
    },
    jurisdiction: "CN",
    timezone: "Asia/Shanghai",
    language: "en",
    textVersion: "consent-v1",
    textHash: "a".repeat(64),
    agreedAt: at,
  };
  const receipts: Receipt[] = chosen.map((insurerId) => ({
    id: randomUUID(),
    ownerId: owner.id,
    insurerId,
    consentId: consent.id,
    jws: `header.${Buffer.from(JSON.stringify({ insurerId })).toString("base64url")}.sig`,
    payloadHash: randomUUID().replaceAll("-", ""),
    issuedAt: at,
    // As the planner does: the name and car the owner agreed to share, when they gave any.
    ...(owner.name || owner.vehicle
      ? {
          shared: {
            ...(owner.name ? { name: owner.name } : {}),
            ...(owner.vehicle ? { vehicle: owner.vehicle } : {}),
          },
        }
      : {}),
  }));
  const windows: ContactWindow[] = receipts.map((receipt, index) => ({
    id: randomUUID(),
    ownerId: owner.id,
    insurerId: receipt.insurerId,
    receiptId: receipt.id,
    consentId: consent.id,
    renewalDate: "2026-07-31",
    opensAt: "2026-06-30T16:00:00.000Z",
    closesAt: "2026-07-31T16:00:00.000Z",
    timezone: "Asia/Shanghai",
    days: ["mon", "tue", "wed"],
    hours: [{ from: "18:00", to: "20:00" }],
    channels: ["call", "sms"],
    maxAttempts: 3,
    attemptsUsed: 0,
    verificationCode: `VC${index}${receipt.insurerId}`,
    stopToken: randomUUID().replaceAll("-", ""),
    createdAt: at,
    ...options.window,
  }));
  const optOuts: OptOut[] = others.map((insurerId) => ({
    id: randomUUID(),
    ownerId: owner.id,
    insurerId,
    phoneHash: options.phoneHash ?? owner.phoneHash ?? "f".repeat(64),
    matchKey: `mk-${insurerId}-${randomUUID()}`,
    reason: "not_chosen",
    effectiveAt: at,
    honourBy: at,
    until: "2027-06-01T08:00:00.000Z",
    basis: "CN telemarketing notice: no call within one year",
    ...options.optOut,
  }));
  const entry = (insurerId: string, type: OutboxEntry["type"], subjectId: string, dueAt: string) =>
    anOutboxEntry(insurerId, { ownerId: owner.id, type, subjectId, dueAt, createdAt: at });
  const outbox: OutboxEntry[] = [
    ...windows.map((w) => entry(w.insurerId, "window.opened", w.id, w.opensAt)),
    ...optOuts.map((o) => entry(o.insurerId, "optout.filed", o.id, at)),
  ];
  const changeset: Changeset = {
    ...emptyChangeset(owner.id, owner.version),
    consent,
    receipts,
    windows,
    optOuts,
    outbox,
  };
  return { changeset, consent, receipts, windows, optOuts, outbox };
}

/** A pending notice, due at T0 unless overridden. */
export function anOutboxEntry(insurerId: string, overrides: Partial<OutboxEntry> = {}): OutboxEntry {
  return {
    id: randomUUID(),
    insurerId,
    type: "optout.filed",
    subjectId: randomUUID(),
    webhookId: `msg_${randomUUID()}`,
    dueAt: T0,
    createdAt: T0,
    attempts: 0,
    state: "pending",
    ...overrides,
  };
}

/** An attempt an insurer reports on one of its windows. */
export function anAttempt(window: ContactWindow, overrides: Partial<AttemptRecord> = {}): AttemptRecord {
  return {
    id: randomUUID(),
    windowId: window.id,
    insurerId: window.insurerId,
    channel: "call",
    outcome: "unanswered",
    at: "2026-07-01T10:00:00.000Z",
    idempotencyKey: randomUUID(),
    remaining: window.maxAttempts - window.attemptsUsed - 1,
    ...overrides,
  };
}

/** One audit row of a scrub hit. */
export function aScrubHit(insurerId: string, phoneHash: string, overrides: Partial<ScrubHit> = {}): ScrubHit {
  return {
    id: randomUUID(),
    phoneHash,
    insurerId,
    kind: "scrub",
    answer: "do_not_contact",
    at: T0,
    ...overrides,
  };
}

/** Personal data of every kind a store keeps (phone, name, vehicle, session text, webhook
 * secret, a consent with its opt-out), for the "no plaintext at rest" tests of each backend. */
export async function seedPersonalData(store: Store) {
  const secret = secretsFor("pingan");
  await store.addInsurer(anInsurer("pingan"), secret);
  await store.addInsurer(anInsurer("cpic"), secretsFor("cpic"));
  const created = await store.ensureOwner(aNewOwner(555123));
  const owner = await store.updateOwnerProfile(created.id, {
    phone: "+8613812345678",
    name: "Zhangsan Lisi",
    vehicle: "ZX-98765-Q",
  });
  await store.writeSession("555123", JSON.stringify({ contact: "+8613812345678", text: "Zhangsan Lisi" }));
  await store.applyChangeset(consentPlan(owner, ["pingan"], ["cpic"]).changeset);
  return { owner, secret };
}
