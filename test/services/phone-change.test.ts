/**
 * A new Telegram-verified phone after "I agree" (DESIGN §2, §7): the chosen insurer never gets a
 * number the owner did not agree to share, and every insurer the owner refused is told about the
 * new number too. Real services on SQLite, loopback receivers, and the injected clock.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createMatchKeys } from "../../src/crypto/match-key.js";
import { createHttpApp } from "../../src/http/create-http-app.js";
import { createHarness, DIGITS, type Harness, PHONE } from "../delivery/harness.js";

const NEW_PHONE = "+8613900139000";
const NEW_DIGITS = "13900139000";
const DAY = 86_400_000;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function scrub(harness: Harness, insurerId: string, numbers: string[]) {
  const app = createHttpApp(harness.services);
  const insurer = harness.insurers.find((i) => i.id === insurerId)!;
  const res = await app.request("/v1/scrub", {
    method: "POST",
    headers: { authorization: `Bearer ${insurer.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ numbers }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { results: { number: string; status: string }[] };
  return Object.fromEntries(body.results.map((r) => [r.number, r.status]));
}

async function pullWindows(harness: Harness, insurerId: string) {
  const app = createHttpApp(harness.services);
  const insurer = harness.insurers.find((i) => i.id === insurerId)!;
  const res = await app.request("/v1/windows", { headers: { authorization: `Bearer ${insurer.apiKey}` } });
  expect(res.status).toBe(200);
  return res.text();
}

describe("a new verified phone after agreeing", () => {
  it("revokes the chosen insurer's window, opts the new number out everywhere else, and re-agreeing gives the chosen insurer the new number", async () => {
    h = await createHarness({ insurers: ["alpha", "bravo", "charlie"] });
    const ownerId = await h.newOwner(1001);
    // Renewal 2026-12-20, contact from 5 days before: the window opens 2026-12-15 (scheduled).
    await h.agree(ownerId, ["alpha"], { daysBefore: 5 });
    const before = await h.services.store.getOwnerState(ownerId);
    const oldWindow = before.windows[0]!;
    expect(Date.parse(oldWindow.opensAt)).toBeGreaterThan(h.now().getTime());
    const dispatcher = h.dispatcher();
    await dispatcher.runOnce();

    const { owner, revokedInsurers } = await h.services.owners.changePhone(ownerId, {
      phone: NEW_PHONE,
      phoneVerified: true,
      country: "CN",
      timezone: "Asia/Shanghai",
      jurisdiction: "CN",
      name: "Lin",
    });
    expect(owner.phone).toBe(NEW_PHONE);
    expect(revokedInsurers).toEqual(["alpha"]);

    const after = await h.services.store.getOwnerState(ownerId);
    expect(after.owner.phone).toBe(NEW_PHONE);
    expect(after.windows.find((w) => w.id === oldWindow.id)).toMatchObject({ revokeReason: "superseded" });
    expect(after.receipts.find((r) => r.id === oldWindow.receiptId)).toMatchObject({
      revokeReason: "superseded",
    });
    expect(after.windows.filter((w) => !w.revokedAt)).toEqual([]);
    // The old number's opt-outs stay as they were; the new number gets its own, same reason.
    const matchKey = createMatchKeys(h.services.keys.dataKey);
    for (const id of ["bravo", "charlie"]) {
      const old = before.optOuts.find((o) => o.insurerId === id)!;
      expect(after.optOuts.find((o) => o.id === old.id)).toEqual(old);
      const fresh = after.optOuts.find((o) => o.insurerId === id && o.id !== old.id);
      expect(fresh).toMatchObject({
        reason: "not_chosen",
        phoneHash: after.owner.phoneHash,
        matchKey: matchKey(id, NEW_PHONE),
      });
    }
    // The chosen insurer is not opted out: the owner still wants it, once they agree again.
    expect(after.optOuts.filter((o) => o.insurerId === "alpha")).toEqual([]);

    // Scrub of the new number by the insurers the owner refused: do not contact.
    for (const id of ["bravo", "charlie"]) {
      expect(await scrub(h, id, [NEW_PHONE, PHONE])).toEqual({
        [NEW_PHONE]: "do_not_contact",
        [PHONE]: "do_not_contact",
      });
    }
    // The new opt-outs are pushed, by match key, never by number.
    await dispatcher.runOnce();
    for (const id of ["bravo", "charlie"]) {
      const filed = h.receiver(id).requests.filter((r) => r.json?.type === "optout.filed");
      expect(filed.map((r) => r.json!.data.matchKey)).toEqual([matchKey(id, PHONE), matchKey(id, NEW_PHONE)]);
      for (const r of filed) expect(r.body).not.toContain(NEW_DIGITS);
    }

    // Past the old window's opensAt: nothing about the owner reaches alpha, least of all the new number.
    h.set(new Date(Date.parse(oldWindow.opensAt) + DAY));
    await dispatcher.runOnce();
    const alpha = h.receiver("alpha").requests;
    expect(alpha.filter((r) => r.json?.type === "window.opened")).toEqual([]);
    for (const r of alpha) {
      expect(r.body).not.toContain(NEW_DIGITS);
      expect(r.body).not.toContain(DIGITS);
    }
    const pulled = await pullWindows(h, "alpha");
    expect(pulled).not.toContain(NEW_DIGITS);
    expect(pulled).not.toContain(DIGITS);
    // Not consented for the new number (its revoked window says so): alpha may not call it either.
    expect(await scrub(h, "alpha", [NEW_PHONE])).toEqual({ [NEW_PHONE]: "do_not_contact" });

    // One "I agree" again: alpha gets a window, and a receipt, for the new number.
    await h.agree(ownerId, ["alpha"], { daysBefore: 5 });
    await dispatcher.runOnce();
    const opened = h.receiver("alpha").requests.filter((r) => r.json?.type === "window.opened");
    expect(opened).toHaveLength(1);
    const data = opened[0]!.json!.data as { owner: { phone: string }; receipt: { jws: string } };
    expect(data.owner.phone).toBe(NEW_PHONE);
    const verified = await h.services.signer.verify(data.receipt.jws);
    expect(verified.payload).toMatchObject({ sub: matchKey("alpha", NEW_PHONE) });
    expect(await scrub(h, "alpha", [NEW_PHONE])).toEqual({ [NEW_PHONE]: "consented" });
    // The others stay opted out for both numbers.
    expect(await scrub(h, "bravo", [NEW_PHONE, PHONE])).toEqual({
      [NEW_PHONE]: "do_not_contact",
      [PHONE]: "do_not_contact",
    });
  });

  it("announces window.revoked to an insurer whose window had opened, with nothing about the owner", async () => {
    h = await createHarness({ insurers: ["alpha", "bravo"] });
    const ownerId = await h.newOwner(1002);
    await h.agree(ownerId, ["alpha"]);
    const dispatcher = h.dispatcher();
    await dispatcher.runOnce();
    expect(h.receiver("alpha").requests.map((r) => r.json?.type)).toEqual(["window.opened"]);

    await h.services.owners.changePhone(ownerId, { phone: NEW_PHONE, phoneVerified: true, country: "CN" });
    await dispatcher.runOnce();
    const revoked = h.receiver("alpha").requests.filter((r) => r.json?.type === "window.revoked");
    expect(revoked).toHaveLength(1);
    expect(revoked[0]!.json!.data).toMatchObject({ status: "revoked", reason: "superseded" });
    expect(revoked[0]!.body).not.toContain(NEW_DIGITS);
    expect(await scrub(h, "alpha", [NEW_PHONE])).toEqual({ [NEW_PHONE]: "do_not_contact" });
    expect(await scrub(h, "bravo", [NEW_PHONE])).toEqual({ [NEW_PHONE]: "do_not_contact" });
  });

  it("the same number shared again changes nothing that was consented", async () => {
    h = await createHarness({ insurers: ["alpha", "bravo"] });
    const ownerId = await h.newOwner(1003);
    await h.agree(ownerId, ["alpha"], { daysBefore: 5 });
    const before = await h.services.store.getOwnerState(ownerId);
    const { revokedInsurers } = await h.services.owners.changePhone(ownerId, {
      phone: PHONE,
      phoneVerified: true,
      country: "CN",
    });
    expect(revokedInsurers).toEqual([]);
    const after = await h.services.store.getOwnerState(ownerId);
    expect(after.windows).toEqual(before.windows);
    expect(after.optOuts).toEqual(before.optOuts);
    expect(after.receipts).toEqual(before.receipts);
  });
});
