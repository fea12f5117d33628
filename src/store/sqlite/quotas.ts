/**
 * Scrub quotas kept in the file (domain/quota.ts does the arithmetic): each take reads and
 * writes a key's row under the write lock, so processes sharing the file share the quota.
 */
import { type BucketState, type DailyState, takeDailyNumbers, takeRequestToken } from "../../domain/quota.js";
import type { Store } from "../store.js";
import type { SqliteContext } from "./context.js";
import { prepared, whenWritable } from "./db.js";

type QuotaPart = Pick<Store, "takeQuotaRequest" | "takeQuotaNumbers">;

interface QuotaRow {
  tokens: number | null;
  at: number | null;
  day: number | null;
  used: number | null;
}

export function createQuotaPart({ db }: SqliteContext): QuotaPart {
  const read = prepared(db, "SELECT tokens, at, day, used FROM quotas WHERE key = ?");
  const writeBucket = prepared(
    db,
    `INSERT INTO quotas (key, tokens, at) VALUES (@key, @tokens, @at)
     ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, at = excluded.at`,
  );
  const writeDaily = prepared(
    db,
    `INSERT INTO quotas (key, day, used) VALUES (@key, @day, @used)
     ON CONFLICT (key) DO UPDATE SET day = excluded.day, used = excluded.used`,
  );
  const row = (key: string) => read.get(key) as QuotaRow | undefined;

  const takeRequest = db.transaction(
    (key: string, now: number, limits: Parameters<QuotaPart["takeQuotaRequest"]>[2]) => {
      const r = row(key);
      const state: BucketState | undefined =
        r?.tokens != null && r.at != null ? { tokens: r.tokens, at: r.at } : undefined;
      const taken = takeRequestToken(state, now, limits);
      writeBucket.run({ key, ...taken.state });
      return taken.answer;
    },
  );
  const takeNumbers = db.transaction((key: string, now: number, n: number, dailyLimit: number) => {
    const r = row(key);
    const state: DailyState | undefined =
      r?.day != null && r.used != null ? { day: r.day, used: r.used } : undefined;
    const taken = takeDailyNumbers(state, now, n, dailyLimit);
    if (taken.answer.ok) writeDaily.run({ key, ...taken.state });
    return taken.answer;
  });

  return {
    async takeQuotaRequest(key, now, limits) {
      return whenWritable(db, takeRequest, key, now, limits);
    },
    async takeQuotaNumbers(key, now, n, dailyLimit) {
      return whenWritable(db, takeNumbers, key, now, n, dailyLimit);
    },
  };
}
