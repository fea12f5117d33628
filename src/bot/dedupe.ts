/**
 * Each Telegram update is handled once (DESIGN §11). Telegram re-delivers an update when a
 * webhook answer is slow or fails, and behind a load balancer the repeat may reach another
 * process: the claim lives in the shared store, so it holds across processes.
 */
import type { Context, MiddlewareFn } from "grammy";
import type { Logger } from "pino";
import type { Store } from "../store/store.js";

/** How long an update id stays claimed: far longer than Telegram keeps re-delivering one. */
export const UPDATE_CLAIM_TTL_MS = 24 * 60 * 60 * 1000;

export interface DedupeOptions {
  ttlMs?: number;
  logger?: Pick<Logger, "debug">;
}

/**
 * Middleware that claims `update_id` in the store and drops the update when it was already
 * claimed. Install it first, before anything with side effects. The claim is taken before
 * handling: an update whose handling fails is not retried by a re-delivery.
 */
export function dedupeUpdates<C extends Context>(
  store: Pick<Store, "claimUpdate">,
  options: DedupeOptions = {},
): MiddlewareFn<C> {
  const ttlMs = options.ttlMs ?? UPDATE_CLAIM_TTL_MS;
  return async (ctx, next) => {
    const updateId: unknown = ctx.update.update_id;
    // A malformed update without an id cannot be a re-delivery of anything: handle it.
    if (typeof updateId !== "number" || !Number.isSafeInteger(updateId)) return next();
    if (!(await store.claimUpdate(updateId, ttlMs))) {
      options.logger?.debug({ updateId }, "duplicate update dropped");
      return;
    }
    await next();
  };
}
