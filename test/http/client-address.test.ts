/**
 * Who is asking (DESIGN §9): the client address and "loopback peer" as client-address.ts
 * decides them, and what uses them on a real port — /metrics without METRICS_TOKEN and the
 * receipt-verify limiter — with and without TRUST_PROXY.
 */
import http from "node:http";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { resolveClient } from "../../src/http/client-address.js";
import { type Api, startApi } from "./harness.js";
import { listen, send } from "./listen.js";

describe("client address", () => {
  it("is the socket's address unless the socket is a trusted proxy", () => {
    expect(resolveClient({ peer: "127.0.0.1" }, [])).toEqual({ address: "127.0.0.1", loopbackPeer: true });
    expect(resolveClient({ peer: "::ffff:127.0.0.1" }, [])).toEqual({
      address: "127.0.0.1",
      loopbackPeer: true,
    });
    expect(resolveClient({ peer: "::1" }, [])).toEqual({ address: "::1", loopbackPeer: true });
    expect(resolveClient({ peer: "198.51.100.7" }, [])).toEqual({
      address: "198.51.100.7",
      loopbackPeer: false,
    });
    // No socket (an in-process request): nobody, never loopback.
    expect(resolveClient({ peer: undefined }, ["127.0.0.1"])).toEqual({
      address: undefined,
      loopbackPeer: false,
    });
    // A forwarding header from an untrusted socket is not believed, and makes it not loopback.
    expect(resolveClient({ peer: "127.0.0.1", forwardedFor: "203.0.113.9" }, [])).toEqual({
      address: "127.0.0.1",
      loopbackPeer: false,
    });
    expect(resolveClient({ peer: "127.0.0.1", forwarded: "for=127.0.0.1" }, []).loopbackPeer).toBe(false);
    expect(resolveClient({ peer: "127.0.0.1", forwardedFor: "127.0.0.1" }, ["10.0.0.1"]).loopbackPeer).toBe(
      false,
    );
  });

  it("behind a trusted proxy, is the right-most untrusted forwarded address", () => {
    const trust = ["127.0.0.1", "10.0.0.2"];
    expect(resolveClient({ peer: "127.0.0.1", forwardedFor: "203.0.113.9" }, trust)).toEqual({
      address: "203.0.113.9",
      loopbackPeer: false,
    });
    // A client's own X-Forwarded-For is to the left of what the proxies appended.
    expect(
      resolveClient({ peer: "::ffff:127.0.0.1", forwardedFor: "127.0.0.1, 203.0.113.9, 10.0.0.2" }, trust)
        .address,
    ).toBe("203.0.113.9");
    expect(
      resolveClient(
        { peer: "127.0.0.1", forwarded: 'for="[2001:db8::17]:4711";proto=https, for=10.0.0.2' },
        trust,
      ).address,
    ).toBe("2001:db8::17");
    expect(resolveClient({ peer: "127.0.0.1", forwarded: "for=198.51.100.3:1234" }, trust).address).toBe(
      "198.51.100.3",
    );
    // The proxy itself asking (no header), or forwarding a local client: loopback.
    expect(resolveClient({ peer: "127.0.0.1" }, trust)).toEqual({ address: "127.0.0.1", loopbackPeer: true });
    expect(resolveClient({ peer: "127.0.0.1", forwardedFor: "::1" }, trust)).toEqual({
      address: "::1",
      loopbackPeer: true,
    });
    // Garbage in the chain is the client, and not loopback.
    expect(resolveClient({ peer: "127.0.0.1", forwardedFor: "unknown" }, trust)).toEqual({
      address: "unknown",
      loopbackPeer: false,
    });
  });
});

describe("loopback peers and forwarded clients on a real port", () => {
  let agent: http.Agent;
  beforeEach(() => {
    agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  });
  afterEach(() => agent.destroy());

  describe("without TRUST_PROXY", () => {
    let api: Api;
    let server: Awaited<ReturnType<typeof listen>>;
    beforeAll(async () => {
      api = await startApi();
      server = await listen(api.app.fetch);
    });
    afterAll(async () => {
      await server.close();
      await api.close();
    });

    it("answers /metrics to a loopback peer without forwarding headers", async () => {
      const res = await send(agent, server.port, "GET", "/metrics");
      expect(res.status).toBe(200);
      expect(res.body).toContain("# TYPE onewindow_deliveries_total");
    });

    it("refuses /metrics with 403 forbidden when a forwarding header is present", async () => {
      for (const headers of [{ "x-forwarded-for": "203.0.113.9" }, { forwarded: "for=127.0.0.1" }] as Record<
        string,
        string
      >[]) {
        const res = await send(agent, server.port, "GET", "/metrics", { headers });
        expect(res.status).toBe(403);
        expect(JSON.parse(res.body)).toMatchObject({ error: { code: "forbidden" } });
        expect(res.headers["cache-control"]).toBe("no-store");
      }
    });

    it("keys the verify limiter on the socket, whatever X-Forwarded-For says", async () => {
      const verify = (xff: string) =>
        send(agent, server.port, "POST", "/v1/receipts/verify", {
          headers: { "content-type": "application/json", "x-forwarded-for": xff },
          body: JSON.stringify({ jws: "a.b.c" }),
        });
      const statuses: number[] = [];
      for (let i = 0; i < 31; i++) statuses.push((await verify(`203.0.113.${i}`)).status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(30);
      expect(statuses[30]).toBe(429);
    });
  });

  describe("with TRUST_PROXY=127.0.0.1", () => {
    let api: Api;
    let server: Awaited<ReturnType<typeof listen>>;
    beforeAll(async () => {
      api = await startApi({ env: { TRUST_PROXY: "127.0.0.1" } });
      server = await listen(api.app.fetch);
    });
    afterAll(async () => {
      await server.close();
      await api.close();
    });

    it("sees the forwarded client: /metrics refused for 203.0.113.9, answered for the proxy itself", async () => {
      const forwarded = await send(agent, server.port, "GET", "/metrics", {
        headers: { "x-forwarded-for": "203.0.113.9" },
      });
      expect(forwarded.status).toBe(403);
      expect((await send(agent, server.port, "GET", "/metrics")).status).toBe(200);
    });

    it("keys the verify limiter on the forwarded client", async () => {
      const verify = (xff: string) =>
        send(agent, server.port, "POST", "/v1/receipts/verify", {
          headers: { "content-type": "application/json", "x-forwarded-for": xff },
          body: JSON.stringify({ jws: "a.b.c" }),
        });
      for (let i = 0; i < 30; i++) expect((await verify("203.0.113.9")).status).toBe(200);
      const refused = await verify("203.0.113.9");
      expect(refused.status).toBe(429);
      expect(refused.headers["retry-after"]).toBe("1");
      expect(refused.headers["ratelimit-remaining"]).toBe("0");
      // A spoofed left-most entry does not change who the client is; another client has its own bucket.
      expect((await verify("198.51.100.1, 203.0.113.9")).status).toBe(429);
      const other = await verify("203.0.113.10");
      expect(other.status).toBe(200);
      expect(other.headers["ratelimit-remaining"]).toBe("29");
    });
  });
});
