/**
 * The whole service as a child process, Telegram faked at the wire: an owner goes from /start
 * to "I agree", the process is killed and restarted, and the consent is still there.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeTelegram, startFakeTelegram } from "../fakes/telegram-server.js";
import { runCli, startServe, stopChild } from "../support/cli.js";

const PHONE_DIGITS = "13912345678";

describe("owner flow end to end", () => {
  let dir: string;
  let fake: FakeTelegram;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ow-e2e-"));
    fake = await startFakeTelegram();
    env = {
      TELEGRAM_BOT_TOKEN: fake.token,
      TELEGRAM_API_ROOT: fake.apiRoot,
      DATA_DIR: path.join(dir, "data"),
      KEYS_DIR: path.join(dir, "keys"),
      PORT: "0",
    };
    for (const [id, name, alias] of [
      ["pingan", "Ping An", "平安"],
      ["picc", "PICC", "人保"],
      ["cpic", "CPIC", "太平洋"],
    ] as const) {
      const r = await runCli(
        ["insurer", "add", id, "--name", name, "--alias", alias, "--contact", "95500"],
        env,
        dir,
      );
      expect(r.code, r.stderr).toBe(0);
    }
  }, 60_000);

  afterAll(async () => {
    await fake.close();
  });

  it("keeps the consent across a SIGKILL and restart, and stores no phone digits", async () => {
    const first = await startServe(env, dir);
    const owner = fake.user(4242, { firstName: "Mei" });
    const reply = async (send: () => unknown, match: RegExp) => {
      fake.clearCalls();
      send();
      const call = await fake.waitFor(
        (c) => c.method === "sendMessage" && match.test(String(c.payload.text ?? "")),
        10_000,
      );
      return String(call.payload.text);
    };

    await reply(() => owner.sendCommand("/start"), /Share my contact/);
    expect(fake.commands().map((c) => c.command)).toContain("stop");
    expect(fake.commands("zh").length).toBeGreaterThan(5);
    await reply(() => owner.shareContact({ phone_number: `86${PHONE_DIGITS}` }), /Skip/);
    await reply(() => owner.pressButton("ob:vehicle:skip"), /When does your policy expire/);
    // One message settles date, insurer, channels, days and hours.
    await reply(
      () => owner.sendText("expires 2027-03-15, only Ping An, text me on weekday evenings"),
      /How early/,
    );
    await reply(() => owner.pressButton("ob:db:30"), /attempts/);
    const summary = await reply(() => owner.pressButton("ob:att:2"), /Please check your choice/);
    expect(summary).toContain("Ping An");
    const agreed = await reply(() => owner.pressButton("ob:agree"), /Done\. Your choice is signed/);
    const code = agreed.match(/code (\d{3}-\d{3})/)?.[1];
    expect(code).toBeDefined();

    // Killed without a chance to clean up, then started again on the same files.
    await stopChild(first.child, "SIGKILL");
    const second = await startServe(env, dir);
    try {
      const status = await reply(() => owner.sendCommand("/status"), /Your renewal: 2027-03-15/);
      expect(status).toContain("Ping An");
      expect(status).toContain(code!);
      expect(status).toMatch(/PICC: may not contact you/);

      const health = await fetch(`${second.url}/healthz`);
      expect(await health.json()).toEqual({ status: "ok", store: "ok", bot: "up" });
    } finally {
      expect(await stopChild(second.child, "SIGTERM")).toBe(0);
    }

    // Database, WAL and anything else under DATA_DIR: no phone number in any form.
    const files = fs
      .readdirSync(env.DATA_DIR!, { recursive: true })
      .map((f) => path.join(env.DATA_DIR!, String(f)));
    expect(files.some((f) => f.endsWith(".db"))).toBe(true);
    for (const file of files) {
      if (!fs.statSync(file).isFile()) continue;
      const bytes = fs.readFileSync(file);
      expect(bytes.includes(Buffer.from(PHONE_DIGITS)), file).toBe(false);
      expect(bytes.includes(Buffer.from(PHONE_DIGITS, "utf16le")), file).toBe(false);
    }
    // Nor in the service's logs.
    expect(first.output() + second.output()).not.toContain(PHONE_DIGITS);
  }, 90_000);
});
