import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { createFieldCipher } from "../../src/crypto/field-cipher.js";
import { emptyChangeset, type OutboxEntry } from "../../src/domain/model.js";
import { createSqliteStore } from "../../src/store/sqlite/index.js";
import { migrations } from "../../src/store/sqlite/migrations.js";
import { listOutbox } from "../../src/store/sqlite/outbox.js";
import { ConflictError, type Store } from "../../src/store/store.js";
import {
  aNewOwner,
  anInsurer,
  anOutboxEntry,
  consentPlan,
  secretsFor,
  seedPersonalData,
} from "./builders.js";
import { describeStoreContract, type StoreHarness } from "./contract.js";

const dirs: string[] = [];
const T_REVOKE = "2026-06-01T09:00:00.000Z";

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "onewindow-sqlite-"));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function harness(): StoreHarness & { file: string; key: Buffer } {
  const file = path.join(tempDir(), "nested", "onewindow.db");
  const key = randomBytes(32);
  const cipher = createFieldCipher(key);
  const opened: Store[] = [];
  const open = () => {
    const store = createSqliteStore({ file, cipher });
    opened.push(store);
    return store;
  };
  return {
    file,
    key,
    store: open(),
    reopen: async () => open(),
    outbox: async () => {
      const db = new Database(file, { readonly: true });
      try {
        return listOutbox(db);
      } finally {
        db.close();
      }
    },
    cleanup: async () => {
      for (const store of opened) await store.close();
    },
  };
}

describeStoreContract("sqlite", async () => harness());

/** Queues entries for `insurers` through one owner's changeset. */
async function queueOutbox(store: Store, count: number, insurers: number, telegramUserId: number) {
  const owner = await store.ensureOwner(aNewOwner(telegramUserId));
  const cs = emptyChangeset(owner.id, owner.version);
  for (let i = 0; i < count; i++) {
    cs.outbox.push(
      anOutboxEntry(`ins${i % insurers}`, {
        ownerId: owner.id,
        dueAt: `2026-06-01T08:00:${String(i % 60).padStart(2, "0")}.000Z`,
      }),
    );
  }
  await store.applyChangeset(cs);
  return cs.outbox;
}

/** Spawns a TypeScript fixture under tsx; resolves its stdout once it has exited. */
function spawnFixture(name: string, args: string[]) {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(import.meta.dirname, "fixtures", name), ...args],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  const ready = new Promise<void>((resolve) => {
    const check = () => (out.includes("ready") ? resolve() : setTimeout(check, 5));
    check();
  });
  const done = new Promise<string>((resolve) => child.on("close", () => resolve(out)));
  return { ready, done };
}

