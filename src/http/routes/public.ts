/** Routes without an insurer key: health, JWKS, receipt verification, and operator metrics. */
import { createRoute, z } from "@hono/zod-openapi";
import type { Store } from "../../store/store.js";
import { bearerToken, tokenMatches, unauthorized } from "../auth.js";
import { clientOf } from "../client-address.js";
import type { App, RouteContext } from "../context.js";
import { apiError } from "../errors.js";
import { addressLimiter, VERIFY_RATE } from "../rate-limit.js";
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

const verify = (middleware: ReturnType<typeof addressLimiter>) =>
  createRoute({
    method: "post",
    path: "/v1/receipts/verify",
    tags: ["receipts"],
    summary: "Verify a consent receipt you hold (public)",
    description:
      "Rate-limited per client address: a burst of 30, then 5 a second (429 with Retry-After); every answer carries RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset.",
    middleware: [middleware] as const,
    request: { body: { required: true, content: { "application/json": { schema: VerifyBody } } } },
    responses: {
      200: { description: "Verification result", content: { "application/json": { schema: VerifyResult } } },
      ...errors(400, 413, 429),
    },
  });

const metricsRoute = createRoute({
  method: "get",
  path: "/metrics",
  tags: ["operator"],
  summary:
    "Prometheus metrics; needs METRICS_TOKEN as bearer when that is set, else answers only loopback peers",
  responses: {
    200: { description: "Prometheus text format", content: { "text/plain": { schema: z.string() } } },
    ...errors(401, 403),
  },
});

export function registerPublicRoutes(app: App, ctx: RouteContext): void {
  const { store, signer, config, botUp } = ctx.deps;

  const probe = writeProbe(store);
  app.openapi(health, async (c) => {
    // Every 503 says when to ask again (DESIGN §5), the probe's answer standing a second.
    const retry = { "Retry-After": "1" };
    const reachable = await store.ping().catch(() => false);
    if (!reachable) return c.json({ status: "unavailable", store: "unreachable" }, 503, retry);
    // The bot waiting on Telegram leaves the API and the dispatcher serving: said, not a failure.
    const bot = botUp ? { bot: botUp() ? ("up" as const) : ("starting" as const) } : {};
    if (!(await probe())) return c.json({ status: "unavailable", store: "cannot_write", ...bot }, 503, retry);
    return c.json({ status: "ok", store: "ok", ...bot }, 200);
  });

  app.openapi(jwks, (c) => c.json(signer.jwks() as { keys: Record<string, unknown>[] }, 200));

  const limitVerify = addressLimiter(
    VERIFY_RATE,
    ctx.deps.clock,
    (c) => clientOf(c, config.trustProxy).address,
  );
  app.openapi(verify(limitVerify), async (c) => {
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
    // Without a token the operator's counters are for this machine only (DESIGN §9).
    if (config.metricsToken === undefined && !clientOf(c, config.trustProxy).loopbackPeer) {
      return apiError(c, 403, "forbidden", "without METRICS_TOKEN, /metrics answers only loopback peers");
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
