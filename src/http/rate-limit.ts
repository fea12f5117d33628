/**
 * Scrub and match-key quotas (DESIGN §4 `SCRUB_RATE`, `SCRUB_DAILY_LIMIT`; §9): per insurer, a
 * token bucket of requests (burst, then a steady rate) and a daily cap on numbers, shared by
 * both endpoints. In memory with an injected clock; a later issue moves it to the shared store.
 */

export interface QuotaConfig {
  /** Requests allowed at once. */
  burst: number;
  /** Requests refilled per second. */
  perSecond: number;
  /** Numbers per insurer per UTC day. */
  dailyLimit: number;
}

export type QuotaAnswer = { ok: true } | { ok: false; retryAfterSeconds: number; reason: "rate" | "daily" };

const DAY_MS = 86_400_000;

export function createQuota(config: QuotaConfig, clock: () => Date) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const daily = new Map<string, { day: number; used: number }>();

  return {
    /** Takes one request token; when none is left, says how long until one is. */
    takeRequest(key: string): QuotaAnswer {
      const now = clock().getTime();
      const b = buckets.get(key) ?? { tokens: config.burst, at: now };
      const elapsed = Math.max(0, now - b.at) / 1000;
      b.tokens = Math.min(config.burst, b.tokens + elapsed * config.perSecond);
      b.at = now;
      buckets.set(key, b);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return { ok: true };
      }
      const wait = (1 - b.tokens) / config.perSecond;
      return { ok: false, reason: "rate", retryAfterSeconds: Math.max(1, Math.ceil(wait)) };
    },

    /** Counts `n` numbers against today's cap, all or nothing. */
    takeNumbers(key: string, n: number): QuotaAnswer {
      const now = clock().getTime();
      const day = Math.floor(now / DAY_MS);
      const d = daily.get(key);
      const used = d && d.day === day ? d.used : 0;
      if (used + n > config.dailyLimit) {
        return {
          ok: false,
          reason: "daily",
          retryAfterSeconds: Math.max(1, Math.ceil(((day + 1) * DAY_MS - now) / 1000)),
        };
      }
      daily.set(key, { day, used: used + n });
      return { ok: true };
    },
  };
}

export type Quota = ReturnType<typeof createQuota>;
