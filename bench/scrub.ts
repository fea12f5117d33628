/**
 * Scrub benchmark (issue 3, "Speed"): numbers per second through `POST /v1/scrub` in
 * 10,000-number requests against 1,000,000 suppressed owners (1% of each list on file, so audit
 * writes happen), next to the raw `Store.scrubLookup` rate of the same store in the same run.
 * The issue aims for HTTP >= half the raw rate.
 *
 *   npx tsx bench/scrub.ts [--owners 1000000] [--clients 4] [--rounds 5] [--raw-seconds 3]
 *                          [--reseed] [--profile] [--dir <cache dir>]
 *                          [--store sqlite|redis|upstash] [--seed-concurrency 32]
 *
 * With `--store redis|upstash` (support/stores.ts: a fresh prefix on Redis db 12, or the
 * loopback Upstash REST fake in this process forwarding to it) the default is 100,000 owners,
 * all seeded through the Store port (ensureOwner, updateOwnerProfile, applyChangeset with one
 * opt-out; `--seed-concurrency` at a time), nothing cached, and the keys are deleted at the end.
 *
 * The seeded database is cached under os.tmpdir()/onewindow-bench-<owners> (keys next to it),
 * so reruns skip seeding. Seeding goes through the Store port (ensureOwner,
 * updateOwnerProfile, applyChangeset with one opt-out) while that is fast enough for the whole
 * set within ~2 minutes; otherwise the rest is bench-only direct SQL inserts in the column
 * formats of src/store/sqlite (owners as owners.ts writes them, opt-outs through
 * src/store/rows.ts's optOutToRow), phone_hash = cipher.hash(e164) so look-ups hit. The output
 * says which.
 * Traffic is loopback only; the HTTP client runs in a child process.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { serve } from "@hono/node-server";
import Database from "better-sqlite3";
import { loadConfig } from "../src/config.js";
import { createFieldCipher } from "../src/crypto/field-cipher.js";
import { createMatchKeys } from "../src/crypto/match-key.js";
import { emptyChangeset, type OptOut } from "../src/domain/model.js";
import { packFor } from "../src/domain/policy-packs.js";
import { createHttpApp } from "../src/http/create-http-app.js";
import { createLogger } from "../src/logger.js";
import { createServices, type Services } from "../src/services/create-services.js";
import { telegramStopLink } from "../src/services/insurer-views.js";
import { scrubServiceFromKeys } from "../src/services/scrub-service.js";
import { optOutToRow } from "../src/store/rows.js";
import { insertSql } from "../src/store/sqlite/sql.js";
import { forkHelper } from "./support/child.js";
import { fmt, machineLine, median, mib, parseArgs } from "./support/machine.js";
import { onFile, prng, scrubList } from "./support/phones.js";
import { startProfile, summariseProfile } from "./support/profile.js";
import { type BenchStore, benchStore, fakeRequests, storeKind } from "./support/stores.js";

const opts = parseArgs({
  /** 0 = the store's default: 1,000,000 on SQLite, 100,000 on Redis / Upstash. */
  owners: 0,
  clients: 4,
  rawSeconds: 3,
  rounds: 5,
  size: 10_000,
  hitRate: 0.01,
  seedPort: 2000,
  portBudgetSeconds: 120,
  reseed: false,
  profile: false,
  dir: "",
  store: "sqlite",
  seedConcurrency: 32,
});
const kind = storeKind(opts.store);
const owners = opts.owners || (kind === "sqlite" ? 1_000_000 : 100_000);
/** Redis / Upstash: set in main() before the store is opened. */
let remote: BenchStore | undefined;

const INSURER = "bench";
const TG_BASE = 1_000_000_000;
const SEED_META = "bench.scrub.seed";
const dir =
  opts.dir ||
  path.join(
    os.tmpdir(),
    `onewindow-bench-${owners === 1_000_000 ? "1m" : owners >= 1000 && owners % 1000 === 0 ? `${owners / 1000}k` : owners}`,
  );

interface SeedInfo {
  owners: number;
  viaPort: number;
  viaSql: number;
  portRate: number;
  seconds: number;
  seededAt: string;
  until: string;
}

function env() {
  return {
    DATA_DIR: path.join(dir, "data"),
    KEYS_DIR: path.join(dir, "keys"),
    LOG_LEVEL: "silent",
    ALLOW_PRIVATE_WEBHOOKS: "1",
    SCRUB_RATE: "1000/1000",
    SCRUB_DAILY_LIMIT: "1000000000000",
    ...remote?.env,
  };
}

