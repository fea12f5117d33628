/**
 * The environment, read once (DESIGN §4). Everything else receives a typed {@link Config};
 * nothing outside this file touches `process.env`.
 */
import { isIP } from "node:net";
import path from "node:path";
import { z } from "zod";
import { isValidTimeZone } from "./domain/time.js";

/** Thrown for bad configuration; the CLI prints `issues` and exits 2. */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`bad configuration:\n${issues.map((i) => `  - ${i}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

const flag = z
  .enum(["0", "1", "true", "false", "on", "off", "yes", "no"])
  .transform((v) => ["1", "true", "on", "yes"].includes(v));

const url = z.url({ protocol: /^https?$/ });
const positiveInt = z.coerce.number().int().positive();

/** The raw variables, each optional; "" counts as unset. */
const Env = z.object({
  TELEGRAM_BOT_TOKEN: z
    .string()
    .regex(/^\d+:[A-Za-z0-9_-]{20,}$/, "expected a bot token like 123456:ABC-DEF…")
    .optional(),
  TELEGRAM_API_ROOT: url.default("https://api.telegram.org"),
  BOT_MODE: z.enum(["polling", "webhook"]).default("polling"),
  PUBLIC_URL: url.optional(),
  TELEGRAM_WEBHOOK_SECRET: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,256}$/, "1-256 characters of A-Z a-z 0-9 _ -")
    .optional(),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  DATA_DIR: z.string().default("./data"),
  KEYS_DIR: z.string().default("./keys"),
  DATA_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, "expected 32 bytes, base64url (43 characters)")
    .optional(),
  SIGNING_KEY: z.string().includes("PRIVATE KEY", { message: "expected an Ed25519 PKCS#8 PEM" }).optional(),
  // One server, or a Redis Cluster given as comma-separated seed nodes.
  REDIS_URL: z
    .string()
    .regex(
      /^rediss?:\/\/[^,\s]+(,rediss?:\/\/[^,\s]+)*$/,
      "expected redis://host:port, or several comma-separated for a Redis Cluster",
    )
    .optional(),
  REDIS_PREFIX: z.string().min(1).default("ow:"),
  UPSTASH_REDIS_REST_URL: url.optional(),
  UPSTASH_REDIS_REST_TOKEN: z.string().min(1).optional(),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: url.optional(),
  OPENAI_MODEL: z.string().min(1).default("gpt-4o-mini"),
  OPENAI_TIMEOUT_MS: positiveInt.default(8000),
  JURISDICTION: z.enum(["CN", "US", "UK", "EU"]).default("CN"),
  DEFAULT_TIMEZONE: z.string().refine(isValidTimeZone, "not an IANA time zone").default("Asia/Shanghai"),
  ALLOW_PRIVATE_WEBHOOKS: flag.default(false),
  DISPATCH_INTERVAL_MS: positiveInt.default(1000),
  // A claim must outlive one delivery (10 s timeout) with room to spare.
  DISPATCH_LEASE_MS: z.coerce.number().int().min(12_000).default(60_000),
  SCRUB_RATE: z
    .string()
    .regex(/^\d+(\/\d+)?$/, "expected <burst>/<per second>, e.g. 10/1")
    .default("10/1"),
  SCRUB_DAILY_LIMIT: positiveInt.default(1_000_000),
  METRICS_TOKEN: z.string().min(1).optional(),
  // Reverse proxies whose X-Forwarded-For / Forwarded is believed (DESIGN §9): IP addresses.
  TRUST_PROXY: z
    .string()
    .superRefine((value, ctx) => {
      for (const part of value.split(",")) {
        const address = part.trim();
        if (isIP(address) === 0) {
          ctx.addIssue({
            code: "custom",
            message: `not an IP address: ${JSON.stringify(address)} (expected comma-separated IP addresses of reverse proxies)`,
          });
        }
      }
    })
    .optional(),
  SANDBOX: flag.optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type StoreConfig =
  | { kind: "sqlite"; file: string }
  | { kind: "redis"; url: string; prefix: string }
  | { kind: "upstash"; url: string; token: string; prefix: string };

export type BotConfig =
  | { enabled: false }
  | { enabled: true; token: string; apiRoot: string; mode: "polling" }
  | { enabled: true; token: string; apiRoot: string; mode: "webhook"; publicUrl: string; secret: string };

export interface Config {
  bot: BotConfig;
  http: { host: string; port: number };
  dataDir: string;
  keysDir: string;
  keys: { dataKey?: string; signingKey?: string };
  store: StoreConfig;
  openai?: { apiKey?: string; baseURL?: string; model: string; timeoutMs: number };
  jurisdiction: "CN" | "US" | "UK" | "EU";
  defaultTimezone: string;
  allowPrivateWebhooks: boolean;
  dispatchIntervalMs: number;
  /** How long a dispatcher's claim lasts; a crashed process's claims are re-sent after it. */
  dispatchLeaseMs: number;
  scrub: { burst: number; perSecond: number; dailyLimit: number };
  metricsToken?: string;
  /** Addresses of the reverse proxies whose forwarded client address is believed; empty: none. */
  trustProxy: string[];
  sandbox: boolean;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
}

const isLoopback = (host: string) =>
  host === "localhost" || (isIP(host) === 4 && host.startsWith("127.")) || host === "::1";

