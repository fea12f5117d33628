/**
 * Load for `POST /v1/scrub`, run as a child process so the client's CPU is not the server's:
 * `clients` loops, each sending one 10,000-number request at a time over a keep-alive undici
 * Agent; bodies are serialised before any timing. argv[2] is JSON options. IPC:
 *
 *   → {type:"ready", check}     after one request whose answers are checked
 *   ← {type:"run", seconds}  → {type:"done", requests, numbers, seconds, errors, p50, p95}
 *   ← {type:"close"}            exits
 */
import { performance } from "node:perf_hooks";
import { Agent, request } from "undici";
import { prng, scrubList } from "./phones.js";

const opts = JSON.parse(process.argv[2] ?? "{}") as {
  url: string;
  apiKey: string;
  owners: number;
  clients: number;
  size: number;
  hitRate: number;
  seed: number;
};

const random = prng(opts.seed);
const lists = Array.from({ length: 16 }, () => scrubList(opts.owners, opts.size, opts.hitRate, random));
const bodies = lists.map((numbers) => JSON.stringify({ numbers }));
const agent = new Agent({ keepAliveTimeout: 60_000, connections: opts.clients, pipelining: 1 });
const headers = { authorization: `Bearer ${opts.apiKey}`, "content-type": "application/json" };
let next = 0;

async function post(i: number): Promise<{ status: number; text: string }> {
  const res = await request(opts.url, {
    method: "POST",
    headers,
    body: bodies[i % bodies.length],
    dispatcher: agent,
  });
  return { status: res.statusCode, text: await res.body.text() };
}

async function run(seconds: number) {
  let requests = 0;
  let errors = 0;
  const latencies: number[] = [];
  const start = performance.now();
  const stopAt = start + seconds * 1000;
  const loop = async () => {
    while (performance.now() < stopAt) {
      const t = performance.now();
      const { status } = await post(next++);
      // Only requests finished before the deadline count: the window is exactly `seconds`.
      if (performance.now() > stopAt) break;
      if (status === 200) requests++;
      else errors++;
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: opts.clients }, loop));
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return { requests, numbers: requests * opts.size, seconds, errors, p50: q(0.5), p95: q(0.95) };
}

// Correctness first: every on-file number must come back do_not_contact.
const first = await post(next++);
if (first.status !== 200) {
  process.send?.({ type: "error", message: `status ${first.status}: ${first.text.slice(0, 300)}` });
  process.exit(1);
}
const results = (JSON.parse(first.text) as { results: { number: string; status: string }[] }).results;
const expected = new Set(lists[0]!.filter((n) => n.startsWith("+8613"))).size;
const dnc = new Set(results.filter((r) => r.status === "do_not_contact").map((r) => r.number)).size;
process.send?.({
  type: "ready",
  check: { results: results.length, doNotContact: dnc, expectedOnFile: expected },
});

process.on("message", async (msg: { type: string; seconds?: number }) => {
  if (msg.type === "run") process.send?.({ type: "done", ...(await run(msg.seconds ?? 3)) });
  if (msg.type === "close") {
    await agent.close();
    process.exit(0);
  }
});
process.on("disconnect", () => process.exit(0));
