/**
 * Scrub and match-key quotas (DESIGN §4 `SCRUB_RATE`, `SCRUB_DAILY_LIMIT`; §9): per insurer, a
 * token bucket of requests (burst, then a steady rate) and a daily cap on numbers, shared by
 * both endpoints — and, being kept in the store, by every process serving the API, so N
 * processes behind a load balancer do not multiply what one key may look up.
 */
import type { QuotaAnswer, RequestLimits } from "../domain/quota.js";
import type { Store } from "../store/store.js";

export type { QuotaAnswer } from "../domain/quota.js";

export interface QuotaConfig extends RequestLimits {
  /** Numbers per insurer per UTC day. */
  dailyLimit: number;
}

export function createQuota(
  config: QuotaConfig,
  clock: () => Date,
  store: Pick<Store, "takeQuotaRequest" | "takeQuotaNumbers">,
) {
  return {
    /** Takes one request token; when none is left, says how long until one is. */
    takeRequest(key: string): Promise<QuotaAnswer> {
      return store.takeQuotaRequest(key, clock().getTime(), config);
    },
    /** Counts `n` numbers against today's cap, all or nothing. */
    takeNumbers(key: string, n: number): Promise<QuotaAnswer> {
      return store.takeQuotaNumbers(key, clock().getTime(), n, config.dailyLimit);
    },
  };
}

export type Quota = ReturnType<typeof createQuota>;
