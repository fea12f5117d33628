/**
 * When a failed webhook delivery is tried again (DESIGN §6): a fixed table, each delay spread by
 * ±20 % jitter so that many notices failing together do not come back together.
 *
 * | after attempt | waits   | cumulative (no jitter) |
 * | ------------- | ------- | ---------------------- |
 * | 1             | 30 s    | 30 s                   |
 * | 2             | 2 min   | 2.5 min                |
 * | 3             | 10 min  | 12.5 min               |
 * | 4             | 30 min  | 42.5 min               |
 * | 5             | 1 h     | 1 h 42.5 min           |
 * | 6             | 2 h     | 3 h 42.5 min           |
 * | 7             | 4 h     | 7 h 42.5 min           |
 * | 8             | 8 h     | 15 h 42.5 min          |
 * | 9 – 15        | 12 h    | 27 h 42.5 min … 99 h 42.5 min (≈ 4.2 days) |
 * | 16            | —       | dead                   |
 *
 * 16 attempts in all. With the worst jitter (every delay −20 %) the last attempt still comes
 * 79.8 h (3.3 days) after the first, so a notice is retried for at least 3 days before it is
 * marked dead. A `Retry-After` header (seconds or an HTTP date) from the receiver is honoured
 * as a lower bound, clamped to 1 hour: it can postpone a retry, never hasten it, so the 3 days
 * hold whatever the receiver answers.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Delay after the n-th failed attempt (index n − 1). Past the end, the notice is dead. */
export const RETRY_DELAYS_MS: readonly number[] = Object.freeze([
  30 * SECOND,
  2 * MINUTE,
  10 * MINUTE,
  30 * MINUTE,
  1 * HOUR,
  2 * HOUR,
  4 * HOUR,
  8 * HOUR,
  ...Array.from({ length: 7 }, () => 12 * HOUR),
]);

/** Attempts before a notice is dead: the first one plus one per table row. */
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/** Each delay is multiplied by a factor in [1 − JITTER, 1 + JITTER). */
export const JITTER = 0.2;

/** The longest `Retry-After` honoured. */
export const MAX_RETRY_AFTER_MS = HOUR;

/**
 * Parses a `Retry-After` value (delta-seconds or an HTTP date) into milliseconds from `now`,
 * clamped to [0, {@link MAX_RETRY_AFTER_MS}]; undefined when absent or unreadable.
 */
export function parseRetryAfter(header: string | string[] | undefined, now: Date): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  let ms: number;
  if (/^\d+$/.test(text)) {
    ms = Number(text) * SECOND;
  } else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = at - now.getTime();
  }
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

/**
 * When to try again after `attempts` failed attempts (the one just made included, so ≥ 1), or
 * `null` when the schedule is exhausted and the notice is dead.
 * @param random a source in [0, 1) for the jitter (injected so tests are deterministic).
 * @param retryAfterHeader the receiver's `Retry-After`, honoured as a lower bound (≤ 1 h).
 */
export function nextAttemptAt(
  attempts: number,
  now: Date,
  random: () => number,
  retryAfterHeader?: string | string[],
): Date | null {
  if (!Number.isInteger(attempts) || attempts < 1)
    throw new RangeError(`attempts must be ≥ 1, got ${attempts}`);
  const base = RETRY_DELAYS_MS[attempts - 1];
  if (base === undefined) return null;
  const r = Math.min(Math.max(random(), 0), 1);
  const jittered = Math.round(base * (1 + (2 * r - 1) * JITTER));
  const floor = parseRetryAfter(retryAfterHeader, now) ?? 0;
  return new Date(now.getTime() + Math.max(jittered, floor));
}
