import type { Filter } from "grammy";
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
  // The same country as before keeps where the owner said they live and whose rules apply.
  const countryChanged = !ctx.owner.phone || (phone.country ?? null) !== (ctx.owner.country ?? null);
  const zones = phone.country ? timezonesForCountry(phone.country) : [];
  // A single-zone country settles the zone; otherwise keep the operator's default when it is
  // one of the country's zones, else the country's first listed zone.
  const timezone =
    zones.length === 1
      ? zones[0]!
      : zones.includes(deps.defaults.timezone)
        ? deps.defaults.timezone
        : (zones[0] ?? deps.defaults.timezone);
  const changed = await deps.owners.changePhone(ctx.owner.id, {
    phone: phone.e164,
    phoneVerified: true,
    country: phone.country ?? null,
    ...(countryChanged
      ? {
          timezone,
          jurisdiction: phone.country
            ? jurisdictionForCountry(phone.country, deps.defaults.jurisdiction)
            : deps.defaults.jurisdiction,
        }
      : {}),
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
