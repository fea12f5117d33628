/**
 * Verification codes: six digits an insurer's agent quotes on the call, so the owner can tell
 * a consented call from a scam. The services make them
 * (`verificationCodeFrom(randomInt(0, 10 ** VERIFICATION_CODE_DIGITS))`: randomness is the
 * caller's, so this module stays pure) and the bot shows them with {@link formatVerificationCode}.
 */

/** Digits in a code: a guess succeeds one time in a million. */
export const VERIFICATION_CODE_DIGITS = 6;

/** The code for a random integer in [0, 10^6): zero-padded, "000042". */
export function verificationCodeFrom(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n >= 10 ** VERIFICATION_CODE_DIGITS) {
    throw new RangeError(`expected an integer in [0, 1e6), got ${n}`);
  }
  return String(n).padStart(VERIFICATION_CODE_DIGITS, "0");
}

/** Whether `text` is a well-formed stored code (six digits, no separator). */
export function isVerificationCode(text: string): boolean {
  return /^\d{6}$/.test(text);
}

/** Display form, easier to read aloud: "482915" → "482-915". Other input is returned as is. */
export function formatVerificationCode(code: string): string {
  return isVerificationCode(code) ? `${code.slice(0, 3)}-${code.slice(3)}` : code;
}
