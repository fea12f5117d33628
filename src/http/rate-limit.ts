/**
 * Scrub and match-key quotas (DESIGN §4 `SCRUB_RATE`, `SCRUB_DAILY_LIMIT`; §9): per insurer, a
 * token bucket of requests (burst, then a steady rate) and a daily cap on numbers, shared by
 * both endpoints — and, being kept in the store, by every process serving the API, so N
 * processes behind a load balancer do not multiply what one key may look up.
 *
 * The `RateLimit-*` headers (DESIGN §5) describe the request bucket. The store answers only
 * "taken" or "refused, wait n s", so this process keeps its own copy of each key's bucket, run
 * by the same arithmetic (domain/quota.ts) on the same clock and set back whenever the store
 * refuses: with one process it is the store's bucket exactly; with several sharing a store,
 * `RateLimit-Remaining` may be higher than what is left, and the store's 429 decides.
 *
 * Also the receipt-verify limiter (public, keyed on the client address): in memory, per process.
 */
import type { Context, MiddlewareHandler } from "hono";
import {
  type BucketState,
  type BucketStatus,
  bucketStatus,
  type QuotaAnswer,
  type RequestLimits,
  refusedBucket,
  takeRequestToken,
} from "../domain/quota.js";
import type { Store } from "../store/store.js";
import { apiError } from "./errors.js";

export type { QuotaAnswer } from "../domain/quota.js";

export interface QuotaConfig extends RequestLimits {
  /** Numbers per insurer per UTC day. */
  dailyLimit: number;
}

/** A request-token answer with the bucket as it stands after it. */
export type RequestAnswer = QuotaAnswer & { bucket: BucketStatus };

/** At most this many buckets kept in memory; the least recently used go first (a full burst again). */
const MAX_BUCKETS = 10_000;

/** Per-key buckets in memory, least recently used first in the map's order. */
function bucketMap() {
  const buckets = new Map<string, BucketState>();
  return {
    get: (key: string) => buckets.get(key),
    set(key: string, state: BucketState) {
      buckets.delete(key);
      buckets.set(key, state);
      if (buckets.size > MAX_BUCKETS) buckets.delete(buckets.keys().next().value as string);
    },
  };
}

export function createQuota(
  config: QuotaConfig,
  clock: () => Date,
  store: Pick<Store, "takeQuotaRequest" | "takeQuotaNumbers">,
) {
  const seen = bucketMap();
  return {
    /** Takes one request token; when none is left, says how long until one is. */
    async takeRequest(key: string): Promise<RequestAnswer> {
      const now = clock().getTime();
      const answer = await store.takeQuotaRequest(key, now, config);
      const local = takeRequestToken(seen.get(key), now, config);
      // Taken in the store: this copy takes it too (an empty copy stays empty). Refused: the copy
      // has no whole token either, and the store's wait.
      const state = answer.ok
        ? local.answer.ok
          ? local.state
          : { tokens: 0, at: now }
        : refusedBucket(now, answer.retryAfterSeconds, config);
      seen.set(key, state);
      return { ...answer, bucket: bucketStatus(state, now, config) };
    },
    /** Counts `n` numbers against today's cap, all or nothing. */
    takeNumbers(key: string, n: number): Promise<QuotaAnswer> {
      return store.takeQuotaNumbers(key, clock().getTime(), n, config.dailyLimit);
    },
  };
}

export type Quota = ReturnType<typeof createQuota>;

/** The draft IETF RateLimit header fields (seconds) of a bucket. */
export function rateLimitHeaders(bucket: BucketStatus): Record<string, string> {
  return {
    "RateLimit-Limit": String(bucket.limit),
    "RateLimit-Remaining": String(bucket.remaining),
    "RateLimit-Reset": String(bucket.resetSeconds),
  };
}

/**
 * `POST /v1/receipts/verify` is public, so it is limited per client address instead of per key:
 * a burst of 30 (a CRM checking a batch of receipts at once), then 5 a second — plenty for a
 * person or a nightly check, little for someone hammering the signature check or the store.
 * In memory, per process: each process behind a load balancer allows this much.
 */
export const VERIFY_RATE: RequestLimits = { burst: 30, perSecond: 5 };

/** A per-address limiter middleware; `keyOf` gives the client's address (undefined: no socket). */
export function addressLimiter(
  limits: RequestLimits,
  clock: () => Date,
  keyOf: (c: Context) => string | undefined,
): MiddlewareHandler {
  const buckets = bucketMap();
  return async (c, next) => {
    const key = keyOf(c) ?? "unknown";
    const now = clock().getTime();
    const taken = takeRequestToken(buckets.get(key), now, limits);
    buckets.set(key, taken.state);
    const headers = rateLimitHeaders(bucketStatus(taken.state, now, limits));
    if (!taken.answer.ok) {
      return apiError(c, 429, "rate_limited", "too many requests from this address: slow down", undefined, {
        ...headers,
        "Retry-After": String(taken.answer.retryAfterSeconds),
      });
    }
    await next();
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
    return undefined;
  };
}
