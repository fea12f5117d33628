/**
 * Standard Webhooks signing (DESIGN §6): `webhook-id`, `webhook-timestamp` and
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` with the insurer's
 * `whsec_…` secret, computed by the `standardwebhooks` package so receivers can verify with it.
 *
 * The body is built once per notice from the event (its type, the event time and the data as of
 * that event), so every retry carries the same bytes under the same `webhook-id`; only the
 * `webhook-timestamp` header — the send time, which receivers check against replay — changes.
 */
import { Webhook } from "standardwebhooks";
import type { OutboxType } from "../domain/model.js";

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

/** Signs `payload` under `webhookId` at `sentAt` (seconds precision, as the spec sends). */
export function signWebhook(secret: string, webhookId: string, sentAt: Date, payload: string): SignedHeaders {
  const signature = new Webhook(secret).sign(webhookId, sentAt, payload);
  return {
    "webhook-id": webhookId,
    "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
    "webhook-signature": signature,
  };
}

/**
 * A signer that keeps one `Webhook` per secret (decoding the secret once), for the dispatcher's
 * hot path. Secrets rotate rarely; the cache is bounded.
 */
export function createWebhookSigner(maxSecrets = 1000) {
  const cache = new Map<string, Webhook>();
  return (secret: string, webhookId: string, sentAt: Date, payload: string): SignedHeaders => {
    let hook = cache.get(secret);
    if (hook === undefined) {
      if (cache.size >= maxSecrets) cache.clear();
      hook = new Webhook(secret);
      cache.set(secret, hook);
    }
    return {
      "webhook-id": webhookId,
      "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
      "webhook-signature": hook.sign(webhookId, sentAt, payload),
    };
  };
}
