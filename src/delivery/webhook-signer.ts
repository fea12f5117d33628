/**
 * Standard Webhooks signing (DESIGN §6): `webhook-id`, `webhook-timestamp` and
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` with the insurer's
 * `whsec_…` secret, byte-equal to what the `standardwebhooks` package computes, so receivers can
 * verify with it.
 *
 * The body is built once per notice from the event (its type, the event time and the data as of
 * that event), so every retry carries the same bytes under the same `webhook-id`; only the
 * `webhook-timestamp` header — the send time, which receivers check against replay — changes.
 */
import { createHmac, createSecretKey, type KeyObject } from "node:crypto";
import { Webhook } from "standardwebhooks";
import type { OutboxType } from "../domain/model.js";

/** How a Standard Webhooks secret is written: `whsec_` + base64 of the key bytes. */
const SECRET_PREFIX = "whsec_";

export interface WebhookBody {
  type: OutboxType;
  /** The event time, ISO 8601 UTC. */
  timestamp: string;
  data: unknown;
}

export interface SignedHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

/** The exact body bytes: `{"type","timestamp","data"}` in that order. */
export function serializeBody(body: WebhookBody): string {
  return JSON.stringify({ type: body.type, timestamp: body.timestamp, data: body.data });
}

/**
 * A signer for the dispatcher's hot path: the same `v1,<base64 HMAC-SHA256>` as the
 * `standardwebhooks` package's `sign`, computed with node:crypto (native) instead of its JavaScript
 * SHA-256, which cost a quarter of a notice's CPU. test/delivery/webhook-signer.test.ts checks
 * byte-equality with the package and that its `verify` accepts every signature. The package
 * still parses each secret (once; the cache is bounded), so a malformed secret fails as before.
 */
export function createWebhookSigner(maxSecrets = 1000) {
  const keys = new Map<string, KeyObject>();
  return (secret: string, webhookId: string, sentAt: Date, payload: string): SignedHeaders => {
    let key = keys.get(secret);
    if (key === undefined) {
      new Webhook(secret);
      if (keys.size >= maxSecrets) keys.clear();
      const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
      key = createSecretKey(Buffer.from(encoded, "base64"));
      keys.set(secret, key);
    }
    const timestamp = String(Math.floor(sentAt.getTime() / 1000));
    const mac = createHmac("sha256", key).update(`${webhookId}.${timestamp}.${payload}`).digest("base64");
    return {
      "webhook-id": webhookId,
      "webhook-timestamp": timestamp,
      "webhook-signature": `v1,${mac}`,
    };
  };
}
