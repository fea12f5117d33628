import { Webhook } from "standardwebhooks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHttpApp } from "../../src/http/create-http-app.js";
import { isLoopbackAddress } from "../../src/sandbox/loopback.js";
import { peer, startSandboxHarness } from "./support.js";

type Harness = Awaited<ReturnType<typeof startSandboxHarness>>;
const HOST = { host: "127.0.0.1:8080" };
const json = { "content-type": "application/json", ...HOST };

describe("sandbox routes", () => {
  let h: Harness;
  let app: ReturnType<typeof createHttpApp>;
  beforeEach(async () => {
    h = await startSandboxHarness();
    await h.sandbox.start("http://127.0.0.1:8080");
    // Mounted on the insurer API's app exactly as main.ts does.
    app = createHttpApp({ ...h.services });
    app.route("/", h.sandbox.app);
  });
  afterEach(() => h.close());

  const local = peer("127.0.0.1");

  it("knows loopback peers", () => {
    for (const a of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"])
      expect(isLoopbackAddress(a)).toBe(true);
    for (const a of ["10.0.0.5", "192.168.1.2", "::ffff:10.0.0.1", "fe80::1", "", undefined]) {
      expect(isLoopbackAddress(a)).toBe(false);
    }
  });

  it("serves the chat and the console to a loopback peer", async () => {
    const chat = await app.request("/", { headers: HOST }, local);
    expect(chat.status).toBe(200);
    expect(await chat.text()).toContain('role="log"');
    const consolePage = await app.request("/console", { headers: HOST }, local);
    expect(await consolePage.text()).toContain("Receipt verifier");
    expect((await app.request("/sandbox/static/chat.js", { headers: HOST }, local)).status).toBe(200);
    expect(
      (await app.request("/sandbox/static/..%2Fcreate-sandbox.ts", { headers: HOST }, local)).status,
    ).toBe(404);
  });

  it("refuses a non-loopback peer on every sandbox route, and a request without a socket", async () => {
    const remote = peer("10.0.0.5");
    for (const [method, path] of [
      ["GET", "/"],
      ["GET", "/console"],
      ["GET", "/sandbox/api/state"],
      ["GET", "/sandbox/api/insurers"],
      ["POST", "/sandbox/api/owners"],
      ["POST", "/sandbox/hooks/demo-lotus"],
      ["GET", "/sandbox/stop/abc"],
    ] as const) {
      const res = await app.request(
        path,
        { method, headers: json, body: method === "POST" ? "{}" : undefined },
        remote,
      );
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(await res.json()).toMatchObject({ error: { code: "sandbox_forbidden" } });
    }
    expect((await app.request("/", { headers: HOST })).status).toBe(403);
  });

  it("leaves the insurer API alone: health for anyone, /v1 still needs a key, unknown routes 404", async () => {
    const remote = peer("10.0.0.5");
    expect((await app.request("/healthz", {}, remote)).status).toBe(200);
    expect((await app.request("/v1/windows", {}, remote)).status).toBe(401);
    expect((await app.request("/nope", {}, local)).status).toBe(404);
  });

  it("refuses foreign Host names (DNS rebinding) and cross-origin or non-JSON writes", async () => {
    expect((await app.request("/", { headers: { host: "evil.example:8080" } }, local)).status).toBe(403);
    const crossOrigin = await app.request(
      "/sandbox/api/owners",
      { method: "POST", headers: { ...json, origin: "https://evil.example" }, body: "{}" },
      local,
    );
    expect(crossOrigin.status).toBe(403);
    const form = await app.request(
      "/sandbox/api/owners",
      { method: "POST", headers: { ...HOST, "content-type": "text/plain" }, body: "{}" },
      local,
    );
    expect(form.status).toBe(403);
    const ok = await app.request(
      "/sandbox/api/owners",
      {
        method: "POST",
        headers: { ...json, origin: "http://127.0.0.1:8080" },
        body: '{"languageCode":"zh"}',
      },
      local,
    );
    expect(ok.status).toBe(201);
    expect(await ok.json()).toMatchObject({ languageCode: "zh" });
  });

  it("seeds the demo directory as sandbox data, and the console's keys work on the real API", async () => {
    const res = await app.request("/sandbox/api/insurers", { headers: HOST }, local);
    const body = (await res.json()) as {
      insurers: { id: string; demo: boolean; apiKey: string; webhookUrl: string }[];
    };
    expect(body.insurers.map((i) => i.id)).toEqual(["demo-harbor", "demo-lotus", "demo-northwind"]);
    expect(body.insurers.every((i) => i.demo && i.apiKey.length > 20)).toBe(true);
    expect(body.insurers[0]?.webhookUrl).toBe("http://127.0.0.1:8080/sandbox/hooks/demo-harbor");
    expect((await h.services.store.listInsurers()).every((i) => i.sandbox)).toBe(true);
    const windows = await app.request("/v1/windows", {
      headers: { authorization: `Bearer ${body.insurers[0]?.apiKey}` },
    });
    expect(windows.status).toBe(200);
  });

  it("adds an insurer from the page as sandbox data with a loopback receiver", async () => {
    const res = await app.request(
      "/sandbox/api/insurers",
      {
        method: "POST",
        headers: json,
        body: JSON.stringify({ id: "acme", name: "Acme", aliases: "ACME, 阿克米" }),
      },
      local,
    );
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({
      insurer: { id: "acme", aliases: ["ACME", "阿克米"], demo: false },
    });
    expect(await h.services.store.getInsurer("acme")).toMatchObject({ sandbox: true });
    const dup = await app.request(
      "/sandbox/api/insurers",
      { method: "POST", headers: json, body: JSON.stringify({ id: "acme", name: "Acme" }) },
      local,
    );
    expect(dup.status).toBe(409);
    const bad = await app.request(
      "/sandbox/api/insurers",
      { method: "POST", headers: json, body: JSON.stringify({ id: "Bad Id!", name: "" }) },
      local,
    );
    expect(bad.status).toBe(400);
  });

  it("the receiver accepts only correctly signed webhooks and keeps them for the console", async () => {
    const secret = (await h.services.store.getInsurerSecrets("demo-lotus"))!.webhookSecret;
    const body = JSON.stringify({
      type: "optout.filed",
      timestamp: new Date().toISOString(),
      data: { id: "o1" },
    });
    const headers = (signWith: string) => {
      const ts = new Date();
      return {
        ...json,
        "webhook-id": "msg_1",
        "webhook-timestamp": String(Math.floor(ts.getTime() / 1000)),
        "webhook-signature": new Webhook(signWith).sign("msg_1", ts, body),
      };
    };
    const forged = await app.request(
      "/sandbox/hooks/demo-lotus",
      { method: "POST", headers: headers("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), body },
      local,
    );
    expect(forged.status).toBe(400);
    const good = await app.request(
      "/sandbox/hooks/demo-lotus",
      { method: "POST", headers: headers(secret), body },
      local,
    );
    expect(good.status).toBe(204);
    const again = await app.request(
      "/sandbox/hooks/demo-lotus",
      { method: "POST", headers: headers(secret), body },
      local,
    );
    expect(again.status).toBe(204);
    expect(h.sandbox.receiver.list("demo-lotus")).toMatchObject([
      { webhookId: "msg_1", type: "optout.filed", subjectId: "o1", verified: true, count: 3 },
    ]);
    const deliveries = await app.request(
      "/sandbox/api/insurers/demo-lotus/deliveries",
      { headers: HOST },
      local,
    );
    expect(await deliveries.json()).toMatchObject({ received: [{ webhookId: "msg_1" }], outbox: [] });
  });

  it("drives a chat through the page API: updates in, transcript out, long poll, downloads", async () => {
    const created = await app.request(
      "/sandbox/api/owners",
      { method: "POST", headers: json, body: '{"languageCode":"en"}' },
      local,
    );
    const owner = (await created.json()) as { id: number };
    const send = (body: unknown) =>
      app.request(
        `/sandbox/api/chats/${owner.id}/updates`,
        { method: "POST", headers: json, body: JSON.stringify(body) },
        local,
      );
    const afterStart = (await (await send({ text: "/start" })).json()) as {
      version: number;
      messages: unknown[];
    };
    expect(afterStart.messages.length).toBeGreaterThan(1);
    expect((await send({ contact: { phone: "not a phone" } })).status).toBe(400);
    expect((await send({ press: { messageId: 1, data: "ob:agree" } })).status).toBe(409);
    // A long poll at the current version waits (50 ms here) and returns the same version.
    const poll = await app.request(
      `/sandbox/api/chats/${owner.id}?since=${afterStart.version}`,
      { headers: HOST },
      local,
    );
    expect(((await poll.json()) as { version: number }).version).toBe(afterStart.version);
    expect((await app.request("/sandbox/api/chats/12345", { headers: HOST }, local)).status).toBe(404);

    await send({ contact: { phone: "+86 138 1234 5678" } });
    const exported = (await (await send({ text: "/export" })).json()) as {
      messages: { document?: { fileId: string } }[];
    };
    const doc = exported.messages.findLast((m) => m.document)!.document!;
    const file = await app.request(`/sandbox/api/files/${doc.fileId}`, { headers: HOST }, local);
    expect(file.headers.get("content-disposition")).toMatch(/^attachment; filename="onewindow-export\.json"/);
    expect(await file.json()).toMatchObject({ owner: { sandbox: true } });
  });

  it("a window's stop link opens the web chat as its owner, ready to stop that insurer", async () => {
    const created = await app.request(
      "/sandbox/api/owners",
      { method: "POST", headers: json, body: '{"languageCode":"en"}' },
      local,
    );
    const { id } = (await created.json()) as { id: number };
    // The bot creates the owner on the chat's first update.
    await app.request(
      `/sandbox/api/chats/${id}/updates`,
      { method: "POST", headers: json, body: '{"text":"/start"}' },
      local,
    );
    const { services } = h;
    const owner = await services.store.getOwnerByTelegramId(id);
    if (!owner) throw new Error("no sandbox owner");
    await services.store.updateOwnerProfile(owner.id, {
      phone: "+8613812345678",
      phoneVerified: true,
      country: "CN",
    });
    const insurer = (await services.owners.directoryFor({ ...owner, sandbox: true }))[0]!;
    const renewalDate = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
    await services.owners.agree(
      owner.id,
      {
        renewalDate,
        insurers: [insurer.id],
        channels: ["call"],
        days: ["mon", "tue", "wed", "thu", "fri"],
        hours: [{ from: "09:00", to: "20:00" }],
        daysBefore: 30,
        maxAttempts: 2,
      },
      "en",
    );
    const [window] = (await services.store.getOwnerState(owner.id)).windows;
    const link = await app.request(`/sandbox/stop/${window!.stopToken}`, { headers: HOST }, local);
    expect(link.status).toBe(302);
    expect(link.headers.get("location")).toBe(`/?start=stop_${window!.stopToken}#owner-${id}`);
    // An unknown token still opens the chat (the bot says the link is no longer valid).
    const unknown = await app.request("/sandbox/stop/nope123", { headers: HOST }, local);
    expect(unknown.headers.get("location")).toBe("/?start=stop_nope123");
    expect((await app.request("/sandbox/stop/bad%20token!", { headers: HOST }, local)).status).toBe(404);
  });
});
