import { Agent, request } from "undici";
import { describe, expect, it } from "vitest";
import { checkWebhookUrl, guardedLookup, isPublicAddress } from "../../src/delivery/webhook-url.js";
import { startWebhookReceiver } from "../fakes/webhook-receiver.js";

const resolvesTo =
  (...addresses: string[]) =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));

describe("webhook URL check", () => {
  it.each([
    "127.0.0.1",
    "127.9.9.9",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "169.254.1.1",
    "100.64.0.1",
    "100.127.255.254",
    "0.0.0.0",
    "255.255.255.255",
    "224.0.0.1",
    "::1",
    "::",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:0:7f00:1",
    // IPv6 forms that carry an IPv4 address: compatible, NAT64, 6to4, Teredo.
    "::7f00:1",
    "::127.0.0.1",
    "::a9fe:a9fe",
    "64:ff9b::7f00:1",
    "64:ff9b::10.0.0.1",
    "64:ff9b::a9fe:a9fe",
    "2002:7f00:1::",
    "2002:c0a8:101::1",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    // Ranges that route nowhere public: benchmarking, ORCHID, documentation, SRv6 SIDs.
    "2001:2::1",
    "2001:10::1",
    "2001:2f::1",
    "3fff:abc::1",
    "5f00::1",
  ])("refuses %s", (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "172.32.0.1",
    "100.128.0.1",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::1",
    "2400:cb00::1",
    "2001:4860:4860::8888",
  ])("accepts public %s", (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  it("allows https to a public host", async () => {
    expect(
      await checkWebhookUrl("https://hooks.insurer.example/ow", {
        allowPrivate: false,
        lookup: resolvesTo("93.184.216.34"),
      }),
    ).toEqual({ ok: true });
  });

  it("refuses plain http unless private webhooks are allowed", async () => {
    const r = await checkWebhookUrl("http://hooks.insurer.example/ow", {
      allowPrivate: false,
      lookup: resolvesTo("93.184.216.34"),
    });
    expect(r).toMatchObject({ ok: false, reason: expect.stringContaining("https only") });
    expect(await checkWebhookUrl("http://127.0.0.1:9999/x", { allowPrivate: true })).toEqual({ ok: true });
  });

  it("refuses hosts that resolve to a private address (any of them)", async () => {
    const r = await checkWebhookUrl("https://internal.example/ow", {
      allowPrivate: false,
      lookup: resolvesTo("93.184.216.34", "10.0.0.5"),
    });
    expect(r).toMatchObject({ ok: false, reason: expect.stringContaining("10.0.0.5") });
  });

  it("refuses IP literals and localhost", async () => {
    for (const url of [
      "https://127.0.0.1/x",
      "https://[::1]/x",
      "https://169.254.169.254/latest/meta-data",
      "https://[fd00::1]/x",
      "https://0.0.0.0/x",
      "https://localhost/x",
    ]) {
      const r = await checkWebhookUrl(url, { allowPrivate: false });
      expect(r.ok, url).toBe(false);
    }
  });

  it("allows any address and http with allowPrivate", async () => {
    for (const url of [
      "https://127.0.0.1/x",
      "http://[::1]:8080/x",
      "http://10.0.0.1/x",
      "http://localhost/x",
    ]) {
      expect(await checkWebhookUrl(url, { allowPrivate: true }), url).toEqual({ ok: true });
    }
  });

  it("refuses other schemes, credentials, garbage and unresolvable hosts", async () => {
    expect((await checkWebhookUrl("ftp://x.example/", { allowPrivate: true })).ok).toBe(false);
    expect((await checkWebhookUrl("not a url", { allowPrivate: true })).ok).toBe(false);
    expect((await checkWebhookUrl("https://u:p@x.example/", { allowPrivate: true })).ok).toBe(false);
    const r = await checkWebhookUrl("https://nowhere.invalid/", {
      allowPrivate: false,
      lookup: async () => {
        throw Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" });
      },
    });
    expect(r).toEqual({ ok: false, reason: "cannot resolve nowhere.invalid: ENOTFOUND" });
  });
});

describe("connect-time guard", () => {
  it("refuses, at connect time, a host that resolves to loopback (DNS rebinding)", async () => {
    const receiver = await startWebhookReceiver("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    const agent = new Agent({ connect: { lookup: guardedLookup } });
    try {
      const url = receiver.url.replace("127.0.0.1", "localhost");
      await expect(request(url, { method: "POST", body: "{}", dispatcher: agent })).rejects.toMatchObject({
        code: "ENONPUBLIC",
      });
      expect(receiver.requests).toHaveLength(0);
    } finally {
      await agent.close();
      await receiver.close();
    }
  });
});
