/**
 * SIGKILL in the middle of a fan-out (issue 3, "Bad input and faults"): 30 owners agree through
 * the bot (180 notices to 6 insurers); each receiver answers its first few after 300 ms and then
 * holds requests open, so at the kill some notices are delivered, some in flight and some not yet
 * sent. The service is killed without a chance to clean up and started again on the same files,
 * with fast receivers. Every (insurer, notice) arrives at least once, none is lost, and every
 * repeat carries the same `webhook-id` and the same bytes, validly signed.
 *
 * The notices the killed process had claimed are only claimed again once their lease lapses
 * (DISPATCH_LEASE_MS, 12 s here), so this test waits out one lease by design.
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

const PLACEHOLDER_SECRET = `whsec_${Buffer.from("placeholder-secret-32-bytes-long").toString("base64")}`;
const INSURERS = [
  { id: "pingan", name: "Ping An" },
  { id: "picc", name: "PICC" },
  { id: "cpic", name: "CPIC" },
  { id: "chinalife", name: "China Life" },
  { id: "taiping", name: "Taiping" },
  { id: "sunshine", name: "Sunshine" },
] as const;
const OWNERS = 30;
/** Per receiver, this many answers come after 300 ms; the rest are still pending at the kill. */
const ANSWERED_BEFORE_KILL = 8;
const SLOW = { status: 200, delayMs: 300 } as const;
const STUCK = { status: 200, delayMs: 60_000 } as const;

interface Insurer {
  id: string;
  name: string;
  apiKey: string;
  receiver: WebhookReceiver;
}

interface Owner {
  userId: number;
  phone: string;
  chosen: string;
}

function shanghaiDatePlus(days: number): string {
  const today = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date(Date.now()));
  const [y, m, d] = today.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

