/**
 * Fan-out benchmark (issue 3, "Speed"): owners per second from "I agree" — with 20 insurers in
 * the directory, each with a webhook on a loopback receiver — until every notice (1
 * window.opened + 19 optout.filed per owner) has been accepted by the receivers; next to the
 * raw rate of signed POSTs (Standard Webhooks headers, the same bodies) to the same receivers
 * in the same run (undici, 64 in flight). The issue aims for owners/s >= raw POST/s / 20 / 2.
 *
 *   npx tsx bench/fanout.ts [--owners 500] [--insurers 20] [--agree-concurrency 4]
 *                           [--interval 1000] [--raw-seconds 5] [--store sqlite|redis|upstash]
 *                           [--processes 1] [--alone] [--in-process] [--profile] [--keep]
 *
 * With `--store redis` or `upstash` the same fan-out runs on SQLite first, in a child process
 * (unless `--alone`), and the two are compared: our process's CPU per owner and owners/s, with
 * Redis's own CPU per owner (`INFO cpu`, the whole server) and its commands per owner (`INFO
 * stats`); for Upstash, the REST fake's requests (round trips) and commands per owner.
 * `--processes N` (Redis, Upstash) runs N service processes on the one store, each with its
 * dispatcher thread, agreeing a share of the owners: the CPU is all of theirs.
 *
 * The service is the real one: createServices on a fresh SQLite file (or, with `--store`, a
 * fresh prefix on Redis db 12 or the loopback Upstash REST fake; see support/stores.ts; the
 * keys are deleted afterwards), services.owners.agree, and the dispatcher thread that
 * `onewindow serve` starts (delivery/dispatcher-thread.ts) with its WAL checkpointer thread
 * (store/sqlite/checkpointer.ts), woken by each commit that queues
 * notices as serve wakes it (`--interval` is its DISPATCH_INTERVAL_MS, the look when nothing
 * woke it; `--in-process` runs the same dispatcher on the main thread instead, as
 * `onewindow dispatch` does). The receivers run in a child process and answer 204 without
 * verifying, so the figures are ours, not the receiver's; RSS and CPU are this process's (both
 * threads).
 */

import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import { Webhook } from "standardwebhooks";
import { Agent, request } from "undici";
import { loadConfig } from "../src/config.js";
import type { Dispatcher } from "../src/delivery/dispatcher.js";
import { startDispatcherThread } from "../src/delivery/dispatcher-thread.js";
import { createProcessDispatcher } from "../src/delivery/process-dispatcher.js";
import type { Preferences } from "../src/domain/preferences.js";
import { createLogger } from "../src/logger.js";
import { createServices } from "../src/services/create-services.js";
import { stopLinkPrefix, telegramStopLink } from "../src/services/insurer-views.js";
import { startCheckpointer } from "../src/store/sqlite/checkpointer.js";
import { type Child, forkHelper as forkBench, forkHelper } from "./support/child.js";
import { fmt, machineLine, mib, parseArgs } from "./support/machine.js";
import { seedVerifiedOwner } from "./support/owners.js";
import { startProfile, summariseProfile } from "./support/profile.js";
import { benchStore, fakeRequests, storeKind } from "./support/stores.js";

const opts = parseArgs({
  owners: 500,
  insurers: 20,
  agreeConcurrency: 4,
  interval: 1000,
  rawSeconds: 5,
  inflight: 64,
  store: "sqlite",
  inProcess: false,
  profile: false,
  keep: false,
  processes: 1,
  alone: false,
});
const kind = storeKind(opts.store);

const log = (line: string) => console.log(line);

