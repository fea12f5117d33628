/**
 * Bot benchmark (issue 18, point 5): updates per second for a settled owner's `/status` and
 * two free-text messages (a question and a report) through the full bot, next to bare grammY
 * with a session on better-sqlite3 in the same run. The issue aims for ≥ 0.5 × the bare rate.
 *
 *   npx tsx bench/bot.ts [--seconds 1] [--rounds 7] [--warmup 1] [--owners 1] [--insurers 20]
 *                        [--api transformer|fetch] [--breakdown=false] [--profile] [--keep]
 *
 * The full bot is the one `npm start` runs: createServices on a fresh SQLite file in a temp
 * DATA_DIR (with the WAL checkpointer thread serve starts), createBot with the rules extractor
 * (no OPENAI_API_KEY), metrics, dedupe of update_ids, sequentialize, the encrypted session,
 * i18n, the rate limiter, the owner look-up, then the features. One difference: the per-user
 * flood limit is raised out of reach (deps.rateLimit), as one owner sends thousands of
 * updates a second here; the limiter still counts each one. `--owners` onboards `n` owners
 * by real updates (/start, a shared contact, the renewal date, Ping An, SMS, weekday evenings,
 * 30 days, 3 attempts, "I agree") and sends them updates in turn.
 *
 * The bare side: `new Bot` with grammY's session() on a minimal StorageAdapter over one
 * better-sqlite3 table (JSON values; WAL and synchronous = NORMAL, as our store), and one
 * handler that bumps a counter in the session and replies with one text.
 *
 * Both sides get the same in-process Bot API (support/bot-api.ts), so no socket is measured:
 * by default a transformer installed last, which answers before grammY's HTTP client (and
 * the full bot's auto-retry); with `--api fetch`, the client's fetch, so grammY's client and
 * every transformer run on both sides. Updates go in one at a time through `bot.handleUpdate`
 * with distinct update_ids. Each round measures every kind on both sides, alternating which
 * side goes first; a ratio is full ÷ bare within one round. A sticker (the fallback's one
 * reply, no feature work) is measured too: the floor the middleware alone sets.
 *
 * Then (unless `--breakdown=false`) each kind runs once more with the store's methods, the
 * extractor, i18n and Intl.DateTimeFormat timed, to say where an update's time goes;
 * `--profile` adds per-call costs of the hot spots of 2026-12-07 as they are now (and, where
 * the old way can still run, as they were), and a CPU profile of each kind (self time by area
 * and function).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import Database from "better-sqlite3";
import { Bot, type Context, type SessionFlavor, type StorageAdapter, session } from "grammy";
import type { Update, UserFromGetMe } from "grammy/types";
import { botI18n, type CreateBotOptions, createBot } from "../src/bot/create-bot.js";
import { formatLocal } from "../src/bot/format.js";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/logger.js";
import { createMetrics } from "../src/metrics.js";
import { createExtractor } from "../src/nlu/create-extractor.js";
import { readWithRules } from "../src/nlu/rules/index.js";
import { directoryTerms, findMentions } from "../src/nlu/rules/names.js";
import { createServices } from "../src/services/create-services.js";
import { startCheckpointer } from "../src/store/sqlite/checkpointer.js";
import { createBenchUsers, createLocalBotApi } from "./support/bot-api.js";
import { fmt, loadLine, machineLine, median, parseArgs } from "./support/machine.js";
import { startProfile, summariseProfile } from "./support/profile.js";

const opts = parseArgs({
  seconds: 1,
  rounds: 7,
  warmup: 1,
  owners: 1,
  insurers: 20,
  api: "transformer",
  breakdown: true,
  profile: false,
  keep: false,
});
if (opts.api !== "transformer" && opts.api !== "fetch") throw new Error("--api: transformer or fetch");
if (opts.insurers < 4 || opts.insurers > 20) throw new Error("--insurers: 4 to 20");

const log = (line: string) => console.log(line);

const TOKEN = "7000000001:bench-in-process-bot-api-no-network";
const BOT_INFO = {
  id: 7_000_000_001,
  is_bot: true,
  first_name: "onewindow bench",
  username: "onewindow_bench_bot",
  can_join_groups: false,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
  can_connect_to_business: false,
  has_main_web_app: false,
} as UserFromGetMe;

/** The test harness's four insurers (with their aliases), then sixteen more: a directory like China's. */
const DIRECTORY = [
  { id: "pingan", name: "Ping An", aliases: ["平安", "中国平安", "PingAn"], contact: "95511" },
  { id: "picc", name: "PICC", aliases: ["人保", "中国人保"], contact: "95518" },
  { id: "cpic", name: "CPIC", aliases: ["太平洋", "China Pacific"], contact: "95500" },
  { id: "allianz", name: "Allianz", aliases: ["安联"], contact: "+86 400 800 2020" },
  { id: "chinalife", name: "China Life", aliases: ["国寿财险"], contact: "95519" },
  { id: "taiping", name: "Taiping", aliases: ["太平"], contact: "95589" },
  { id: "sunshine", name: "Sunshine", aliases: ["阳光"], contact: "95510" },
  { id: "ccic", name: "China Continent", aliases: ["大地"], contact: "95590" },
  { id: "tianan", name: "Tianan", aliases: ["天安"], contact: "95505" },
  { id: "huatai", name: "Huatai", aliases: ["华泰"], contact: "95509" },
  { id: "axatp", name: "AXA Tianping", aliases: ["安盛天平"], contact: "95550" },
  { id: "yongan", name: "Yongan", aliases: ["永安"], contact: "95502" },
  { id: "sinosafe", name: "Sinosafe", aliases: ["华安"], contact: "95556" },
  { id: "zhongan", name: "ZhongAn", aliases: ["众安"], contact: "1010 9955" },
  { id: "dinghe", name: "Dinghe", aliases: ["鼎和"], contact: "4008 888 136" },
  { id: "bohai", name: "Bohai", aliases: ["渤海"], contact: "4006 116 666" },
  { id: "alltrust", name: "Alltrust", aliases: ["永诚"], contact: "95552" },
  { id: "zking", name: "Zking", aliases: ["紫金"], contact: "95312" },
  { id: "guoren", name: "Guoren", aliases: ["国任"], contact: "95585" },
  { id: "anhua", name: "Anhua", aliases: ["安华"], contact: "95540" },
];