async function until(what: string, done: () => boolean, timeoutMs: number, detail = () => ""): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${detail()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The notice a request carries: one per (type, subject id) — a repeat has the same key. */
const noticeKey = (r: ReceivedRequest) => `${r.json?.type}:${String(r.json?.data.id)}`;

describe("SIGKILL in the middle of a fan-out", () => {
  let dir: string;
  let fake: FakeTelegram;
  let env: Record<string, string>;
  const insurers: Insurer[] = [];
  const owners: Owner[] = Array.from({ length: OWNERS }, (_, i) => ({
    userId: 6100 + i,
    phone: `+86139${String(20_000_000 + i).padStart(8, "0")}`,
    chosen: INSURERS[i % INSURERS.length]!.id,
  }));

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ow-e2e-crash-"));
    fake = await startFakeTelegram();
    env = {
      TELEGRAM_BOT_TOKEN: fake.token,
      TELEGRAM_API_ROOT: fake.apiRoot,
      DATA_DIR: path.join(dir, "data"),
      KEYS_DIR: path.join(dir, "keys"),
      PORT: "0",
      ALLOW_PRIVATE_WEBHOOKS: "1",
      DISPATCH_INTERVAL_MS: "50",
      // A killed process's claims come back after the lease: short, so the test needs no minute of waiting.
      DISPATCH_LEASE_MS: "12000",
    };
    const add = async ({ id, name }: { id: string; name: string }) => {
      const receiver = await startWebhookReceiver(PLACEHOLDER_SECRET, STUCK);
      receiver.script(...Array.from({ length: ANSWERED_BEFORE_KILL }, () => SLOW));
      const out = await addInsurerWithWebhook(env, dir, { id, name }, receiver);
      insurers.push({ id, name, apiKey: out.apiKey, receiver });
    };
    // All at once: key generation and migrations are safe against concurrent first runs.
    await Promise.all(INSURERS.map(add));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(insurers.map((i) => i.receiver.close()));
    await fake?.close();
  });

  it("delivers every notice after a restart; repeats keep their webhook-id and bytes", async () => {
    const renewal = shanghaiDatePlus(20);
    const nameOf = (id: string) => INSURERS.find((i) => i.id === id)!.name;
    let serve = await startServe(env, dir);
    const logs: string[] = [];
    try {
      // Thirty owners, all at once, each up to the summary.
      const reply = async (owner: Owner, send: () => unknown, match: RegExp) => {
        const before = new Set<RecordedCall>(fake.calls);
        send();
        const call = await fake.waitFor(
          (c) =>
            !before.has(c) &&
            c.method === "sendMessage" &&
            Number(c.payload.chat_id) === owner.userId &&
            match.test(String(c.payload.text ?? "")),
          30_000,
        );
        return String(call.payload.text);
      };
      await Promise.all(
        owners.map(async (o) => {
          const user = fake.user(o.userId, { firstName: `Owner${o.userId}` });
          await reply(o, () => user.sendCommand("/start"), /Share my contact/);
          await reply(o, () => user.shareContact({ phone_number: o.phone.slice(1) }), /Skip/);
          await reply(o, () => user.pressButton("ob:vehicle:skip"), /When does your policy expire/);
          await reply(
            o,
            () => user.sendText(`expires ${renewal}, only ${nameOf(o.chosen)}, text me on weekday evenings`),
            /How early/,
          );
          await reply(o, () => user.pressButton("ob:db:30"), /attempts/);
          const summary = await reply(o, () => user.pressButton("ob:att:2"), /Please check your choice/);
          expect(summary).toContain(nameOf(o.chosen));
        }),
      );

      // Everyone agrees at once: 30 windows and 150 opt-outs to fan out.
      const before = new Set<RecordedCall>(fake.calls);
      for (const o of owners) fake.user(o.userId).pressButton("ob:agree");
      const agreed = () =>
        fake.calls.filter(
          (c) =>
            !before.has(c) &&
            c.method === "sendMessage" &&
            /Done\. Your choice is signed/.test(String(c.payload.text)),
        ).length;
      await until("every owner's agreement", () => agreed() === OWNERS, 30_000);

      // Kill once every receiver has answered its first few (delivered) and holds later ones
      // open (in flight); the rest are still queued or not yet claimed.
      const answered = (i: Insurer) =>
        i.receiver.requests.filter((r) => r.reply === SLOW && Date.now() - r.receivedAt > SLOW.delayMs + 100)
          .length;
      const inFlight = (i: Insurer) => i.receiver.requests.filter((r) => r.reply === STUCK).length;
      await until(
        "the first answers of every receiver, and later requests in flight",
        () => insurers.every((i) => answered(i) >= ANSWERED_BEFORE_KILL && inFlight(i) > 0),
        30_000,
        () => ` (${insurers.map((i) => `${i.id}: ${i.receiver.requests.length}`).join(", ")})`,
      );
      logs.push(serve.output());
      await stopChild(serve.child, "SIGKILL");
      const seenBeforeKill = insurers.reduce(
        (n, i) => n + new Set(i.receiver.requests.map(noticeKey)).size,
        0,
      );
      expect(seenBeforeKill).toBeGreaterThan(0);
      expect(seenBeforeKill).toBeLessThan(OWNERS * INSURERS.length);
      const requestsBeforeKill = new Map(insurers.map((i) => [i.id, i.receiver.requests.length]));

      // Receivers are fast from now on; the same files, a new process.
      for (const i of insurers) i.receiver.setFallback({ status: 200 });
      serve = await startServe(env, dir);

      const distinct = (i: Insurer) => new Set(i.receiver.requests.map(noticeKey)).size;
      await until(
        "every notice",
        () => insurers.every((i) => distinct(i) >= OWNERS),
        80_000,
        () => ` (${insurers.map((i) => `${i.id}: ${distinct(i)}/${OWNERS}`).join(", ")})`,
      );
      // What was in flight at the kill was already seen; it is sent again once its lease lapses.
      await until(
        "the in-flight notices re-sent",
        () => insurers.some((i) => i.receiver.requests.length > distinct(i)),
        40_000,
      );
      // A little longer, to catch a stray extra notice.
      await new Promise((r) => setTimeout(r, 300));

      let repeats = 0;
      for (const insurer of insurers) {
        const requests = insurer.receiver.requests;
        for (const r of requests) {
          expect(r.signatureValid, `${insurer.id} ${r.headers["webhook-id"]}`).toBe(true);
          expect(r.json?.data.insurerId).toBe(insurer.id);
        }
        // One webhook-id per notice, one body per webhook-id.
        const byId = new Map<string, ReceivedRequest[]>();
        for (const r of requests) {
          const id = String(r.headers["webhook-id"]);
          byId.set(id, [...(byId.get(id) ?? []), r]);
        }
        const idOfNotice = new Map<string, string>();
        for (const [id, group] of byId) {
          for (const r of group) {
            expect(r.body, `${insurer.id} ${id}`).toBe(group[0]!.body);
            const key = noticeKey(r);
            expect(idOfNotice.get(key) ?? id, `${key} under two webhook-ids`).toBe(id);
            idOfNotice.set(key, id);
          }
          repeats += group.length - 1;
        }
        // Repeats are only of what the killed process had sent and not seen answered.
        for (const [id, group] of byId) {
          if (group.length > 1) {
            const first = requests.indexOf(group[0]!);
            expect(first, `${insurer.id} ${id}`).toBeLessThan(requestsBeforeKill.get(insurer.id)!);
          }
        }

        // Exactly the expected notices: a window for each owner who chose this insurer (by
        // phone), an opt-out for each other owner (by the match key this insurer gets).
        const chose = owners.filter((o) => o.chosen === insurer.id);
        const others = owners.filter((o) => o.chosen !== insurer.id);
        const notices = [...byId.values()].map((g) => g[0]!.json!);
        const windows = notices.filter((n) => n.type === "window.opened");
        const optouts = notices.filter((n) => n.type === "optout.filed");
        expect(windows.length + optouts.length).toBe(notices.length);
        expect(windows.map((w) => (w.data.owner as { phone: string }).phone).sort()).toEqual(
          chose.map((o) => o.phone).sort(),
        );
        const res = await fetch(`${serve.url}/v1/match-keys`, {
          method: "POST",
          headers: { authorization: `Bearer ${insurer.apiKey}`, "content-type": "application/json" },
          body: JSON.stringify({ numbers: others.map((o) => o.phone) }),
        });
        expect(res.status).toBe(200);
        const keys = ((await res.json()) as { results: { matchKey: string }[] }).results.map(
          (k) => k.matchKey,
        );
        expect(optouts.map((n) => String(n.data.matchKey)).sort()).toEqual(keys.sort());

        // The pull feeds hold exactly what was pushed.
        const feed = async (route: string) => {
          const r = await fetch(`${serve.url}${route}?limit=500`, {
            headers: { authorization: `Bearer ${insurer.apiKey}` },
          });
          expect(r.status).toBe(200);
          return ((await r.json()) as { data: { id: string }[] }).data.map((x) => x.id).sort();
        };
        expect(await feed("/v1/windows")).toEqual(windows.map((w) => String(w.data.id)).sort());
        expect(await feed("/v1/optouts")).toEqual(optouts.map((n) => String(n.data.id)).sort());
      }
      // The notices in flight at the kill were sent again.
      expect(repeats).toBeGreaterThan(0);
    } finally {
      await stopChild(serve.child, "SIGTERM");
      logs.push(serve.output());
    }
    const output = logs.join("\n");
    for (const o of owners) expect(output).not.toContain(o.phone.slice(3));
  }, 90_000);
});
