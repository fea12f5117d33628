/**
 * Scrub and match-key quotas as pure arithmetic (DESIGN §4 `SCRUB_RATE`, `SCRUB_DAILY_LIMIT`;
 * §9): a token bucket of requests per key (burst, then a steady rate) and a cap on numbers per
 * key per UTC day. Stores keep the state and apply these atomically, so every process behind a
 * load balancer draws on the same quota (the Redis store runs the same steps in Lua).
 */

export interface RequestLimits {
  /** Requests allowed at once. */
  burst: number;
  /** Requests refilled per second. */
  perSecond: number;
}

export type QuotaAnswer = { ok: true } | { ok: false; retryAfterSeconds: number; reason: "rate" | "daily" };

/** A key's request bucket: tokens left as of `at` (epoch ms). */
export interface BucketState {
  tokens: number;
  at: number;
}

/** A key's numbers used on UTC day `day` (days since the epoch). */
export interface DailyState {
  day: number;
  used: number;
}

export const DAY_MS = 86_400_000;

/** Takes one request token at `now` (epoch ms); when none is left, says how long until one is. */
export function takeRequestToken(
  state: BucketState | undefined,
  now: number,
  limits: RequestLimits,
): { state: BucketState; answer: QuotaAnswer } {
  const previous = state ?? { tokens: limits.burst, at: now };
  const elapsed = Math.max(0, now - previous.at) / 1000;
  const tokens = Math.min(limits.burst, previous.tokens + elapsed * limits.perSecond);
  // The last taker's clock: with processes a few ms apart a bucket may refill a little early,
  // but a clock set back (or a test's) never freezes the refill.
  const at = now;
  if (tokens >= 1) return { state: { tokens: tokens - 1, at }, answer: { ok: true } };
  const wait = (1 - tokens) / limits.perSecond;
  return {
    state: { tokens, at },
    answer: { ok: false, reason: "rate", retryAfterSeconds: Math.max(1, Math.ceil(wait)) },
  };
}

/** Counts `n` numbers against the day's cap at `now`, all or nothing. */
export function takeDailyNumbers(
  state: DailyState | undefined,
  now: number,
  n: number,
  dailyLimit: number,
): { state: DailyState; answer: QuotaAnswer } {
  const day = Math.floor(now / DAY_MS);
  const used = state && state.day === day ? state.used : 0;
  if (used + n > dailyLimit) {
    return {
      state: { day, used },
      answer: {
        ok: false,
        reason: "daily",
        retryAfterSeconds: Math.max(1, Math.ceil(((day + 1) * DAY_MS - now) / 1000)),
      },
    };
  }
  return { state: { day, used: used + n }, answer: { ok: true } };
}

/**
 * What a bucket says about itself at `now`, as the draft IETF RateLimit header fields put it:
 * `limit` the burst, `remaining` the whole requests that may be made at once,
 * `resetSeconds` how long until the bucket is full again (0 when it is).
 */
export interface BucketStatus {
  limit: number;
  remaining: number;
  resetSeconds: number;
}

export function bucketStatus(
  state: BucketState | undefined,
  now: number,
  limits: RequestLimits,
): BucketStatus {
  const previous = state ?? { tokens: limits.burst, at: now };
  const elapsed = Math.max(0, now - previous.at) / 1000;
  const tokens = Math.max(0, Math.min(limits.burst, previous.tokens + elapsed * limits.perSecond));
  return {
    limit: limits.burst,
    remaining: Math.floor(tokens),
    resetSeconds: Math.max(0, Math.ceil((limits.burst - tokens) / limits.perSecond)),
  };
}

/**
 * A bucket brought in line with what a refusal said: no whole token now, and `retryAfterSeconds`
 * until one (the pessimistic reading of a rounded-up wait). For copies of a bucket kept
 * elsewhere (the HTTP layer's view of a store-kept quota).
 */
export function refusedBucket(now: number, retryAfterSeconds: number, limits: RequestLimits): BucketState {
  return { tokens: Math.max(0, 1 - retryAfterSeconds * limits.perSecond), at: now };
}
