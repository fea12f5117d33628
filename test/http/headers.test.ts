/**
 * Response headers every endpoint keeps (DESIGN §5), in-process: `Cache-Control: no-store` on
 * everything under /v1/ and on every error, and the draft IETF RateLimit fields on the quota'd
 * routes (scrub and match keys per key, receipt verification per client address).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, startApi, T0 } from "./harness.js";

const PHONE = "+8613844440000";

describe("response headers", () => {
  let api: Api;
  let windowId: string;
  let jws: string;

  beforeAll(async () => {
    api = await startApi();
    const state = await api.owner({
      phone: PHONE,
      name: "Lin Wei",
      vehicle: "沪A 12345",
      insurers: ["pingan"],
    });
    jws = state.receipts[0]!.jws!;
    windowId = (await api.json("pingan", "GET", "/v1/windows?status=open")).body.data[0].id;
  });
  afterAll(() => api.close());

  it("sends Cache-Control: no-store on every /v1 answer, success or error, and on every error", async () => {
    const answers = [
      await api.call("pingan", "GET", "/v1/windows?status=open"),
      await api.call("pingan", "GET", `/v1/windows/${windowId}`),
      await api.call("pingan", "POST", `/v1/windows/${windowId}/ack`),
      await api.call("pingan", "GET", "/v1/optouts"),
      await api.call("pingan", "POST", "/v1/scrub", { numbers: [PHONE] }),
      await api.call("pingan", "POST", "/v1/match-keys", { numbers: [PHONE] }),
      await api.call(null, "POST", "/v1/receipts/verify", { jws }),
      // Errors: 401, 404, 400, malformed JSON, 413, and an unknown route outside /v1.
      await api.call(null, "GET", "/v1/windows"),
      await api.call("pingan", "GET", "/v1/windows/nope"),
      await api.call("pingan", "POST", "/v1/scrub", { numbers: ["12"] }),
      await api.call("pingan", "POST", "/v1/scrub", "{"),
      await api.call(null, "POST", "/v1/receipts/verify", { jws: "x".repeat(100_000) }),
      await api.call(null, "GET", "/nowhere"),
    ];
    expect(answers.map((r) => r.status)).toEqual([
      200, 200, 200, 200, 200, 200, 200, 401, 404, 400, 400, 413, 404,
    ]);
    for (const res of answers) expect(res.headers.get("cache-control"), res.url).toBe("no-store");
    // The personal data was there to keep out of caches.
    expect(await answers[1]!.text()).toContain("Lin Wei");
  });

  it("puts RateLimit-Limit/Remaining/Reset on every scrub and match-keys answer, and Retry-After on 429", async () => {
    const app = api.appWith({
      config: { ...api.services.config, scrub: { burst: 3, perSecond: 0.5, dailyLimit: 1_000_000 } },
    });
    const post = (path: string, numbers: string[] = [PHONE]) =>
      app.request(path, {
        method: "POST",
        headers: { authorization: `Bearer ${api.creds.picc!.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ numbers }),
      });
    const fields = (res: Response) =>
      ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "retry-after"].map((h) =>
        res.headers.get(h),
      );
    api.setNow(new Date(T0.getTime() + 5 * 3_600_000));
    try {
      const first = await post("/v1/scrub");
      expect(first.status).toBe(200);
      // A burst of 3 at 0.5 a second: 2 left, full again in 2 s.
      expect(fields(first)).toEqual(["3", "2", "2", null]);
      const invalid = await post("/v1/match-keys", ["12"]);
      expect(invalid.status).toBe(400);
      expect(fields(invalid)).toEqual(["3", "1", "4", null]);
      const third = await post("/v1/scrub");
      expect(fields(third)).toEqual(["3", "0", "6", null]);
      const refused = await post("/v1/scrub");
      expect(refused.status).toBe(429);
      expect(fields(refused)).toEqual(["3", "0", "6", "2"]);
      // Two seconds later one request is back.
      api.setNow(new Date(T0.getTime() + 5 * 3_600_000 + 2000));
      const again = await post("/v1/match-keys");
      expect(again.status).toBe(200);
      expect(fields(again)).toEqual(["3", "0", "6", null]);
    } finally {
      api.setNow(T0);
    }
  });

  it("carries them on a daily-cap 429 too, with Retry-After until UTC midnight", async () => {
    const app = api.appWith({
      config: { ...api.services.config, scrub: { burst: 100, perSecond: 100, dailyLimit: 1 } },
    });
    api.setNow(new Date(T0.getTime() + 3 * 86_400_000));
    try {
      const post = () =>
        app.request("/v1/scrub", {
          method: "POST",
          headers: { authorization: `Bearer ${api.creds.cpic!.apiKey}`, "content-type": "application/json" },
          body: JSON.stringify({ numbers: [PHONE] }),
        });
      expect((await post()).status).toBe(200);
      const over = await post();
      expect(over.status).toBe(429);
      expect(((await over.json()) as { error: { code: string } }).error.code).toBe("daily_limit");
      expect(over.headers.get("retry-after")).toBe(String(13.5 * 3600));
      expect(over.headers.get("ratelimit-limit")).toBe("100");
      expect(over.headers.get("ratelimit-remaining")).toBe("98");
      expect(over.headers.get("ratelimit-reset")).toBe("1");
    } finally {
      api.setNow(T0);
    }
  });

  it("limits receipt verification per client address: a burst of 30, then 5 a second", async () => {
    const app = api.appWith({});
    const verify = () =>
      app.request("/v1/receipts/verify", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jws }),
      });
    const first = await verify();
    expect(first.status).toBe(200);
    expect(first.headers.get("ratelimit-limit")).toBe("30");
    expect(first.headers.get("ratelimit-remaining")).toBe("29");
    for (let i = 0; i < 29; i++) expect((await verify()).status).toBe(200);
    const refused = await verify();
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(refused.headers.get("ratelimit-remaining")).toBe("0");
    expect(refused.headers.get("ratelimit-reset")).toBe("6");
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
    api.setNow(new Date(T0.getTime() + 1000));
    try {
      const statuses = [];
      for (let i = 0; i < 6; i++) statuses.push((await verify()).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    } finally {
      api.setNow(T0);
    }
  });

  it("says Retry-After on /healthz's 503s too", async () => {
    const store = api.services.store;
    const down = api.appWith({ store: Object.assign(Object.create(store), { ping: async () => false }) });
    const unreachable = await down.request("/healthz");
    expect(unreachable.status).toBe(503);
    expect(unreachable.headers.get("retry-after")).toBe("1");
    const readOnly = api.appWith({
      store: Object.assign(Object.create(store), {
        setMeta: async () => {
          throw new Error("SQLITE_READONLY");
        },
      }),
    });
    const cannotWrite = await readOnly.request("/healthz");
    expect(await cannotWrite.json()).toMatchObject({ store: "cannot_write" });
    expect(cannotWrite.headers.get("retry-after")).toBe("1");
  });
});
