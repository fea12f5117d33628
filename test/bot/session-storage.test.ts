/**
 * The session adapter writes a session back only when it changed (session-storage.ts): an
 * unchanged one costs no encryption and no write, a changed, replaced or new one is always
 * written, and what is stored is what the bot would have written anyway.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freshSession, type SessionData } from "../../src/bot/context.js";
import { storeSessionAdapter } from "../../src/bot/session-storage.js";
import { createFieldCipher } from "../../src/crypto/field-cipher.js";
import { createSqliteStore } from "../../src/store/sqlite/index.js";
import type { Store } from "../../src/store/store.js";
import { type BotHarness, startBotHarness } from "../support/bot-harness.js";
import { onboard, sessionOf } from "./flow.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A real SQLite store, with the session writes that reach it counted. */
function countedStore() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ow-session-"));
  const store = createSqliteStore({
    file: path.join(dir, "s.db"),
    cipher: createFieldCipher(randomBytes(32)),
  });
  cleanups.push(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const writes: { key: string; value: string }[] = [];
  const writeSession = store.writeSession.bind(store);
  store.writeSession = async (key, value) => {
    writes.push({ key, value });
    await writeSession(key, value);
  };
  return { store, writes };
}

/** Counts the session writes a bot's store receives from now on. */
function countWrites(h: BotHarness) {
  const store: Store = h.services.store;
  const writes: string[] = [];
  const writeSession = store.writeSession.bind(store);
  store.writeSession = async (key, value) => {
    writes.push(key);
    await writeSession(key, value);
  };
  return writes;
}

describe("session storage", () => {
  it("does not write back a session that did not change since it was read", async () => {
    const { store, writes } = countedStore();
    const adapter = storeSessionAdapter(store);
    await adapter.write("7", { ...freshSession(), step: "renewalDate" });
    expect(writes).toHaveLength(1);

    const read = (await adapter.read("7")) as SessionData;
    expect(read.step).toBe("renewalDate");
    await adapter.write("7", read);
    // A property set to undefined that was never there stores the same JSON.
    read.editing = undefined;
    await adapter.write("7", read);
    expect(writes).toHaveLength(1);
  });

  it("writes a changed session, a replaced one, a new one, and one read under another key", async () => {
    const { store, writes } = countedStore();
    const adapter = storeSessionAdapter(store);
    await adapter.write("7", { ...freshSession(), step: "renewalDate", deleteAsked: true });

    const changed = (await adapter.read("7")) as SessionData;
    changed.draft.renewalDate = "2027-07-31";
    await adapter.write("7", changed);
    expect(JSON.parse((await store.readSession("7")) ?? "")).toMatchObject({
      draft: { renewalDate: "2027-07-31" },
    });

    const cleared = (await adapter.read("7")) as SessionData;
    cleared.deleteAsked = undefined;
    await adapter.write("7", cleared);
    expect(JSON.parse((await store.readSession("7")) ?? "")).not.toHaveProperty("deleteAsked");

    const same = (await adapter.read("7")) as SessionData;
    await adapter.write("8", same);
    await adapter.write("7", { ...same });
    expect(writes.map((w) => w.key)).toEqual(["7", "7", "7", "8", "7"]);
    expect(await store.readSession("8")).toBe(await store.readSession("7"));

    // Changed again after a write: written again.
    same.step = "idle";
    await adapter.write("8", same);
    expect(writes).toHaveLength(6);
    expect(JSON.parse((await store.readSession("8")) ?? "")).toMatchObject({ step: "idle" });
  });

  it("deletes as asked, and reads what it cannot use as no session", async () => {
    const { store } = countedStore();
    const adapter = storeSessionAdapter(store);
    await adapter.write("7", freshSession());
    await adapter.delete("7");
    expect(await adapter.read("7")).toBeUndefined();
    await store.writeSession("9", "not json");
    await store.writeSession("10", JSON.stringify({ v: 0, step: "idle" }));
    await store.writeSession("11", "null");
    for (const key of ["9", "10", "11"]) expect(await adapter.read(key)).toBeUndefined();
  });

  it("in the bot: /status, a question and a sticker write no session; a step that changes it does", async () => {
    const h = await startBotHarness();
    cleanups.push(() => h.close());
    const u = h.user(4242);
    await onboard(u);
    const settled = await sessionOf(h, u.id);
    expect(settled?.step).toBe("idle");

    const writes = countWrites(h);
    expect((await u.command("/status")).length).toBe(1);
    expect((await u.send("what happens to my data?")).length).toBe(1);
    expect((await u.deliver(u.sim.sendSticker())).length).toBe(1);
    expect(writes).toEqual([]);
    expect(await sessionOf(h, u.id)).toEqual(settled);

    await u.command("/delete");
    expect(writes).toEqual([String(u.id)]);
    expect((await sessionOf(h, u.id))?.deleteAsked).toBe(true);
  });
});