const dbFile = () => path.join(dir, "data", "onewindow.db");

const open = () => createServices(loadConfig(env()), createLogger("silent"), () => new Date());

const began = performance.now();
/** Lines carry the elapsed time, so a slow step (cold disk, seeding) shows where it was. */
const log = (line: string) =>
  console.log(
    line.startsWith("\n") || line.startsWith("==")
      ? line
      : `[${((performance.now() - began) / 1000).toFixed(1).padStart(5)} s] ${line}`,
  );

/**
 * Reads the database file once, sequentially, so look-ups are timed against the OS page cache
 * rather than the disk (this VM reclaims cold page cache; a cold 1 GB file costs minutes of
 * random reads). Returns MB/s, which shows whether the file was cached.
 */
function warmFile(file: string): { bytes: number; seconds: number } {
  const t = performance.now();
  const fd = fs.openSync(file, "r");
  const buf = Buffer.allocUnsafe(8 * 1024 * 1024);
  let bytes = 0;
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, bytes);
    if (n <= 0) break;
    bytes += n;
  }
  fs.closeSync(fd);
  return { bytes, seconds: (performance.now() - t) / 1000 };
}

async function seed(services: Services): Promise<SeedInfo> {
  const started = performance.now();
  const seededAt = new Date();
  const at = seededAt.toISOString();
  const pack = packFor("CN");
  const until = new Date(seededAt.getTime() + pack.optOutDays.value! * 86_400_000).toISOString();
  const cipher = createFieldCipher(services.keys.dataKey);
  const matchKey = createMatchKeys(services.keys.dataKey);
  const optOut = (ownerId: string, phone: string): OptOut => ({
    id: randomUUID(),
    ownerId,
    insurerId: INSURER,
    phoneHash: cipher.hash(phone),
    matchKey: matchKey(INSURER, phone),
    reason: "not_chosen",
    effectiveAt: at,
    honourBy: at,
    until,
    basis: pack.optOutBasis,
  });

  // 1. Through the Store port, as the product writes them.
  const t0 = performance.now();
  let i = 0;
  const portOne = async (i: number) => {
    const phone = onFile(i);
    const owner = await services.store.ensureOwner({
      telegramUserId: TG_BASE + i,
      chatId: TG_BASE + i,
      language: "zh",
      timezone: "Asia/Shanghai",
      jurisdiction: "CN",
      sandbox: false,
    });
    const updated = await services.store.updateOwnerProfile(owner.id, {
      phone,
      phoneVerified: true,
      country: "CN",
    });
    await services.store.applyChangeset({
      ...emptyChangeset(owner.id, updated.version),
      optOuts: [optOut(owner.id, phone)],
    });
  };
  if (remote) {
    // Redis / Upstash: all through the port, `seedConcurrency` at a time.
    let next = 0;
    const loop = async () => {
      for (let k = next++; k < owners; k = next++) {
        await portOne(k);
        if ((k + 1) % 20_000 === 0) log(`  … ${fmt(k + 1)} via port`);
      }
    };
    await Promise.all(Array.from({ length: opts.seedConcurrency }, loop));
    const seconds = (performance.now() - started) / 1000;
    return { owners, viaPort: owners, viaSql: 0, portRate: owners / seconds, seconds, seededAt: at, until };
  }
  const portCount = Math.min(opts.seedPort, owners);
  while (i < portCount) await portOne(i++);
  const portRate = portCount / ((performance.now() - t0) / 1000);
  const projected = (owners - portCount) / portRate;
  log(
    `seed: ${fmt(portCount)} owners via the Store port at ${fmt(portRate)} owners/s; the remaining ${fmt(owners - portCount)} would take ${fmt(projected)} s that way`,
  );
  if (projected <= opts.portBudgetSeconds) {
    while (i < owners) {
      await portOne(i++);
      if (i % 100_000 === 0) log(`  … ${fmt(i)} via port`);
    }
    return {
      owners: owners,
      viaPort: owners,
      viaSql: 0,
      portRate,
      seconds: (performance.now() - started) / 1000,
      seededAt: at,
      until,
    };
  }

  // 2. Bench-only direct SQL: same columns and formats, one connection with a big cache.
  log(`seed: inserting owners ${fmt(i)}…${fmt(owners - 1)} by direct SQL (bench only)`);
  const db = new Database(dbFile());
  db.pragma("busy_timeout = 5000");
  db.pragma("cache_size = -1048576");
  db.pragma("synchronous = OFF");
  const ownerInsert = db.prepare(
    `INSERT INTO owners (id, telegram_user_id, chat_id, language, phone_enc, phone_hash, phone_verified,
       country, timezone, jurisdiction, sandbox, created_at, updated_at, version)
     VALUES (@id, @tg, @tg, 'zh', @phone_enc, @phone_hash, 1, 'CN', 'Asia/Shanghai', 'CN', 0, @at, @at, 2)`,
  );
  const sample = optOutToRow(optOut("x", onFile(0)));
  const optOutInsert = db.prepare(insertSql("opt_outs", sample));
  const chunk = db.transaction((from: number, to: number) => {
    for (let k = from; k < to; k++) {
      const phone = onFile(k);
      const id = randomUUID();
      ownerInsert.run({
        id,
        tg: TG_BASE + k,
        phone_enc: cipher.encrypt(phone),
        phone_hash: cipher.hash(phone),
        at,
      });
      optOutInsert.run(optOutToRow(optOut(id, phone)));
    }
  });
  const t1 = performance.now();
  for (let from = i; from < owners; ) {
    const to = Math.min(owners, (Math.floor(from / 20_000) + 1) * 20_000);
    chunk(from, to);
    if (to % 100_000 === 0 || to === owners) {
      const s = (performance.now() - t1) / 1000;
      log(`  … ${fmt(to)} owners (${fmt((to - i) / s)} owners/s by SQL)`);
    }
    from = to;
  }
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  return {
    owners: owners,
    viaPort: portCount,
    viaSql: owners - portCount,
    portRate,
    seconds: (performance.now() - started) / 1000,
    seededAt: at,
    until,
  };
}

