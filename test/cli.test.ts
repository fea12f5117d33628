import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { hashApiKey } from "../src/crypto/api-key.js";
import { cleanEnv, ROOT, runCli, whenListening } from "./support/cli.js";

// Each case spawns the real command (tsx start-up included): allow for a loaded machine.
describe("onewindow command", { timeout: 60_000 }, () => {
  let dir: string;
  let env: Record<string, string>;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ow-cli-"));
    env = { DATA_DIR: path.join(dir, "data"), KEYS_DIR: path.join(dir, "keys") };
  });

  it("insurer add prints the credentials once and stores only the key's hash", async () => {
    const r = await runCli(
      [
        "insurer",
        "add",
        "pingan",
        "--name",
        "Ping An",
        "--alias",
        "平安",
        "--alias",
        "PingAn",
        "--contact",
        "95511",
      ],
      env,
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const created = JSON.parse(lines[0]!);
    expect(Object.keys(created).sort()).toEqual(["apiKey", "id", "webhookSecret"]);
    expect(created.id).toBe("pingan");
    expect(created.webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);

    const db = fs.readFileSync(path.join(dir, "data", "onewindow.db"));
    const wal = fs.existsSync(path.join(dir, "data", "onewindow.db-wal"))
      ? fs.readFileSync(path.join(dir, "data", "onewindow.db-wal"))
      : Buffer.alloc(0);
    const all = Buffer.concat([db, wal]);
    expect(all.includes(Buffer.from(created.apiKey))).toBe(false);
    expect(all.includes(Buffer.from(created.webhookSecret))).toBe(false);
    expect(all.includes(Buffer.from(hashApiKey(created.apiKey)))).toBe(true);

    const list = await runCli(["insurer", "list"], env, dir);
    expect(list.code).toBe(0);
    const insurers = JSON.parse(list.stdout);
    expect(insurers).toEqual([
      expect.objectContaining({
        id: "pingan",
        name: "Ping An",
        aliases: ["平安", "PingAn"],
        contact: "95511",
      }),
    ]);
    expect(list.stdout).not.toContain(created.apiKey);
  });

  it("refuses a duplicate id and bad usage with exit 2", async () => {
    const dup = await runCli(["insurer", "add", "pingan", "--name", "Again"], env, dir);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toMatch(/pingan/);
    const noName = await runCli(["insurer", "add", "x1"], env, dir);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain("--name");
    const badId = await runCli(["insurer", "add", "Bad Id!", "--name", "X"], env, dir);
    expect(badId.code).toBe(2);
    expect(badId.stderr).toContain("id");
    const unknown = await runCli(["frobnicate"], env, dir);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command: frobnicate");
  });

  it("keeps a Chinese name (--name-zh) and says on stderr when --contact is missing", async () => {
    const own = fs.mkdtempSync(path.join(os.tmpdir(), "ow-cli-zh-"));
    const zhEnv = { DATA_DIR: path.join(own, "data"), KEYS_DIR: path.join(own, "keys") };
    const note = /note: insurer cpic has no --contact line, so owners cannot choose it for consent/;

    const bare = await runCli(
      ["insurer", "add", "cpic", "--name", "CPIC", "--name-zh", "太平洋保险"],
      zhEnv,
      own,
    );
    expect(bare.code, bare.stderr).toBe(0);
    // stdout stays one JSON object; the note is on stderr only.
    expect(Object.keys(JSON.parse(bare.stdout)).sort()).toEqual(["apiKey", "id", "webhookSecret"]);
    expect(bare.stderr).toMatch(note);
    expect(bare.stderr).toContain('onewindow insurer update cpic --contact "<line>"');
    expect(bare.stdout).not.toContain("note:");

    const withContact = await runCli(
      ["insurer", "add", "pingan", "--name", "Ping An", "--name-zh", "中国平安", "--contact", "95511"],
      zhEnv,
      own,
    );
    expect(withContact.code, withContact.stderr).toBe(0);
    expect(withContact.stderr).not.toContain("note:");

    const list = await runCli(["insurer", "list"], zhEnv, own);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({ id: "cpic", name: "CPIC", nameZh: "太平洋保险" }),
      expect.objectContaining({ id: "pingan", name: "Ping An", nameZh: "中国平安", contact: "95511" }),
    ]);

    // `parse` knows an insurer by its Chinese name too.
    const parsed = await runCli(["parse", "只要太平洋保险，7月31日到期", "--now", "2027-01-10"], zhEnv, own);
    expect(parsed.code, parsed.stderr).toBe(0);
    expect(JSON.parse(parsed.stdout).patch).toMatchObject({ insurers: ["cpic"], renewalDate: "2027-07-31" });

    const renamed = await runCli(["insurer", "update", "pingan", "--name-zh", "平安产险"], zhEnv, own);
    expect(renamed.code, renamed.stderr).toBe(0);
    expect(JSON.parse(renamed.stdout)).toMatchObject({ nameZh: "平安产险", contact: "95511" });
    expect(renamed.stderr).not.toContain("note:");

    const cleared = await runCli(["insurer", "update", "pingan", "--name-zh", ""], zhEnv, own);
    expect(cleared.code, cleared.stderr).toBe(0);
    expect(JSON.parse(cleared.stdout)).not.toHaveProperty("nameZh");
    const after = JSON.parse((await runCli(["insurer", "list"], zhEnv, own)).stdout) as { id: string }[];
    expect(after.find((i) => i.id === "pingan")).not.toHaveProperty("nameZh");

    // Clearing the contact says the same as adding without one.
    const noContact = await runCli(["insurer", "update", "pingan", "--contact", ""], zhEnv, own);
    expect(noContact.code, noContact.stderr).toBe(0);
    expect(JSON.parse(noContact.stdout)).not.toHaveProperty("contact");
    expect(noContact.stderr).toContain("note: insurer pingan has no --contact line");

    for (const [args, option] of [
      [["insurer", "add", "x1", "--name", "   "], "--name"],
      [["insurer", "add", "x2", "--name", "X", "--name-zh", ""], "--name-zh"],
      [["insurer", "add", "x3", "--name", "X", "--name-zh", "  "], "--name-zh"],
      [["insurer", "update", "pingan", "--name", ""], "--name"],
      [["insurer", "update", "pingan", "--name-zh", " "], "--name-zh"],
    ] as const) {
      const bad = await runCli([...args], zhEnv, own);
      expect(bad.code, `${args.join(" ")}: ${bad.stderr}`).toBe(2);
      expect(bad.stderr).toContain(`${option} must not be empty`);
    }
    fs.rmSync(own, { recursive: true, force: true });
  }, 120_000);

  it("exits 2 on bad configuration, naming every bad variable", async () => {
    const r = await runCli(
      ["serve"],
      {
        ...env,
        PORT: "eighty",
        BOT_MODE: "webhook",
        TELEGRAM_BOT_TOKEN: "123:abcdefghijklmnopqrstuvwxyz",
        DEFAULT_TIMEZONE: "Mars/Olympus",
      },
      dir,
    );
    expect(r.code).toBe(2);
    for (const name of ["PORT", "DEFAULT_TIMEZONE", "PUBLIC_URL", "TELEGRAM_WEBHOOK_SECRET"]) {
      expect(r.stderr).toContain(name);
    }
  });

  it("exits 2 when the data key does not match the store", async () => {
    const other = Buffer.alloc(32, 7).toString("base64url");
    const r = await runCli(["insurer", "list"], { ...env, DATA_KEY: other }, dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("DATA_KEY");
  });

  it("parse prints the patch, the extractor and the time taken", async () => {
    const r = await runCli(
      ["parse", "expires 31 July, only Ping An, text me", "--now", "2026-12-01"],
      env,
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.extractor).toBe("rules");
    expect(typeof out.ms).toBe("number");
    expect(out.patch).toMatchObject({ renewalDate: "2027-07-31", insurers: ["pingan"], channels: ["sms"] });
  });

  it("update, rotate-key, rotate-webhook-secret, remove and dispatch answer JSON", async () => {
    await runCli(["insurer", "add", "picc", "--name", "PICC"], env, dir);
    const updated = await runCli(
      ["insurer", "update", "picc", "--name", "PICC Property", "--contact", "95518"],
      env,
      dir,
    );
    expect(updated.code, updated.stderr).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({ id: "picc", name: "PICC Property", contact: "95518" });

    const rotated = await runCli(["insurer", "rotate-key", "picc"], env, dir);
    expect(rotated.code).toBe(0);
    expect(JSON.parse(rotated.stdout)).toEqual({ id: "picc", apiKey: expect.stringMatching(/^owk_/) });

    const secret = await runCli(["insurer", "rotate-webhook-secret", "picc"], env, dir);
    expect(JSON.parse(secret.stdout)).toEqual({
      id: "picc",
      webhookSecret: expect.stringMatching(/^whsec_/),
    });

    const http = await runCli(["insurer", "update", "picc", "--webhook", "http://127.0.0.1:9/x"], env, dir);
    expect(http.code).toBe(2);
    expect(http.stderr).toContain("https");

    const removed = await runCli(["insurer", "remove", "picc"], env, dir);
    expect(JSON.parse(removed.stdout)).toEqual({ id: "picc", removed: true });
    const again = await runCli(["insurer", "remove", "picc"], env, dir);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("picc");

    const dispatched = await runCli(["dispatch"], env, dir);
    expect(dispatched.code, dispatched.stderr).toBe(0);
    expect(JSON.parse(dispatched.stdout)).toEqual({ delivered: 0, retried: 0, dead: 0, skipped: 0 });
  }, 90_000);
});

