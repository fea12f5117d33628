/**
 * A lean loopback webhook receiver, run as a child process (so its CPU and memory are not
 * ours): `count` node:http servers on 127.0.0.1 port 0 — one origin per insurer — that read
 * each body and answer 204 at once, without verifying signatures (that would measure the
 * receiver, not us). Talks to its parent over IPC:
 *
 *   → {type:"ready", urls}                     once listening
 *   ← {type:"target", n}  → {type:"reached", total, at}   when `n` requests were answered
 *   ← {type:"stats"}      → {type:"stats", total, samples}  samples: a few bodies per port
 *   ← {type:"cpu"}        → {type:"cpu", total, micros}  requests answered and CPU used so far
 *   ← {type:"reset"}      zeroes the count
 *   ← {type:"close"}      closes and exits
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

const count = Number(process.argv[2] ?? "1");
const SAMPLES_PER_PORT = 8;

let total = 0;
let target = Number.POSITIVE_INFINITY;
const samples: { port: number; body: string }[][] = Array.from({ length: count }, () => []);

const send = (msg: unknown) => process.send?.(msg);

function handler(index: number) {
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    const keep = samples[index]!.length < SAMPLES_PER_PORT;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => {
      if (keep) chunks.push(c);
    });
    req.on("end", () => {
      res.writeHead(204);
      res.end();
      if (keep) samples[index]!.push({ port: index, body: Buffer.concat(chunks).toString("utf8") });
      total++;
      if (total >= target) {
        target = Number.POSITIVE_INFINITY;
        send({ type: "reached", total, at: Date.now() });
      }
    });
  };
}

const servers = await Promise.all(
  Array.from(
    { length: count },
    (_, i) =>
      new Promise<http.Server>((resolve) => {
        const s = http.createServer({ keepAliveTimeout: 60_000 }, handler(i));
        s.listen(0, "127.0.0.1", () => resolve(s));
      }),
  ),
);

process.on("message", (msg: { type: string; n?: number }) => {
  switch (msg.type) {
    case "target":
      target = msg.n ?? Number.POSITIVE_INFINITY;
      if (total >= target) {
        target = Number.POSITIVE_INFINITY;
        send({ type: "reached", total, at: Date.now() });
      }
      break;
    case "stats":
      send({ type: "stats", total, samples: samples.flat() });
      break;
    case "cpu": {
      const { user, system } = process.cpuUsage();
      send({ type: "cpu", total, micros: user + system });
      break;
    }
    case "reset":
      total = 0;
      break;
    case "close":
      for (const s of servers) s.closeAllConnections();
      Promise.all(servers.map((s) => new Promise((r) => s.close(r)))).then(() => process.exit(0));
      break;
  }
});
process.on("disconnect", () => process.exit(0));

send({
  type: "ready",
  urls: servers.map((s) => `http://127.0.0.1:${(s.address() as AddressInfo).port}/webhook`),
});