const KINDS = [
  { key: "status", label: "/status" },
  { key: "question", label: '"what happens to my data?" (question)' },
  { key: "report", label: '"PICC called me yesterday" (report)' },
  { key: "sticker", label: "a sticker (fallback reply; the floor)" },
] as const;
type Kind = (typeof KINDS)[number]["key"];

async function main() {
  // The checkpointer thread is unref'd: waiting for it alone would let the process exit.
  const keepAlive = setInterval(() => undefined, 60_000);
  log("== onewindow bot benchmark ==");
  log(machineLine());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "onewindow-bot-"));
  const config = loadConfig({
    DATA_DIR: path.join(dir, "data"),
    KEYS_DIR: path.join(dir, "keys"),
    LOG_LEVEL: "silent",
  });
  const logger = createLogger("silent");
  const services = await createServices(config, logger);
  if (config.store.kind !== "sqlite") throw new Error("bench/bot.ts runs on SQLite only");
  for (const insurer of DIRECTORY.slice(0, opts.insurers)) await services.insurers.add(insurer);
  const checkpointer = startCheckpointer(config.store.file, { logger });
  await checkpointer.ready;
  const api = createLocalBotApi(BOT_INFO);
  const viaFetch = opts.api === "fetch";
  const fetch = api.fetch as unknown as NonNullable<CreateBotOptions["fetch"]>;

  // ---- the full bot, as main.ts builds it ----
  const extractor = createExtractor({ logger });
  const full = createBot(
    { token: TOKEN, botInfo: BOT_INFO, ...(viaFetch ? { fetch } : {}) },
    {
      store: services.store,
      owners: services.owners,
      extractor,
      clock: services.clock,
      defaults: { jurisdiction: config.jurisdiction, timezone: config.defaultTimezone, sandbox: false },
      logger,
      metrics: createMetrics({ outboxStats: () => services.store.outboxStats() }),
      rateLimit: { timeFrameMs: 10_000, limit: Number.MAX_SAFE_INTEGER },
    },
  );
  if (!viaFetch) full.api.config.use(api.transformer);

  // ---- the bare bot: grammY, a session on better-sqlite3, one reply ----
  const bareDb = new Database(path.join(dir, "bare.sqlite"));
  bareDb.pragma("journal_mode = WAL");
  bareDb.pragma("synchronous = NORMAL");
  bareDb.exec("CREATE TABLE sessions (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  const bare = createBareBot(bareDb, viaFetch ? fetch : undefined);
  if (!viaFetch) bare.api.config.use(api.transformer);

  log(
    `setup: SQLite ${config.store.file} (+ WAL checkpointer thread), ${opts.insurers} insurers, ${opts.owners} settled owner${opts.owners === 1 ? "" : "s"}, rules extractor; bare: grammY session on better-sqlite3 ${path.join(dir, "bare.sqlite")}`,
  );
  log(
    `Bot API: in-process ${viaFetch ? "fetch (grammY's client, JSON and auto-retry run)" : "transformer, installed last (answers before grammY's HTTP client and auto-retry)"}, the same on both sides`,
  );

  // ---- onboarding by updates (not timed) ----
  const users = createBenchUsers(api);
  const owners = Array.from({ length: opts.owners }, (_, i) => users.user(20_000 + i));
  api.keep = true;
  const onboardStarted = performance.now();
  for (const [i, u] of owners.entries()) {
    const steps: Update[] = [];
    const send = async (update: Update) => {
      steps.push(update);
      await full.handleUpdate(update);
    };
    await send(u.command("/start"));
    await send(u.contact(`86138${String(10_000_000 + i).slice(-8)}`));
    await send(u.press("ob:vehicle:skip"));
    await send(u.text("31 July"));
    for (const data of [
      "ob:ins:pingan",
      "ob:ins-done",
      "ob:ch:sms",
      "ob:ch-done",
      "ob:days:weekdays",
      "ob:days-done",
      "ob:hr:evening",
      "ob:hr-done",
      "ob:db:30",
      "ob:att:3",
      "ob:agree",
    ]) {
      await send(u.press(data));
    }
    const owner = await services.store.getOwnerByTelegramId(u.id);
    const state = owner && (await services.store.getOwnerState(owner.id));
    const sessionRaw = await services.store.readSession(String(u.id));
    const step = sessionRaw && (JSON.parse(sessionRaw) as { step?: string }).step;
    if (!state?.consent || step !== "idle") {
      throw new Error(
        `owner ${u.id} is not settled after onboarding (consent ${!!state?.consent}, step ${step})`,
      );
    }
    if (i === 0) {
      log(
        `onboarded: ${steps.length} updates each; consent to ${state.consent.preferences.insurers.join(", ")}, renewal ${state.consent.preferences.renewalDate}, ${state.windows.length} window, ${state.optOuts.length} opt-outs; session step "${step}"`,
      );
    }
  }
  api.keep = false;
  log(`onboarding: ${fmt(performance.now() - onboardStarted)} ms for ${opts.owners} owner(s) (not timed)`);

  // ---- what each kind of update is, and what each side must answer ----
  let turn = 0;
  const next = () => owners[turn++ % owners.length]!;
  const make: Record<Kind, () => Update> = {
    status: () => next().command("/status"),
    question: () => next().text("what happens to my data?"),
    report: () => next().text("PICC called me yesterday"),
    sticker: () => next().sticker(),
  };
  const i18n = botI18n();
  const t = (key: string, vars?: Record<string, string>) => i18n.t("en", key, vars);
  const expected: Record<Kind, (texts: string[]) => boolean> = {
    status: (texts) =>
      texts.length === 1 &&
      texts[0]!.startsWith(t("status-title", { date: "" }).trim()) &&
      texts[0]!.includes("PICC"),
    question: (texts) => texts.length === 1 && texts[0] === t("question-answer"),
    report: (texts) =>
      texts.length === 2 &&
      texts[0] === t("report-intent-named", { insurer: "PICC" }) &&
      texts[1]!.startsWith(t("report-help", { bodies: "" }).slice(0, 20)),
    sticker: (texts) => texts.length === 1 && texts[0] === t("unsupported"),
  };
  const repliesPer: Record<Kind, number> = { status: 1, question: 1, report: 2, sticker: 1 };
  api.record = true;
  for (const { key, label } of KINDS) {
    api.texts.length = 0;
    await full.handleUpdate(make[key]());
    const texts = [...api.texts];
    if (!expected[key](texts))
      throw new Error(`full bot, ${label}: unexpected answer ${JSON.stringify(texts)}`);
    api.texts.length = 0;
    await bare.handleUpdate(make[key]());
    if (api.texts.join() !== "ok")
      throw new Error(`bare bot, ${label}: unexpected answer ${JSON.stringify(api.texts)}`);
    const first = texts[0]!.replace(/\s+/g, " ");
    log(
      `  ${label}: ${texts.length} repl${texts.length === 1 ? "y" : "ies"}, "${first.slice(0, 72)}…" (${fmt(texts.join("").length)} chars)`,
    );
  }
  api.record = false;

  // ---- timed: sequential handleUpdate for `seconds`, per kind and side, alternating order ----
  const sides = { full, bare } as const;
  const sent = () => api.calls.get("sendMessage") ?? 0;
  async function measure(side: keyof typeof sides, kind: Kind) {
    const bot = sides[side] as unknown as Bot<Context>;
    const build = make[kind];
    const s0 = sent();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const end = t0 + opts.seconds * 1000;
    let n = 0;
    while (performance.now() < end) {
      await bot.handleUpdate(build());
      n++;
    }
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    const replies = sent() - s0;
    const want = n * (side === "bare" ? 1 : repliesPer[kind]);
    if (replies !== want)
      throw new Error(`${side} ${kind}: ${replies} replies for ${n} updates (expected ${want})`);
    return { rate: (n * 1000) / ms, cpuUs: (cpu.user + cpu.system) / n };
  }

  type Sample = { full: number; bare: number; fullCpu: number; bareCpu: number };
  const samples: Record<Kind, Sample[]> = { status: [], question: [], report: [], sticker: [] };
  const total = opts.warmup + opts.rounds;
  const started = performance.now();
  for (let r = 0; r < total; r++) {
    const line: string[] = [];
    for (const { key } of KINDS) {
      const order = r % 2 === 0 ? (["full", "bare"] as const) : (["bare", "full"] as const);
      const got: Partial<Record<"full" | "bare", { rate: number; cpuUs: number }>> = {};
      for (const side of order) got[side] = await measure(side, key);
      const sample = {
        full: got.full!.rate,
        bare: got.bare!.rate,
        fullCpu: got.full!.cpuUs,
        bareCpu: got.bare!.cpuUs,
      };
      if (r >= opts.warmup) samples[key].push(sample);
      line.push(`${key} ${fmt(sample.full)}/${fmt(sample.bare)} (${(sample.full / sample.bare).toFixed(2)})`);
    }
    log(
      `${r < opts.warmup ? "warm-up" : `round ${r - opts.warmup + 1}`}: full/bare updates/s  ${line.join("  ")}`,
    );
  }
  log(`timed: ${fmt((performance.now() - started) / 1000, 1)} s; ${loadLine()}`);

  // ---- results ----
  const range = (xs: number[], digits = 0) =>
    `${fmt(median(xs), digits)} (${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)})`;
  const rows = KINDS.map(({ key, label }) => {
    const s = samples[key];
    const ratios = s.map((x) => x.full / x.bare);
    return {
      label,
      full: range(s.map((x) => x.full)),
      bare: range(s.map((x) => x.bare)),
      ratio: range(ratios, 2),
      met: key === "sticker" ? "(reference)" : median(ratios) >= 0.5 ? "met" : "NOT met",
      cpu: `${fmt(median(s.map((x) => x.fullCpu)))} / ${fmt(median(s.map((x) => x.bareCpu)))}`,
    };
  });
  const head = {
    label: "update",
    full: "full bot, updates/s",
    bare: "bare grammY, updates/s",
    ratio: "full ÷ bare",
    met: "aim ≥ 0.5",
    cpu: "CPU µs/update full / bare",
  };
  const cols = Object.keys(head) as (keyof typeof head)[];
  const width = Object.fromEntries(
    cols.map((c) => [c, Math.max(head[c].length, ...rows.map((row) => row[c].length))]),
  );
  const fmtRow = (row: typeof head) => `| ${cols.map((c) => row[c].padEnd(width[c]!)).join(" | ")} |`;
  log(
    `\n== results: median (min–max) of ${opts.rounds} rounds of ${opts.seconds} s per kind and side, after ${opts.warmup} warm-up round(s) ==`,
  );
  log(fmtRow(head));
  log(`| ${cols.map((c) => "-".repeat(width[c]!)).join(" | ")} |`);
  for (const row of rows) log(fmtRow(row));
  log("full ÷ bare is taken within each round (the two sides run back to back); CPU includes every thread");

  if (opts.breakdown) {
    log(
      `\n== where a full update's time goes: ${opts.seconds} s per kind with the store, the extractor, i18n and Intl.DateTimeFormat timed (wrapped in this process) ==`,
    );
    log(
      await breakdown(full as unknown as Bot<Context>, make, opts.seconds, {
        store: services.store,
        extractor,
      }),
    );
  }
  if (opts.profile) {
    log(
      `\n== hot spots of 2026-12-07, now and (where it can still run) as before (µs per call, ${fmt(WHAT_IF_CALLS)} calls each) ==\n${await whatIf(services)}`,
    );
    for (const { key, label } of KINDS) {
      const stop = await startProfile();
      const end = performance.now() + Math.max(2, opts.seconds) * 1000;
      while (performance.now() < end) await full.handleUpdate(make[key]());
      log(`\n== profile: full bot, ${label} ==\n${summariseProfile(await stop(), 24, PROFILE_AREAS)}`);
    }
  }

  await checkpointer.stop();
  await services.close();
  bareDb.close();
  clearInterval(keepAlive);
  if (!opts.keep) fs.rmSync(dir, { recursive: true, force: true });
  else log(`kept ${dir}`);
}

