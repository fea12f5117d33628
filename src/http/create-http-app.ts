/**
 * The HTTP surface (DESIGN §5): the insurer API, receipt verification, JWKS, health and
 * metrics, on @hono/zod-openapi — each route's zod schemas validate its input and generate
 * `GET /openapi.json`. Every error has the shape `{"error":{"code","message","details"?}}`, and
 * bad input never reaches a 5xx: malformed JSON, wrong types, unknown fields, oversized bodies,
 * odd ids and headers each have their 4xx. Contention that outlasts the re-plans is 503 `busy`.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { createMatchKeys } from "../crypto/match-key.js";
import { createMetrics } from "../metrics.js";
import { createAttemptService } from "../services/attempt-service.js";
import { telegramStopLink } from "../services/insurer-views.js";
import { scrubServiceFromKeys } from "../services/scrub-service.js";
import { isStorageUnavailable } from "../store/faults.js";
import { ConflictError } from "../store/store.js";
import { requireInsurer } from "./auth.js";
import { bodyLimit } from "./body-limit.js";
import type { App, AppEnv, HttpDeps, RouteContext } from "./context.js";
import { apiError, describeDetails, zodDetails } from "./errors.js";
import { createQuota } from "./rate-limit.js";
import { registerOptOutRoutes } from "./routes/optouts.js";
import { registerPublicRoutes } from "./routes/public.js";
import { registerScrubRoutes } from "./routes/scrub.js";
import { registerWindowRoutes } from "./routes/windows.js";

export { clientOf, resolveClient } from "./client-address.js";
export { handleClientError, MAX_HEADER_BYTES } from "./client-error.js";
export type { HttpDeps } from "./context.js";

/** Body limits: number lists may be large (10,000 numbers), everything else is small. */
export const BODY_LIMITS = { numbers: 2 * 1024 * 1024, default: 64 * 1024 };

/**
 * Builds the app. `deps` is mostly `Services` (store, signer, keys, clock, config, logger);
 * pass `metrics` to share counters with the dispatcher and bot, and `optOutLink` built from the
 * bot's username.
 */
/** What a 503 `storage_unavailable` asks the client to wait, in seconds. */
const STORAGE_RETRY_AFTER_S = 5;

export function createHttpApp(deps: HttpDeps): App {
  const metrics = deps.metrics ?? createMetrics({ outboxStats: () => deps.store.outboxStats() });
  const matchKey = createMatchKeys(deps.keys.dataKey);
  const ctx: RouteContext = {
    deps,
    metrics,
    attempts: createAttemptService({ store: deps.store, matchKey, clock: deps.clock }),
    scrub: scrubServiceFromKeys(deps.store, deps.keys.dataKey, deps.clock),
    quota: createQuota(deps.config.scrub, deps.clock, deps.store),
    optOutLink: deps.optOutLink ?? telegramStopLink(undefined),
    requireInsurer: requireInsurer(deps.store),
  };

  const app: App = new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (result.success) return undefined;
      const tooMany = result.error.issues.some(
        (i) => i.code === "too_big" && i.path.length === 1 && i.path[0] === "numbers",
      );
      if (result.target === "json" && tooMany) {
        return apiError(c, 413, "too_many_numbers", "at most 10,000 numbers per request");
      }
      const details = zodDetails(result.error, result.target);
      return apiError(c, 400, "validation_failed", describeDetails(details), details);
    },
  });

  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      const status = err.status;
      if (status === 413) return apiError(c, 413, "payload_too_large", "request body too large");
      if (status === 415) {
        return apiError(
          c,
          400,
          "unsupported_media_type",
          "send the body as JSON (Content-Type: application/json)",
        );
      }
      if (status === 400) {
        return apiError(c, 400, "malformed_json", "the request body is not valid JSON", [
          { path: "", in: "body", message: "malformed JSON" },
        ]);
      }
      if (status < 500) return apiError(c, status, "bad_request", err.message || "bad request");
    }
    if (err instanceof ConflictError) {
      // The owner changed under every re-plan (attempt-service.ts): contention, not a fault of
      // the request or the service, so the client may simply try again shortly.
      deps.logger?.warn({ path: c.req.path }, "owner busy: re-plans exhausted");
      return apiError(c, 503, "busy", "this owner's records are busy: retry shortly", undefined, {
        "Retry-After": "1",
      });
    }
    if (isStorageUnavailable(err)) {
      // A full disk, a Redis refusing writes, a store out of reach: nothing was written, and the
      // same request will work once the store does (DESIGN §9), so say so instead of "internal".
      deps.logger?.warn({ path: c.req.path, err: (err as Error).message }, "store unavailable");
      return apiError(
        c,
        503,
        "storage_unavailable",
        "the store cannot take this right now: retry shortly",
        undefined,
        {
          "Retry-After": String(STORAGE_RETRY_AFTER_S),
        },
      );
    }
    deps.logger?.error(
      { err: { name: (err as Error).name, message: (err as Error).message, stack: (err as Error).stack } },
      "http handler failed",
    );
    return apiError(c, 500, "internal", "internal error");
  });
  app.notFound((c) => apiError(c, 404, "not_found", "no such route"));

  // Windows (owner phone, name, vehicle, code), scrub and match-key results, opt-outs' match
  // keys and receipt payloads are personal data (DESIGN §5): nothing under /v1/ is kept by a
  // cache, nor is any error (which may echo what was sent).
  app.use("*", async (c, next) => {
    await next();
    if (c.req.path.startsWith("/v1/") || c.res.status >= 400) c.res.headers.set("Cache-Control", "no-store");
  });

  // An oversized body is drained before its 413 so the connection stays usable (body-limit.ts).
  const numbersLimit = bodyLimit(BODY_LIMITS.numbers);
  const defaultLimit = bodyLimit(BODY_LIMITS.default);
  const limitBodies: MiddlewareHandler<AppEnv> = (c, next) =>
    c.req.path === "/v1/scrub" || c.req.path === "/v1/match-keys"
      ? numbersLimit(c, next)
      : defaultLimit(c, next);
  app.use("*", limitBodies);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "The insurer's API key (`onewindow insurer add` prints it once)",
  });
  registerPublicRoutes(app, ctx);
  registerWindowRoutes(app, ctx);
  registerOptOutRoutes(app, ctx);
  registerScrubRoutes(app, ctx);

  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/openapi.json",
    tags: ["operator"],
    summary: "This document (OpenAPI 3.1)",
    responses: { 200: { description: "OpenAPI 3.1 document" } },
  });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "onewindow insurer API",
      version: "1.0.0",
      description:
        'Consented contact windows, opt-out notices, scrub and match keys. Errors are {"error":{"code","message","details"?}}.',
    },
  });
  return app;
}
