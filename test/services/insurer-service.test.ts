/**
 * Directory management as the operator uses it: backfill for a new insurer, key and secret
 * rotation, removal, and the webhook URL rules.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WebhookUrlError } from "../../src/services/insurer-service.js";
import { type Api, startApi } from "../http/harness.js";

describe("insurer directory", () => {
  let api: Api;
  beforeEach(async () => {
    api = await startApi();
  });
  afterEach(() => api.close());

  it("files an opt-out for every owner whose choice excludes a newly added insurer", async () => {
    const chosePingAn = await api.owner({ phone: "+8613800000001", insurers: ["pingan"] });
    const choseNobody = await api.owner({ phone: "+8613800000002", insurers: [] });
    const { store, insurers } = api.services;

    const created = await insurers.add({ id: "allianz", name: "Allianz" });
    expect(created.backfilled).toBe(2);
    for (const before of [chosePingAn, choseNobody]) {
      const after = await store.getOwnerState(before.owner.id);
      const optOut = after.optOuts.find((o) => o.insurerId === "allianz");
      expect(optOut).toMatchObject({ reason: "not_chosen" });
      const outbox = await store.listOutboxForOwner(before.owner.id);
      expect(outbox.filter((e) => e.insurerId === "allianz").map((e) => e.type)).toEqual(["optout.filed"]);
    }
    // The new insurer sees them in its feed at once, as if it had always been listed.
    const key = created.apiKey;
    const res = await api.app.request("/v1/optouts", { headers: { authorization: `Bearer ${key}` } });
    expect(((await res.json()) as { data: unknown[] }).data).toHaveLength(2);

    // Adding is idempotent per owner: a second backfill files nothing more.
    const insurer = (await store.getInsurer("allianz"))!;
    expect(await insurers.backfill(insurer)).toBe(0);
  });

  it("never backfills sandbox insurers to real owners", async () => {
    await api.owner({ phone: "+8613800000003" });
    const created = await api.services.insurers.add({ id: "demo-ins", name: "Demo", sandbox: true });
    expect(created.backfilled).toBe(0);
  });

  it("rotating a key stops the old one at once", async () => {
    const old = api.creds.pingan!.apiKey;
    const rotated = await api.services.insurers.rotateKey("pingan");
    const as = (key: string) =>
      api.app.request("/v1/optouts", { headers: { authorization: `Bearer ${key}` } });
    expect((await as(old)).status).toBe(401);
    expect((await as(rotated.apiKey)).status).toBe(200);
  });

  it("rotating the webhook secret replaces the stored one", async () => {
    const before = await api.services.store.getInsurerSecrets("picc");
    const rotated = await api.services.insurers.rotateWebhookSecret("picc");
    const after = await api.services.store.getInsurerSecrets("picc");
    expect(after?.webhookSecret).toBe(rotated.webhookSecret);
    expect(after?.webhookSecret).not.toBe(before?.webhookSecret);
  });

  it("a removed insurer leaves the directory and its key stops working; its records stay", async () => {
    const state = await api.owner({ phone: "+8613800000004", insurers: ["pingan"] });
    await api.services.insurers.remove("cpic");
    expect((await api.services.insurers.list()).map((i) => i.id)).toEqual(["picc", "pingan"]);
    const res = await api.app.request("/v1/optouts", {
      headers: { authorization: `Bearer ${api.creds.cpic!.apiKey}` },
    });
    expect(res.status).toBe(401);
    const after = await api.services.store.getOwnerState(state.owner.id);
    expect(after.optOuts.some((o) => o.insurerId === "cpic")).toBe(true);
  });

  it("refuses plain-http and private webhook URLs unless the operator allows them", async () => {
    const { insurers } = api.services;
    await expect(
      insurers.add({ id: "a1", name: "A", webhookUrl: "http://hooks.example.com/x" }),
    ).rejects.toThrow(WebhookUrlError);
    await expect(insurers.add({ id: "a2", name: "A", webhookUrl: "https://127.0.0.1/x" })).rejects.toThrow(
      WebhookUrlError,
    );
    await expect(insurers.add({ id: "a3", name: "A", webhookUrl: "https://10.1.2.3/x" })).rejects.toThrow(
      WebhookUrlError,
    );
    await expect(insurers.update("picc", { webhookUrl: "https://localhost/x" })).rejects.toThrow(
      WebhookUrlError,
    );
    const ok = await insurers.add({ id: "a4", name: "A", webhookUrl: "https://hooks.example.com/x" });
    expect(ok.id).toBe("a4");
  });

  it("a new webhook URL re-enables an endpoint disabled by 410", async () => {
    const { store, insurers } = api.services;
    await store.updateInsurer("picc", { webhookUrl: "https://hooks.example.com/a" });
    await store.updateInsurer("picc", { webhookDisabledAt: "2026-07-01T00:00:00.000Z" });
    expect((await store.getInsurer("picc"))?.webhookDisabledAt).toBeDefined();
    const updated = await insurers.update("picc", { webhookUrl: "https://hooks.example.com/b" });
    expect(updated.webhookDisabledAt).toBeUndefined();
    expect(updated.webhookUrl).toBe("https://hooks.example.com/b");
  });
});
