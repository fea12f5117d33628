import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  JITTER,
  MAX_ATTEMPTS,
  MAX_RETRY_AFTER_MS,
  nextAttemptAt,
  parseRetryAfter,
  RETRY_DELAYS_MS,
} from "../../src/delivery/retry-schedule.js";

const DAY = 86_400_000;
const now = new Date("2026-12-01T00:00:00.000Z");

describe("retry schedule", () => {
  it("is the documented table: 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, then 12 h", () => {
    const m = 60_000;
    const h = 60 * m;
    expect(RETRY_DELAYS_MS).toEqual([
      0.5 * m,
      2 * m,
      10 * m,
      30 * m,
      h,
      2 * h,
      4 * h,
      8 * h,
      ...Array(7).fill(12 * h),
    ]);
    expect(MAX_ATTEMPTS).toBe(16);
  });

  it("never shrinks from one retry to the next", () => {
    for (let i = 1; i < RETRY_DELAYS_MS.length; i++) {
      expect(RETRY_DELAYS_MS[i]!).toBeGreaterThanOrEqual(RETRY_DELAYS_MS[i - 1]!);
    }
  });

  it("retries for at least 3 days before dead, whatever the jitter and Retry-After", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), {
          minLength: MAX_ATTEMPTS,
          maxLength: MAX_ATTEMPTS,
        }),
        fc.array(
          fc.option(fc.constantFrom("0", "1", "5", "99999", "garbage", "Wed, 21 Oct 2015 07:28:00 GMT")),
          {
            minLength: MAX_ATTEMPTS,
            maxLength: MAX_ATTEMPTS,
          },
        ),
        (randoms, retryAfters) => {
          let t = now;
          let attempts = 1;
          for (;;) {
            const next = nextAttemptAt(
              attempts,
              t,
              () => randoms[attempts - 1]!,
              retryAfters[attempts - 1] ?? undefined,
            );
            if (next === null) break;
            expect(next.getTime()).toBeGreaterThan(t.getTime());
            t = next;
            attempts++;
          }
          expect(attempts).toBe(MAX_ATTEMPTS);
          expect(t.getTime() - now.getTime()).toBeGreaterThanOrEqual(3 * DAY);
          expect(t.getTime() - now.getTime()).toBeLessThan(6 * DAY);
        },
      ),
    );
  });

  it("keeps each delay within ±20 % of the table", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: RETRY_DELAYS_MS.length }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempts, r) => {
          const base = RETRY_DELAYS_MS[attempts - 1]!;
          const delay = nextAttemptAt(attempts, now, () => r)!.getTime() - now.getTime();
          expect(delay).toBeGreaterThanOrEqual(Math.floor(base * (1 - JITTER)));
          expect(delay).toBeLessThanOrEqual(Math.ceil(base * (1 + JITTER)));
        },
      ),
    );
    expect(nextAttemptAt(1, now, () => 0.5)!.getTime() - now.getTime()).toBe(30_000);
    expect(nextAttemptAt(1, now, () => 0)!.getTime() - now.getTime()).toBe(24_000);
  });

  it("is monotone in the number of attempts for the same jitter", () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (r) => {
        let last = 0;
        for (let a = 1; a <= RETRY_DELAYS_MS.length; a++) {
          const d = nextAttemptAt(a, now, () => r)!.getTime() - now.getTime();
          expect(d).toBeGreaterThanOrEqual(last);
          last = d;
        }
      }),
    );
  });

  it("is exhausted after the last row: dead", () => {
    expect(nextAttemptAt(MAX_ATTEMPTS, now, () => 0.5)).toBeNull();
    expect(nextAttemptAt(MAX_ATTEMPTS + 3, now, () => 0.5)).toBeNull();
    expect(() => nextAttemptAt(0, now, () => 0.5)).toThrow(RangeError);
  });

  it("honours Retry-After as a lower bound, clamped to 1 hour", () => {
    // 30 s from the table, receiver asks for 10 minutes: 10 minutes.
    expect(nextAttemptAt(1, now, () => 0.5, "600")!.getTime() - now.getTime()).toBe(600_000);
    // Asks for a day: clamped to 1 hour.
    expect(nextAttemptAt(1, now, () => 0.5, "86400")!.getTime() - now.getTime()).toBe(MAX_RETRY_AFTER_MS);
    // Asks for less than the table: the table wins (a receiver cannot shorten the 3 days).
    expect(nextAttemptAt(5, now, () => 0.5, "1")!.getTime() - now.getTime()).toBe(3_600_000);
    // HTTP date form.
    const at = new Date(now.getTime() + 120_000).toUTCString();
    expect(nextAttemptAt(1, now, () => 0.5, at)!.getTime() - now.getTime()).toBe(120_000);
    fc.assert(
      fc.property(
        fc.nat({ max: 10 * 86_400 }),
        fc.integer({ min: 1, max: RETRY_DELAYS_MS.length }),
        (secs, a) => {
          const d = nextAttemptAt(a, now, () => 0.5, String(secs))!.getTime() - now.getTime();
          expect(d).toBe(Math.max(RETRY_DELAYS_MS[a - 1]!, Math.min(secs * 1000, MAX_RETRY_AFTER_MS)));
        },
      ),
    );
  });

  it("parses Retry-After leniently", () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter("", now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(["7", "9"], now)).toBe(7000);
    expect(parseRetryAfter(new Date(now.getTime() - 5000).toUTCString(), now)).toBe(0);
  });
});
