import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ConflictError } from "../../src/store/store.js";
import { type Api, type OwnerInput, startApi, T0 } from "./harness.js";

let phoneSeq = 0;
const nextPhone = () => `+861370000${String(1000 + phoneSeq++)}`;

describe("POST /v1/windows/{id}/attempts", () => {
  let api: Api;
  let key = 0;

  beforeAll(async () => {
    api = await startApi();
  });
  beforeEach(() => api.setNow(T0));
  afterAll(() => api.close());

  async function windowFor(overrides: Partial<OwnerInput> = {}) {
    const state = await api.owner({ phone: nextPhone(), insurers: ["pingan"], ...overrides });
    return { state, id: state.windows.find((w) => w.insurerId === "pingan")!.id };
  }

  function attempt(id: string, body: Record<string, unknown>, idempotencyKey = `k-${key++}`) {
    return api.json("pingan", "POST", `/v1/windows/${id}/attempts`, body, {
      "idempotency-key": idempotencyKey,
    });
  }

  it("records an attempt: 201 with remaining, and the window counts it", async () => {
    const { id } = await windowFor({ maxAttempts: 4 });
    const res = await attempt(id, { channel: "call", outcome: "unanswered" });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ remaining: 3 });
    const w = await api.json("pingan", "GET", `/v1/windows/${id}`);
    expect(w.body.attemptsUsed).toBe(1);
  });

  it("returns the first answer to a retry with the same Idempotency-Key", async () => {
    const { id } = await windowFor({ maxAttempts: 4 });
    const first = await attempt(id, { channel: "call", outcome: "answered" }, "same-key");
    const again = await attempt(id, { channel: "call", outcome: "answered" }, "same-key");
    const racing = await Promise.all(
      [1, 2, 3].map(() => attempt(id, { channel: "call", outcome: "answered" }, "same-key")),
    );
    expect(first).toMatchObject({ status: 201, body: { remaining: 3 } });
    expect(again).toMatchObject({ status: 201, body: { remaining: 3 } });
    for (const r of racing) expect(r).toMatchObject({ status: 201, body: { remaining: 3 } });
    expect((await api.json("pingan", "GET", `/v1/windows/${id}`)).body.attemptsUsed).toBe(1);
    const other = await windowFor();
    const reused = await attempt(other.id, { channel: "call", outcome: "answered" }, "same-key");
    expect(reused.status).toBe(409);
    expect(reused.body.error.code).toBe("idempotency_key_reused");
  });

  it("records every one of a burst of concurrent valid attempts: only 201s, each counted", async () => {
    // The CN pack's largest cap: 10 attempts.
    const { id } = await windowFor({ maxAttempts: 10 });
    api.setNow(new Date(T0.getTime() + 20 * 86_400_000)); // 2026-07-21 18:30 Shanghai
    // 10 attempts over the 4 days before, 3 a day (the CN daily cap), 10:00-12:00 Shanghai.
    const ats = Array.from({ length: 10 }, (_, i) => {
      const day = 14 + Math.floor(i / 3);
      return `2026-07-${day}T0${2 + (i % 3)}:00:00Z`;
    });
    const answers = await Promise.all(
      ats.map((at) => attempt(id, { channel: "call", outcome: "answered", at })),
    );
    expect(answers.map((a) => a.status)).toEqual(ats.map(() => 201));
    const remaining = answers.map((a) => a.body.remaining as number).sort((a, b) => b - a);
    expect(remaining).toEqual(ats.map((_, i) => 9 - i));
    const w = await api.json("pingan", "GET", `/v1/windows/${id}`);
    expect(w.body.attemptsUsed).toBe(answers.length);
  });

  it("answers 503 busy with Retry-After, never 500, when the owner keeps changing under it", async () => {
    const { id } = await windowFor();
    const store = api.services.store;
    const busy = api.appWith({
      store: Object.assign(Object.create(store), {
        applyChangeset: () => Promise.reject(new ConflictError()),
      }) as typeof store,
    });
    const res = await busy.request(`/v1/windows/${id}/attempts`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${api.creds.pingan!.apiKey}`,
        "content-type": "application/json",
        "idempotency-key": "busy-1",
      },
      body: JSON.stringify({ channel: "call", outcome: "answered" }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await res.json()).toEqual({ error: { code: "busy", message: expect.any(String) } });
  });

  it("409 idempotency_key_reused for the same key with another body; the same body still replays", async () => {
    const { state, id } = await windowFor({ maxAttempts: 4 });
    const at = "2026-07-01T10:31:00Z";
    expect(await attempt(id, { channel: "call", outcome: "unanswered", at }, "reused")).toMatchObject({
      status: 201,
      body: { remaining: 3 },
    });
    // A later refusal sent under the first key must not be swallowed by the first answer.
    for (const body of [
      { channel: "call", outcome: "refused", at },
      { channel: "sms", outcome: "unanswered", at },
      { channel: "call", outcome: "unanswered", at: "2026-07-01T10:32:00Z" },
      { channel: "call", outcome: "unanswered" },
    ]) {
      const res = await attempt(id, body, "reused");
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe("idempotency_key_reused");
      expect(res.body.error.message).toMatch(/new key/);
    }
    // The same instant written with an offset is the same request.
    const same = await attempt(
      id,
      { channel: "call", outcome: "unanswered", at: "2026-07-01T18:31:00+08:00" },
      "reused",
    );
    expect(same).toMatchObject({ status: 201, body: { remaining: 3 } });
    // Without `at` the fingerprint leaves the request time out, so a later retry still replays.
    expect((await attempt(id, { channel: "sms", outcome: "answered" }, "no-at")).status).toBe(201);
    api.setNow(new Date(T0.getTime() + 60_000));
    expect(await attempt(id, { channel: "sms", outcome: "answered" }, "no-at")).toMatchObject({
      status: 201,
      body: { remaining: 2 },
    });
    const after = await api.services.store.getOwnerState(state.owner.id);
    expect(after.windows[0]).toMatchObject({ attemptsUsed: 2 });
    expect(after.windows[0]?.revokedAt).toBeUndefined();
  });

  it("needs the Idempotency-Key header, and validates the body by field", async () => {
    const { id } = await windowFor();
    const missing = await api.json("pingan", "POST", `/v1/windows/${id}/attempts`, {
      channel: "call",
      outcome: "answered",
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details).toContainEqual(
      expect.objectContaining({ path: "idempotency-key", in: "header" }),
    );
    const bad = await attempt(id, { channel: "pigeon", outcome: "maybe", at: "yesterday", extra: 1 });
    expect(bad.status).toBe(400);
    const paths = bad.body.error.details.map((d: { path: string }) => d.path).sort();
    expect(paths).toEqual(["at", "channel", "extra", "outcome"]);
    const future = await attempt(id, { channel: "call", outcome: "answered", at: "2026-07-01T12:00:00Z" });
    expect(future.status).toBe(400);
    expect(future.body.error.details[0].path).toBe("at");
  });

  it("409 revoked once the owner stopped the insurer", async () => {
    const { state, id } = await windowFor();
    // A minute after it opened: a window stopped at its opening instant never opened (404).
    api.setNow(new Date(T0.getTime() + 60_000));
    await api.services.owners.stop(state.owner.id, { insurerId: "pingan" }, "owner_request");
    const res = await attempt(id, { channel: "call", outcome: "answered" });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("revoked");
  });

  it("409 window_closed after the window closes, or for an attempt dated before it opened", async () => {
    const { id } = await windowFor();
    const before = await attempt(id, { channel: "call", outcome: "answered", at: "2026-07-01T10:00:00Z" });
    expect(before.body.error.code).toBe("window_closed");
    api.setNow(new Date("2026-07-31T16:00:00.000Z"));
    const after = await attempt(id, { channel: "call", outcome: "answered" });
    expect(after.status).toBe(409);
    expect(after.body.error.code).toBe("window_closed");
  });

  it("409 channel_not_allowed", async () => {
    const { id } = await windowFor({ channels: ["sms"] });
    const res = await attempt(id, { channel: "call", outcome: "answered" });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("channel_not_allowed");
  });

  it("409 outside_hours by the window's day of week and hours, in its timezone", async () => {
    const { id } = await windowFor({
      days: ["mon", "tue", "wed", "thu", "fri"],
      hours: [{ from: "18:00", to: "20:00" }],
    });
    // 2026-07-02 08:00 Shanghai (Thursday): wrong hour.
    api.setNow(new Date("2026-07-02T01:00:00.000Z"));
    const early = await attempt(id, { channel: "call", outcome: "answered", at: "2026-07-02T00:00:00Z" });
    expect(early.body.error.code).toBe("outside_hours");
    // 2026-07-04 18:30 Shanghai (Saturday): wrong day.
    api.setNow(new Date("2026-07-04T11:00:00.000Z"));
    const saturday = await attempt(id, {
      channel: "call",
      outcome: "answered",
      at: "2026-07-04T10:30:00+00:00",
    });
    expect(saturday.status).toBe(409);
    expect(saturday.body.error.code).toBe("outside_hours");
    // The same wall-clock time on a Friday, given with an offset: fine.
    api.setNow(new Date("2026-07-03T11:00:00.000Z"));
    const friday = await attempt(id, {
      channel: "call",
      outcome: "answered",
      at: "2026-07-03T18:30:00+08:00",
    });
    expect(friday.status).toBe(201);
  });

  it("409 attempts_exhausted at the owner's total cap", async () => {
    const { id } = await windowFor({ maxAttempts: 2 });
    expect((await attempt(id, { channel: "call", outcome: "answered" })).body).toEqual({ remaining: 1 });
    expect((await attempt(id, { channel: "call", outcome: "answered" })).body).toEqual({ remaining: 0 });
    const third = await attempt(id, { channel: "call", outcome: "answered" });
    expect(third.status).toBe(409);
    expect(third.body.error.code).toBe("attempts_exhausted");
    expect((await api.json("pingan", "GET", `/v1/windows/${id}`)).body.status).toBe("exhausted");
  });

  it("409 attempts_exhausted after 3 in one local day (CN), and a new day starts afresh", async () => {
    const { id } = await windowFor({ maxAttempts: 10 });
    for (let i = 0; i < 3; i++) {
      expect((await attempt(id, { channel: "call", outcome: "unanswered" })).status).toBe(201);
    }
    const fourth = await attempt(id, { channel: "sms", outcome: "answered" });
    expect(fourth.status).toBe(409);
    expect(fourth.body.error.code).toBe("attempts_exhausted");
    api.setNow(new Date("2026-07-02T02:00:00.000Z")); // Thursday 10:00 Shanghai
    const nextDay = await attempt(id, { channel: "call", outcome: "answered" });
    expect(nextDay).toMatchObject({ status: 201, body: { remaining: 6 } });
  });

  it("answers the first code that applies", async () => {
    const { state, id } = await windowFor({ channels: ["sms"], maxAttempts: 1 });
    await attempt(id, { channel: "sms", outcome: "answered" });
    // Exhausted, wrong channel, wrong hour: channel comes first.
    api.setNow(new Date("2026-07-02T01:00:00.000Z"));
    const res = await attempt(id, { channel: "call", outcome: "answered", at: "2026-07-02T00:00:00Z" });
    expect(res.body.error.code).toBe("channel_not_allowed");
    await api.services.owners.stop(state.owner.id, { insurerId: "pingan" }, "owner_request");
    expect((await attempt(id, { channel: "call", outcome: "answered" })).body.error.code).toBe("revoked");
  });

  it("refused: records it, revokes the window, and files a refused_on_call opt-out in the feed", async () => {
    const { state, id } = await windowFor();
    // A minute after it opened: a window revoked at its opening instant never opened (404).
    api.setNow(new Date(T0.getTime() + 60_000));
    const res = await attempt(id, { channel: "call", outcome: "refused" });
    expect(res).toMatchObject({ status: 201, body: { remaining: 0 } });

    const w = await api.json("pingan", "GET", `/v1/windows/${id}`);
    expect(w.body.status).toBe("revoked");
    expect(w.body).not.toHaveProperty("owner");
    expect(w.body.attemptsUsed).toBe(1);

    const after = await api.services.store.getOwnerState(state.owner.id);
    const optOut = after.optOuts.find((o) => o.insurerId === "pingan" && o.reason === "refused_on_call");
    expect(optOut).toBeDefined();
    expect(after.receipts.find((r) => r.id === state.windows[0]!.receiptId)?.revokedAt).toBeDefined();

    const feed = await api.json("pingan", "GET", "/v1/optouts?limit=500");
    const item = feed.body.data.find((o: { id: string }) => o.id === optOut!.id);
    expect(item).toMatchObject({
      insurerId: "pingan",
      reason: "refused_on_call",
      matchKey: optOut!.matchKey,
    });
    expect(JSON.stringify(feed.body)).not.toContain(state.owner.phone!.slice(1));

    const again = await attempt(id, { channel: "call", outcome: "answered" });
    expect(again.body.error.code).toBe("revoked");
  });

  /** What a refusal left: the window's status, refused_on_call opt-outs, notices and outbox. */
  async function refusalTrail(ownerId: string, id: string) {
    const state = await api.services.store.getOwnerState(ownerId);
    const window = state.windows.find((w) => w.id === id)!;
    const notices = (await api.services.store.pendingOwnerNotices(1000)).filter((n) => n.ownerId === ownerId);
    const outbox = await api.services.store.listOutboxForOwner(ownerId);
    return {
      revokeReason: window.revokeReason,
      attemptsUsed: window.attemptsUsed,
      optOuts: state.optOuts.filter((o) => o.insurerId === "pingan").map((o) => o.reason),
      notices: notices.map((n) => [n.kind, n.insurerId]),
      outbox: outbox
        .filter((e) => e.insurerId === "pingan" && e.type !== "window.opened")
        .map((e) => e.type)
        .sort(),
    };
  }

  const refusedAnyway: [string, Partial<OwnerInput>, Record<string, unknown>][] = [
    ["attempts_exhausted", { maxAttempts: 1 }, { channel: "call" }],
    ["channel_not_allowed", { channels: ["sms"] }, { channel: "call" }],
    ["outside_hours", { hours: [{ from: "09:00", to: "12:00" }] }, { channel: "call" }],
  ];
  it.each(refusedAnyway)(
    "refused answered 409 %s still revokes, files refused_on_call and tells the owner",
    async (code, prefs, body) => {
      const { state, id } = await windowFor(prefs);
      // A minute after it opened: a window revoked at its opening instant never opened (404).
      api.setNow(new Date(T0.getTime() + 60_000));
      if (code === "attempts_exhausted") await attempt(id, { channel: "call", outcome: "answered" });
      const res = await attempt(id, { ...body, outcome: "refused" });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe(code);
      expect(await refusalTrail(state.owner.id, id)).toEqual({
        revokeReason: "refused_on_call",
        attemptsUsed: code === "attempts_exhausted" ? 1 : 0,
        optOuts: ["refused_on_call"],
        notices: [["refused_on_call", "pingan"]],
        outbox: ["optout.filed", "window.revoked"],
      });
      expect((await api.json("pingan", "GET", `/v1/windows/${id}`)).body.status).toBe("revoked");
      // Now revoked: another refusal changes nothing more.
      const again = await attempt(id, { channel: "call", outcome: "refused" });
      expect(again.body.error.code).toBe("revoked");
      expect((await refusalTrail(state.owner.id, id)).optOuts).toEqual(["refused_on_call"]);
    },
  );

  it("refused answered 409 window_closed after the window closed still files the opt-out", async () => {
    const { state, id } = await windowFor();
    api.setNow(new Date("2026-08-01T02:00:00.000Z")); // the window closed at 2026-07-31 24:00 Shanghai
    const res = await attempt(id, { channel: "call", outcome: "refused" });
    expect(res.body.error.code).toBe("window_closed");
    expect(await refusalTrail(state.owner.id, id)).toEqual({
      revokeReason: undefined,
      attemptsUsed: 0,
      optOuts: ["refused_on_call"],
      notices: [["refused_on_call", "pingan"]],
      outbox: ["optout.filed"],
    });
  });

  it("refused answered 409 changes nothing when revoked, or dated before the owner's consent", async () => {
    const stopped = await windowFor();
    api.setNow(new Date(T0.getTime() + 60_000));
    await api.services.owners.stop(stopped.state.owner.id, { insurerId: "pingan" }, "owner_request");
    const before = await refusalTrail(stopped.state.owner.id, stopped.id);
    const revoked = await attempt(stopped.id, { channel: "call", outcome: "refused" });
    expect(revoked.body.error.code).toBe("revoked");
    expect(await refusalTrail(stopped.state.owner.id, stopped.id)).toEqual(before);
    expect(before.optOuts).toEqual(["owner_request"]);

    // Consent came after the refusal it reports: the consent is the owner's later word.
    const { state, id } = await windowFor();
    const early = await attempt(id, { channel: "call", outcome: "refused", at: "2026-07-01T10:00:00Z" });
    expect(early.body.error.code).toBe("window_closed");
    expect(await refusalTrail(state.owner.id, id)).toEqual({
      revokeReason: undefined,
      attemptsUsed: 0,
      optOuts: [],
      notices: [],
      outbox: [],
    });
  });
});
