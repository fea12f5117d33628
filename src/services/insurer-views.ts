/**
 * What an insurer sees (DESIGN §5, §6): the window and opt-out objects of the HTTP API, reused
 * verbatim as webhook `data`. Owner details appear only on a window that has opened (domain
 * `hasOpened`) and is open, exhausted or closed — never before it opens, never for one revoked or
 * closed before it opened, and never once it is revoked — and an opt-out never carries the number.
 */

import { decodeJwt } from "jose";
import type { ContactWindow, Language, OptOut, Owner, Receipt } from "../domain/model.js";
import { formatVerificationCode } from "../domain/verification-code.js";
import { hasOpened, windowStatus } from "../domain/window-plan.js";

export interface WindowView {
  id: string;
  insurerId: string;
  status: "scheduled" | "open" | "closed" | "revoked" | "exhausted";
  owner?: { phone: string; name?: string; language: string };
  vehicle?: string;
  renewalDate: string;
  opensAt: string;
  closesAt: string;
  timezone: string;
  days: string[];
  hours: { from: string; to: string }[];
  channels: string[];
  maxAttempts: number;
  attemptsUsed: number;
  verificationCode?: string;
  /** The code as the owner's chat shows it and the agent should read it aloud: "182-694". */
  verificationCodeDisplay?: string;
  optOutLink: string;
  receipt: { id: string; jws?: string };
  acknowledgedAt?: string;
  revokedAt?: string;
}

export interface OptOutView {
  id: string;
  insurerId: string;
  matchKey: string;
  reason: OptOut["reason"];
  effectiveAt: string;
  honourBy: string;
  until: string | null;
  basis: string;
  withdrawnAt?: string;
  acknowledgedAt?: string;
}

/** What the owner agreed to share, as their signed receipt states it. */
interface Consented {
  name: boolean;
  vehicle: boolean;
  language?: Language;
}

/**
 * Reads the receipt's own claims (our signature, from our store: no need to verify it here).
 * Without a readable receipt nothing optional is shared.
 */
function consentedBy(receipt: Receipt | undefined): Consented {
  if (receipt?.jws === undefined) return { name: false, vehicle: false };
  try {
    const claims = decodeJwt(receipt.jws) as {
      dataCategories?: unknown;
      consentText?: { language?: unknown };
    };
    const categories = Array.isArray(claims.dataCategories) ? claims.dataCategories : [];
    const language = claims.consentText?.language;
    return {
      name: categories.includes("name"),
      vehicle: categories.includes("vehicle"),
      ...(language === "en" || language === "zh" ? { language } : {}),
    };
  } catch {
    return { name: false, vehicle: false };
  }
}

/**
 * The window object. `owner` may be undefined (erased); then no owner fields are shown.
 * The name and vehicle appear only when the receipt lists them among the data the owner agreed
 * to share, with the values the owner agreed to (`Receipt.shared`), and `language` is the one the
 * owner agreed in: details the owner adds or changes later are not sent on an old consent, and a
 * webhook retried after such a change carries the same bytes.
 * @param optOutLink builds the one-tap stop link from the window's token.
 */
export function windowView(
  window: ContactWindow,
  owner: Owner | undefined,
  receipt: Receipt | undefined,
  now: Date,
  optOutLink: (token: string) => string,
): WindowView {
  const status = windowStatus(window, now);
  // The callers only pass opened windows; this guards the owner's details should one not.
  const showOwner =
    hasOpened(window, now) && status !== "revoked" && status !== "scheduled" && owner?.phone !== undefined;
  const consented = showOwner ? consentedBy(receipt) : undefined;
  // The values the owner agreed to; a receipt issued before they were kept falls back to the
  // owner's current ones (still only in the categories the receipt lists).
  const agreed = receipt?.shared ?? { name: owner?.name, vehicle: owner?.vehicle };
  return {
    id: window.id,
    insurerId: window.insurerId,
    status,
    ...(showOwner && consented
      ? {
          owner: {
            phone: owner.phone!,
            ...(consented.name && agreed.name ? { name: agreed.name } : {}),
            language: consented.language ?? owner.language,
          },
          ...(consented.vehicle && agreed.vehicle ? { vehicle: agreed.vehicle } : {}),
        }
      : {}),
    renewalDate: window.renewalDate,
    opensAt: window.opensAt,
    closesAt: window.closesAt,
    timezone: window.timezone,
    days: window.days,
    hours: window.hours,
    channels: window.channels,
    maxAttempts: window.maxAttempts,
    attemptsUsed: window.attemptsUsed,
    ...(showOwner
      ? {
          verificationCode: window.verificationCode,
          verificationCodeDisplay: formatVerificationCode(window.verificationCode),
        }
      : {}),
    optOutLink: optOutLink(window.stopToken),
    receipt: { id: window.receiptId, ...(receipt?.jws ? { jws: receipt.jws } : {}) },
    ...(window.acknowledgedAt ? { acknowledgedAt: window.acknowledgedAt } : {}),
    ...(window.revokedAt ? { revokedAt: window.revokedAt } : {}),
  };
}

/** `window.revoked` data: nothing about the owner. */
export function windowRevokedView(window: ContactWindow) {
  return {
    id: window.id,
    insurerId: window.insurerId,
    status: "revoked" as const,
    revokedAt: window.revokedAt ?? window.closedAt,
    reason: window.revokeReason ?? (window.closedAt ? "renewed" : "owner_request"),
  };
}

/** The opt-out object: the match key, never the number. */
export function optOutView(optOut: OptOut): OptOutView {
  return {
    id: optOut.id,
    insurerId: optOut.insurerId,
    matchKey: optOut.matchKey,
    reason: optOut.reason,
    effectiveAt: optOut.effectiveAt,
    honourBy: optOut.honourBy,
    until: optOut.until ?? null,
    basis: optOut.basis,
    ...(optOut.withdrawnAt ? { withdrawnAt: optOut.withdrawnAt } : {}),
    ...(optOut.acknowledgedAt ? { acknowledgedAt: optOut.acknowledgedAt } : {}),
  };
}

/** `optout.withdrawn` data. */
export function optOutWithdrawnView(optOut: OptOut) {
  return { id: optOut.id, insurerId: optOut.insurerId, withdrawnAt: optOut.withdrawnAt };
}

/** The one-tap stop link for a bot username (`/start stop_<token>`, DESIGN §2). */
export function telegramStopLink(botUsername: string | undefined) {
  const prefix = stopLinkPrefix(botUsername);
  return (token: string) => `${prefix}${token}`;
}

/** What a stop link is before its token: the bot's deep link, or a neutral form without a bot. */
export function stopLinkPrefix(botUsername: string | undefined): string {
  return botUsername ? `https://t.me/${botUsername}?start=stop_` : "onewindow:stop_";
}

/** The sandbox's stop links open its web chat as the window's owner (create-sandbox.ts). */
export function sandboxStopLinkPrefix(baseUrl: string): string {
  return `${baseUrl}/sandbox/stop/`;
}
