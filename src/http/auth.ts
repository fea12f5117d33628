/**
 * Insurer authentication: `Authorization: Bearer <apiKey>`. The key is hashed, the insurer found
 * by hash, and the hash compared again in constant time; a removed insurer's or rotated key
 * answers 401 at once (the store no longer finds it).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { apiKeyMatches, hashApiKey } from "../crypto/api-key.js";
import type { Store } from "../store/store.js";
import type { AppEnv } from "./context.js";
import { apiError } from "./errors.js";

/** The bearer token of a request, or undefined when the header is absent or not `Bearer x`. */
export function bearerToken(c: Context): string | undefined {
  const header = c.req.header("authorization");
  if (header === undefined || header.length > 1024) return undefined;
  const match = /^Bearer +([\x21-\x7e]+) *$/i.exec(header);
  return match?.[1];
}

export function unauthorized(c: Context, message = "missing or wrong API key") {
  return apiError(c, 401, "unauthorized", message, undefined, {
    "WWW-Authenticate": 'Bearer realm="onewindow"',
  });
}

export function requireInsurer(
  store: Pick<Store, "findInsurerByApiKeyHash" | "getInsurerSecrets">,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const key = bearerToken(c);
    if (key === undefined) return unauthorized(c);
    const insurer = await store.findInsurerByApiKeyHash(hashApiKey(key));
    if (!insurer || insurer.removedAt !== undefined) return unauthorized(c);
    const secrets = await store.getInsurerSecrets(insurer.id);
    if (!secrets || !apiKeyMatches(key, secrets.apiKeyHash)) return unauthorized(c);
    c.set("insurer", insurer);
    return next();
  };
}

/** Constant-time comparison of a presented token with the configured one. */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const a = createHash("sha256").update(presented).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}