/** Bytes this process has written (Linux /proc/self/io `wchar`): SQLite's WAL and checkpoints. */
function bytesWritten(): number | undefined {
  try {
    const m = /wchar: (\d+)/.exec(fs.readFileSync("/proc/self/io", "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The figures a run ends with (printed as `RESULT {…}` for a parent run to compare). */
interface Result {
  store: string;
  processes: number;
  ownersPerS: number;
  cpuPerOwnerMs: number;
  rawPerS: number;
}

/** Redis's own CPU seconds and commands so far (the whole server: other clients count too). */
async function redisCounters(url: string | undefined) {
  if (!url) return undefined;
  const redis = new Redis(url, { lazyConnect: true });
  await redis.connect();
  const info = await redis.info();
  redis.disconnect();
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(info)?.[1] ?? 0);
  return { cpu: field("used_cpu_sys") + field("used_cpu_user"), commands: field("total_commands_processed") };
}

async function main(): Promise<Result> {
  log("== onewindow fan-out benchmark ==");
  log(machineLine());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "onewindow-fanout-"));
  const store = await benchStore(kind);
  cleanupOnError = store.cleanup;
  log(`store: ${kind === "sqlite" ? `SQLite ${path.join(dir, "data")}` : store.describe}`);
  const env = {
    DATA_DIR: path.join(dir, "data"),
    KEYS_DIR: path.join(dir, "keys"),
    LOG_LEVEL: "silent",
    ALLOW_PRIVATE_WEBHOOKS: "1",
    ...store.env,
  };
  const config = loadConfig(env);
  if (opts.processes > 1 && kind === "sqlite") throw new Error("--processes needs --store redis or upstash");
  const services = await createServices(config, createLogger("silent"), () => new Date());
  const receiver = forkHelper("lean-receiver.ts", [String(opts.insurers)]);
  const { urls } = await receiver.next<{ urls: string[] }>("ready", 30_000);

  // The directory: insurers with webhooks on the loopback receivers (one origin each).
  const insurers: { id: string; secret: string; url: string }[] = [];
  for (let i = 0; i < opts.insurers; i++) {
    const id = `ins${String(i + 1).padStart(2, "0")}`;
    const creds = await services.insurers.add({
      id,
      name: `Insurer ${i + 1}`,
      webhookUrl: urls[i]!,
      contact: `${id} hotline 95500`,
    });
    insurers.push({ id, secret: creds.webhookSecret, url: urls[i]! });
  }

  // Owners with Telegram-verified phones, ready to agree (not timed).
  const ownerIds: string[] = new Array(opts.owners);
  let nextSeed = 0;
  const seedLoop = async () => {
    for (let i = nextSeed++; i < opts.owners; i = nextSeed++) await seedOne(i);
  };
  const seedOne = async (i: number) => {
    ownerIds[i] = await seedVerifiedOwner(services.store, i, { firstUserId: 10_000, language: "en" });
  };
  // Sequential on SQLite (as before); 16 at a time on Redis / Upstash, where each call waits on
  // the network.
  await Promise.all(Array.from({ length: kind === "sqlite" ? 1 : 16 }, seedLoop));
  // Renewal in 20 days, window from 30 days before: open at once.
  const renewalDate = new Date(Date.now() + 20 * 86_400_000).toISOString().slice(0, 10);
  const prefsFor = (i: number): Preferences => ({
    renewalDate,
    insurers: [insurers[i % insurers.length]!.id],
    channels: ["call", "sms"],
    days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    hours: [{ from: "09:00", to: "20:00" }],
    daysBefore: 30,
    maxAttempts: 3,
  });
  const perOwner = opts.insurers;
  const expected = opts.owners * perOwner;
  log(
    `setup: ${opts.insurers} insurers (webhooks on ${opts.insurers} loopback ports, child process answering 204), ${fmt(opts.owners)} owners; each agree = 1 window.opened + ${opts.insurers - 1} optout.filed → ${fmt(expected)} notices`,
  );
  log(
    `dispatcher: ${opts.inProcess ? "on the main thread" : "on its own thread, as serve runs it"}, defaults (64 in flight, 20 per insurer, batches of 200), woken by each commit (else every ${opts.interval} ms); agrees: ${opts.agreeConcurrency} concurrent`,
  );

  const optOutLink = telegramStopLink("onewindow_bench_bot");
  // The thread starts (and idles) before the clock runs: loading it is start-up, not fan-out.
  let inProcess: Dispatcher | undefined;
  let thread: ReturnType<typeof startDispatcherThread> | undefined;
  if (opts.inProcess) inProcess = createProcessDispatcher({ ...services, optOutLink });
  else {
    thread = startDispatcherThread({
      config: { ...config, dispatchIntervalMs: opts.interval },
      logger: services.logger,
      optOutLinkPrefix: stopLinkPrefix("onewindow_bench_bot"),
      intervalMs: opts.interval,
    });
    await thread.ready;
  }
  // As serve does on SQLite: WAL checkpoints on their own thread.
  const checkpointer =
    config.store.kind === "sqlite"
      ? startCheckpointer(config.store.file, { logger: services.logger })
      : undefined;
  await checkpointer?.ready;
  const woken = thread ?? inProcess;
  services.outboxWritten.subscribe(() => woken?.wake());
  // More service processes on the same store (--processes), started before the clock runs.
  const workers: Child[] = [];
  for (let n = 1; n < opts.processes; n++) {
    const worker = forkBench("fanout-worker.ts", [JSON.stringify(env), String(opts.interval)]);
    await worker.next("ready", 60_000);
    workers.push(worker);
  }
  const rssBase = process.memoryUsage().rss;
  let peakRss = rssBase;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 20);
  receiver.send({ type: "target", n: expected });
  const reached = receiver.next<{ total: number; at: number }>("reached", 290_000);
  const stopProfile = opts.profile ? await startProfile() : undefined;
  const receiverCpu = async () => {
    receiver.send({ type: "cpu" });
    return receiver.next<{ total: number; micros: number }>("cpu");
  };
  const rc0 = await receiverCpu();

  // ---- timed: first agree → last notice accepted ----
  const w0 = bytesWritten();
  const redis0 = await redisCounters(store.redisUrl);
  const fake0 = store.fake ? { ...store.fake.requests, commands: store.fake.counts.commands } : undefined;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  inProcess?.start(opts.interval);
  let nextOwner = 0;
  let agreedAt = 0;
  const agreeLoop = async () => {
    for (let i = nextOwner++; i < opts.owners; i = nextOwner++) {
      await services.owners.agree(ownerIds[i]!, prefsFor(i), "en");
    }
  };
  // Each process agrees an equal share of the owners (the parent the first).
  const share = Math.ceil(opts.owners / opts.processes);
  const handed = workers.map((worker, n) => {
    const from = (n + 1) * share;
    const slice = ownerIds.slice(from, from + share).map((id, k) => [id, prefsFor(from + k)]);
    worker.send({ type: "go", owners: slice, concurrency: opts.agreeConcurrency });
    return worker.next("agreed", 290_000);
  });
  nextOwner = 0;
  const mine = Math.min(share, opts.owners);
  const agreeMine = async () => {
    for (let i = nextOwner++; i < mine; i = nextOwner++) {
      await services.owners.agree(ownerIds[i]!, prefsFor(i), "en");
    }
  };
  const agrees = Promise.all([
    ...Array.from({ length: opts.agreeConcurrency }, opts.processes > 1 ? agreeMine : agreeLoop),
    ...handed,
  ]).then(() => {
    agreedAt = performance.now();
  });
  await reached;
  const t1 = performance.now();
  const own = process.cpuUsage(cpu0);
  const others = await Promise.all(
    workers.map(async (worker) => {
      worker.send({ type: "cpu" });
      return (await worker.next<{ micros: number }>("cpu")).micros;
    }),
  );
  const cpu = { user: own.user + others.reduce((a, b) => a + b, 0), system: own.system };
  const redis1 = await redisCounters(store.redisUrl);
  const fake1 = store.fake ? { ...store.fake.requests, commands: store.fake.counts.commands } : undefined;
  const w1 = bytesWritten();
  await agrees;
  // ---- end of timed part ----
  const rc1 = await receiverCpu();

  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const profile = stopProfile ? await stopProfile() : undefined;
  await inProcess?.stop();
  await thread?.stop();
  for (const worker of workers) {
    worker.send({ type: "stop" });
    await worker.next("stopped", 60_000).catch(() => undefined);
    await worker.close();
  }
  await checkpointer?.stop();
  const seconds = (t1 - t0) / 1000;
  const outbox = await services.store.outboxStats();
  receiver.send({ type: "stats" });
  const stats = await receiver.next<{ total: number; samples: { port: number; body: string }[] }>("stats");
  const maxRss = process.resourceUsage().maxRSS * 1024;

  // ---- raw signed POSTs to the same receivers, same bodies, 64 in flight ----
  const byPort = insurers.map((_, p) => stats.samples.filter((s) => s.port === p).map((s) => s.body));
  const opened = stats.samples.filter((s) => s.body.startsWith('{"type":"window.opened"'));
  const filed = stats.samples.filter((s) => s.body.startsWith('{"type":"optout.filed"'));
  const avg = (xs: { body: string }[]) =>
    xs.length ? Math.round(xs.reduce((a, s) => a + Buffer.byteLength(s.body), 0) / xs.length) : 0;
  const hooks = insurers.map((i) => new Webhook(i.secret));
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 20 });
  let k = 0;
  let ok = 0;
  let bad = 0;
  let counting = false;
  let stopAt = 0;
  const rawLoop = async () => {
    while (performance.now() < stopAt) {
      const n = k++;
      const port = n % insurers.length;
      const bodies = byPort[port]!.length ? byPort[port]! : (stats.samples.map((s) => s.body) as string[]);
      const body = bodies[Math.floor(n / insurers.length) % bodies.length]!;
      const id = `msg_bench_${n}`;
      const now = new Date();
      const res = await request(insurers[port]!.url, {
        method: "POST",
        dispatcher: agent,
        headers: {
          "webhook-id": id,
          "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
          "webhook-signature": hooks[port]!.sign(id, now, body),
          "content-type": "application/json",
          "user-agent": "onewindow-webhooks/1",
        },
        body,
      });
      await res.body.dump();
      if (counting && performance.now() <= stopAt) {
        if (res.statusCode >= 200 && res.statusCode < 300) ok++;
        else bad++;
      }
    }
  };
  stopAt = performance.now() + 500;
  await Promise.all(Array.from({ length: opts.inflight }, rawLoop));
  counting = true;
  const rc2 = await receiverCpu();
  const rawCpu0 = process.cpuUsage();
  stopAt = performance.now() + opts.rawSeconds * 1000;
  await Promise.all(Array.from({ length: opts.inflight }, rawLoop));
  const rawCpu = process.cpuUsage(rawCpu0);
  const rc3 = await receiverCpu();
  const raw = ok / opts.rawSeconds;
  await agent.close();

  const ownersPerS = opts.owners / seconds;
  const target = raw / opts.insurers / 2;
  log("\n== results ==");
  log(
    `fan-out: ${fmt(opts.owners)} owners, ${fmt(expected)} notices accepted in ${fmt(seconds, 2)} s (all agrees done after ${fmt((agreedAt - t0) / 1000, 2)} s = ${fmt(opts.owners / ((agreedAt - t0) / 1000))} agrees/s)`,
  );
  log(
    `  check: receivers got ${fmt(stats.total)} (expected ${fmt(expected)}); outbox pending ${outbox.pending}, retrying ${outbox.retrying}, dead ${outbox.dead}`,
  );
  log(
    `  bodies: window.opened ~${fmt(avg(opened))} B, optout.filed ~${fmt(avg(filed))} B (from ${stats.samples.length} sampled)`,
  );
  log(`owners/s:            ${fmt(ownersPerS, 1).padStart(10)}`);
  log(`notices/s:           ${fmt(ownersPerS * opts.insurers, 0).padStart(10)}`);
  log(
    `raw signed POST/s:   ${fmt(raw).padStart(10)}   (undici, ${opts.inflight} in flight, same receivers and bodies, ${opts.rawSeconds} s, ${bad} non-2xx)`,
  );
  log(
    `target:              ${fmt(target, 1).padStart(10)} owners/s (raw / ${opts.insurers} / 2) → ${ownersPerS >= target ? "MET" : "NOT MET"} (${((100 * ownersPerS) / target).toFixed(0)}% of target; notices/s = ${((100 * ownersPerS * opts.insurers) / raw).toFixed(0)}% of raw POST/s)`,
  );
  log(
    `memory: peak RSS ${mib(peakRss)} sampled every 20 ms (baseline before fan-out ${mib(rssBase)}); process maxRSS ${mib(maxRss)}`,
  );
  log(
    `cost per owner: ${fmt((cpu.user + cpu.system) / 1000 / opts.owners, 2)} ms CPU in this process (${fmt((100 * (cpu.user + cpu.system)) / 1000 / (t1 - t0))}% of one core over the run)${kind === "sqlite" && w0 !== undefined && w1 !== undefined ? `, ${fmt((w1 - w0) / 1024 / opts.owners)} KiB written (SQLite WAL + checkpoints)` : ""}`,
  );
  // Where the CPU goes, so the target can be read against what two cores can do at all.
  const cores = os.cpus().length;
  const receiverPerNotice = (rc1.micros - rc0.micros) / Math.max(1, rc1.total - rc0.total);
  const receiverPerRaw = (rc3.micros - rc2.micros) / Math.max(1, rc3.total - rc2.total);
  const clientPerRaw = (rawCpu.user + rawCpu.system) / Math.max(1, rc3.total - rc2.total);
  const oursPerOwner = (cpu.user + cpu.system) / opts.owners;
  const perOwnerAll = oursPerOwner + receiverPerNotice * opts.insurers;
  log(
    `CPU per notice: receiver ${fmt(receiverPerNotice)} µs in the fan-out, ${fmt(receiverPerRaw)} µs in the raw run; raw client ${fmt(clientPerRaw)} µs per POST (signing included)`,
  );
  log(
    `CPU bound: ${fmt(oursPerOwner / 1000, 2)} ms ours + ${fmt((receiverPerNotice * opts.insurers) / 1000, 2)} ms receiver per owner → at most ${fmt((cores * 1e6) / perOwnerAll)} owners/s on ${cores} cores if every core were busy (the target needs ≤ ${fmt((cores * 1e6) / target / 1000, 2)} ms per owner in all)`,
  );
  if (opts.processes > 1) {
    log(
      `processes: ${opts.processes} service processes on one store (CPU above is all of theirs, threads included)`,
    );
  }
  if (redis0 && redis1) {
    log(
      `redis server: ${fmt(((redis1.cpu - redis0.cpu) * 1000) / opts.owners, 2)} ms CPU per owner (INFO cpu, the whole server), ${fmt((redis1.commands - redis0.commands) / opts.owners)} commands per owner (INFO stats: those run inside scripts included)`,
    );
  }
  if (kind === "upstash" && fake0 && fake1) {
    const trips = Object.keys(fake1)
      .filter((k) => k !== "commands")
      .reduce(
        (sum, k) =>
          sum + ((fake1 as Record<string, number>)[k] ?? 0) - ((fake0 as Record<string, number>)[k] ?? 0),
        0,
      );
    log(
      `upstash: ${fmt(trips / opts.owners, 1)} round trips (HTTP requests) and ${fmt((fake1.commands - fake0.commands) / opts.owners, 1)} commands per owner, pipelined where the client allows (${fakeRequests(store)} over the whole run); the fake runs in this process, so its CPU is in the cost above`,
    );
  }
  if (profile) log(`\n${summariseProfile(profile)}`);

  await receiver.close();
  await services.close();
  if (kind !== "sqlite") {
    if (opts.keep) log(`kept keys under ${store.prefix} on ${store.redisUrl}`);
    else log(`deleted ${fmt(await store.cleanup())} keys under ${store.prefix}`);
    if (opts.keep) await store.fake?.close();
  }
  if (!opts.keep) fs.rmSync(dir, { recursive: true, force: true });
  else log(`kept ${dir}`);
  const result: Result = {
    store: kind,
    processes: opts.processes,
    ownersPerS,
    cpuPerOwnerMs: oursPerOwner / 1000,
    rawPerS: raw,
  };
  log(`RESULT ${JSON.stringify(result)}`);
  return result;
}

