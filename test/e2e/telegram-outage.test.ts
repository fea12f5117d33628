/**
 * Telegram unreachable when `serve` starts (issue 24 point 4, issue 20): the insurer API and
 * the dispatcher serve at once, /healthz says the bot is starting, every stderr line is JSON and
 * none holds the bot token; when Telegram answers, the bot joins without a restart.
 * Telegram is the loopback fake behind a TCP relay that is not listening at first.
 */
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeTelegram, startFakeTelegram } from "../fakes/telegram-server.js";
import { runCli, startServe, stopChild } from "../support/cli.js";
import { freePort } from "../support/ports.js";

const sockets = new Set<net.Socket>();

/** Ends the relay and every connection through it: Telegram unreachable again. */
function cut(server: net.Server) {
  server.close();
  for (const s of sockets) s.destroy();
}

/** A relay on `port` to `target`, started later: until then the port refuses connections. */
function relay(port: number, target: number): Promise<net.Server> {
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    const upstream = net.connect(target, "127.0.0.1");
    socket.pipe(upstream).pipe(socket);
    upstream.on("error", () => socket.destroy());
    socket.on("error", () => upstream.destroy());
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("telegram unreachable at start", () => {
  let dir: string;
  let fake: FakeTelegram;
  let relayServer: net.Server | undefined;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ow-outage-"));
    fake = await startFakeTelegram();
  });
  afterAll(async () => {
    relayServer?.close();
    await fake.close();
  });

  it("serves the API at once, joins the bot when Telegram answers, and never prints the token", async () => {
    const port = await freePort();
    const env = {
      TELEGRAM_BOT_TOKEN: fake.token,
      TELEGRAM_API_ROOT: `http://127.0.0.1:${port}`,
      DATA_DIR: path.join(dir, "data"),
      KEYS_DIR: path.join(dir, "keys"),
      PORT: "0",
    };
    const added = await runCli(
      ["insurer", "add", "pingan", "--name", "Ping An", "--contact", "95511"],
      env,
      dir,
    );
    expect(added.code, added.stderr).toBe(0);
    const { apiKey } = JSON.parse(added.stdout) as { apiKey: string };

    const started = Date.now();
    const service = await startServe(env, dir);
    try {
      expect(Date.now() - started).toBeLessThan(15_000);
      const health = await fetch(`${service.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: "ok", store: "ok", bot: "starting" });
      // The insurer API answers meanwhile.
      const feed = await fetch(`${service.url}/v1/optouts`, {
        headers: { authorization: `Bearer ${apiKey}` },
      });
      expect(feed.status).toBe(200);

      // Each try to reach Telegram is bounded and logged; then Telegram comes back.
      await until(
        async () => (service.output().includes("telegram does not answer") ? true : undefined),
        30_000,
      );
      relayServer = await relay(port, Number(new URL(fake.apiRoot).port));
      await until(async () => {
        const body = (await (await fetch(`${service.url}/healthz`)).json()) as { bot?: string };
        return body.bot === "up" ? true : undefined;
      }, 45_000);
      const owner = fake.user(5151);
      owner.sendCommand("/start");
      const welcome = await fake.waitFor(
        (c) => c.method === "sendMessage" && c.payload.chat_id === 5151,
        15_000,
      );
      expect(String(welcome.payload.text)).toContain("onewindow");

      // Unreachable again, mid-run: the runner's long poll fails and it says so on the console.
      cut(relayServer);
      await until(
        async () => (service.output().includes("Error while fetching updates") ? true : undefined),
        30_000,
      );

      const lines = service
        .output()
        .split("\n")
        .filter((l) => l.trim() !== "");
      for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
      const secret = fake.token.split(":")[1]!;
      expect(service.output()).not.toContain(secret);
    } finally {
      expect(await stopChild(service.child, "SIGTERM")).toBe(0);
    }
  }, 90_000);
});
