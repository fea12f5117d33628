/**
 * Redis memory per owner (issue 4, "How it is verified"): N owners, each of whom agreed — 1
 * insurer chosen of 5 in the directory → 1 window, 4 opt-outs, a receipt, and 5 outbox entries
 * (1 window.opened + 4 optout.filed, left pending: no dispatcher runs) — written through the
 * real service on Redis (createServices with REDIS_URL; ensureOwner, updateOwnerProfile with a
 * verified phone, services.owners.agree). Reports `INFO memory` used_memory before and after,
 * bytes per owner (issue 19 aims for at most 3 KB each at 100,000 owners, everything delivered), DBSIZE, and a
 * `MEMORY USAGE` break-down of the run's keys.
 *
 * `--names` gives every owner a name, as a shared Telegram contact does (the profile and the
 * receipt then each hold it encrypted).
 *
 * `--deliver` measures the steady state instead: after seeding, every entry is claimed and
 * completed as delivered through the store (claimDue + completeDeliveries, what the
 * dispatcher does when a receiver answers 2xx), and memory is measured after that.
 *
 *   npx tsx bench/redis-memory.ts [--owners 100000] [--concurrency 8] [--redis-url redis://127.0.0.1:6379/12]
 *                                 [--deliver] [--names] [--keep]
 *
 * Keys live under a fresh `owbench:<random>:` prefix and are deleted at the end (unless
 * --keep). used_memory is the whole server's: run it on an otherwise idle Redis. Checkpoints at
 * each quarter give the marginal cost per owner. Extrapolating a smaller run is roughly
 * linear: the per-owner documents and queue entries are the bulk; the 16,384 id-index and
 * 8,192 phone-index buckets cost a fixed few MB (a small run over-counts them per owner) and
 * stay compact listpacks up to about a million owners. The break-down counts the chunks of a
 * chunked set (`{fo:ins01}:17`, its counter `:n`) with the set.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import { loadConfig } from "../src/config.js";
import type { Preferences } from "../src/domain/preferences.js";
import { createLogger } from "../src/logger.js";
import { createServices } from "../src/services/create-services.js";
import type { Store } from "../src/store/store.js";
import { fmt, machineLine, parseArgs } from "./support/machine.js";
import { seedVerifiedOwner } from "./support/owners.js";
import { DEFAULT_REDIS_URL, deletePrefix } from "./support/stores.js";

const opts = parseArgs({
  owners: 100_000,
  insurers: 5,
  concurrency: 8,
  redisUrl: DEFAULT_REDIS_URL,
  keep: false,
  deliver: false,
  names: false,
});

const log = (line: string) => console.log(line);
const kb = (bytes: number) => `${fmt(bytes)} B (${(bytes / 1024).toFixed(2)} KiB)`;

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info("memory");
  const m = /used_memory:(\d+)/.exec(info);
  if (!m) throw new Error("INFO memory: no used_memory");
  return Number(m[1]);
}

/** `MEMORY USAGE` of every key under `prefix`, grouped by kind (owner part, index, queue…). */
async function breakdown(redis: Redis, prefix: string) {
  const groups = new Map<string, { keys: number; bytes: number }>();
  let cursor = "0";
  let keys = 0;
  let bytes = 0;
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 2000);
    cursor = next;
    if (batch.length === 0) continue;
    const pipe = redis.pipeline();
    for (const key of batch) pipe.memory("USAGE", key, "SAMPLES", 0);
    const replies = (await pipe.exec()) ?? [];
    batch.forEach((key, n) => {
      const size = Number(replies[n]?.[1] ?? 0);
      // `{o:<id>}` → "owner"; `{ix:17}` → "ix"; `{q:ins01}:e` → "q :e"; `{fw:ins01}` → "fw".
      const m = /^\{([a-z]+):?[^}]*\}(.*)$/.exec(key.slice(prefix.length));
      // Chunked sets (`{fo:ins01}:17`, counter `:n`) count with their directory.
      const suffix = m?.[2]?.replace(/:(\d+|n)$/, "") ?? "";
      const group = m ? `${m[1] === "o" ? "owner" : m[1]}${suffix ? ` ${suffix}` : ""}` : "other";
      const g = groups.get(group) ?? { keys: 0, bytes: 0 };
      g.keys++;
      g.bytes += size;
      groups.set(group, g);
      keys++;
      bytes += size;
    });
  } while (cursor !== "0");
  return { keys, bytes, groups: [...groups].sort((a, b) => b[1].bytes - a[1].bytes) };
}

