/**
 * Telegram webhook mode (BOT_MODE=webhook, DESIGN §4, §9, §10): grammY's webhook callback on
 * the Hono app, at a path derived from the token that does not reveal it, refusing requests
 * without the right `X-Telegram-Bot-Api-Secret-Token` (401). Many processes behind a load
 * balancer may serve the same path; re-deliveries are dropped by dedupe.ts.
 */
import { createHash } from "node:crypto";
import { type Bot, type Context, webhookCallback } from "grammy";
import type { Env, Hono } from "hono";
import type { Logger } from "pino";
import type { Store } from "../store/store.js";

/** The update kinds the bot handles, in polling and webhook mode alike. */
export const ALLOWED_UPDATES = ["message", "callback_query", "edited_message"] as const;

/** How long one update may take before the webhook answers anyway (it keeps running). */
const HANDLER_TIMEOUT_MS = 10_000;

/** Meta key of the fingerprint of the webhook last set (URL, secret, update kinds). */
const WEBHOOK_META = "bot.webhook";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** `/telegram/<first 16 hex of sha256(token)>`: stable per bot, and no part of the token. */
export function webhookPath(token: string): string {
  return `/telegram/${sha256(token).slice(0, 16)}`;
}

export interface MountWebhookOptions {
  token: string;
  /** TELEGRAM_WEBHOOK_SECRET; requests must carry it as `X-Telegram-Bot-Api-Secret-Token`. */
  secret: string;
  logger: Pick<Logger, "warn">;
  timeoutMs?: number;
}

/**
 * Mounts `POST webhookPath(token)` on `app` and returns the path. Mount before the server
 * starts listening (Hono builds its router on the first request).
 */
export function mountWebhook<C extends Context, E extends Env>(
  app: Hono<E>,
  bot: Bot<C>,
  options: MountWebhookOptions,
): string {
  const path = webhookPath(options.token);
  // Wrong or missing secret: grammY answers 401 before reading the body.
  const handle = webhookCallback(bot, "std/http", {
    secretToken: options.secret,
    // A slow update keeps running after the answer; a re-delivery would be dropped anyway.
    onTimeout: "return",
    timeoutMilliseconds: options.timeoutMs ?? HANDLER_TIMEOUT_MS,
  });
  app.post(path, async (c) => {
    try {
      return await handle(c.req.raw);
    } catch (error) {
      // Handler errors are caught by bot.catch; what is left is a body that is not an update.
      options.logger.warn(
        { err: error instanceof Error ? error.name : String(error) },
        "telegram webhook: unreadable update",
      );
      return c.json({ ok: false, error: "bad update" }, 400);
    }
  });
  return path;
}

export interface EnsureWebhookOptions {
  /** The full public URL: PUBLIC_URL + the webhook path. */
  url: string;
  secret: string;
  token: string;
  store: Pick<Store, "getMeta" | "setMeta">;
}

/**
 * Registers the webhook with Telegram (`setWebhook` with `secret_token`), unless Telegram
 * already has this URL and the store records that it was set with this secret and these update
 * kinds — so N processes starting together do not each call setWebhook, yet a rotated secret
 * is always sent. The fingerprint is keyed with the token: a copy of the store cannot be used
 * to test guesses of the secret.
 * @returns whether setWebhook was called
 */
export async function ensureWebhook<C extends Context>(
  bot: Bot<C>,
  options: EnsureWebhookOptions,
): Promise<boolean> {
  const fingerprint = sha256(
    [options.token, options.url, options.secret, ALLOWED_UPDATES.join(",")].join("\n"),
  ).slice(0, 32);
  const info = await bot.api.getWebhookInfo();
  if (info.url === options.url && (await options.store.getMeta(WEBHOOK_META)) === fingerprint) return false;
  await bot.api.setWebhook(options.url, {
    secret_token: options.secret,
    allowed_updates: [...ALLOWED_UPDATES],
  });
  await options.store.setMeta(WEBHOOK_META, fingerprint);
  return true;
}

/** `PUBLIC_URL` joined with the webhook path (one slash between them). */
export function publicWebhookUrl(publicUrl: string, path: string): string {
  return `${publicUrl.replace(/\/+$/, "")}${path}`;
}
