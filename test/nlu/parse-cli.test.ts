import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { calendarDateIn, runParse } from "../../src/cli/parse.js";
import { directory } from "./fixtures/directory.js";

async function run(args: string[], now = new Date("2026-12-01T04:00:00Z")) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runParse(args, {
    directory,
    defaultTimezone: "Asia/Shanghai",
    now,
    stdout: (s) => out.push(s),
    stderr: (s) => err.push(s),
  });
  return { code, out: out.join(""), err: err.join("") };
}

describe("onewindow parse", () => {
  it("prints exactly one JSON line with the intent, the patch, the extractor and the time taken", async () => {
    const { code, out, err } = await run([
      "only Ping An, text me on weekday evenings",
      "--now",
      "2026-12-01",
    ]);
    expect(code).toBe(0);
    expect(err).toBe("");
    expect(out.endsWith("\n")).toBe(true);
    expect(out.trimEnd().split("\n")).toHaveLength(1);
    const parsed = JSON.parse(out);
    expect(Object.keys(parsed)).toEqual(["intent", "patch", "extractor", "ms"]);
    expect(parsed.intent).toBe("preferences");
    expect(parsed.extractor).toBe("rules");
    expect(typeof parsed.ms).toBe("number");
    expect(parsed.patch).toEqual({
      insurers: ["pingan"],
      channels: ["sms"],
      days: ["mon", "tue", "wed", "thu", "fri"],
      hours: [{ from: "18:00", to: "20:00" }],
    });
  });

  it("reads a report as a report with an empty patch, whatever insurers and channels it names", async () => {
    const { out } = await run([
      "PICC called me yesterday even though I stopped them. How do I report this?",
      "--now",
      "2026-12-01",
    ]);
    const parsed = JSON.parse(out);
    expect(parsed).toMatchObject({
      intent: "report",
      patch: {},
      report: { insurer: "picc", channel: "call", date: "2026-11-30", afterRefusal: true },
    });
    expect(Object.keys(parsed)).toEqual(["intent", "patch", "extractor", "ms", "report"]);
  });

  it("reads a stop and a renewal, in Chinese too", async () => {
    const stop = JSON.parse((await run(["让人保和太平洋别再打了", "--now", "2026-12-01"])).out);
    expect(stop).toMatchObject({ intent: "stop", patch: {}, stop: { insurers: ["picc", "cpic"] } });
    const renewed = JSON.parse((await run(["我已经续保了", "--lang", "zh"])).out);
    expect(renewed).toMatchObject({ intent: "renewed", patch: {} });
    expect(renewed).not.toHaveProperty("report");
  });

  it("keeps a date the text puts in the past, and takes a negation alone", async () => {
    expect(JSON.parse((await run(["it expired on 3 November", "--now", "2026-12-01"])).out).patch).toEqual({
      renewalDate: "2026-11-03",
    });
    expect(JSON.parse((await run(["don't call me"])).out).patch).toEqual({ withoutChannels: ["call"] });
  });

  it("resolves relative dates against --now", async () => {
    expect(JSON.parse((await run(["end of July", "--now", "2027-08-15"])).out).patch).toEqual({
      renewalDate: "2028-07-31",
    });
    expect(JSON.parse((await run(["下个月底", "--lang", "zh", "--now", "2027-01-10"])).out).patch).toEqual({
      renewalDate: "2027-02-28",
    });
  });

  it("defaults --now to today in the default timezone, not the host's", async () => {
    // 2026-12-01T20:00Z is already 2 December in Shanghai.
    const { out } = await run(["tomorrow"], new Date("2026-12-01T20:00:00Z"));
    expect(JSON.parse(out).patch).toEqual({ renewalDate: "2026-12-03" });
    expect(calendarDateIn(new Date("2026-12-01T20:00:00Z"), "America/Los_Angeles")).toBe("2026-12-01");
  });

  it("prints an empty patch for text it cannot read", async () => {
    expect(JSON.parse((await run(["asdf qwerty"])).out).patch).toEqual({});
  });

  it.each([
    [[], "missing the text"],
    [["--lang", "en"], "missing the text"],
    [["hello", "--lang", "fr"], "--lang"],
    [["hello", "--now", "2026-13-01"], "--now"],
    [["hello", "--now", "2026-02-30"], "--now"],
    [["hello", "--now", "tomorrow"], "--now"],
    [["hello", "--bogus"], "usage"],
  ])("exits 2 with a message on stderr for %j", async (args, message) => {
    const { code, out, err } = await run(args);
    expect(code).toBe(2);
    expect(out).toBe("");
    expect(err).toContain(message);
  });
});

describe("host timezone", () => {
  const probe = fileURLToPath(new URL("./fixtures/tz-probe.ts", import.meta.url));
  const exec = promisify(execFile);
  const runIn = async (tz: string) => {
    const { stdout } = await exec("npx", ["tsx", probe], { env: { ...process.env, TZ: tz } });
    return JSON.parse(stdout) as string[];
  };

  it("does not change the result", async () => {
    const [la, sh] = await Promise.all([runIn("America/Los_Angeles"), runIn("Asia/Shanghai")]);
    expect(la).toEqual(sh);
    expect(la).toContain(JSON.stringify({ renewalDate: "2027-07-31" }));
    expect(la.at(-1)).toBe(JSON.stringify({ renewalDate: "2026-12-03" }));
    expect(la.some((l) => l.startsWith("ERR"))).toBe(false);
  }, 60_000);
});
