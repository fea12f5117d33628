/**
 * The sandbox answers only loopback peers (DESIGN §9). The peer is the TCP socket's remote
 * address (@hono/node-server's `c.env.incoming`), never a header a client can set; a request
 * without a socket (no node server behind it) is refused. Two more checks keep other web pages
 * in the same browser out: the Host must be a loopback name (DNS rebinding), and a request that
 * changes something must be JSON from the page's own origin (cross-site forms and fetches).
 */
import { isIPv4 } from "node:net";
import type { HttpBindings } from "@hono/node-server";
import type { MiddlewareHandler } from "hono";

export type SandboxEnv = { Bindings: Partial<HttpBindings> };

/** 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.replace(/^::ffff:/i, "");
  if (isIPv4(v4)) return v4.startsWith("127.");
  return address === "::1" || address === "0:0:0:0:0:0:0:1";
}

const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i;

const refuse = (message: string) =>
  new Response(JSON.stringify({ error: { code: "sandbox_forbidden", message } }), {
    status: 403,
    headers: { "content-type": "application/json" },
  });

export interface LoopbackOptions {
  /** Skip the same-origin JSON rule (the webhook receiver: the dispatcher posts there). */
  machine?: boolean;
}

export function loopbackOnly(options: LoopbackOptions = {}): MiddlewareHandler<SandboxEnv> {
  return async (c, next) => {
    const peer = c.env?.incoming?.socket?.remoteAddress;
    if (!isLoopbackAddress(peer)) return refuse("the sandbox answers only loopback peers");
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
