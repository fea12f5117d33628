/**
 * Phone numbers: normalising to E.164, the time zones a country's numbers imply, and a masked
 * form for display (so chat messages and logs never need the whole number).
 */
import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from "libphonenumber-js";

/** A valid phone number in E.164 and, for geographic numbers, its ISO 3166 alpha-2 country. */
export interface NormalisedPhone {
  e164: string;
  country?: string;
}

/**
 * Reads a phone number as typed or shared ("138 1234 5678", "+44 20 7946 0958",
 * "008613812345678" is not international syntax and fails). Numbers without a leading "+" are
 * read in `defaultCountry`. Only numbers libphonenumber deems valid are returned.
 */
export function normalisePhone(input: string, defaultCountry?: string): NormalisedPhone | undefined {
  const cc = defaultCountry?.toUpperCase();
  const country = cc !== undefined && isSupportedCountry(cc) ? (cc as CountryCode) : undefined;
  const parsed = parsePhoneNumberFromString(input.trim(), country);
  if (parsed === undefined || !parsed.isValid()) return undefined;
  return parsed.country === undefined
    ? { e164: parsed.number }
    : { e164: parsed.number, country: parsed.country };
}

/**
 * Countries whose numbers span several IANA zones in the data but one legal time: asking the
 * owner there would be a needless question.
 */
const SINGLE_LEGAL_ZONE: Readonly<Record<string, readonly string[]>> = {
  CN: ["Asia/Shanghai"],
};

interface LocaleWithTimeZones {
  timeZones?: string[];
  getTimeZones?: () => string[];
}

/**
 * The IANA zones of a country (ISO alpha-2), from the runtime's CLDR data via `Intl.Locale`,
 * overridden where one zone is the legal one (CN → Asia/Shanghai). Empty for an unknown
 * country. One zone means the country settles the owner's zone; several mean ask.
 */
export function timezonesForCountry(alpha2: string): string[] {
  const cc = alpha2.toUpperCase();
  const override = SINGLE_LEGAL_ZONE[cc];
  if (override !== undefined) return [...override];
  if (!/^[A-Z]{2}$/.test(cc)) return [];
  try {
    const locale = new Intl.Locale(`und-${cc}`) as unknown as LocaleWithTimeZones;
    return [...(locale.getTimeZones?.() ?? locale.timeZones ?? [])];
  } catch {
    return [];
  }
}

/**
 * A display form that hides the middle of the national number: "+8613812345678" →
 * "+86 138****5678". Short numbers keep only their last two digits. Input that is not E.164
 * comes back fully masked.
 */
export function maskPhone(e164: string): string {
  const parsed = parsePhoneNumberFromString(e164);
  if (parsed === undefined) return "*".repeat(Math.max(4, e164.length));
  const nsn = parsed.nationalNumber;
  const masked =
    nsn.length >= 8
      ? `${nsn.slice(0, 3)}${"*".repeat(nsn.length - 7)}${nsn.slice(-4)}`
      : `${"*".repeat(Math.max(0, nsn.length - 2))}${nsn.slice(-2)}`;
  return `+${parsed.countryCallingCode} ${masked}`;
}
