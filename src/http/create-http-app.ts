/**
 * The HTTP surface (DESIGN §5). This first cut serves health, the JWKS and receipt
 * verification; the insurer API joins it in the insurers issue.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { Services } from "../services/create-services.js";

const VerifyBody = z.object({ jws: z.string().min(1).max(20_000) }).strict();

export function createHttpApp(services: Pick<Services, "store" | "signer">) {
  const app = new Hono();

  app.onError((_err, c) => {
    // Bad input never yields a 5xx; anything reaching here is ours.
    return c.json({ error: { code: "internal", message: "internal error" } }, 500);
  });
  app.notFound((c) => c.json({ error: { code: "not_found", message: "no such route" } }, 404));

  app.get("/healthz", async (c) =>
    (await services.store.ping()) ? c.json({ status: "ok" }) : c.json({ status: "unavailable" }, 503),
  );

  app.get("/.well-known/jwks.json", (c) => c.json(services.signer.jwks()));

  app.post("/v1/receipts/verify", async (c) => {
    const body = await c.req.json().catch(() => undefined);
    const parsed = VerifyBody.safeParse(body);
    if (!parsed.success) {
      return c.json(
        {
          error: {
            code: "validation_failed",
            message: 'body must be {"jws": "<compact JWS>"}',
            details: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
          },
        },
        400,
      );
    }
    const { valid, payload } = await services.signer.verify(parsed.data.jws);
    if (!valid) return c.json({ valid: false, payload: null, revoked: false });
    const receiptId = (payload as { jti?: unknown }).jti;
    const receipt = typeof receiptId === "string" ? await services.store.getReceipt(receiptId) : undefined;
    const revoked = receipt?.revokedAt !== undefined;
    return c.json({ valid: true, payload, revoked });
  });

  return app;
}
