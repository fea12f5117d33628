/**
 * The sandbox answers only loopback peers (DESIGN §9), as src/http/client-address.ts decides
 * them: the TCP socket's remote address (@hono/node-server's `c.env.incoming`), never a header a
 * client can set, and no `Forwarded`/`X-Forwarded-For` unless the socket is a `TRUST_PROXY`
 * proxy (then its forwarded client must be loopback); a request without a socket (no node
 * server behind it) is refused. Two more checks keep other web pages
 * in the same browser out: the Host must be a loopback name (DNS rebinding), and a request that
 * changes something must be JSON from the page's own origin (cross-site forms and fetches).
 */
import type { HttpBindings } from "@hono/node-server";
import type { MiddlewareHandler } from "hono";
import { clientOf } from "../http/client-address.js";

export { isLoopbackAddress } from "../http/client-address.js";

export type SandboxEnv = { Bindings: Partial<HttpBindings> };

const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i;

const refuse = (message: string) =>
  new Response(JSON.stringify({ error: { code: "sandbox_forbidden", message } }), {
    status: 403,
    headers: { "content-type": "application/json" },
  });

export interface LoopbackOptions {
  /** Skip the same-origin JSON rule (the webhook receiver: the dispatcher posts there). */
  machine?: boolean;
  /** `TRUST_PROXY`: reverse proxies whose forwarded client address is believed. */
  trustProxy?: readonly string[];
}

export function loopbackOnly(options: LoopbackOptions = {}): MiddlewareHandler<SandboxEnv> {
  return async (c, next) => {
    if (!clientOf(c, options.trustProxy ?? []).loopbackPeer) {
      return refuse("the sandbox answers only loopback peers");
    }
    const host = c.req.header("host") ?? "";
    if (!LOOPBACK_HOST.test(host)) return refuse("the sandbox answers only loopback host names");
    if (!options.machine && c.req.method !== "GET" && c.req.method !== "HEAD") {
      const origin = c.req.header("origin");
      if (origin !== undefined && origin !== `${new URL(c.req.url).protocol}//${host}`) {
        return refuse("cross-origin requests are refused");
      }
      if (!/^application\/json\b/i.test(c.req.header("content-type") ?? "")) {
        return refuse("send JSON (Content-Type: application/json)");
      }
    }
    await next();
    return undefined;
  };
}
