/**
 * The whole service as a child process, insurers at real loopback receivers: an owner agrees to
 * one of five insurers with a renewal date close enough that the window is already open. The
 * chosen insurer gets exactly one signed `window.opened` (with the phone and the code the bot
 * told the owner), the other four one signed `optout.filed` each (match keys, no phone), the
 * pull feeds agree, and /stop announces `window.revoked` without owner data.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeTelegram, type RecordedCall, startFakeTelegram } from "../fakes/telegram-server.js";
import {
  type ReceivedRequest,
  startWebhookReceiver,
  type WebhookReceiver,
} from "../fakes/webhook-receiver.js";
import { addInsurerWithWebhook, startServe, stopChild } from "../support/cli.js";

const PHONE_DIGITS = "13987654321";
const PHONE = `+86${PHONE_DIGITS}`;
/** A syntactically valid secret until the real one is known (receivers start before `insurer add`). */
const PLACEHOLDER_SECRET = `whsec_${Buffer.from("placeholder-secret-32-bytes-long").toString("base64")}`;

const INSURERS = [
  { id: "pingan", name: "Ping An" },
  { id: "picc", name: "PICC" },
  { id: "cpic", name: "CPIC" },
  { id: "chinalife", name: "China Life" },
  { id: "taiping", name: "Taiping" },
] as const;
const CHOSEN = "cpic";

interface Insurer {
  id: string;
  name: string;
  apiKey: string;
  receiver: WebhookReceiver;
}

