/** Routes without an insurer key: health, JWKS, receipt verification, and operator metrics. */
import { createRoute, z } from "@hono/zod-openapi";
import { bearerToken, tokenMatches, unauthorized } from "../auth.js";
import type { App, RouteContext } from "../context.js";
import { errors, HealthSchema, JwksSchema, VerifyBody, VerifyResult } from "../schemas.js";

const health = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["operator"],
  summary: "Liveness: the store answers",
  responses: {
    200: { description: "Healthy", content: { "application/json": { schema: HealthSchema } } },
    503: {
      description: "The store does not answer",
      content: { "application/json": { schema: HealthSchema } },
    },
  },
});

const jwks = createRoute({
  method: "get",
  path: "/.well-known/jwks.json",
  tags: ["receipts"],
  summary: "Public keys that verify consent receipts (EdDSA, with kid)",
  responses: { 200: { description: "JWKS", content: { "application/json": { schema: JwksSchema } } } },
});

const verify = createRoute({
  method: "post",
  path: "/v1/receipts/verify",
  tags: ["receipts"],
  summary: "Verify a consent receipt you hold (public)",
  request: { body: { required: true, content: { "application/json": { schema: VerifyBody } } } },
  responses: {
    200: { description: "Verification result", content: { "application/json": { schema: VerifyResult } } },
    ...errors(400, 413),
  },
});

const metricsRoute = createRoute({
  method: "get",
  path: "/metrics",
  tags: ["operator"],
  summary: "Prometheus metrics; needs METRICS_TOKEN as bearer when that is set",
  responses: {
    200: { description: "Prometheus text format", content: { "text/plain": { schema: z.string() } } },
    ...errors(401),
  },
});

export function registerPublicRoutes(app: App, ctx: RouteContext): void {
  const { store, signer, config } = ctx.deps;

  app.openapi(health, async (c) => {
    const ok = await store.ping().catch(() => false);
    return ok ? c.json({ status: "ok" }, 200) : c.json({ status: "unavailable" }, 503);
  });

  app.openapi(jwks, (c) => c.json(signer.jwks() as { keys: Record<string, unknown>[] }, 200));

  app.openapi(verify, async (c) => {
    const { jws } = c.req.valid("json");
    const { valid, payload } = await signer.verify(jws);
    if (!valid) return c.json({ valid: false, payload: null, revoked: false }, 200);
    const receiptId = (payload as { jti?: unknown } | null)?.jti;
    const receipt = typeof receiptId === "string" ? await store.getReceipt(receiptId) : undefined;
    return c.json({ valid: true, payload: payload ?? null, revoked: receipt?.revokedAt !== undefined }, 200);
  });

  app.openapi(metricsRoute, async (c) => {
    if (config.metricsToken !== undefined && !tokenMatches(bearerToken(c), config.metricsToken)) {
      return unauthorized(c, "metrics need the METRICS_TOKEN bearer token");
    }
    const text = await ctx.metrics.registry.metrics();
    return c.text(text, 200, { "Content-Type": ctx.metrics.registry.contentType });
  });
}
