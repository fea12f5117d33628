import type { Filter } from "grammy";
import type { JurisdictionCode } from "../../domain/model.js";
import { maskPhone, normalisePhone, timezonesForCountry } from "../../domain/phone.js";
import { jurisdictionForCountry } from "../../domain/policy-packs.js";
import type { BotContext } from "../context.js";
import type { BotDeps } from "../deps.js";
import { contactKeyboard } from "../keyboards.js";

/** What putting a verified number on file changed beyond the profile. */
export interface VerifiedContact {
  /** Insurers whose windows named the owner's old number and were revoked: agree again. */
  revokedInsurers: string[];
  /** Whether insurers that had an opt-out for the old number got one for the new number. */
  optOutsFiled: boolean;
  /** The number is of another country than before: where the owner lives is asked afresh. */
  countryChanged: boolean;
}

/**
 * A shared contact card. Only a card whose `user_id` is the sender is the owner's own,
 * Telegram-verified number (DESIGN §11); anyone else's card is refused for consent.
 * A number other than the one on file goes through the owner service, so that windows issued
 * for the old number are revoked and its opt-outs cover the new one (planPhoneChange).
 * Returns what changed when the owner's phone is now verified, else undefined.
 */
export async function verifyContact(
  ctx: Filter<BotContext, "message:contact">,
  deps: BotDeps,
): Promise<VerifiedContact | undefined> {
  const contact = ctx.message.contact;
  if (contact.user_id !== ctx.from.id) {
    await ctx.reply(ctx.t("phone-not-yours"), { reply_markup: contactKeyboard(ctx.t) });
    return undefined;
  }
  // Telegram sends the number without "+" from most clients.
  const raw = contact.phone_number.startsWith("+") ? contact.phone_number : `+${contact.phone_number}`;
  const phone = normalisePhone(raw);
  if (!phone) {
    await ctx.reply(ctx.t("phone-bad"), { reply_markup: contactKeyboard(ctx.t) });
    return undefined;
  }
  const countryChanged = numberCountryChanged(ctx, phone.country);
  const changed = await deps.owners.changePhone(ctx.owner.id, {
    phone: phone.e164,
    phoneVerified: true,
    ...profileForNumber(ctx, deps, phone.country),
    name: [contact.first_name, contact.last_name].filter(Boolean).join(" ") || null,
  });
  ctx.owner = changed.owner;
  await ctx.reply(ctx.t("phone-verified", { phone: maskPhone(phone.e164) }), {
    reply_markup: { remove_keyboard: true },
  });
  return {
    revokedInsurers: changed.revokedInsurers,
    optOutsFiled: changed.optOuts.length > 0,
    countryChanged,
  };
}

/** Whether a number of `country` is of another country than the one on file (or the first). */
export function numberCountryChanged(ctx: BotContext, country: string | undefined): boolean {
  return !ctx.owner.phone || (country ?? null) !== (ctx.owner.country ?? null);
}

/**
 * What a number's country settles in the profile, for a shared contact and a typed number
 * alike. The same country as before keeps where the owner said they live and whose rules
 * apply. Otherwise the pack follows the country, and so does the zone when the country has one;
 * a country of several zones keeps the service's own for now (it is asked next), as does a
 * zone the owner stated before sharing any number ("I live in Beijing" at the phone question).
 */
export function profileForNumber(
  ctx: BotContext,
  deps: Pick<BotDeps, "defaults">,
  country: string | undefined,
): { country: string | null; timezone?: string; jurisdiction?: JurisdictionCode } {
  if (!numberCountryChanged(ctx, country)) return { country: country ?? null };
  const zones = country ? timezonesForCountry(country) : [];
  const stated = !ctx.owner.phone && ctx.session.zoneAsked === true;
  const timezone = stated ? ctx.owner.timezone : zones.length === 1 ? zones[0]! : deps.defaults.timezone;
  return {
    country: country ?? null,
    timezone,
    jurisdiction: jurisdictionForCountry(country, deps.defaults.jurisdiction),
  };
}