/** Today in Asia/Shanghai plus `days`, as YYYY-MM-DD (the service runs on real time). */
function shanghaiDatePlus(days: number): string {
  const today = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date(Date.now()));
  const [y, m, d] = today.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("insurers end to end", () => {
  let dir: string;
  let fake: FakeTelegram;
  let env: Record<string, string>;
  const insurers: Insurer[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ow-e2e-ins-"));
    fake = await startFakeTelegram();
    env = {
      TELEGRAM_BOT_TOKEN: fake.token,
      TELEGRAM_API_ROOT: fake.apiRoot,
      DATA_DIR: path.join(dir, "data"),
      KEYS_DIR: path.join(dir, "keys"),
      PORT: "0",
      ALLOW_PRIVATE_WEBHOOKS: "1",
      DISPATCH_INTERVAL_MS: "200",
    };
    const add = async ({ id, name }: { id: string; name: string }) => {
      const receiver = await startWebhookReceiver(PLACEHOLDER_SECRET);
      const out = await addInsurerWithWebhook(env, dir, { id, name }, receiver);
      expect(out.id).toBe(id);
      insurers.push({ id, name, apiKey: out.apiKey, receiver });
    };
    // All at once: key generation and migrations are safe against concurrent first runs.
    await Promise.all(INSURERS.map(add));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(insurers.map((i) => i.receiver.close()));
    await fake?.close();
  });

  it("delivers one window to the chosen insurer, opt-outs to the rest, and the revocation", async () => {
    const serve = await startServe({ ...env, LOG_LEVEL: "debug" }, dir);
    const byId = (id: string) => insurers.find((i) => i.id === id)!;
    const chosen = byId(CHOSEN);
    const others = insurers.filter((i) => i.id !== CHOSEN);
    const api = async (insurer: Insurer, method: string, route: string, body?: unknown) => {
      const res = await fetch(`${serve.url}${route}`, {
        method,
        headers: {
          authorization: `Bearer ${insurer.apiKey}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      expect(res.status, `${method} ${route}`).toBe(200);
      return (await res.json()) as Record<string, unknown>;
    };

    try {
      const owner = fake.user(5151, { firstName: "Lin" });
      const reply = async (send: () => unknown, match: RegExp) => {
        const before = new Set<RecordedCall>(fake.calls);
        send();
        const call = await fake.waitFor(
          (c) =>
            !before.has(c) &&
            c.method === "sendMessage" &&
            Number(c.payload.chat_id) === owner.id &&
            match.test(String(c.payload.text ?? "")),
          15_000,
        );
        return String(call.payload.text);
      };

      const renewal = shanghaiDatePlus(20);
      await reply(() => owner.sendCommand("/start"), /Share my contact/);
      await reply(() => owner.shareContact({ phone_number: `86${PHONE_DIGITS}` }), /Skip/);
      await reply(() => owner.pressButton("ob:vehicle:skip"), /When does your policy expire/);
      await reply(
        () => owner.sendText(`expires ${renewal}, only ${chosen.name}, text me on weekday evenings`),
        /How early/,
      );
      await reply(() => owner.pressButton("ob:db:30"), /attempts/);
      const summary = await reply(() => owner.pressButton("ob:att:2"), /Please check your choice/);
      expect(summary).toContain(chosen.name);
      const agreed = await reply(() => owner.pressButton("ob:agree"), /Done\. Your choice is signed/);
      const code = agreed.match(/code (\d{3}-\d{3})/)?.[1];
      expect(code, agreed).toBeDefined();
      // Every other insurer has a push address: the notices are being sent, not yet "delivered".
      expect(agreed).toContain("Opt-out notices are filed for 4 other insurers.");
      expect(agreed).toContain("Being sent now to");
      expect(agreed).not.toMatch(/delivered|pull feed of/);

      // Every receiver hears once; the dispatcher loop runs every 200 ms.
      const firstOf = (insurer: Insurer, type: string) =>
        insurer.receiver.requests.find((r) => r.json?.type === type);
      const opened = await until("window.opened", () => firstOf(chosen, "window.opened"));
      const filed = new Map<string, ReceivedRequest>();
      for (const other of others) {
        filed.set(other.id, await until(`optout.filed to ${other.id}`, () => firstOf(other, "optout.filed")));
      }
      // A few more dispatcher rounds: nothing else, no repeats.
      await new Promise((r) => setTimeout(r, 1000));
      expect(chosen.receiver.requests.map((r) => r.json?.type)).toEqual(["window.opened"]);
      for (const other of others) {
        expect(
          other.receiver.requests.map((r) => r.json?.type),
          other.id,
        ).toEqual(["optout.filed"]);
      }
      const all = insurers.flatMap((i) => i.receiver.requests);
      for (const r of all) {
        expect(r.signatureValid, r.body).toBe(true);
        expect(r.method).toBe("POST");
        expect(r.headers["content-type"]).toMatch(/^application\/json/);
        expect(r.headers["webhook-id"]).toBeTruthy();
      }
      expect(new Set(all.map((r) => r.headers["webhook-id"])).size).toBe(all.length);

      // The window: to the chosen insurer only, with the owner's phone and the code told in chat.
      const window = opened.json!.data as Record<string, unknown> & {
        owner: { phone: string };
        verificationCode: string;
      };
      expect(window.insurerId).toBe(CHOSEN);
      expect(window.status).toBe("open");
      expect(window.renewalDate).toBe(renewal);
      expect(window.owner.phone).toBe(PHONE);
      expect(window.verificationCode.replace(/\D/g, "")).toBe(code!.replace(/\D/g, ""));
      expect(Date.parse(String(window.opensAt))).toBeLessThanOrEqual(Date.now());
      expect(String(window.optOutLink)).toMatch(/^https:\/\/t\.me\/onewindow_test_bot\?start=stop_/);

      // The opt-outs: no phone, a match key per insurer equal to what match-keys answers it.
      const matchKeys = new Set<string>();
      for (const other of others) {
        const req = filed.get(other.id)!;
        expect(req.body).not.toContain(PHONE_DIGITS);
        const data = req.json!.data as { id: string; insurerId: string; matchKey: string; reason: string };
        expect(data.insurerId).toBe(other.id);
        expect(data.reason).toBe("not_chosen");
        expect(data.matchKey).toMatch(/^[0-9a-f]{64}$/);
        const keys = (await api(other, "POST", "/v1/match-keys", { numbers: [PHONE] })) as {
          results: { number: string; matchKey: string }[];
        };
        expect(keys.results).toEqual([{ number: PHONE, matchKey: data.matchKey }]);
        matchKeys.add(data.matchKey);

        // The pull feeds agree: the opt-out is listed, no window is visible.
        const optouts = (await api(other, "GET", "/v1/optouts")) as { data: { id: string }[] };
        expect(optouts.data.map((o) => o.id)).toEqual([data.id]);
        expect(JSON.stringify(optouts)).not.toContain(PHONE_DIGITS);
        const windows = (await api(other, "GET", "/v1/windows")) as { data: unknown[] };
        expect(windows.data).toEqual([]);
      }
      expect(matchKeys.size).toBe(others.length);

      const windows = (await api(chosen, "GET", "/v1/windows")) as { data: Record<string, unknown>[] };
      expect(windows.data.map((w) => w.id)).toEqual([window.id]);
      expect((windows.data[0]!.owner as { phone: string }).phone).toBe(PHONE);
      const chosenOptouts = (await api(chosen, "GET", "/v1/optouts")) as { data: unknown[] };
      expect(chosenOptouts.data).toEqual([]);

      // /stop for the chosen insurer: the window is revoked, announced without owner data.
      await reply(() => owner.sendCommand("/stop"), /Who should stop contacting you/);
      await reply(() => owner.pressButton(`stop:${CHOSEN}`), /Opt-out filed for/);
      const revoked = await until("window.revoked", () => firstOf(chosen, "window.revoked"));
      expect(revoked.signatureValid).toBe(true);
      expect(revoked.body).not.toContain(PHONE_DIGITS);
      expect(revoked.body).not.toContain(code!.replace(/\D/g, ""));
      const revokedData = revoked.json!.data;
      expect(Object.keys(revokedData).sort()).toEqual(["id", "insurerId", "reason", "revokedAt", "status"]);
      expect(revokedData).toMatchObject({ id: window.id, insurerId: CHOSEN, status: "revoked" });

      // The pull feed no longer shows owner data for the revoked window.
      const after = (await api(chosen, "GET", `/v1/windows/${String(window.id)}`)) as Record<string, unknown>;
      expect(after.status).toBe("revoked");
      expect(after.owner).toBeUndefined();
      expect(after.verificationCode).toBeUndefined();
      expect(JSON.stringify(after)).not.toContain(PHONE_DIGITS);

      // The stop also files an opt-out with the chosen insurer (owner_request): no phone in it
      // either, and its match key is the one match-keys gives that insurer.
      const stopOptOut = await until("optout.filed after /stop", () => firstOf(chosen, "optout.filed"));
      await new Promise((r) => setTimeout(r, 600));
      expect(chosen.receiver.requests.map((r) => r.json?.type).sort()).toEqual([
        "optout.filed",
        "window.opened",
        "window.revoked",
      ]);
      for (const r of chosen.receiver.requests) expect(r.signatureValid).toBe(true);
      expect(stopOptOut.body).not.toContain(PHONE_DIGITS);
      const stopData = stopOptOut.json!.data as { matchKey: string; reason: string };
      expect(stopData.reason).toBe("owner_request");
      const chosenKeys = (await api(chosen, "POST", "/v1/match-keys", { numbers: [PHONE] })) as {
        results: { matchKey: string }[];
      };
      expect(chosenKeys.results[0]!.matchKey).toBe(stopData.matchKey);
      expect(matchKeys.has(stopData.matchKey)).toBe(false);
      for (const other of others) expect(other.receiver.requests).toHaveLength(1);
    } finally {
      expect(await stopChild(serve.child, "SIGTERM")).toBe(0);
    }
    // No log line of the service (at debug level) carries the number.
    expect(serve.output()).not.toContain(PHONE_DIGITS);
  }, 90_000);
});
