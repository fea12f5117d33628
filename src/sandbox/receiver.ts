/**
 * The built-in loopback webhook receiver of each sandbox insurer (`POST /sandbox/hooks/<id>`):
 * checks the Standard Webhooks signature with the insurer's current secret, answers 2xx only
 * when it holds, and keeps the last deliveries in memory for the console — one entry per
 * `webhook-id`, so retries of one notice show as one line with a count.
 */
import { Webhook } from "standardwebhooks";
import type { Store } from "../store/store.js";

export interface ReceivedDelivery {
  webhookId: string;
  type: string;
  /** `data.id` of the event (the window or opt-out id). */
  subjectId?: string;
  /** Whether the signature was valid (only valid deliveries are answered 2xx). */
  verified: boolean;
  /** Why verification failed. */
  error?: string;
  /** How many times this webhook-id arrived (retries share it). */
  count: number;
  firstAt: string;
  lastAt: string;
  /** The event body (sandbox data only). */
  body?: unknown;
}

export interface HookReceiver {
  /** Handles one delivery; returns the HTTP status to answer. */
  receive(insurerId: string, rawBody: string, headers: Record<string, string>): Promise<number>;
  /** Newest first. */
  list(insurerId: string): ReceivedDelivery[];
}

export function createHookReceiver(store: Store, keep = 100, now = () => new Date()): HookReceiver {
  const byInsurer = new Map<string, ReceivedDelivery[]>();

  return {
    async receive(insurerId, rawBody, headers) {
      const insurer = await store.getInsurer(insurerId);
      // Only sandbox insurers have a receiver here; anything else is not ours to show.
      if (!insurer?.sandbox || insurer.removedAt) return 404;
      const secrets = await store.getInsurerSecrets(insurerId);
      let verified = false;
      let error: string | undefined;
      let body: unknown;
      try {
        body = new Webhook(secrets?.webhookSecret ?? "").verify(rawBody, headers);
        verified = true;
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
        try {
          body = JSON.parse(rawBody) as unknown;
        } catch {
          body = undefined;
        }
      }
      const event = (body ?? {}) as { type?: unknown; data?: { id?: unknown } };
      const webhookId = headers["webhook-id"] ?? "(none)";
      const at = now().toISOString();
      const list = byInsurer.get(insurerId) ?? [];
      const existing = list.find((d) => d.webhookId === webhookId);
      if (existing) {
        existing.count += 1;
        existing.lastAt = at;
        existing.verified = verified;
        existing.error = error;
      } else {
        list.unshift({
          webhookId,
          type: typeof event.type === "string" ? event.type : "(unknown)",
          ...(typeof event.data?.id === "string" ? { subjectId: event.data.id } : {}),
          verified,
          ...(error ? { error } : {}),
          count: 1,
          firstAt: at,
          lastAt: at,
          body,
        });
        if (list.length > keep) list.length = keep;
      }
      byInsurer.set(insurerId, list);
      return verified ? 204 : 400;
    },
    list: (insurerId) => [...(byInsurer.get(insurerId) ?? [])],
  };
}