/**
 * Parses the environment into a {@link Config}.
 * @throws ConfigError naming every bad variable at once.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw = Object.fromEntries(
    Object.keys(Env.shape).flatMap((k) => (env[k] === undefined || env[k] === "" ? [] : [[k, env[k]]])),
  );
  const parsed = Env.safeParse(raw);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  // Cross-variable rules run on the raw strings too, so one start names every bad variable.
  const e = parsed.success ? parsed.data : (raw as unknown as z.infer<typeof Env>);

  if (e.BOT_MODE === "webhook") {
    if (!e.PUBLIC_URL) problems.push("PUBLIC_URL: required when BOT_MODE=webhook");
    if (!e.TELEGRAM_WEBHOOK_SECRET) problems.push("TELEGRAM_WEBHOOK_SECRET: required when BOT_MODE=webhook");
  }
  const upstash = e.UPSTASH_REDIS_REST_URL !== undefined || e.UPSTASH_REDIS_REST_TOKEN !== undefined;
  if (upstash) {
    if (!e.UPSTASH_REDIS_REST_URL)
      problems.push("UPSTASH_REDIS_REST_URL: required with UPSTASH_REDIS_REST_TOKEN");
    if (!e.UPSTASH_REDIS_REST_TOKEN)
      problems.push("UPSTASH_REDIS_REST_TOKEN: required with UPSTASH_REDIS_REST_URL");
    if (e.REDIS_URL) problems.push("REDIS_URL: set together with UPSTASH_REDIS_REST_URL; choose one store");
    if (!e.DATA_KEY) problems.push("DATA_KEY: required with Upstash (no local keys directory to trust)");
    if (!e.SIGNING_KEY)
      problems.push("SIGNING_KEY: required with Upstash (no local keys directory to trust)");
  }
  const sandboxAsked = parsed.success
    ? e.SANDBOX === true
    : ["1", "true", "on", "yes"].includes(String(raw.SANDBOX));
  const sandbox = e.SANDBOX ?? !e.TELEGRAM_BOT_TOKEN;
  if (sandboxAsked && e.TELEGRAM_BOT_TOKEN) {
    problems.push("SANDBOX: cannot be on while TELEGRAM_BOT_TOKEN is set");
  }
  if (sandboxAsked && !isLoopback(e.HOST ?? "127.0.0.1")) {
    problems.push(`SANDBOX: cannot be on with a non-loopback HOST (${e.HOST})`);
  }
  const rate = String(e.SCRUB_RATE ?? "10/1")
    .split("/")
    .map(Number);
  const burst = rate[0] ?? 10;
  const perSecond = rate[1] ?? 1;
  if (burst < 1 || perSecond <= 0) problems.push("SCRUB_RATE: burst and rate must be positive");
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);

  const bot: BotConfig = !e.TELEGRAM_BOT_TOKEN
    ? { enabled: false }
    : e.BOT_MODE === "webhook"
      ? {
          enabled: true,
          token: e.TELEGRAM_BOT_TOKEN,
          apiRoot: e.TELEGRAM_API_ROOT,
          mode: "webhook",
          publicUrl: e.PUBLIC_URL!,
          secret: e.TELEGRAM_WEBHOOK_SECRET!,
        }
      : { enabled: true, token: e.TELEGRAM_BOT_TOKEN, apiRoot: e.TELEGRAM_API_ROOT, mode: "polling" };

  const store: StoreConfig = e.REDIS_URL
    ? { kind: "redis", url: e.REDIS_URL, prefix: e.REDIS_PREFIX }
    : upstash
      ? {
          kind: "upstash",
          url: e.UPSTASH_REDIS_REST_URL!,
          token: e.UPSTASH_REDIS_REST_TOKEN!,
          prefix: e.REDIS_PREFIX,
        }
      : { kind: "sqlite", file: path.join(e.DATA_DIR, "onewindow.db") };

  return {
    bot,
    http: { host: e.HOST, port: e.PORT },
    dataDir: e.DATA_DIR,
    keysDir: e.KEYS_DIR,
    keys: { dataKey: e.DATA_KEY, signingKey: e.SIGNING_KEY },
    store,
    openai:
      e.OPENAI_API_KEY || e.OPENAI_BASE_URL
        ? {
            apiKey: e.OPENAI_API_KEY,
            baseURL: e.OPENAI_BASE_URL,
            model: e.OPENAI_MODEL,
            timeoutMs: e.OPENAI_TIMEOUT_MS,
          }
        : undefined,
    jurisdiction: e.JURISDICTION,
    defaultTimezone: e.DEFAULT_TIMEZONE,
    allowPrivateWebhooks: e.ALLOW_PRIVATE_WEBHOOKS,
    dispatchIntervalMs: e.DISPATCH_INTERVAL_MS,
    dispatchLeaseMs: e.DISPATCH_LEASE_MS,
    scrub: { burst, perSecond, dailyLimit: e.SCRUB_DAILY_LIMIT },
    metricsToken: e.METRICS_TOKEN,
    trustProxy: e.TRUST_PROXY ? e.TRUST_PROXY.split(",").map((a) => a.trim()) : [],
    sandbox,
    logLevel: e.LOG_LEVEL,
  };
}