// DESIGN §3: `npm install`, then `npm start` is the whole service. Run it as a user does, through
// npm and package.json, not through the bin directly.
describe("npm start", { timeout: 60_000 }, () => {
  it("starts the service (health answers, the sandbox line is printed) and stops on Ctrl-C", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ow-npm-start-"));
    const child = spawn("npm", ["start", "--silent"], {
      cwd: ROOT,
      detached: true,
      env: cleanEnv({
        LOG_LEVEL: "info",
        DATA_DIR: path.join(dir, "data"),
        KEYS_DIR: path.join(dir, "keys"),
        PORT: "0",
      }),
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    let output = () => "";
    let url = "";
    try {
      ({ url, output } = await whenListening(child, "npm start"));
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: "ok", store: "ok" });
      expect(output()).toContain("No TELEGRAM_BOT_TOKEN set: open the sandbox at");
      expect(fs.existsSync(path.join(dir, "data"))).toBe(true);
    } finally {
      // Ctrl-C in a terminal: SIGINT to the whole foreground process group (npm, its shell and
      // the service). npm does not pass on a signal sent to npm alone.
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGINT");
    }
    await exited;
    // The service stopped cleanly (how npm itself exits on a signal is npm's business).
    await expect.poll(() => output(), { timeout: 10_000 }).toContain('"msg":"stopping: no new updates');
    await expect
      .poll(
        () =>
          fetch(`${url}/healthz`).then(
            () => "up",
            () => "down",
          ),
        { timeout: 10_000 },
      )
      .toBe("down");
    expect(output()).not.toContain('"level":50');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
