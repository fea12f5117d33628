/**
 * The sandbox's loopback rule with a reverse proxy in front (DESIGN §9): a request relayed from
 * 127.0.0.1 with Forwarded/X-Forwarded-For is not local unless TRUST_PROXY names the proxy, and
 * then its forwarded client must be loopback. The Host check stays.
 */
import { afterEach, describe, expect, it } from "vitest";
import { peer, startSandboxHarness } from "./support.js";

type Harness = Awaited<ReturnType<typeof startSandboxHarness>>;
const HOST = { host: "127.0.0.1:8080" };

describe("sandbox behind a reverse proxy", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });
  const local = peer("127.0.0.1");

  it("without TRUST_PROXY, refuses a loopback socket that carries a forwarding header", async () => {
    h = await startSandboxHarness();
    const app = h.sandbox.app;
    expect((await app.request("/", { headers: HOST }, local)).status).toBe(200);
    for (const forwarding of [
      { "x-forwarded-for": "203.0.113.9" },
      { "x-forwarded-for": "127.0.0.1" },
      { forwarded: "for=127.0.0.1" },
    ] as Record<string, string>[]) {
      const res = await app.request("/", { headers: { ...HOST, ...forwarding } }, local);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error: { code: "sandbox_forbidden" } });
    }
  });

  it("with TRUST_PROXY=127.0.0.1, judges the forwarded client, and still checks the Host", async () => {
    h = await startSandboxHarness({ TRUST_PROXY: "127.0.0.1" });
    const app = h.sandbox.app;
    const asked = (headers: Record<string, string>) => app.request("/", { headers }, local);
    expect((await asked({ ...HOST, "x-forwarded-for": "203.0.113.9" })).status).toBe(403);
    expect((await asked({ ...HOST, "x-forwarded-for": "127.0.0.1" })).status).toBe(200);
    expect((await asked({ ...HOST, "x-forwarded-for": "::1" })).status).toBe(200);
    expect((await asked({ host: "onewindow.example", "x-forwarded-for": "127.0.0.1" })).status).toBe(403);
    // Another socket is not the proxy: its header is not believed, and it is not loopback.
    expect(
      (await app.request("/", { headers: { ...HOST, "x-forwarded-for": "127.0.0.1" } }, peer("10.0.0.5")))
        .status,
    ).toBe(403);
  });
});
