/**
 * The cross-cutting contract of DESIGN §5: the error shape for bad input (never a 5xx, even
 * for hostile input), the OpenAPI document, the public routes and /metrics.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetrics } from "../../src/metrics.js";
import { type Api, startApi } from "./harness.js";

const PHONE = "+8613822220000";

describe("insurer API contract", () => {
  let api: Api;
  let windowId: string;

  beforeAll(async () => {
    api = await startApi();
    const state = await api.owner({ phone: PHONE, insurers: ["pingan"] });
    windowId = state.windows[0]!.id;
  });
  afterAll(() => api.close());

  describe("400 naming the fields", () => {
    it("malformed JSON", async () => {
      const res = await api.json("pingan", "POST", "/v1/scrub", '{"numbers": [');
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("malformed_json");
      const verify = await api.json(null, "POST", "/v1/receipts/verify", "not json");
      expect(verify.status).toBe(400);
    });

    it("wrong types", async () => {
      const res = await api.json("pingan", "POST", "/v1/scrub", { numbers: "+8613822220000" });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        error: { code: "validation_failed", details: [{ path: "numbers", in: "body" }] },
      });
      expect(res.body.error.message).toContain("numbers");
      const notObject = await api.json("pingan", "POST", "/v1/scrub", [1, 2]);
      expect(notObject.status).toBe(400);
      const missing = await api.json("pingan", "POST", "/v1/match-keys", {});
      expect(missing.body.error.details.map((d: { path: string }) => d.path)).toEqual(["numbers"]);
    });

    it("unknown fields, each by name", async () => {
      const res = await api.json("pingan", "POST", "/v1/scrub", { numbers: [PHONE], dryRun: true, extra: 1 });
      expect(res.status).toBe(400);
      const details = res.body.error.details as { path: string; message: string }[];
      expect(details.map((d) => d.path).sort()).toEqual(["dryRun", "extra"]);
      expect(details[0]!.message).toBe("unknown field");
      const verify = await api.json(null, "POST", "/v1/receipts/verify", { jws: "a.b.c", kid: "x" });
      expect(verify.body.error.details.map((d: { path: string }) => d.path)).toEqual(["kid"]);
    });

    it("a body that is not JSON at all", async () => {
      const res = await api.json("pingan", "POST", "/v1/scrub", "numbers=1", {
        "content-type": "text/plain",
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("unsupported_media_type");
    });
  });

  it("413 for an oversized body", async () => {
    const big = JSON.stringify({ jws: "x".repeat(200_000) });
    const res = await api.json(null, "POST", "/v1/receipts/verify", big);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("payload_too_large");
    const huge = await api.json(
      "pingan",
      "POST",
      "/v1/scrub",
      `{"numbers":[${'"+8613800000000",'.repeat(200_000)}]}`,
    );
    expect(huge.status).toBe(413);
  });

  it("404 in the error shape for unknown routes", async () => {
    const res = await api.json("pingan", "GET", "/v1/nothing");
    expect(res).toMatchObject({ status: 404, body: { error: { code: "not_found" } } });
  });

  it("never answers a 5xx to hostile input", async () => {
    const paths = fc.constantFrom(
      "/v1/windows",
      `/v1/windows/${windowId}`,
      `/v1/windows/${windowId}/ack`,
      `/v1/windows/${windowId}/attempts`,
      "/v1/optouts",
      "/v1/optouts/x/ack",
      "/v1/scrub",
      "/v1/match-keys",
      "/v1/receipts/verify",
      "/healthz",
      "/metrics",
      "/openapi.json",
    );
    const suffix = fc.oneof(
      fc.constant(""),
      fc.string({ maxLength: 40 }).map((s) => `/${encodeURIComponent(s)}`),
      fc.constantFrom(
        "/%",
        "/%ZZ",
        "/..%2F..",
        "/%00",
        "?limit=%",
        "?after=%E0%A4%A",
        "?limit=1e400",
        "?status[]=open",
      ),
      fc
        .dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 20 }), { maxKeys: 3 })
        .map((q) => `?${new URLSearchParams(q).toString()}`),
    );
    const json = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc
        .record({
          numbers: fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.constant(PHONE)), {
            maxLength: 20,
          }),
        })
        .map((v) => JSON.stringify(v)),
      fc
        .record(
          {
            channel: fc.oneof(fc.constantFrom("call", "sms", "email", "telegram"), fc.string()),
            outcome: fc.oneof(fc.constantFrom("answered", "unanswered", "refused"), fc.integer()),
            at: fc.oneof(
              fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
              fc.string(),
            ),
          },
          { requiredKeys: [] },
        )
        .map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 200 }),
      fc.constantFrom(
        "",
        "{",
        "[",
        "null",
        '{"__proto__":{"x":1}}',
        '{"constructor":{"prototype":{}}}',
        "\u0000",
      ),
    );
    const token = fc.oneof(
      fc.constant("pingan"),
      fc.constant("picc"),
      fc.constant(null),
      fc.stringMatching(/^[\x21-\x7e]{0,60}$/),
    );
    const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,80}$/);

    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH"),
        paths,
        suffix,
        fc.option(json, { nil: undefined }),
        token,
        fc.option(
          fc.constantFrom(
            "application/json",
            "text/plain",
            "application/json; charset=utf-8",
            "multipart/form-data",
            "",
          ),
          { nil: undefined },
        ),
        fc.option(headerValue, { nil: undefined }),
        async (method, path, tail, body, who, contentType, idemKey) => {
          const headers: Record<string, string> = {};
          if (who === "pingan" || who === "picc") headers.authorization = `Bearer ${api.creds[who]!.apiKey}`;
          else if (who !== null) headers.authorization = `Bearer ${who}`;
          if (contentType !== undefined) headers["content-type"] = contentType;
          if (idemKey !== undefined) headers["idempotency-key"] = idemKey;
          const res = await api.app.request(`${path}${tail}`, {
            method,
            headers,
            ...(body !== undefined && method !== "GET" ? { body } : {}),
          });
          if (res.status >= 500) {
            throw new Error(`${method} ${path}${tail} → ${res.status}: ${await res.text()}`);
          }
          if (res.status >= 400) {
            const err = (await res.json()) as { error?: { code?: unknown; message?: unknown } };
            expect(typeof err.error?.code).toBe("string");
            expect(typeof err.error?.message).toBe("string");
          }
        },
      ),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 400) },
    );
  });

  it("serves an OpenAPI 3.1 document listing every path, generated from the schemas", async () => {
    const res = await api.json(null, "GET", "/openapi.json");
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe("3.1.0");
    expect(Object.keys(res.body.paths).sort()).toEqual(
      [
        "/.well-known/jwks.json",
        "/healthz",
        "/metrics",
        "/openapi.json",
        "/v1/match-keys",
        "/v1/optouts",
        "/v1/optouts/{id}/ack",
        "/v1/receipts/verify",
        "/v1/scrub",
        "/v1/windows",
        "/v1/windows/{id}",
        "/v1/windows/{id}/ack",
        "/v1/windows/{id}/attempts",
      ].sort(),
    );
    const attempts = res.body.paths["/v1/windows/{id}/attempts"].post;
    expect(attempts.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual(
      expect.arrayContaining(["path:id", "header:idempotency-key"]),
    );
    expect(Object.keys(attempts.responses)).toEqual(expect.arrayContaining(["201", "409", "503"]));
    expect(attempts.responses["409"].description).toContain("idempotency_key_reused");
    const limit = res.body.paths["/v1/windows"].get.parameters.find(
      (p: { name: string }) => p.name === "limit",
    );
    expect(limit).toMatchObject({ in: "query", required: false });
    expect(limit.schema).toMatchObject({ type: "integer", minimum: 1, maximum: 500, default: 100 });
    const numbers = res.body.components.schemas.Numbers;
    expect(numbers.properties.numbers.maxItems).toBe(10_000);
    expect(numbers.additionalProperties).toBe(false);
    expect(res.body.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
  });

  it("serves health, JWKS and receipt verification (valid, then revoked) without a key", async () => {
    expect(await api.json(null, "GET", "/healthz")).toMatchObject({ status: 200, body: { status: "ok" } });
    const jwks = await api.json(null, "GET", "/.well-known/jwks.json");
    expect(jwks.body.keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA" });

    const state = await api.owner({ phone: "+8613822220001", insurers: ["picc"] });
    const jws = state.receipts.find((r) => r.insurerId === "picc")!.jws!;
    const valid = await api.json(null, "POST", "/v1/receipts/verify", { jws });
    expect(valid.body).toMatchObject({ valid: true, revoked: false });
    expect(valid.body.payload.jti).toBe(state.receipts[0]!.id);
    await api.services.owners.stop(state.owner.id, { insurerId: "picc" }, "owner_request");
    expect((await api.json(null, "POST", "/v1/receipts/verify", { jws })).body).toMatchObject({
      valid: true,
      revoked: true,
    });
    const forged = await api.json(null, "POST", "/v1/receipts/verify", { jws: `${jws.slice(0, -4)}AAAA` });
    expect(forged.body).toEqual({ valid: false, payload: null, revoked: false });
  });

  it("serves /metrics as Prometheus text, with no personal data", async () => {
    await api.json("pingan", "POST", "/v1/scrub", { numbers: [PHONE] });
    // Without METRICS_TOKEN only a loopback peer is answered: a request as from a local socket.
    const res = await api.app.request(
      "/metrics",
      {},
      { incoming: { socket: { remoteAddress: "127.0.0.1" } } },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    for (const name of [
      "onewindow_deliveries_total",
      "onewindow_retry_backlog",
      "onewindow_dead_notices",
      "onewindow_scrubbed_numbers_total",
      "onewindow_bot_updates_total",
      "onewindow_bot_errors_total",
    ]) {
      expect(text).toContain(`# TYPE ${name}`);
    }
    expect(text).toMatch(/onewindow_outbox_pending \d+/);
    expect(text).not.toContain("13822220000");
  });

  it("needs the METRICS_TOKEN bearer when one is set", async () => {
    const metrics = createMetrics({ outboxStats: async () => ({ pending: 4, retrying: 2, dead: 1 }) });
    metrics.recordDelivery("optout.filed", "delivered");
    const app = api.appWith({ metrics, config: { ...api.services.config, metricsToken: "s3cret-token" } });
    expect((await app.request("/metrics")).status).toBe(401);
    const wrong = await app.request("/metrics", { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    const ok = await app.request("/metrics", { headers: { authorization: "Bearer s3cret-token" } });
    expect(ok.status).toBe(200);
    const text = await ok.text();
    expect(text).toContain("onewindow_retry_backlog 2");
    expect(text).toContain("onewindow_dead_notices 1");
    expect(text).toContain('onewindow_deliveries_total{type="optout.filed",outcome="delivered"} 1');
  });
});
