/**
 * Scrub and match keys (DESIGN §5, §6, §9): quota first (a request token per call), then the
 * body (at most 10,000 E.164 numbers, else 413 / 400 with the bad indexes), then the
 * consecutive-run rule and the daily number cap, then one batched look-up.
 */
import { createRoute } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { longestConsecutiveRun, MAX_CONSECUTIVE_RUN } from "../../services/scrub-service.js";
import type { App, AppEnv, RouteContext } from "../context.js";
import { apiError } from "../errors.js";
import { rateLimitHeaders } from "../rate-limit.js";
import { errors, MatchKeyResults, NumbersBody, ScrubResults } from "../schemas.js";

const security = [{ bearerAuth: [] }];

export function registerScrubRoutes(app: App, ctx: RouteContext): void {
  const rateLimit: MiddlewareHandler<AppEnv> = async (c, next) => {
    const answer = await ctx.quota.takeRequest(c.get("insurer").id);
    // Every answer from here on says where the key's request bucket stands (DESIGN §5).
    const headers = rateLimitHeaders(answer.bucket);
    if (!answer.ok) {
      return apiError(c, 429, "rate_limited", "too many requests: slow down", undefined, {
        ...headers,
        "Retry-After": String(answer.retryAfterSeconds),
      });
    }
    await next();
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
    return undefined;
  };
  const middleware: MiddlewareHandler<AppEnv>[] = [ctx.requireInsurer, rateLimit];
  const body = { required: true, content: { "application/json": { schema: NumbersBody } } };

  const scrub = createRoute({
    method: "post",
    path: "/v1/scrub",
    tags: ["scrub"],
    summary: "What this insurer may do about each number: consented, do_not_contact or none",
    description:
      "At most 10,000 E.164 numbers (413 above); a run of more than 100 consecutive numbers is refused (400). Rate-limited per key (SCRUB_RATE) and capped per day (SCRUB_DAILY_LIMIT numbers), together with match keys: 429 with Retry-After. Every answer after the key is checked carries RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset (the key's request bucket, seconds). Every hit is shown to the owner.",
    security,
    middleware,
    request: { body },
    responses: {
      200: {
        description: "One result per number, in order",
        content: { "application/json": { schema: ScrubResults } },
      },
      ...errors(400, 401, 413, 429),
    },
  });
  const matchKeys = createRoute({
    method: "post",
    path: "/v1/match-keys",
    tags: ["scrub"],
    summary: "This insurer's match keys of numbers it holds (to index its own lists)",
    description: "Same limits, quota and audit as scrub.",
    security,
    middleware,
    request: { body },
    responses: {
      200: {
        description: "One match key per number, in order",
        content: { "application/json": { schema: MatchKeyResults } },
      },
      ...errors(400, 401, 413, 429),
    },
  });

  /** The run and daily-cap checks shared by both endpoints; undefined when the request may go on. */
  async function admit(c: Parameters<MiddlewareHandler<AppEnv>>[0], numbers: string[]) {
    const run = longestConsecutiveRun(numbers);
    if (run > MAX_CONSECUTIVE_RUN) {
      return apiError(
        c,
        400,
        "consecutive_run",
        `a run of ${run} consecutive numbers; at most ${MAX_CONSECUTIVE_RUN}`,
        [
          {
            path: "numbers",
            in: "body",
            message: `holds a run of ${run} consecutive numbers (at most ${MAX_CONSECUTIVE_RUN})`,
          },
        ],
      );
    }
    const quota = await ctx.quota.takeNumbers(c.get("insurer").id, numbers.length);
    if (!quota.ok) {
      return apiError(c, 429, "daily_limit", "daily number limit reached for this key", undefined, {
        "Retry-After": String(quota.retryAfterSeconds),
      });
    }
    return undefined;
  }

  app.openapi(scrub, async (c) => {
    const { numbers } = c.req.valid("json");
    const refused = await admit(c, numbers);
    if (refused) return refused;
    ctx.metrics.scrubbedNumbers.inc({ kind: "scrub" }, numbers.length);
    return c.json({ results: await ctx.scrub.scrub(c.get("insurer").id, numbers) }, 200);
  });

  app.openapi(matchKeys, async (c) => {
    const { numbers } = c.req.valid("json");
    const refused = await admit(c, numbers);
    if (refused) return refused;
    ctx.metrics.scrubbedNumbers.inc({ kind: "match_key" }, numbers.length);
    return c.json({ results: await ctx.scrub.matchKeys(c.get("insurer").id, numbers) }, 200);
  });
}
