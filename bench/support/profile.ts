/**
 * A CPU profile of a stretch of this process (node:inspector), summarised as self time by
 * function and by area (our src/ modules, SQLite, undici, zod, …), to say where time goes.
 */
import fs from "node:fs";
import { Session } from "node:inspector/promises";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export async function startProfile(): Promise<() => Promise<Profile>> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 500 });
  await session.post("Profiler.start");
  return async () => {
    const { profile } = (await session.post("Profiler.stop")) as { profile: Profile };
    session.disconnect();
    return profile;
  };
}

const AREAS: [RegExp, string][] = [
  [/better-sqlite3|\(program\)?$/, "SQLite (better-sqlite3)"],
  [/node_modules\/undici/, "undici (HTTP client)"],
  [/node_modules\/zod/, "zod"],
  [/node_modules\/jose/, "jose (receipt signing)"],
  [/node_modules\/standardwebhooks|node_modules\/@stablelib|node_modules\/fast-sha256/, "standardwebhooks"],
  [/node_modules\/hono|node_modules\/@hono/, "hono"],
  [/node_modules\/pino/, "pino"],
  [/\/src\/store\//, "src/store"],
  [/\/src\/delivery\//, "src/delivery"],
  [/\/src\/services\//, "src/services"],
  [/\/src\/domain\//, "src/domain"],
  [/\/src\/http\//, "src/http"],
  [/\/src\/crypto\//, "src/crypto"],
  [/\/bench\//, "bench harness"],
  [/^node:|^internal\/|^$/, "node internals / native"],
  [/node_modules\/tsx|esbuild/, "tsx"],
];

const SQLITE_NATIVE = new Set(["all", "run", "get", "iterate", "exec", "prepare", "pluck", "pragma"]);
const CRYPTO_NATIVE = new Set(["init", "digest", "update", "Hmac", "Hash", "final", "sign", "verify"]);

function areaOf(url: string, fn: string, extra: [RegExp, string][] = []): string {
  if (fn === "(garbage collector)") return "GC";
  if (fn === "(idle)") return "idle";
  if (fn === "(program)") return "native (program)";
  for (const [re, name] of extra) if (re.test(url)) return name;
  for (const [re, name] of AREAS) if (re.test(url)) return name;
  return "other";
}

/**
 * Self time per function and per area, largest first; `areas` are checked before the built-in
 * ones (a benchmark's own modules, e.g. the bot's).
 */
export function summariseProfile(profile: Profile, top = 18, areas: [RegExp, string][] = []): string {
  const total = profile.endTime - profile.startTime;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (deltas[i] ?? 0));
  }
  // Native callees (e.g. better-sqlite3's C++ `run`/`all`) appear as nodes with an empty url:
  // attribute them to their JS caller's area when the name says SQLite.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const fnTime = new Map<string, number>();
  const areaTime = new Map<string, number>();
  /** SQLite's native time by the nearest caller in src/ (which statement family it was). */
  const sqliteBy = new Map<string, number>();
  const srcCaller = (id: number): string => {
    for (let p = parent.get(id); p !== undefined; p = parent.get(p)) {
      const f = byId.get(p)!.callFrame;
      const m = /\/src\/(.*)$/.exec(f.url);
      if (m && !/sqlite\/db\.ts$/.test(m[1]!)) return `${f.functionName || "(anonymous)"} in src/${m[1]}`;
    }
    return "(no src/ caller)";
  };
  for (const [id, us] of self) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    let area = areaOf(url, functionName, areas);
    if (url === "" && !functionName.startsWith("(")) {
      // A native (C++) function: name it by what it is or who called it.
      const caller = byId.get(parent.get(id) ?? -1)?.callFrame.url ?? "";
      if (SQLITE_NATIVE.has(functionName) || /better-sqlite3|\/src\/store\//.test(caller)) {
        area = "SQLite (better-sqlite3)";
      } else if (CRYPTO_NATIVE.has(functionName) || /crypto/.test(caller)) {
        area = "node crypto (HMAC, AES, Ed25519)";
      } else if (/^node:|internal\//.test(caller)) {
        area = "node internals / native";
      }
    } else if (/^node:internal\/crypto|^node:crypto/.test(url)) {
      area = "node crypto (HMAC, AES, Ed25519)";
    }
    const short = url.replace(/^file:\/\//, "").replace(/^.*\/(node_modules\/|src\/|bench\/)/, "$1");
    const key = `${functionName || "(anonymous)"}  ${short}${short ? `:${lineNumber + 1}` : ""}`;
    fnTime.set(key, (fnTime.get(key) ?? 0) + us);
    if (area === "SQLite (better-sqlite3)") {
      const caller = srcCaller(id);
      sqliteBy.set(caller, (sqliteBy.get(caller) ?? 0) + us);
    }
    areaTime.set(area, (areaTime.get(area) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  const lines = [`profile: ${(total / 1000).toFixed(0)} ms sampled; self time by area:`];
  for (const [area, us] of [...areaTime].sort((a, b) => b[1] - a[1])) lines.push(`  ${pct(us)}  ${area}`);
  if (sqliteBy.size > 0) {
    lines.push("SQLite time by nearest src/ caller (function names are tsx-transpiled):");
    for (const [caller, us] of [...sqliteBy].sort((a, b) => b[1] - a[1]).slice(0, 8)) {
      lines.push(`  ${pct(us)}  ${caller}`);
    }
  }
  lines.push("top functions by self time:");
  for (const [key, us] of [...fnTime].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`  ${pct(us)}  ${key}`);
  }
  return lines.join("\n");
}

export function saveProfile(profile: Profile, file: string): void {
  fs.writeFileSync(file, JSON.stringify(profile));
}
