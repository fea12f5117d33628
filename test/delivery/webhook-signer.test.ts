import fc from "fast-check";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { generateWebhookSecret } from "../../src/crypto/api-key.js";
import { createWebhookSigner, type SignedHeaders } from "../../src/delivery/webhook-signer.js";

/** The reference: the headers the `standardwebhooks` package itself signs (seconds precision). */
function referenceHeaders(secret: string, webhookId: string, sentAt: Date, payload: string): SignedHeaders {
  return {
    "webhook-id": webhookId,
    "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
    "webhook-signature": new Webhook(secret).sign(webhookId, sentAt, payload),
  };
}

describe("webhook signer (dispatcher hot path)", () => {
  const sign = createWebhookSigner();

  it("signs exactly as the standardwebhooks package, and its verify accepts every signature", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.string({ unit: "binary", maxLength: 2000 }),
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        (keyBytes, id, body, ms) => {
          const secret = `whsec_${Buffer.from(keyBytes).toString("base64")}`;
          const at = new Date(ms);
          const headers = sign(secret, id, at, body);
          expect(headers).toEqual(referenceHeaders(secret, id, at, body));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("produces headers a receiver verifies, and that fail for another secret or a changed body", () => {
    const secret = generateWebhookSecret();
    const body = JSON.stringify({
      type: "optout.filed",
      timestamp: "2026-11-28T00:00:00.000Z",
      data: { id: "x" },
    });
    const headers = sign(secret, "msg_1", new Date(), body);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow();
    expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow();
  });

  it("refuses a malformed secret as the package does", () => {
    expect(() => sign("whsec_", "msg_1", new Date(), "{}")).toThrow();
  });
});