/** Opens the cached store, seeding (or reseeding) it when it is missing, stale or another size. */
async function prepare(): Promise<{ services: Services; info: SeedInfo; reused: boolean }> {
  if (remote) {
    // A fresh prefix every run: seed, nothing cached.
    const services = await open();
    log(
      `seeding ${fmt(owners)} suppressed owners through the Store port (${opts.seedConcurrency} at a time)`,
    );
    await services.insurers.add({ id: INSURER, name: "Bench Insurer", contact: "bench 95500" });
    return { services, info: await seed(services), reused: false };
  }
  if (opts.reseed) fs.rmSync(dir, { recursive: true, force: true });
  let services = await open();
  const raw = await services.store.getMeta(SEED_META);
  const info = raw ? (JSON.parse(raw) as SeedInfo) : undefined;
  const fresh = info && info.owners === owners && Date.parse(info.until) > Date.now() + 7 * 86_400_000;
  if (info && fresh) return { services, info, reused: true };
  if (info || (await services.store.getInsurer(INSURER))) {
    // Another size, stale opt-outs, or a half-finished seed: start over.
    await services.close();
    fs.rmSync(dir, { recursive: true, force: true });
    services = await open();
  }
  log(`seeding ${fmt(owners)} suppressed owners into ${dir} (cached for later runs)`);
  await services.insurers.add({ id: INSURER, name: "Bench Insurer", contact: "bench 95500" });
  const seeded = await seed(services);
  await services.store.setMeta(SEED_META, JSON.stringify(seeded));
  return { services, info: seeded, reused: false };
}

/** Runs `batch` repeatedly for `seconds`; returns numbers per second. */
async function rate(seconds: number, size: number, batch: (i: number) => Promise<void>): Promise<number> {
  const start = performance.now();
  const stop = start + seconds * 1000;
  let n = 0;
  while (performance.now() < stop) await batch(n++);
  return (n * size) / ((performance.now() - start) / 1000);
}

