/** The real HTTP server on a loopback port: one insurer request end to end over TCP. */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, startApi } from "./harness.js";

describe("HTTP server on a loopback port", () => {
  let api: Api;
  let server: ReturnType<typeof serve>;
  let base: string;

  beforeAll(async () => {
    api = await startApi();
    await api.owner({ phone: "+8613833330000", insurers: ["pingan"] });
    server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: api.app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await api.close();
  });

  it("scrubs a number over TCP", async () => {
    const res = await request(`${base}/v1/scrub`, {
      method: "POST",
      headers: { authorization: `Bearer ${api.creds.pingan!.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ numbers: ["+8613833330000", "+8613833330009"] }),
    });
    expect(res.statusCode).toBe(200);
    const body = (await res.body.json()) as { results: { status: string }[] };
    expect(body.results.map((r) => r.status)).toEqual(["consented", "none"]);
  });

  it("answers 413 to an oversized streamed body and 401 without a key", async () => {
    const big = await request(`${base}/v1/receipts/verify`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jws: "x".repeat(100_000) }),
    });
    expect(big.statusCode).toBe(413);
    await big.body.dump();
    const anon = await request(`${base}/v1/windows`);
    expect(anon.statusCode).toBe(401);
    await anon.body.dump();
  });
});