describe("sqlite store", () => {
  it("keeps no personal data in plaintext in the database, WAL or shared-memory files", async () => {
    const h = harness();
    const { store } = h;
    const { secret } = await seedPersonalData(store);

    const files = [h.file, `${h.file}-wal`, `${h.file}-shm`];
    for (const file of files) expect(existsSync(file), file).toBe(true);
    const needles = ["13812345678", "Zhangsan", "98765", secret.webhookSecret.slice(6, 30)];
    const scan = () => {
      for (const file of files.filter((f) => existsSync(f))) {
        const bytes = readFileSync(file);
        for (const needle of needles) {
          expect(bytes.includes(Buffer.from(needle)), `${needle} in ${path.basename(file)}`).toBe(false);
          expect(bytes.includes(Buffer.from(needle, "utf16le")), `${needle} (utf16) in ${file}`).toBe(false);
        }
      }
    };
    scan();
    await store.close();
    scan();
    await h.cleanup();
  });

  it("lists a directory change another connection or process commits at once (PRAGMA data_version)", async () => {
    const h = harness();
    const other = await h.reopen?.();
    if (!other) throw new Error("no reopen");
    await h.store.addInsurer(anInsurer("a"), secretsFor("a"));
    const names = async () => (await h.store.listInsurers()).map((i) => [i.id, i.name]);
    expect(await names()).toEqual([["a", "Insurer a"]]);
    expect(await names()).toEqual([["a", "Insurer a"]]);

    // Another store over the file (as a second serve), no time passing.
    await other.addInsurer(anInsurer("b"), secretsFor("b"));
    expect(await names()).toEqual([
      ["a", "Insurer a"],
      ["b", "Insurer b"],
    ]);
    await other.updateInsurer("a", { name: "Renamed by the other store" });
    expect((await names())[0]).toEqual(["a", "Renamed by the other store"]);

    // A bare connection writing the table.
    const raw = new Database(h.file);
    raw.prepare("UPDATE insurers SET name = 'Renamed by SQL' WHERE id = 'b'").run();
    raw.close();
    expect((await names())[1]).toEqual(["b", "Renamed by SQL"]);

    // Another process, as `onewindow insurer add` is.
    const child = spawnFixture("insurer-worker.ts", [
      h.file,
      h.key.toString("base64url"),
      "c",
      "Added by a process",
    ]);
    expect((await child.done).trim().split("\n")).toEqual(["ready", "ok"]);
    expect((await names())[2]).toEqual(["c", "Added by a process"]);
    await other.removeInsurer("c", "2026-06-01T09:00:00.000Z");
    expect((await names()).map(([id]) => id)).toEqual(["a", "b"]);
    await h.cleanup();
  });

  it("lets exactly one of two stores on the same file win a race for the same owner", async () => {
    const h = harness();
    const other = await h.reopen?.();
    if (!other) throw new Error("no reopen");
    await h.store.addInsurer(anInsurer("a"), secretsFor("a"));
    await h.store.addInsurer(anInsurer("b"), secretsFor("b"));
    const owner = await h.store.ensureOwner(aNewOwner(9));
    const seenByOther = (await other.getOwnerState(owner.id)).owner;
    const planA = consentPlan(owner, ["a"], ["b"]);
    const planB = consentPlan(seenByOther, ["b"], ["a"]);

    const results = await Promise.allSettled([
      h.store.applyChangeset(planA.changeset),
      other.applyChangeset(planB.changeset),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const rejected = results.filter((r) => r.status === "rejected");
    expect(rejected).toHaveLength(1);
    expect((rejected[0] as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);

    const state = await other.getOwnerState(owner.id);
    expect(state.windows).toHaveLength(1);
    expect(state.optOuts).toHaveLength(1);
    expect(await h.outbox?.()).toHaveLength(2);
    await h.cleanup();
  });

  it("commits changesets handed over together, and one that conflicts or fails rolls back alone", async () => {
    const h = harness();
    await h.store.addInsurer(anInsurer("a"), secretsFor("a"));
    await h.store.addInsurer(anInsurer("b"), secretsFor("b"));
    const owners = await Promise.all([21, 22, 23].map((id) => h.store.ensureOwner(aNewOwner(id))));
    const plans = owners.map((o) => consentPlan(o, ["a"], ["b"]));
    // A second plan for the first owner from the same version: it must lose, alone.
    const stale = consentPlan(owners[0]!, ["b"], ["a"]);
    // A plan that names a window that is not the owner's: a planning bug, rejected alone.
    const fourth = await h.store.ensureOwner(aNewOwner(24));
    const broken = consentPlan(fourth, ["b"], ["a"]).changeset;
    broken.revokeWindows.push({ id: "not-a-window", at: T_REVOKE, reason: "owner_request" });

    const results = await Promise.allSettled([
      ...plans.map((p) => h.store.applyChangeset(p.changeset)),
      h.store.applyChangeset(stale.changeset),
      h.store.applyChangeset(broken),
    ]);
    expect(results.slice(0, 3).map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "fulfilled"]);
    expect((results[3] as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    expect(String((results[4] as PromiseRejectedResult).reason)).toMatch(/not a record of this owner/);
    for (const owner of owners) {
      const state = await h.store.getOwnerState(owner.id);
      expect(state.windows.map((w) => w.insurerId)).toEqual(["a"]);
      expect(state.optOuts.map((o) => o.insurerId)).toEqual(["b"]);
      expect(state.owner.version).toBe(owner.version + 1);
    }
    expect((await h.store.getOwnerState(fourth.id)).windows).toEqual([]);
    expect(await h.outbox?.()).toHaveLength(6);
    await h.cleanup();
  });

  it("on close, makes the writes still waiting for another connection's lock before it closes", async () => {
    const h = harness();
    await h.store.addInsurer(anInsurer("a"), secretsFor("a"));
    const holder = new Database(h.file);
    holder.prepare("BEGIN IMMEDIATE").run();
    const renamed = h.store.updateInsurer("a", { name: "renamed while locked" });
    const closed = h.store.close();
    setTimeout(() => {
      holder.prepare("COMMIT").run();
      holder.close();
    }, 50);
    await closed;
    await renamed;
    const again = await h.reopen?.();
    expect((await again?.getInsurer("a"))?.name).toBe("renamed while locked");
    await h.cleanup();
  });

  it("under concurrent load, gathers changesets handed over a moment apart into one commit", async () => {
    const h = harness();
    const other = await h.reopen?.();
    if (!other) throw new Error("no reopen");
    await h.store.addInsurer(anInsurer("a"), secretsFor("a"));
    const owners = await Promise.all([41, 42, 43, 44, 45].map((id) => h.store.ensureOwner(aNewOwner(id))));
    const apply = (i: number) => h.store.applyChangeset(consentPlan(owners[i]!, ["a"], []).changeset);
    const windowsSeenByOther = async (i: number) => (await other.getOwnerState(owners[i]!.id)).windows.length;

    // Three at once: the load that makes the next commit wait for company.
    await Promise.all([apply(0), apply(1), apply(2)]);
    const first = apply(3);
    await new Promise((resolve) => setImmediate(resolve));
    const second = apply(4);
    await first;
    // Committed together: when the first is durable, so is the second (another connection sees it).
    expect(await windowsSeenByOther(4)).toBe(1);
    await second;
    expect(await windowsSeenByOther(3)).toBe(1);
    await h.cleanup();
  });

  it("commits a changeset handed over just before close", async () => {
    const h = harness();
    await h.store.addInsurer(anInsurer("a"), secretsFor("a"));
    const owner = await h.store.ensureOwner(aNewOwner(31));
    const applied = h.store.applyChangeset(consentPlan(owner, ["a"], []).changeset);
    await h.store.close();
    await applied;
    const again = await h.reopen?.();
    expect((await again?.getOwnerState(owner.id))?.windows).toHaveLength(1);
    await h.cleanup();
  });

  it("refuses a changeset after close instead of leaving its caller waiting", async () => {
    const h = harness();
    await h.store.addInsurer(anInsurer("a"), secretsFor("a"));
    const owner = await h.store.ensureOwner(aNewOwner(32));
    await h.store.close();
    await expect(h.store.applyChangeset(consentPlan(owner, ["a"], []).changeset)).rejects.toThrow(/closed/);
    await h.cleanup();
  });

  it("waits for another connection's write lock without stalling the event loop, then writes everything in order", async () => {
    const h = harness();
    await h.store.addInsurer(anInsurer("a"), secretsFor("a"));
    const owner = await h.store.ensureOwner(aNewOwner(33));
    const [queued] = await queueOutbox(h.store, 1, 1, 34);
    // Another process (here: another connection in this thread) takes the write lock.
    const holder = new Database(h.file);
    holder.prepare("BEGIN IMMEDIATE").run();
    const started = Date.now();
    const ended: string[] = [];
    const track = <T>(name: string, p: Promise<T>) =>
      p.then((value) => {
        ended.push(name);
        return value;
      });
    const writes = Promise.all([
      track("changeset", h.store.applyChangeset(consentPlan(owner, ["a"], []).changeset)),
      track(
        "claim",
        h.store.claimDue({
          now: "2026-06-01T09:00:00.000Z",
          limit: 10,
          perInsurer: 10,
          leaseMs: 60_000,
          worker: "w",
        }),
      ),
      track(
        "quota",
        h.store.takeQuotaRequest("k", Date.parse("2026-06-01T09:00:00.000Z"), { burst: 1, perSecond: 1 }),
      ),
    ]);
    // A SQLite busy wait would block this thread until the lock is free — which it never would
    // be, as the holder lives on this very thread: the writes would fail SQLITE_BUSY instead.
    const ticks = await new Promise<number>((resolve) => {
      let n = 0;
      const tick = () => (++n === 20 ? resolve(n) : setTimeout(tick, 5));
      tick();
    });
    expect(ticks).toBe(20);
    expect(ended).toEqual([]);
    const renamedFirst = h.store.updateInsurer("a", { name: "asked first" });
    holder.prepare("COMMIT").run();
    holder.close();
    // The lock is free now, yet a write asked for later must not overtake the one waiting.
    const renamedSecond = h.store.updateInsurer("a", { name: "asked second" });
    await Promise.all([renamedFirst, renamedSecond]);
    expect((await h.store.getInsurer("a"))?.name).toBe("asked second");
    const [, claimed, quota] = await writes;
    expect(Date.now() - started).toBeLessThan(4000);
    expect((await h.store.getOwnerState(owner.id)).windows).toHaveLength(1);
    expect(claimed.map((e) => e.id)).toEqual([queued!.id]);
    expect(quota).toMatchObject({ ok: true });
    await h.cleanup();
  });

  it("lets exactly one of two processes win a race for the same owner", async () => {
    const h = harness();
    await h.store.addInsurer(anInsurer("a"), secretsFor("a"));
    await h.store.addInsurer(anInsurer("b"), secretsFor("b"));
    const owner = await h.store.ensureOwner(aNewOwner(10));
    const dir = path.dirname(h.file);
    const go = path.join(dir, "go");
    const plans = [consentPlan(owner, ["a"], ["b"]), consentPlan(owner, ["b"], ["a"])];
    const worker = path.join(import.meta.dirname, "fixtures", "race-worker.ts");
    const children = plans.map((plan, index) => {
      const changesetFile = path.join(dir, `cs${index}.json`);
      writeFileSync(changesetFile, JSON.stringify(plan.changeset));
      const child = spawn(
        process.execPath,
        ["--import", "tsx", worker, h.file, h.key.toString("base64url"), changesetFile, go],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      let out = "";
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
      });
      const ready = new Promise<void>((resolve) => {
        const check = () => (out.includes("ready") ? resolve() : setTimeout(check, 5));
        check();
      });
      const done = new Promise<string>((resolve) => child.on("close", () => resolve(out)));
      return { ready, done };
    });
    await Promise.all(children.map((c) => c.ready));
    writeFileSync(go, "");
    const outputs = (await Promise.all(children.map((c) => c.done))).map((o) =>
      o.replace("ready\n", "").trim(),
    );
    expect(outputs.sort()).toEqual(["conflict", "ok"]);
    const state = await h.store.getOwnerState(owner.id);
    expect(state.owner.version).toBe(owner.version + 1);
    expect(state.windows).toHaveLength(1);
    await h.cleanup();
  });

  it("never hands one entry to two stores claiming on the same file", async () => {
    const h = harness();
    const stores = [h.store, await h.reopen?.(), await h.reopen?.()] as Store[];
    const now = "2026-07-01T00:00:00.000Z";
    for (let round = 0; round < 40; round++) {
      const queued = await queueOutbox(h.store, 25, 4, 20_000 + round);
      const seen: string[] = [];
      for (;;) {
        const batches = await Promise.all(
          stores.map((store, i) =>
            store.claimDue({ now, limit: 3, perInsurer: 2, leaseMs: 60_000, worker: `r${round}w${i}` }),
          ),
        );
        const claimed = batches.flat();
        if (claimed.length === 0) break;
        seen.push(...claimed.map((e) => e.id));
        // Half are finished, half stay leased: neither may come back while the lease holds.
        await Promise.all(
          batches.flatMap((batch, i) =>
            batch
              .filter((_, j) => j % 2 === 0)
              .map(async (e) => {
                expect(
                  await stores[i]?.completeDelivery(e.id, `r${round}w${i}`, { state: "delivered", at: now }),
                ).toBe(true);
              }),
          ),
        );
      }
      expect(seen).toHaveLength(new Set(seen).size);
      expect(new Set(seen)).toEqual(new Set(queued.map((e: OutboxEntry) => e.id)));
    }
    await h.cleanup();
  });

  it("never hands one entry to two processes claiming on the same file", async () => {
    const h = harness();
    const queued = await queueOutbox(h.store, 300, 9, 30_000);
    const dir = path.dirname(h.file);
    const go = path.join(dir, "go-claim");
    const now = "2026-07-01T00:00:00.000Z";
    const workers = [0, 1, 2].map((i) =>
      spawnFixture("claim-worker.ts", [h.file, h.key.toString("base64url"), go, `proc${i}`, now]),
    );
    await Promise.all(workers.map((w) => w.ready));
    writeFileSync(go, "");
    const outputs = await Promise.all(workers.map((w) => w.done));
    const lines = outputs.flatMap((o) => o.split("\n").filter((l) => l !== "" && l !== "ready"));
    expect(lines.filter((l) => l.startsWith("lost"))).toEqual([]);
    expect(lines).toHaveLength(queued.length);
    expect(new Set(lines)).toEqual(new Set(queued.map((e) => e.id)));
    // More than one process did real work.
    expect(outputs.filter((o) => o.split("\n").length > 3).length).toBeGreaterThan(1);
    expect(await h.store.outboxStats()).toEqual({ pending: 0, retrying: 0, dead: 0 });
    await h.cleanup();
  });

  it("upgrades a file of the first schema: queued notices stay due", async () => {
    const h = harness();
    await h.store.close();
    rmSync(path.dirname(h.file), { recursive: true, force: true });
    mkdirSync(path.dirname(h.file), { recursive: true });
    const old = new Database(h.file);
    old.exec(migrations[0] ?? "");
    old.pragma("user_version = 1");
    old
      .prepare(
        `INSERT INTO outbox (id, insurer_id, type, subject_id, webhook_id, due_at, created_at, attempts, state)
         VALUES ('e1', 'a', 'optout.filed', 's1', 'msg_1', '2026-06-01T08:00:00.000Z', '2026-06-01T08:00:00.000Z', 0, 'pending')`,
      )
      .run();
    old.close();

    const store = await h.reopen?.();
    const claimed = await store?.claimDue({
      now: "2026-06-02T00:00:00.000Z",
      limit: 10,
      perInsurer: 10,
      leaseMs: 1000,
      worker: "w",
    });
    expect(claimed?.map((e) => [e.id, e.nextAttemptAt])).toEqual([["e1", "2026-06-01T08:00:00.000Z"]]);
    await h.cleanup();
  });

  it("upgrades a file whose outbox has a claim in progress: it is claimed again only after its lease", async () => {
    const h = harness();
    await h.store.close();
    rmSync(path.dirname(h.file), { recursive: true, force: true });
    mkdirSync(path.dirname(h.file), { recursive: true });
    const old = new Database(h.file);
    for (const sql of migrations.slice(0, 7)) old.exec(sql);
    old.pragma("user_version = 7");
    const insert = old.prepare(
      `INSERT INTO outbox (id, insurer_id, type, subject_id, webhook_id, due_at, created_at, attempts, state,
         next_attempt_at, lease_until, lease_worker)
       VALUES (@id, 'a', 'optout.filed', @id, 'msg_' || @id, '2026-06-01T08:00:00.000Z', '2026-06-01T08:00:00.000Z',
         0, 'pending', '2026-06-01T08:00:00.000Z', @lease, @worker)`,
    );
    insert.run({ id: "leased", lease: "2026-06-02T00:05:00.000Z", worker: "crashed" });
    insert.run({ id: "free", lease: null, worker: null });
    old.close();

    const store = await h.reopen?.();
    const claim = (now: string) =>
      store?.claimDue({ now, limit: 10, perInsurer: 10, leaseMs: 600_000, worker: "w" });
    expect((await claim("2026-06-02T00:00:00.000Z"))?.map((e) => e.id)).toEqual(["free"]);
    // Both are held now: nothing is due until a lease ends; the crashed one's (00:05) first.
    expect(await claim("2026-06-02T00:04:59.000Z")).toEqual([]);
    expect((await claim("2026-06-02T00:05:00.000Z"))?.map((e) => e.id)).toEqual(["leased"]);
    expect((await claim("2026-06-02T00:10:00.000Z"))?.map((e) => e.id)).toEqual(["free"]);
    await h.cleanup();
  });

  it("upgrades a file whose attempts have no request fingerprint: they read back without one", async () => {
    const h = harness();
    await h.store.close();
    rmSync(path.dirname(h.file), { recursive: true, force: true });
    mkdirSync(path.dirname(h.file), { recursive: true });
    const old = new Database(h.file);
    for (const sql of migrations.slice(0, 8)) old.exec(sql);
    old.pragma("user_version = 8");
    // Just the attempt row: its window does not matter to the read.
    old.pragma("foreign_keys = OFF");
    old
      .prepare(
        `INSERT INTO attempts (id, window_id, insurer_id, channel, outcome, at, idempotency_key, remaining)
         VALUES ('t1', 'w1', 'a', 'call', 'answered', '2026-07-01T10:00:00.000Z', 'k-old', 2)`,
      )
      .run();
    old.close();

    const store = await h.reopen?.();
    const attempt = await store?.getAttemptByIdempotencyKey("a", "k-old");
    expect(attempt).toMatchObject({ id: "t1", windowId: "w1", remaining: 2 });
    expect(attempt).not.toHaveProperty("fingerprint");
    await h.cleanup();
  });

  it("reopens a closed file with everything and the schema up to date, in WAL mode", async () => {
    const h = harness();
    await h.store.addInsurer(anInsurer("a"), secretsFor("a"));
    const owner = await h.store.ensureOwner(aNewOwner(11));
    await h.store.updateOwnerProfile(owner.id, { phone: "+14155550123" });
    await h.store.close();
    expect(await h.store.ping()).toBe(false);

    const again = await h.reopen?.();
    expect((await again?.getOwner(owner.id))?.phone).toBe("+14155550123");
    expect(await again?.listInsurers()).toHaveLength(1);
    const db = new Database(h.file, { readonly: true });
    expect(db.pragma("user_version", { simple: true })).toBe(migrations.length);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();
    await h.cleanup();
  });

  it("cannot read its data with another data key", async () => {
    const h = harness();
    const owner = await h.store.ensureOwner(aNewOwner(12));
    await h.store.updateOwnerProfile(owner.id, { phone: "+14155550123" });
    await h.store.close();
    const foreign = createSqliteStore({ file: h.file, cipher: createFieldCipher(randomBytes(32)) });
    await expect(foreign.getOwner(owner.id)).rejects.toThrow();
    await foreign.close();
    await h.cleanup();
  });
});