async function main() {
  log("== onewindow scrub benchmark ==");
  log(machineLine());
  if (kind !== "sqlite") {
    remote = await benchStore(kind);
    // Keys under the run's prefix go whatever happens; the Upstash fake is stopped.
    cleanupOnError = remote.cleanup;
  }
  const { services, info, reused } = await prepare();
  if (remote) {
    log(
      `store: ${remote.describe}, ${fmt(info.owners)} owners each with an opt-out for insurer "${INSURER}"`,
    );
    log(
      `seed: ${fmt(info.viaPort)} owners via the Store port (ensureOwner + updateOwnerProfile + applyChangeset with 1 opt-out, ${opts.seedConcurrency} concurrent) at ${fmt(info.portRate)} owners/s, ${fmt(info.seconds, 1)} s`,
    );
  } else {
    log(
      `store: SQLite ${dbFile()} (${mib(fs.statSync(dbFile()).size)}), ${fmt(info.owners)} owners each with an opt-out for insurer "${INSURER}"`,
    );
    log(
      `seed: ${reused ? "reused cached DB, seeded" : "seeded"} ${fmt(info.viaPort)} via the Store port (${fmt(info.portRate)} owners/s) + ${fmt(info.viaSql)} via direct SQL, ${fmt(info.seconds, 1)} s`,
    );
    const warm = warmFile(dbFile());
    log(
      `warm: read the ${mib(warm.bytes)} file sequentially in ${fmt(warm.seconds, 1)} s (${fmt(warm.bytes / 2 ** 20 / warm.seconds)} MiB/s; fast = it was already in the page cache)`,
    );
  }
  const purged = await services.store.purgeScrubHits("9999-12-31T00:00:00.000Z");
  if (purged > 0) log(`(cleared ${fmt(purged)} scrub_hits audit rows from earlier runs)`);

  const { apiKey } = await services.insurers.rotateKey(INSURER);
  const cipher = createFieldCipher(services.keys.dataKey);
  const random = prng(42);
  const lists = Array.from({ length: 8 }, () => scrubList(owners, opts.size, opts.hitRate, random));
  const hashed = lists.map((l) => l.map((n) => cipher.hash(n)));
  const onFileCount = (l: string[]) => new Set(l.filter((n) => n.startsWith("+8613"))).size;

  // Correctness and warm-up: every on-file number is found.
  const tw = performance.now();
  for (let k = 0; k < lists.length; k++) {
    const found = await services.store.scrubLookup(INSURER, hashed[k]!);
    if (found.size !== onFileCount(lists[k]!)) {
      throw new Error(`look-up found ${found.size} records, expected ${onFileCount(lists[k]!)}`);
    }
  }

  log(
    `check: ${lists.length} look-ups found every on-file number (${fmt(performance.now() - tw)} ms incl. warm-up)`,
  );

  // The HTTP server and its client (a child process, so the client's CPU is not ours).
  const app = createHttpApp({ ...services, optOutLink: telegramStopLink("onewindow_bench_bot") });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const client = forkHelper("scrub-client.ts", [
    JSON.stringify({
      url: `http://127.0.0.1:${port}/v1/scrub`,
      apiKey,
      owners: owners,
      clients: opts.clients,
      size: opts.size,
      hitRate: opts.hitRate,
      seed: 7,
    }),
  ]);
  const ready = await Promise.race([
    client.next<{ check: { results: number; doNotContact: number; expectedOnFile: number } }>(
      "ready",
      120_000,
    ),
    client.next<{ message: string }>("error", 120_000).then((e) => {
      throw new Error(`scrub client: ${e.message}`);
    }),
  ]);
  log(
    `check: HTTP answered ${fmt(ready.check.results)} results, ${fmt(ready.check.doNotContact)} distinct numbers do_not_contact (expected ${fmt(ready.check.expectedOnFile)} on file)`,
  );
  type HttpRun = {
    requests: number;
    numbers: number;
    seconds: number;
    errors: number;
    p50: number;
    p95: number;
  };
  const httpRun = async (seconds: number) => {
    client.send({ type: "run", seconds });
    return client.next<HttpRun>("done", 300_000);
  };

  // Each round measures, back to back: (a) the raw look-up with hashes given, (a+) the same
  // with HMAC hashing, (s) the scrub service without HTTP (hash, look-up, statuses, audit
  // writes), (b) HTTP end to end. Interleaving keeps a busy machine's drift out of the ratios.
  const scrubService = scrubServiceFromKeys(services.store, services.keys.dataKey, () => new Date());
  const rawExcl: number[] = [];
  const rawIncl: number[] = [];
  const svc: number[] = [];
  const httpRates: number[] = [];
  const httpRuns: HttpRun[] = [];
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50);
  await httpRun(1); // warm-up
  log(
    `\nrounds: ${opts.rounds} × (${opts.rawSeconds} s each of raw, raw+hash, service, HTTP); ${fmt(opts.size)} numbers per batch/request, ${opts.hitRate * 100}% on file; HTTP with ${opts.clients} concurrent clients (undici keep-alive, child process)`,
  );
  let stopProfile: Awaited<ReturnType<typeof startProfile>> | undefined;
  for (let r = 0; r < opts.rounds; r++) {
    if (opts.profile && r === opts.rounds - 1) stopProfile = await startProfile();
    rawExcl.push(
      await rate(opts.rawSeconds, opts.size, async (k) => {
        await services.store.scrubLookup(INSURER, hashed[k % hashed.length]!);
      }),
    );
    rawIncl.push(
      await rate(opts.rawSeconds, opts.size, async (k) => {
        const l = lists[k % lists.length]!;
        await services.store.scrubLookup(
          INSURER,
          l.map((n) => cipher.hash(n)),
        );
      }),
    );
    svc.push(
      await rate(opts.rawSeconds, opts.size, async (k) => {
        await scrubService.scrub(INSURER, lists[k % lists.length]!);
      }),
    );
    const h = await httpRun(opts.rawSeconds);
    httpRuns.push(h);
    httpRates.push(h.numbers / h.seconds);
    log(
      `round ${r + 1}: raw ${fmt(rawExcl[r]!)} /s, raw+hash ${fmt(rawIncl[r]!)} /s, service ${fmt(svc[r]!)} /s, HTTP ${fmt(httpRates[r]!)} /s (${h.requests} requests, p50 ${fmt(h.p50)} ms, p95 ${fmt(h.p95)} ms, ${h.errors} non-200)`,
    );
  }
  clearInterval(sampler);
  const profile = stopProfile ? await stopProfile() : undefined;
  await client.close();
  let audited: number;
  if (remote) {
    // No row count on Redis: purging everything returns how many audit entries there were.
    audited = await services.store.purgeScrubHits("9999-12-31T00:00:00.000Z");
  } else {
    const reader = new Database(dbFile(), { readonly: true });
    audited = reader.prepare("SELECT COUNT(*) FROM scrub_hits").pluck().get() as number;
    reader.close();
  }
  const requests = httpRuns.reduce((a, h) => a + h.requests, 0);
  log(
    `audit: ${fmt(audited)} scrub hits (audit entries) written by the service and HTTP rounds (${fmt(requests)} measured HTTP requests); peak RSS ${mib(peakRss)}`,
  );
  if (profile) log(`\nprofile of the last round (all four parts):\n${summariseProfile(profile)}`);

  const raw = median(rawExcl);
  const rawH = median(rawIncl);
  const service = median(svc);
  const http = median(httpRates);
  log(`\n== summary (medians of ${opts.rounds} rounds) ==`);
  log(`raw look-up (Store.scrubLookup, hashes given):  ${fmt(raw).padStart(10)} numbers/s`);
  log(`raw look-up + HMAC phone hashing:               ${fmt(rawH).padStart(10)} numbers/s`);
  log(`scrub service, no HTTP (incl. audit writes):    ${fmt(service).padStart(10)} numbers/s`);
  log(`HTTP POST /v1/scrub, ${opts.clients} clients:                ${fmt(http).padStart(10)} numbers/s`);
  const ratio = http / raw;
  const ratios = httpRates.map((h, r) => (h / rawExcl[r]!).toFixed(2)).join(", ");
  log(
    `HTTP / raw = ${ratio.toFixed(2)} (per round: ${ratios}; HTTP / raw+hash = ${(http / rawH).toFixed(2)}); target >= 0.50: ${ratio >= 0.5 ? "MET" : "NOT MET"}`,
  );

  const tc = performance.now();
  (server as import("node:http").Server).closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await services.store.purgeScrubHits("9999-12-31T00:00:00.000Z");
  await services.close();
  log(`closed in ${fmt(performance.now() - tc)} ms`);
  if (remote) {
    if (remote.fake) log(`upstash fake: requests ${fakeRequests(remote)} (whole run, in this process)`);
    log(`deleted ${fmt(await remote.cleanup())} keys under ${remote.prefix}`);
  }
}

/** Redis / Upstash: on a failure the run's keys are deleted all the same. */
let cleanupOnError: (() => Promise<number>) | undefined;

main().catch(async (err) => {
  console.error(err);
  await cleanupOnError?.().catch(() => 0);
  process.exit(1);
});
