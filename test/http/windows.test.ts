import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Api, startApi, T0 } from "./harness.js";

describe("insurer API: auth and windows", () => {
  let api: Api;
  let ownerId: string;
  let windowId: string;

  beforeAll(async () => {
    api = await startApi();
    const state = await api.owner({ phone: "+8613800138000", name: "Lin Mei", vehicle: "Tesla Model 3" });
    ownerId = state.owner.id;
    windowId = state.windows.find((w) => w.insurerId === "pingan")!.id;
  });
  afterAll(() => api.close());

  describe("401", () => {
    it.each([
      ["no header", {}],
      ["wrong key", { authorization: "Bearer owk_not-a-key" }],
      ["not bearer", { authorization: "Basic dXNlcjpwYXNz" }],
      ["empty bearer", { authorization: "Bearer " }],
    ])("%s", async (_name, headers) => {
      for (const url of ["/v1/windows", `/v1/windows/${windowId}`, "/v1/optouts"]) {
        const res = await api.json(null, "GET", url, undefined, headers);
        expect(res.status).toBe(401);
        expect(res.body.error.code).toBe("unauthorized");
        expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      }
      const post = await api.json(null, "POST", "/v1/scrub", { numbers: ["+8613800138000"] }, headers);
      expect(post.status).toBe(401);
    });

    it("a removed insurer's key stops working", async () => {
      const extra = await api.services.insurers.add({ id: "gone", name: "Gone" });
      const auth = { authorization: `Bearer ${extra.apiKey}` };
      expect((await api.json(null, "GET", "/v1/optouts", undefined, auth)).status).toBe(200);
      await api.services.store.removeInsurer("gone", T0.toISOString());
      expect((await api.json(null, "GET", "/v1/optouts", undefined, auth)).status).toBe(401);
    });
  });

  it("shows the chosen insurer its open window with the owner's details", async () => {
    const res = await api.json("pingan", "GET", `/v1/windows/${windowId}`);
    expect(res.status).toBe(200);
    const w = res.body;
    expect(w).toMatchObject({
      id: windowId,
      insurerId: "pingan",
      status: "open",
      owner: { phone: "+8613800138000", name: "Lin Mei", language: "en" },
      vehicle: "Tesla Model 3",
      renewalDate: "2026-07-31",
      timezone: "Asia/Shanghai",
      channels: ["call", "sms"],
      maxAttempts: 5,
      attemptsUsed: 0,
    });
    expect(w.verificationCode).toMatch(/^\d{6}$/);
    // The form the owner's chat shows, so agent and owner read the same thing.
    expect(w.verificationCodeDisplay).toBe(
      `${w.verificationCode.slice(0, 3)}-${w.verificationCode.slice(3)}`,
    );
    expect(w.optOutLink).toContain("stop_");
    expect(w.receipt.jws.split(".")).toHaveLength(3);
    const list = await api.json("pingan", "GET", "/v1/windows");
    expect(list.body.data.map((x: { id: string }) => x.id)).toContain(windowId);
  });

  it("answers 404 alike for another insurer's, unknown and malformed ids — never data", async () => {
    const bodies: string[] = [];
    for (const [insurer, id] of [
      ["picc", windowId],
      ["pingan", "00000000-0000-0000-0000-000000000000"],
      ["pingan", "not-an-id"],
      ["pingan", "x".repeat(5000)],
      ["pingan", "%27%20OR%201%3D1--"],
    ] as const) {
      for (const [method, suffix] of [
        ["GET", ""],
        ["POST", "/ack"],
      ] as const) {
        const res = await api.call(insurer, method, `/v1/windows/${id}${suffix}`);
        expect(res.status).toBe(404);
        const text = await res.text();
        expect(text).not.toContain("13800138000");
        bodies.push(text);
      }
      const attempt = await api.json(
        insurer,
        "POST",
        `/v1/windows/${id}/attempts`,
        { channel: "call", outcome: "answered" },
        { "idempotency-key": `probe-${insurer}-${id.length}` },
      );
      expect(attempt.status).toBe(404);
    }
    expect(new Set(bodies).size).toBe(1);
    const list = await api.json("picc", "GET", "/v1/windows");
    expect(list.body.data).toEqual([]);
    expect((await api.json("picc", "POST", `/v1/optouts/${windowId}/ack`)).status).toBe(404);
  });

  it("acknowledges idempotently (the first time is kept)", async () => {
    const first = await api.json("pingan", "POST", `/v1/windows/${windowId}/ack`);
    expect(first.status).toBe(200);
    expect(first.body.acknowledgedAt).toBe(T0.toISOString());
    api.setNow(new Date(T0.getTime() + 60_000));
    const again = await api.json("pingan", "POST", `/v1/windows/${windowId}/ack`);
    expect(again.status).toBe(200);
    expect(again.body.acknowledgedAt).toBe(T0.toISOString());
    api.setNow(T0);
  });

  it("keeps scheduled windows invisible until they open", async () => {
    // Renewal 2026-09-30, contact from 30 days before: opens 2026-08-31 00:00 Shanghai.
    const state = await api.owner({
      phone: "+8613800138001",
      insurers: ["cpic"],
      renewalDate: "2026-09-30",
      daysBefore: 30,
    });
    const scheduled = state.windows[0]!;
    expect(scheduled.opensAt).toBe("2026-08-30T16:00:00.000Z");
    expect((await api.json("cpic", "GET", `/v1/windows/${scheduled.id}`)).status).toBe(404);
    expect((await api.json("cpic", "POST", `/v1/windows/${scheduled.id}/ack`)).status).toBe(404);
    expect((await api.json("cpic", "GET", "/v1/windows")).body.data).toEqual([]);

    api.setNow(new Date("2026-08-30T16:00:00.000Z"));
    try {
      const opened = await api.json("cpic", "GET", `/v1/windows/${scheduled.id}`);
      expect(opened.status).toBe(200);
      expect(opened.body.status).toBe("open");
      expect(opened.body.owner.phone).toBe("+8613800138001");
      expect((await api.json("cpic", "GET", "/v1/windows?status=open")).body.data).toHaveLength(1);
    } finally {
      api.setNow(T0);
    }
  });

  it("drops owner, vehicle and verification code once revoked", async () => {
    const state = await api.owner({
      phone: "+8613800138002",
      insurers: ["picc"],
      name: "Wang",
      vehicle: "BYD",
    });
    const id = state.windows[0]!.id;
    expect((await api.json("picc", "GET", `/v1/windows/${id}`)).body.owner).toBeDefined();
    // A minute after it opened: a window stopped at its opening instant never opened (404).
    api.setNow(new Date(T0.getTime() + 60_000));
    try {
      await api.services.owners.stop(state.owner.id, { insurerId: "picc" }, "owner_request");
      const res = await api.json("picc", "GET", `/v1/windows/${id}`);
      expect(res.status).toBe(200);
      expect(res.body.status).toBe("revoked");
      expect(res.body).not.toHaveProperty("owner");
      expect(res.body).not.toHaveProperty("vehicle");
      expect(res.body).not.toHaveProperty("verificationCode");
      expect(res.body).not.toHaveProperty("verificationCodeDisplay");
      // The signed receipt is base64 and may hold "BYD" by chance; the words are checked.
      const text = JSON.stringify({ ...res.body, receipt: undefined });
      expect(text).not.toContain("13800138002");
      expect(text).not.toContain("BYD");
      const revoked = await api.json("picc", "GET", "/v1/windows?status=revoked");
      expect(revoked.body.data.map((w: { id: string }) => w.id)).toEqual([id]);
      expect((await api.json("picc", "GET", "/v1/windows?status=open")).body.data).toEqual([]);
    } finally {
      api.setNow(T0);
    }
  });

  it("pages completely: every window once, in order, next null at the end", async () => {
    for (let i = 0; i < 7; i++) {
      api.setNow(new Date(T0.getTime() + (i + 1) * 1000));
      await api.owner({ phone: `+86139000000${10 + i}`, insurers: ["pingan"] });
    }
    // Two owners agreeing in the same instant share opensAt: ids break the tie.
    await api.owner({ phone: "+8613900000099", insurers: ["pingan"] });
    api.setNow(new Date(T0.getTime() + 3_600_000));
    const all = (await api.json("pingan", "GET", "/v1/windows?limit=500")).body.data as { id: string }[];
    expect(all.length).toBe(9);

    const seen: string[] = [];
    let url = "/v1/windows?limit=2";
    for (let pages = 0; pages < 20; pages++) {
      const res = await api.json("pingan", "GET", url);
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.data.map((w: { id: string }) => w.id));
      if (res.body.next === null) break;
      expect(res.body.next).toMatch(/^[A-Za-z0-9_-]+$/);
      url = `/v1/windows?limit=2&after=${res.body.next}`;
    }
    expect(seen).toEqual(all.map((w) => w.id));
    expect(new Set(seen).size).toBe(seen.length);
    api.setNow(T0);
  });

  it("rejects bad paging parameters by name", async () => {
    for (const [query, field] of [
      ["limit=0", "limit"],
      ["limit=501", "limit"],
      ["limit=abc", "limit"],
      ["limit=1e2", "limit"],
      ["limit=0x10", "limit"],
      ["limit=%205", "limit"],
      ["limit=2.0", "limit"],
      ["after=garbage!", "after"],
      ["after=eyJ4IjoxfQ", "after"],
      ["status=scheduled", "status"],
      ["sort=desc", "sort"],
    ]) {
      const res = await api.json("pingan", "GET", `/v1/windows?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe("validation_failed");
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(field);
      expect(res.body.error.details[0].in).toBe("query");
    }
  });

  it("lists opt-outs without numbers and acknowledges them idempotently, only for their insurer", async () => {
    const feed = await api.json("picc", "GET", "/v1/optouts?limit=1");
    expect(feed.status).toBe(200);
    const first = feed.body.data[0];
    // Opt-outs filed at the same instant come in id order, so the reason of the first varies.
    expect(first).toMatchObject({ insurerId: "picc", until: expect.any(String) });
    expect(["not_chosen", "owner_request"]).toContain(first.reason);
    expect(Object.keys(first).sort()).toEqual(
      ["basis", "effectiveAt", "honourBy", "id", "insurerId", "matchKey", "reason", "until"].sort(),
    );
    expect(JSON.stringify(feed.body)).not.toContain("13800138000");
    expect(typeof feed.body.next).toBe("string");

    expect((await api.json("pingan", "POST", `/v1/optouts/${first.id}/ack`)).status).toBe(404);
    const acked = await api.json("picc", "POST", `/v1/optouts/${first.id}/ack`);
    expect(acked.status).toBe(200);
    expect(acked.body.acknowledgedAt).toBe(T0.toISOString());
    api.setNow(new Date(T0.getTime() + 5000));
    expect((await api.json("picc", "POST", `/v1/optouts/${first.id}/ack`)).body.acknowledgedAt).toBe(
      T0.toISOString(),
    );
    api.setNow(T0);
  });

  it("keeps the owner id out of every answer", async () => {
    const res = await api.call("pingan", "GET", "/v1/windows?limit=500");
    expect(await res.text()).not.toContain(ownerId);
  });
});

/**
 * A window the owner renewed, stopped or replaced while it was still scheduled never opened:
 * nothing about it reaches the insurer, not even after its opening time has passed (DESIGN §2,
 * §5). Each test runs on its own store so the feeds hold only what it made.
 */
describe("insurer API: windows that never opened", () => {
  let api: Api;
  beforeEach(async () => {
    api = await startApi();
  });
  afterEach(() => api.close());

  /** Renewal 2026-09-30, contact from 30 days before: opens 2026-08-31 00:00 Shanghai. */
  const OPENS = "2026-08-30T16:00:00.000Z";
  /** At the opening instant, inside the window (12:00 Shanghai), and after it closed. */
  const AFTER_OPENING = [OPENS, "2026-09-10T04:00:00.000Z", "2026-10-01T00:00:00.000Z"];
  const UNKNOWN_ID = "00000000-0000-0000-0000-000000000000";

  /** An owner who chose `insurer` and whose window is still scheduled at T0. */
  async function scheduledOwner(insurer: string, phone: string) {
    const state = await api.owner({
      phone,
      name: "Chen Jie",
      vehicle: "NIO ES6",
      insurers: [insurer],
      renewalDate: "2026-09-30",
      daysBefore: 30,
    });
    const window = state.windows.find((w) => w.insurerId === insurer)!;
    expect(window.opensAt).toBe(OPENS);
    expect((await api.call(insurer, "GET", `/v1/windows/${window.id}`)).status).toBe(404);
    return { ownerId: state.owner.id, windowId: window.id };
  }

  /** An owner whose window for `insurer` opened at T0 (consent inside the contact period). */
  async function openedOwner(insurer: string, phone: string) {
    const state = await api.owner({ phone, insurers: [insurer] });
    const window = state.windows.find((w) => w.insurerId === insurer)!;
    expect(window.opensAt).toBe(T0.toISOString());
    return { ownerId: state.owner.id, windowId: window.id };
  }

  /** At every instant after opening: 404 like an unknown id, listed under no filter, no data. */
  async function expectNeverShown(insurer: string, windowId: string, phone: string) {
    try {
      for (const at of AFTER_OPENING) {
        api.setNow(new Date(at));
        const unknown = await (await api.call(insurer, "GET", `/v1/windows/${UNKNOWN_ID}`)).text();
        const one = await api.call(insurer, "GET", `/v1/windows/${windowId}`);
        expect(one.status, `GET at ${at}`).toBe(404);
        expect(await one.text()).toBe(unknown);
        const ack = await api.call(insurer, "POST", `/v1/windows/${windowId}/ack`);
        expect(ack.status, `ack at ${at}`).toBe(404);
        const attempt = await api.call(
          insurer,
          "POST",
          `/v1/windows/${windowId}/attempts`,
          { channel: "call", outcome: "answered" },
          { "idempotency-key": `never-opened-${at}` },
        );
        expect(attempt.status, `attempt at ${at}`).toBe(404);
        for (const query of ["", "?status=open", "?status=closed", "?status=revoked"]) {
          const list = await api.call(insurer, "GET", `/v1/windows${query}`);
          expect(list.status).toBe(200);
          const text = await list.text();
          expect(text, `list${query} at ${at}`).not.toContain(windowId);
          expect(text).not.toContain(phone.slice(1));
          expect(text).not.toContain("NIO ES6");
        }
        const scrub = await api.json(insurer, "POST", "/v1/scrub", { numbers: [phone] });
        expect(scrub.body.results[0].status).toBe("do_not_contact");
        expect(scrub.body.results[0]).not.toHaveProperty("windowId");
      }
    } finally {
      api.setNow(T0);
    }
    const stored = await api.services.store.getWindow(windowId);
    expect(stored?.acknowledgedAt).toBeUndefined();
    expect(stored?.attemptsUsed).toBe(0);
  }

  it("renewed before opening: 404 on GET, ack and attempts, and in no list, once opensAt passes", async () => {
    const phone = "+8613800139001";
    const { ownerId, windowId } = await scheduledOwner("cpic", phone);
    // Control: a window that had opened before the owner renewed is still listed as closed.
    const control = await openedOwner("cpic", "+8613800139002");
    api.setNow(new Date(T0.getTime() + 60_000));
    await api.services.owners.renewed(ownerId);
    await api.services.owners.renewed(control.ownerId);
    api.setNow(T0);
    expect((await api.services.store.getWindow(windowId))?.closedAt).toBeDefined();

    await expectNeverShown("cpic", windowId, phone);
    api.setNow(new Date(AFTER_OPENING[1]!));
    try {
      const closed = await api.json("cpic", "GET", "/v1/windows?status=closed");
      expect(closed.body.data.map((w: { id: string }) => w.id)).toEqual([control.windowId]);
    } finally {
      api.setNow(T0);
    }
  });

  it("stopped before opening: 404 on GET, ack and attempts, and in no list, once opensAt passes", async () => {
    const phone = "+8613800139003";
    const { ownerId, windowId } = await scheduledOwner("cpic", phone);
    // Control: a window stopped after it opened is still listed as revoked.
    const control = await openedOwner("cpic", "+8613800139004");
    api.setNow(new Date(T0.getTime() + 60_000));
    await api.services.owners.stop(ownerId, { insurerId: "cpic" }, "owner_request");
    await api.services.owners.stop(control.ownerId, { insurerId: "cpic" }, "owner_request");
    api.setNow(T0);
    expect((await api.services.store.getWindow(windowId))?.revokedAt).toBeDefined();

    await expectNeverShown("cpic", windowId, phone);
    api.setNow(new Date(AFTER_OPENING[1]!));
    try {
      const revoked = await api.json("cpic", "GET", "/v1/windows?status=revoked");
      expect(revoked.body.data.map((w: { id: string }) => w.id)).toEqual([control.windowId]);
    } finally {
      api.setNow(T0);
    }
  });

  it("superseded before opening: only the replacing window shows once opensAt passes", async () => {
    const phone = "+8613800139005";
    const { ownerId, windowId } = await scheduledOwner("cpic", phone);
    api.setNow(new Date(T0.getTime() + 60_000));
    await api.services.owners.agree(
      ownerId,
      {
        renewalDate: "2026-09-30",
        insurers: ["cpic"],
        channels: ["call"],
        days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        hours: [{ from: "09:00", to: "20:00" }],
        daysBefore: 30,
        maxAttempts: 5,
      },
      "en",
    );
    const state = await api.services.store.getOwnerState(ownerId);
    const old = state.windows.find((w) => w.id === windowId)!;
    expect(old.revokeReason).toBe("superseded");
    const replacing = state.windows.find((w) => w.revokedAt === undefined)!;
    api.setNow(T0);

    // The replacing window must not leak the old one: check it apart from the phone it shares.
    try {
      for (const at of AFTER_OPENING) {
        api.setNow(new Date(at));
        expect((await api.call("cpic", "GET", `/v1/windows/${windowId}`)).status).toBe(404);
        expect((await api.call("cpic", "POST", `/v1/windows/${windowId}/ack`)).status).toBe(404);
        for (const query of ["", "?status=open", "?status=closed", "?status=revoked"]) {
          const text = await (await api.call("cpic", "GET", `/v1/windows${query}`)).text();
          expect(text, `list${query} at ${at}`).not.toContain(windowId);
        }
        const all = await api.json("cpic", "GET", "/v1/windows");
        expect(all.body.data.map((w: { id: string }) => w.id)).toEqual([replacing.id]);
      }
    } finally {
      api.setNow(T0);
    }
  });
});