/** The same fan-out on SQLite, in a child process, before this one (its output indented). */
async function sqliteRun(): Promise<Result> {
  const args = process.argv
    .slice(2)
    .filter(
      (a, i, all) =>
        !["--store", "--processes"].includes(all[i - 1] ?? "") &&
        !["--store", "--processes"].includes(a) &&
        !a.startsWith("--store=") &&
        !a.startsWith("--processes="),
    );
  const child = spawn(
    process.execPath,
    [...process.execArgv, process.argv[1] ?? "", ...args, "--store", "sqlite", "--alone"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk;
    process.stdout.write(chunk.toString().replace(/^/gm, "  | "));
  });
  await new Promise((resolve) => child.once("exit", resolve));
  const line = /^RESULT (.*)$/m.exec(out)?.[1];
  if (!line) throw new Error("the SQLite run printed no RESULT");
  return JSON.parse(line) as Result;
}

async function run() {
  const baseline = kind !== "sqlite" && !opts.alone ? await sqliteRun() : undefined;
  const result = await main();
  if (!baseline) return;
  log("\n== next to SQLite, same run ==");
  log(
    `CPU per owner in our process(es): ${kind} ${fmt(result.cpuPerOwnerMs, 2)} ms vs SQLite ${fmt(baseline.cpuPerOwnerMs, 2)} ms = ${fmt(result.cpuPerOwnerMs / baseline.cpuPerOwnerMs, 2)}× (aim ≤ 1.5×: ${result.cpuPerOwnerMs <= 1.5 * baseline.cpuPerOwnerMs ? "met" : "NOT met"})`,
  );
  log(
    `owners/s: ${kind} ${fmt(result.ownersPerS, 1)} (${result.processes} process${result.processes > 1 ? "es" : ""}) vs SQLite ${fmt(baseline.ownersPerS, 1)} = ${fmt(result.ownersPerS / baseline.ownersPerS, 2)}× (aim ≥ 0.5×: ${result.ownersPerS >= 0.5 * baseline.ownersPerS ? "met" : "NOT met"}); raw POST/s ${fmt(result.rawPerS)} vs ${fmt(baseline.rawPerS)}`,
  );
  log(`bound: ${os.cpus().length} cores for everything (our processes, Redis, the receivers)`);
}

/** On a failure, the Redis keys are deleted all the same (unless --keep). */
let cleanupOnError: (() => Promise<number>) | undefined;

run().catch(async (err) => {
  console.error(err);
  if (!opts.keep) await cleanupOnError?.().catch(() => 0);
  process.exit(1);
});
