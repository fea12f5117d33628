import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type BucketState,
  type DailyState,
  takeDailyNumbers,
  takeRequestToken,
} from "../../src/domain/quota.js";

describe("quota arithmetic", () => {
  it("never lets more requests through than the burst plus the refill over the time taken", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.double({ min: 0.1, max: 10, noNaN: true }),
        fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 200 }),
        (burst, perSecond, gaps) => {
          let state: BucketState | undefined;
          let now = 1_000_000;
          let ok = 0;
          for (const gap of gaps) {
            now += gap;
            const taken = takeRequestToken(state, now, { burst, perSecond });
            state = taken.state;
            if (taken.answer.ok) ok++;
            else expect(taken.answer.retryAfterSeconds).toBeGreaterThanOrEqual(1);
            expect(state.tokens).toBeLessThanOrEqual(burst);
          }
          const span = (now - 1_000_000) / 1000;
          expect(ok).toBeLessThanOrEqual(burst + Math.floor(span * perSecond) + 1);
        },
      ),
    );
  });

  it("counts a day's numbers all or nothing and forgets them the next UTC day", () => {
    const noon = Date.parse("2026-06-01T12:00:00.000Z");
    let state: DailyState | undefined;
    const take = (at: number, n: number) => {
      const r = takeDailyNumbers(state, at, n, 10);
      state = r.state;
      return r.answer;
    };
    expect(take(noon, 7)).toEqual({ ok: true });
    expect(take(noon, 4)).toEqual({ ok: false, reason: "daily", retryAfterSeconds: 12 * 3600 });
    expect(take(noon, 3)).toEqual({ ok: true });
    expect(take(noon + 12 * 3_600_000, 10)).toEqual({ ok: true });
  });
});