/** Claims and completes every due entry as delivered, as the dispatcher does on a 2xx. */
async function deliverAll(store: Store): Promise<number> {
  let delivered = 0;
  for (;;) {
    const at = new Date().toISOString();
    const batch = await store.claimDue({
      now: at,
      limit: 500,
      perInsurer: 500,
      leaseMs: 60_000,
      worker: "bench",
    });
    if (batch.length === 0) return delivered;
    const results = await store.completeDeliveries(
      batch.map((e) => ({ id: e.id, worker: "bench", result: { state: "delivered" as const, at } })),
    );
    delivered += results.filter(Boolean).length;
  }
}

async function main() {
  log("== onewindow Redis memory per owner ==");
  log(machineLine());
  const redis = new Redis(opts.redisUrl);
  const prefix = `owbench:${randomBytes(4).toString("hex")}:`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "onewindow-redismem-"));
  const version = /redis_version:(\S+)/.exec(await redis.info("server"))?.[1] ?? "?";
  const listpack = (await redis.config("GET", "hash-max-listpack-entries")) as string[];
  const dbBefore = await redis.dbsize();
  log(
    `store: Redis ${version} at ${opts.redisUrl}, prefix ${prefix}; DBSIZE before ${fmt(dbBefore)}; hash-max-listpack-entries ${listpack[1] ?? "?"}`,
  );
  const services = await createServices(
    loadConfig({
      KEYS_DIR: path.join(dir, "keys"),
      DATA_DIR: path.join(dir, "data"),
      LOG_LEVEL: "silent",
      ALLOW_PRIVATE_WEBHOOKS: "1",
      REDIS_URL: opts.redisUrl,
      REDIS_PREFIX: prefix,
    }),
    createLogger("silent"),
    () => new Date(),
  );
  const insurers: string[] = [];
  for (let i = 0; i < opts.insurers; i++) {
    const id = `ins${String(i + 1).padStart(2, "0")}`;
    // Webhooks make agree queue outbox entries; nothing delivers them (no dispatcher runs).
    await services.insurers.add({
      id,
      name: `Insurer ${i + 1}`,
      webhookUrl: `http://127.0.0.1:9/hook/${id}`,
      contact: `${id} 95500`,
    });
    insurers.push(id);
  }
  const renewalDate = new Date(Date.now() + 20 * 86_400_000).toISOString().slice(0, 10);
  const prefsFor = (i: number): Preferences => ({
    renewalDate,
    insurers: [insurers[i % insurers.length]!],
    channels: ["call", "sms"],
    days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    hours: [{ from: "09:00", to: "20:00" }],
    daysBefore: 30,
    maxAttempts: 3,
  });

  const before = await usedMemory(redis);
  log(
    `setup: ${opts.insurers} insurers with webhooks; each owner: ensureOwner + verified phone${opts.names ? " + name" : ""} + agree (1 chosen of ${opts.insurers}) → 1 window, ${opts.insurers - 1} opt-outs, ${opts.insurers} outbox entries; ${opts.concurrency} owners at a time`,
  );
  log(`used_memory before: ${fmt(before)} B`);

  const checkpoints: { owners: number; used: number }[] = [{ owners: 0, used: before }];
  const quarter = Math.max(1, Math.floor(opts.owners / 4));
  const t0 = performance.now();
  let next = 0;
  let done = 0;
  let pause: Promise<void> | undefined;
  const one = async (i: number) => {
    const ownerId = await seedVerifiedOwner(services.store, i, {
      firstUserId: 2_000_000_000,
      language: "zh",
      // A shared Telegram contact always has a first name: stored with the profile, and with
      // the receipt as the name the owner agreed to share.
      ...(opts.names ? { name: "张伟" } : {}),
    });
    await services.owners.agree(ownerId, prefsFor(i), "zh");
  };
  const loop = async () => {
    for (let i = next++; i < opts.owners; i = next++) {
      await one(i);
      done++;
      if (done % quarter === 0 && done < opts.owners) {
        // Quarter checkpoint: the in-flight owners are at most `concurrency` off.
        const at = done;
        pause ??= usedMemory(redis).then((used) => {
          checkpoints.push({ owners: at, used });
          log(
            `  … ${fmt(at)} owners in ${fmt((performance.now() - t0) / 1000, 1)} s, used_memory ${fmt(used)} B (${fmt((used - before) / at)} B/owner so far)`,
          );
          pause = undefined;
        });
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, loop));
  await pause;
  if (opts.deliver) {
    log(`delivered ${fmt(await deliverAll(services.store))} outbox entries`);
    // Delivered opt-out notices reach their owners' documents within half a second
    // (store/redis/context.ts finishLater): the steady state is after that.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
  }
  const seconds = (performance.now() - t0) / 1000;
  const after = await usedMemory(redis);
  checkpoints.push({ owners: opts.owners, used: after });
  const outbox = await services.store.outboxStats();
  const dbAfter = await redis.dbsize();
  const parts = await breakdown(redis, prefix);
  await services.close();

  const perOwner = (after - before) / opts.owners;
  // A delivered run's checkpoints were taken before delivery: only the final figure compares.
  const half = opts.deliver
    ? undefined
    : checkpoints.find((c) => c.owners >= opts.owners / 2 && c.owners < opts.owners);
  const marginal = half ? (after - half.used) / (opts.owners - half.owners) : perOwner;
  log(
    `\nbreak-down by MEMORY USAGE (SAMPLES 0) of the run's ${fmt(parts.keys)} keys, ${kb(parts.bytes)} in all:`,
  );
  for (const [group, g] of parts.groups.slice(0, 14)) {
    log(
      `  ${group.padEnd(12)} ${fmt(g.keys).padStart(9)} keys ${fmt(g.bytes).padStart(13)} B  ${fmt(g.bytes / opts.owners).padStart(6)} B/owner`,
    );
  }
  log(`\n== results (${fmt(opts.owners)} owners) ==`);
  log(
    `seeded ${fmt(opts.owners)} owners through the Store + agree in ${fmt(seconds, 1)} s (${fmt(opts.owners / seconds)} owners/s); outbox pending ${fmt(outbox.pending)} (expected ${fmt(opts.deliver ? 0 : opts.owners * opts.insurers)})`,
  );
  log(
    `used_memory: before ${fmt(before)} B, after ${fmt(after)} B → +${fmt(after - before)} B; DBSIZE ${fmt(dbBefore)} → ${fmt(dbAfter)} (${fmt((dbAfter - dbBefore) / opts.owners, 1)} keys/owner)`,
  );
  log(`bytes per owner (used_memory delta / owners): ${kb(perOwner)}`);
  if (half) {
    log(
      `marginal bytes per owner (${fmt(half.owners)} → ${fmt(opts.owners)} owners): ${kb(marginal)}; MEMORY USAGE sum / owners: ${kb(parts.bytes / opts.owners)}`,
    );
  }
  const worst = Math.max(perOwner, marginal);
  if (opts.owners < 100_000) {
    log(
      `extrapolated to 100,000 owners (measured at ${fmt(opts.owners)}; the larger of average and marginal): ~${fmt((worst * 100_000) / 2 ** 20, 1)} MiB, ${kb(worst)} per owner`,
    );
  }
  log(`target ≤ 3 KB (3,072 B) per owner: ${worst <= 3072 ? "MET" : "NOT MET"} (${fmt(worst)} B)`);

  if (opts.keep) log(`kept keys under ${prefix}`);
  else log(`deleted ${fmt(await deletePrefix(opts.redisUrl, prefix))} keys under ${prefix}`);
  redis.disconnect();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
