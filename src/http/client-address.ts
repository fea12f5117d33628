/**
 * Who is asking (DESIGN §9): the one place that decides a request's client address and whether
 * it is a loopback peer. The client is the TCP socket's remote address (@hono/node-server's
 * `c.env.incoming`) — never a header a client can set — unless that socket is a reverse proxy
 * named in `TRUST_PROXY`: then it is the right-most address of `X-Forwarded-For` (or, without
 * it, of `Forwarded: for=`) that is not itself a trusted proxy, since each proxy appends the
 * address it saw and only the ones we trust can be believed.
 *
 * A "loopback peer" is a loopback client address, and — unless the socket is a trusted proxy —
 * a request carrying no `Forwarded`/`X-Forwarded-For` at all: a reverse proxy on the same host
 * connects from 127.0.0.1 on behalf of the whole internet, so its requests are not local.
 * Used by `/metrics` (without METRICS_TOKEN), the sandbox and the receipt-verify limiter.
 */
import { isIP, isIPv4 } from "node:net";
import type { Context } from "hono";

/** 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.replace(/^::ffff:/i, "");
  if (isIPv4(v4)) return v4.startsWith("127.");
  return address === "::1" || address === "0:0:0:0:0:0:0:1";
}

/** One spelling per address: IPv4-mapped IPv6 as IPv4, IPv6 in lower case. */
export function normalizeAddress(address: string): string {
  const trimmed = address.trim();
  const v4 = trimmed.replace(/^::ffff:/i, "");
  if (isIPv4(v4)) return v4;
  return trimmed.toLowerCase();
}

export interface ClientRequest {
  /** The socket's remote address; undefined without a socket (an in-process request). */
  peer: string | undefined;
  /** The raw `X-Forwarded-For` header, if any. */
  forwardedFor?: string | undefined;
  /** The raw `Forwarded` header (RFC 7239), if any. */
  forwarded?: string | undefined;
}

export interface ClientAddress {
  /** The client's address as decided above; undefined when there is no socket. */
  address: string | undefined;
  /** DESIGN §9's loopback peer. */
  loopbackPeer: boolean;
}

/** The `for=` values of a `Forwarded` header, in order (quotes, brackets and ports removed). */
function forwardedFor(header: string): string[] {
  const out: string[] = [];
  for (const element of header.split(",")) {
    for (const pair of element.split(";")) {
      const eq = pair.indexOf("=");
      if (eq < 0 || pair.slice(0, eq).trim().toLowerCase() !== "for") continue;
      let value = pair
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, "$1");
      const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
      if (bracketed) value = bracketed[1]!;
      else if (/^[^:]+:\d+$/.test(value)) value = value.slice(0, value.lastIndexOf(":"));
      out.push(value);
    }
  }
  return out;
}

/** The addresses a trusted proxy says the request passed through, client first. */
function forwardedChain(req: ClientRequest): string[] {
  if (req.forwardedFor !== undefined && req.forwardedFor.trim() !== "") {
    return req.forwardedFor
      .split(",")
      .map((a) => a.trim())
      .filter((a) => a !== "");
  }
  if (req.forwarded !== undefined) return forwardedFor(req.forwarded);
  return [];
}

/** Decides the client address and loopback peer of a request (see the module comment). */
export function resolveClient(req: ClientRequest, trustProxy: readonly string[]): ClientAddress {
  if (req.peer === undefined) return { address: undefined, loopbackPeer: false };
  const peer = normalizeAddress(req.peer);
  const trusted = new Set(trustProxy.map(normalizeAddress));
  const forwarding = req.forwardedFor !== undefined || req.forwarded !== undefined;
  if (!trusted.has(peer)) {
    return { address: peer, loopbackPeer: isLoopbackAddress(peer) && !forwarding };
  }
  // The socket is a trusted proxy: walk its chain from the right, past the proxies we trust.
  let address = peer;
  for (const hop of forwardedChain(req).reverse()) {
    const normal = isIP(normalizeAddress(hop)) === 0 ? hop : normalizeAddress(hop);
    address = normal;
    if (!trusted.has(normal)) break;
  }
  return { address, loopbackPeer: isLoopbackAddress(address) && isIP(address) !== 0 };
}

/** The socket's remote address of a request served by @hono/node-server, if any. */
export function socketPeer(c: Context): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress;
}

/** {@link resolveClient} for a Hono request. */
export function clientOf(c: Context, trustProxy: readonly string[]): ClientAddress {
  return resolveClient(
    {
      peer: socketPeer(c),
      forwardedFor: c.req.header("x-forwarded-for"),
      forwarded: c.req.header("forwarded"),
    },
    trustProxy,
  );
}
