/** Routes without an insurer key: health, JWKS, receipt verification, and operator metrics. */
import { createRoute, z } from "@hono/zod-openapi";
import type { Store } from "../../store/store.js";
import { bearerToken, tokenMatches, unauthorized } from "../auth.js";
import type { App, RouteContext } from "../context.js";
import { errors, HealthSchema, JwksSchema, VerifyBody, VerifyResult } from "../schemas.js";

const health = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["operator"],
  summary: "Health: the store answers and takes writes",
  responses: {
    200: { description: "Healthy", content: { "application/json": { schema: HealthSchema } } },
    503: {
      description: "The store does not answer, or refuses writes",
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
  const { store, signer, config, botUp } = ctx.deps;

  const probe = writeProbe(store);
  app.openapi(health, async (c) => {
    const reachable = await store.ping().catch(() => false);
    if (!reachable) return c.json({ status: "unavailable", store: "unreachable" }, 503);
    // The bot waiting on Telegram leaves the API and the dispatcher serving: said, not a failure.
    const bot = botUp ? { bot: botUp() ? ("up" as const) : ("starting" as const) } : {};
    if (!(await probe())) return c.json({ status: "unavailable", store: "cannot_write", ...bot }, 503);
    return c.json({ status: "ok", store: "ok", ...bot }, 200);
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

/** How long one write probe's answer stands: /healthz is public, and polled. */
const PROBE_TTL_MS = 1000;

/**
 * Whether the store takes a write now (a full disk, a Redis refusing writes or a read-only
 * replica answer reads but not this): one small meta write, at most once a second.
 */
function writeProbe(store: Pick<Store, "setMeta">): () => Promise<boolean> {
  let last: { at: number; ok: Promise<boolean> } | undefined;
  return () => {
    const now = performance.now();
    if (last && now - last.at < PROBE_TTL_MS) return last.ok;
    const ok = store.setMeta("healthz_probe", new Date().toISOString()).then(
      () => true,
      () => false,
    );
    last = { at: now, ok };
    return ok;
  };
}
