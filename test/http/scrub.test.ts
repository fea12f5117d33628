import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetrics } from "../../src/metrics.js";
import { type Api, startApi, T0 } from "./harness.js";

const CONSENTED = "+8613811110000";
const SCHEDULED = "+8613811110001";
const STOPPED = "+8613811110002";
const UNKNOWN = "+8613899999999";

describe("scrub and match keys", () => {
  let api: Api;
  let consentedOwner: string;
  let consentedWindow: string;
  let scheduledOpensAt: string;

  beforeAll(async () => {
    api = await startApi();
    const a = await api.owner({ phone: CONSENTED, insurers: ["pingan"] });
    consentedOwner = a.owner.id;
    consentedWindow = a.windows[0]!.id;
    const b = await api.owner({
      phone: SCHEDULED,
      insurers: ["pingan"],
      renewalDate: "2026-09-30",
      daysBefore: 30,
    });
    scheduledOpensAt = b.windows[0]!.opensAt;
    const c = await api.owner({ phone: STOPPED, insurers: ["pingan"] });
    await api.services.owners.stop(c.owner.id, { insurerId: "pingan" }, "owner_request");
  });
  afterAll(() => api.close());

  it("answers consented, do_not_contact (with until) and none, in order", async () => {
    const res = await api.json("pingan", "POST", "/v1/scrub", {
      numbers: [CONSENTED, SCHEDULED, STOPPED, UNKNOWN, CONSENTED],
    });
    expect(res.status).toBe(200);
    const yearLater = new Date(T0.getTime() + 365 * 86_400_000).toISOString();
    expect(res.body.results).toEqual([
      { number: CONSENTED, status: "consented", windowId: consentedWindow },
      { number: SCHEDULED, status: "do_not_contact", until: scheduledOpensAt },
      { number: STOPPED, status: "do_not_contact", until: yearLater },
      { number: UNKNOWN, status: "none" },
      { number: CONSENTED, status: "consented", windowId: consentedWindow },
    ]);

    // For another insurer the consented owner is an opt-out (not chosen), for a year.
    const picc = await api.json("picc", "POST", "/v1/scrub", { numbers: [CONSENTED, UNKNOWN] });
    expect(picc.body.results).toEqual([
      { number: CONSENTED, status: "do_not_contact", until: yearLater },
      { number: UNKNOWN, status: "none" },
    ]);
  });

  it("stays consented whatever the hour, and is do_not_contact once the window closed", async () => {
    api.setNow(new Date("2026-07-01T19:00:00.000Z")); // 03:00 in Shanghai
    try {
      const night = await api.json("pingan", "POST", "/v1/scrub", { numbers: [CONSENTED] });
      expect(night.body.results[0].status).toBe("consented");
      api.setNow(new Date("2026-08-01T00:00:00.000Z"));
      const closed = await api.json("pingan", "POST", "/v1/scrub", { numbers: [CONSENTED] });
      expect(closed.body.results[0]).toEqual({ number: CONSENTED, status: "do_not_contact" });
    } finally {
      api.setNow(T0);
    }
  });

  it("audits every hit against the owner (both endpoints), and nothing for unknown numbers", async () => {
    const since = new Date(T0.getTime() - 1000).toISOString();
    await api.json("cpic", "POST", "/v1/scrub", { numbers: [CONSENTED, UNKNOWN] });
    await api.json("cpic", "POST", "/v1/match-keys", { numbers: [CONSENTED, UNKNOWN] });
    const hits = (await api.services.store.listScrubHits(consentedOwner, since)).filter(
      (h) => h.insurerId === "cpic",
    );
    expect(
      hits
        .map((h) => ({ insurerId: h.insurerId, kind: h.kind, answer: h.answer }))
        .sort((x, y) => x.kind.localeCompare(y.kind)),
    ).toEqual([
      { insurerId: "cpic", kind: "match_key", answer: "match_key" },
      { insurerId: "cpic", kind: "scrub", answer: "do_not_contact" },
    ]);
    for (const h of hits) expect(JSON.stringify(h)).not.toContain(CONSENTED.slice(1));
  });

  it("gives the opt-out's match key for that insurer, and another for another insurer", async () => {
    const feed = await api.json("picc", "GET", "/v1/optouts?limit=500");
    const state = await api.services.store.getOwnerState(consentedOwner);
    const optOut = state.optOuts.find((o) => o.insurerId === "picc")!;
    const inFeed = feed.body.data.find((o: { id: string }) => o.id === optOut.id);
    expect(inFeed.matchKey).toBe(optOut.matchKey);
    expect(JSON.stringify(feed.body)).not.toContain(CONSENTED.slice(1));

    const picc = await api.json("picc", "POST", "/v1/match-keys", { numbers: [CONSENTED] });
    expect(picc.status).toBe(200);
    expect(picc.body.results).toEqual([{ number: CONSENTED, matchKey: inFeed.matchKey }]);
    expect(picc.body.results[0].matchKey).toMatch(/^[0-9a-f]{64}$/);
    const pingan = await api.json("pingan", "POST", "/v1/match-keys", { numbers: [CONSENTED] });
    expect(pingan.body.results[0].matchKey).not.toBe(inFeed.matchKey);
  });

  it("413 for 10,001 numbers; 10,000 are fine", async () => {
    const numbers = Array.from({ length: 10_001 }, (_, i) => `+86138${String(i * 7919).padStart(8, "0")}`);
    const tooMany = await api.json("pingan", "POST", "/v1/scrub", { numbers });
    expect(tooMany.status).toBe(413);
    expect(tooMany.body.error.code).toBe("too_many_numbers");
    expect((await api.json("pingan", "POST", "/v1/match-keys", { numbers })).status).toBe(413);
    const ok = await api.json("pingan", "POST", "/v1/scrub", { numbers: numbers.slice(0, 10_000) });
    expect(ok.status).toBe(200);
    expect(ok.body.results).toHaveLength(10_000);
  });

  it("400 with the indexes of bad numbers", async () => {
    const res = await api.json("pingan", "POST", "/v1/scrub", {
      numbers: [
        CONSENTED,
        "13800138000",
        "+0123456789",
        8613800138000,
        "+86 138 0013 8000",
        UNKNOWN,
        "+1234",
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { index: number }) => d.index)).toEqual([1, 2, 3, 4, 6]);
    expect(res.body.error.details[0]).toMatchObject({ path: "numbers.1", in: "body" });
  });

  it("400 for a run of more than 100 consecutive numbers; 100 are fine", async () => {
    const run = (n: number, start = 13900000000) =>
      Array.from({ length: n }, (_, i) => `+86${start + i}`).reverse();
    const refused = await api.json("pingan", "POST", "/v1/scrub", { numbers: [UNKNOWN, ...run(101)] });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe("consecutive_run");
    expect((await api.json("pingan", "POST", "/v1/match-keys", { numbers: run(101) })).status).toBe(400);
    const ok = await api.json("pingan", "POST", "/v1/scrub", {
      numbers: [...run(100), ...run(100, 13700000000)],
    });
    expect(ok.status).toBe(200);
  });

  it("429 with Retry-After when flooded (request rate), shared by both endpoints, per insurer", async () => {
    const app = api.appWith({
      config: { ...api.services.config, scrub: { burst: 2, perSecond: 1, dailyLimit: 1_000_000 } },
    });
    const post = (insurer: string, path: string) =>
      app.request(path, {
        method: "POST",
        headers: {
          authorization: `Bearer ${api.creds[insurer]!.apiKey}`,
          "content-type": "application/json",
        },
        body: JSON.stringify({ numbers: [UNKNOWN] }),
      });
    // Quotas live in the store, which earlier tests used at T0: an hour later the bucket is full.
    const later = new Date(T0.getTime() + 3_600_000);
    api.setNow(later);
    expect((await post("pingan", "/v1/scrub")).status).toBe(200);
    expect((await post("pingan", "/v1/match-keys")).status).toBe(200);
    const flooded = await post("pingan", "/v1/scrub");
    expect(flooded.status).toBe(429);
    expect(flooded.headers.get("retry-after")).toBe("1");
    expect(((await flooded.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
    expect((await post("picc", "/v1/scrub")).status).toBe(200);
    api.setNow(new Date(later.getTime() + 1000));
    try {
      expect((await post("pingan", "/v1/scrub")).status).toBe(200);
    } finally {
      api.setNow(T0);
    }
  });

  it("one quota per key across every API process on the store (two apps here)", async () => {
    const scrub = { burst: 3, perSecond: 1, dailyLimit: 1_000_000 };
    const apps = [1, 2].map(() => api.appWith({ config: { ...api.services.config, scrub } }));
    const post = (i: number) =>
      apps[i % 2]!.request("/v1/scrub", {
        method: "POST",
        headers: { authorization: `Bearer ${api.creds.picc!.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ numbers: [UNKNOWN] }),
      });
    api.setNow(new Date(T0.getTime() + 2 * 3_600_000));
    try {
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await post(i)).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
    } finally {
      api.setNow(T0);
    }
  });

  it("429 with Retry-After at the daily number cap", async () => {
    const metrics = createMetrics();
    const app = api.appWith({
      metrics,
      config: { ...api.services.config, scrub: { burst: 100, perSecond: 100, dailyLimit: 5 } },
    });
    const post = (n: number) =>
      app.request("/v1/scrub", {
        method: "POST",
        headers: { authorization: `Bearer ${api.creds.cpic!.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ numbers: Array.from({ length: n }, (_, i) => `+8613500000${100 + i * 2}`) }),
      });
    // The next day at the same hour: earlier tests' numbers counted against T0's day.
    api.setNow(new Date(T0.getTime() + 86_400_000));
    try {
      expect((await post(3)).status).toBe(200);
      const over = await post(3);
      expect(over.status).toBe(429);
      // 10:30 UTC: the cap resets at the next UTC midnight, 13.5 hours away.
      expect(over.headers.get("retry-after")).toBe(String(13.5 * 3600));
      expect((await post(2)).status).toBe(200);
    } finally {
      api.setNow(T0);
    }
    expect(await metrics.registry.getSingleMetricAsString("onewindow_scrubbed_numbers_total")).toContain(
      'onewindow_scrubbed_numbers_total{kind="scrub"} 5',
    );
  });
});
