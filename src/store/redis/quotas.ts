/**
 * Scrub quotas on Redis: one small hash per key (`tokens`, `at`, `day`, `used`) changed by one
 * Lua script per take, so every process sharing the server draws on the same quota. The steps
 * are those of domain/quota.ts (the contract suite checks both stores answer alike); numbers
 * travel as strings because Lua turns a returned float into an integer. Idle keys expire.
 */
import { DAY_MS, type QuotaAnswer } from "../../domain/quota.js";
import type { Store } from "../store.js";
import { luaScript, type RedisCommands } from "./commands.js";

type QuotaPart = Pick<Store, "takeQuotaRequest" | "takeQuotaNumbers">;

/** Two days: a bucket refills within seconds, a day's count matters for one day. */
const TTL_MS = 2 * DAY_MS;

const TAKE_REQUEST = luaScript(
  "quota-request",
  `
local now, burst, rate = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]), tonumber(state[2])
if tokens == nil or at == nil then tokens, at = burst, now end
tokens = math.min(burst, tokens + math.max(0, now - at) / 1000 * rate)
at = now
local taken = 0
if tokens >= 1 then tokens, taken = tokens - 1, 1 end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%d', at))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {taken, string.format('%.17g', tokens)}
`,
);

const TAKE_NUMBERS = luaScript(
  "quota-numbers",
  `
local day, n, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'day', 'used')
local used = 0
if tonumber(state[1]) == day then used = tonumber(state[2]) or 0 end
if used + n > limit then return 0 end
redis.call('HSET', KEYS[1], 'day', day, 'used', used + n)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`,
);

/** `quotaKey(key)` names the hash of one quota key (its own hash tag). */
export function createQuotaPart(redis: RedisCommands, quotaKey: (key: string) => string): QuotaPart {
  return {
    async takeQuotaRequest(key, now, limits): Promise<QuotaAnswer> {
      const [taken, left] = (await redis.eval(
        TAKE_REQUEST,
        [quotaKey(key)],
        [now, limits.burst, limits.perSecond, TTL_MS],
      )) as [number | string, string];
      if (Number(taken) === 1) return { ok: true };
      const wait = (1 - Number(left)) / limits.perSecond;
      return { ok: false, reason: "rate", retryAfterSeconds: Math.max(1, Math.ceil(wait)) };
    },
    async takeQuotaNumbers(key, now, n, dailyLimit): Promise<QuotaAnswer> {
      const day = Math.floor(now / DAY_MS);
      const ok = await redis.eval(TAKE_NUMBERS, [quotaKey(key)], [day, n, dailyLimit, TTL_MS]);
      if (Number(ok) === 1) return { ok: true };
      return {
        ok: false,
        reason: "daily",
        retryAfterSeconds: Math.max(1, Math.ceil(((day + 1) * DAY_MS - now) / 1000)),
      };
    },
  };
}