/** Areas of a bot profile beyond the store's (checked before support/profile.ts's own). */
const PROFILE_AREAS: [RegExp, string][] = [
  [/node_modules\/grammy\//, "grammY"],
  [/node_modules\/@grammyjs\/i18n|node_modules\/@fluent/, "i18n (Fluent)"],
  [/node_modules\/@grammyjs\//, "grammY plugins (runner, ratelimiter, auto-retry)"],
  [/node_modules\/chrono-node/, "chrono-node"],
  [/node_modules\/libphonenumber-js/, "libphonenumber-js"],
  [/node_modules\/city-timezones/, "city-timezones"],
  [/\/src\/nlu\//, "src/nlu"],
  [/\/src\/bot\//, "src/bot"],
];

/**
 * Runs each kind for `seconds` with the store's methods, the extractor, i18n's translate and
 * Intl.DateTimeFormat (construction and formatToParts: what formatLocal does) wrapped in
 * timers, and says per update how often each was called and how long it took; the rest is
 * grammY, the middleware, the features' own code and GC. The wrappers cost about 0.1 µs a call.
 */
async function breakdown(
  bot: Bot<Context>,
  make: Record<Kind, () => Update>,
  seconds: number,
  parts: { store: object; extractor: { read: unknown } },
): Promise<string> {
  const buckets = new Map<string, { calls: number; us: number }>();
  const restore: (() => void)[] = [];
  const add = (name: string, us: number) => {
    const b = buckets.get(name) ?? { calls: 0, us: 0 };
    b.calls++;
    b.us += us;
    buckets.set(name, b);
  };
  const wrap = (target: Record<string, unknown>, key: string, name: string) => {
    const original = target[key] as (...args: unknown[]) => unknown;
    const had = Object.hasOwn(target, key);
    target[key] = function (this: unknown, ...args: unknown[]) {
      const t0 = performance.now();
      const out = original.apply(this, args);
      if (out instanceof Promise) {
        return out.finally(() => add(name, (performance.now() - t0) * 1000));
      }
      add(name, (performance.now() - t0) * 1000);
      return out;
    };
    restore.push(() => {
      if (had) target[key] = original;
      else delete target[key];
    });
  };
  const store = parts.store as Record<string, unknown>;
  for (const key of Object.keys(store)) {
    if (typeof store[key] === "function" && key !== "close") wrap(store, key, `store.${key}`);
  }
  wrap(parts.extractor as Record<string, unknown>, "read", "extractor.read (language rules)");
  const fluent = botI18n().fluent as unknown as Record<string, unknown>;
  wrap(fluent, "translate", "i18n t() (@grammyjs/i18n + Fluent)");
  const OriginalDTF = Intl.DateTimeFormat;
  const proto = OriginalDTF.prototype as unknown as Record<string, unknown>;
  wrap(proto, "formatToParts", "Intl.DateTimeFormat formatToParts");
  const counting = function (this: unknown, ...args: ConstructorParameters<typeof Intl.DateTimeFormat>) {
    const t0 = performance.now();
    const dtf = new OriginalDTF(...args);
    add("new Intl.DateTimeFormat", (performance.now() - t0) * 1000);
    return dtf;
  } as unknown as typeof Intl.DateTimeFormat;
  Object.assign(counting, { supportedLocalesOf: OriginalDTF.supportedLocalesOf });
  (Intl as { DateTimeFormat: typeof Intl.DateTimeFormat }).DateTimeFormat = counting;
  restore.push(() => {
    (Intl as { DateTimeFormat: typeof Intl.DateTimeFormat }).DateTimeFormat = OriginalDTF;
  });

  const lines: string[] = [];
  try {
    for (const { key, label } of KINDS) {
      buckets.clear();
      const end = performance.now() + seconds * 1000;
      const t0 = performance.now();
      let n = 0;
      while (performance.now() < end) {
        await bot.handleUpdate(make[key]());
        n++;
      }
      const perUpdate = ((performance.now() - t0) * 1000) / n;
      const rows = [...buckets].sort((a, b) => b[1].us - a[1].us);
      const timed = rows.reduce((a, [, b]) => a + b.us, 0) / n;
      lines.push(`${label}: ${fmt(perUpdate)} µs per update (${fmt(n)} updates)`);
      for (const [name, b] of rows) {
        lines.push(
          `  ${fmt(b.us / n, 1).padStart(8)} µs  ${((100 * b.us) / n / perUpdate).toFixed(0).padStart(3)}%  ${fmt(b.calls / n, 1).padStart(5)} calls  ${name}`,
        );
      }
      lines.push(
        `  ${fmt(perUpdate - timed, 1).padStart(8)} µs  ${((100 * (perUpdate - timed)) / perUpdate).toFixed(0).padStart(3)}%              the rest: grammY, middleware, the features' code, GC`,
      );
    }
  } finally {
    for (const undo of restore.reverse()) undo();
  }
  return lines.join("\n");
}

const WHAT_IF_CALLS = 2000;

/**
 * Per-call costs of the hot spots the breakdown named on 2026-12-07, as they are now and, where
 * the old way can still be called, as they were (the caches of 2026-12-08).
 */
async function whatIf(services: Awaited<ReturnType<typeof createServices>>): Promise<string> {
  const per = (fn: (i: number) => unknown) => {
    for (let i = 0; i < 200; i++) fn(i);
    const t0 = performance.now();
    for (let i = 0; i < WHAT_IF_CALLS; i++) fn(i);
    return ((performance.now() - t0) * 1000) / WHAT_IF_CALLS;
  };
  const lines: string[] = [];
  const row = (label: string, us: number) => lines.push(`  ${fmt(us, 1).padStart(8)} µs  ${label}`);
  const instant = new Date().toISOString();
  row(
    "formatLocal (src/bot/format.ts: one Intl.DateTimeFormat per zone, kept)",
    per(() => formatLocal(instant, "Asia/Shanghai")),
  );
  const i18n = botI18n();
  const statusWindow = () =>
    i18n.t("en", "status-window", {
      insurer: "Ping An",
      state: "open",
      opens: "a",
      closes: "b",
      zone: "China Standard Time",
      code: "1",
      used: 0,
      max: 3,
      delivery: "",
    });
  row(
    'i18n.t("en", "status-window", …) (the bundle match kept per locale: i18n-bundles.ts)',
    per(statusWindow),
  );
  // The same call with the plugin's own matchBundles (the kept one is the instance's own
  // property: set aside for these calls, then put back).
  const fluent = i18n.fluent as unknown as Record<string, unknown>;
  const kept = Object.getOwnPropertyDescriptor(fluent, "matchBundles");
  if (kept) {
    delete fluent.matchBundles;
    try {
      row("… with the plugin matching the locale's bundles on every call", per(statusWindow));
    } finally {
      Object.defineProperty(fluent, "matchBundles", kept);
    }
  }
  const owner = (await services.store.getOwnerByTelegramId(20_000))!;
  const directory = await services.owners.directoryFor(owner);
  let sink = 0;
  const listUs = await perAsync(() => services.owners.directoryFor(owner));
  row(
    `owners.directoryFor (store.listInsurers, ${directory.length} insurers: kept, PRAGMA data_version checked)`,
    listUs,
  );
  const question = "what happens to my data?";
  const report = "PICC called me yesterday";
  const today = new Date().toISOString().slice(0, 10);
  row(
    `readWithRules("${question}")`,
    per(() => readWithRules({ text: question, lang: "en", today, directory })),
  );
  row(
    `readWithRules("${report}")`,
    per(() => readWithRules({ text: report, lang: "en", today, directory })),
  );
  row(
    "findMentions (the directory's terms and RegExps kept; a fresh copy of the directory each call)",
    per(() => {
      sink += findMentions(
        report,
        directory.map((e) => ({ ...e, aliases: [...e.aliases] })),
      ).length;
    }),
  );
  row(
    "… directoryTerms (building the terms, once per directory now; every call before)",
    per(() => {
      sink += directoryTerms(directory).length;
    }),
  );
  void sink;
  return lines.join("\n");
}

async function perAsync(fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 200; i++) await fn();
  const t0 = performance.now();
  for (let i = 0; i < WHAT_IF_CALLS; i++) await fn();
  return ((performance.now() - t0) * 1000) / WHAT_IF_CALLS;
}

type BareContext = Context & SessionFlavor<{ n: number }>;

/** grammY with a session on one better-sqlite3 table, JSON values, and one reply. */
function createBareBot(db: Database.Database, fetch: NonNullable<CreateBotOptions["fetch"]> | undefined) {
  const read = db.prepare("SELECT value FROM sessions WHERE key = ?").pluck();
  const write = db.prepare(
    "INSERT INTO sessions (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  );
  const remove = db.prepare("DELETE FROM sessions WHERE key = ?");
  const storage: StorageAdapter<{ n: number }> = {
    read: (key) => {
      const raw = read.get(key) as string | undefined;
      return raw === undefined ? undefined : (JSON.parse(raw) as { n: number });
    },
    write: (key, value) => void write.run(key, JSON.stringify(value)),
    delete: (key) => void remove.run(key),
  };
  const bot = new Bot<BareContext>(TOKEN, {
    botInfo: BOT_INFO,
    client: fetch ? { fetch: fetch as never } : {},
  });
  bot.use(session({ initial: () => ({ n: 0 }), storage }));
  bot.on("message", async (ctx) => {
    ctx.session.n++;
    await ctx.reply("ok");
  });
  return bot;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
