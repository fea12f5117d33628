import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";

const TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345";

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  return [];
}

describe("configuration", () => {
  it("defaults to SQLite under ./data, no bot, the sandbox on, CN rules", () => {
    const c = loadConfig({});
    expect(c.store).toEqual({ kind: "sqlite", file: "data/onewindow.db" });
    expect(c.bot).toEqual({ enabled: false });
    expect(c.sandbox).toBe(true);
    expect(c.http).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(c.jurisdiction).toBe("CN");
    expect(c.defaultTimezone).toBe("Asia/Shanghai");
    expect(c.scrub).toEqual({ burst: 10, perSecond: 1, dailyLimit: 1_000_000 });
    expect(c.openai).toBeUndefined();
  });

  it("treats empty strings as unset", () => {
    const c = loadConfig({ TELEGRAM_BOT_TOKEN: "", PORT: "", REDIS_URL: "", SANDBOX: "" });
    expect(c.bot.enabled).toBe(false);
    expect(c.http.port).toBe(8080);
    expect(c.store.kind).toBe("sqlite");
  });

  it("honours TELEGRAM_API_ROOT and turns the sandbox off with a token", () => {
    const c = loadConfig({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: "http://127.0.0.1:9999" });
    expect(c.bot).toEqual({ enabled: true, token: TOKEN, apiRoot: "http://127.0.0.1:9999", mode: "polling" });
    expect(c.sandbox).toBe(false);
  });

  it("names every bad variable at once", () => {
    const p = problems({
      PORT: "99999",
      BOT_MODE: "hook",
      DATA_KEY: "short",
      DEFAULT_TIMEZONE: "Nowhere/Town",
      JURISDICTION: "FR",
      SCRUB_RATE: "fast",
      LOG_LEVEL: "loud",
    });
    for (const name of [
      "PORT",
      "BOT_MODE",
      "DATA_KEY",
      "DEFAULT_TIMEZONE",
      "JURISDICTION",
      "SCRUB_RATE",
      "LOG_LEVEL",
    ]) {
      expect(
        p.some((x) => x.startsWith(`${name}:`)),
        name,
      ).toBe(true);
    }
  });

  it("requires PUBLIC_URL and TELEGRAM_WEBHOOK_SECRET in webhook mode", () => {
    expect(problems({ TELEGRAM_BOT_TOKEN: TOKEN, BOT_MODE: "webhook" })).toEqual([
      "PUBLIC_URL: required when BOT_MODE=webhook",
      "TELEGRAM_WEBHOOK_SECRET: required when BOT_MODE=webhook",
    ]);
    const ok = loadConfig({
      TELEGRAM_BOT_TOKEN: TOKEN,
      BOT_MODE: "webhook",
      PUBLIC_URL: "https://bot.example.com",
      TELEGRAM_WEBHOOK_SECRET: "s3cret_token",
    });
    expect(ok.bot).toMatchObject({
      mode: "webhook",
      publicUrl: "https://bot.example.com",
      secret: "s3cret_token",
    });
  });

  it("refuses both Redis kinds at once, and Upstash without explicit keys", () => {
    const p = problems({
      REDIS_URL: "redis://127.0.0.1:6379",
      UPSTASH_REDIS_REST_URL: "https://eu1.upstash.example",
      UPSTASH_REDIS_REST_TOKEN: "t",
    });
    expect(p.some((x) => x.startsWith("REDIS_URL:"))).toBe(true);
    expect(p.some((x) => x.startsWith("DATA_KEY:"))).toBe(true);
    expect(p.some((x) => x.startsWith("SIGNING_KEY:"))).toBe(true);
  });

  it("refuses the sandbox with a token or on a non-loopback host", () => {
    expect(problems({ SANDBOX: "1", TELEGRAM_BOT_TOKEN: TOKEN })).toEqual([
      "SANDBOX: cannot be on while TELEGRAM_BOT_TOKEN is set",
    ]);
    expect(problems({ SANDBOX: "1", HOST: "0.0.0.0" })).toEqual([
      "SANDBOX: cannot be on with a non-loopback HOST (0.0.0.0)",
    ]);
    expect(loadConfig({ SANDBOX: "1", HOST: "localhost" }).sandbox).toBe(true);
  });

  it("enables the LLM with a key or a base URL only", () => {
    expect(loadConfig({ OPENAI_BASE_URL: "http://127.0.0.1:11434/v1" }).openai).toMatchObject({
      baseURL: "http://127.0.0.1:11434/v1",
      timeoutMs: 8000,
    });
    expect(loadConfig({ OPENAI_MODEL: "x" }).openai).toBeUndefined();
  });
});

describe("TRUST_PROXY", () => {
  it("is a comma-separated list of proxy addresses, none by default", () => {
    expect(loadConfig({}).trustProxy).toEqual([]);
    expect(loadConfig({ TRUST_PROXY: "" }).trustProxy).toEqual([]);
    expect(loadConfig({ TRUST_PROXY: "127.0.0.1, ::1,10.0.0.2" }).trustProxy).toEqual([
      "127.0.0.1",
      "::1",
      "10.0.0.2",
    ]);
  });

  it("refuses anything but IP addresses, naming the bad one", () => {
    const issues = problems({ TRUST_PROXY: "127.0.0.1,proxy.internal" });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^TRUST_PROXY: .*"proxy\.internal"/);
    expect(problems({ TRUST_PROXY: "10.0.0.0/8" })[0]).toContain("TRUST_PROXY");
  });
});
