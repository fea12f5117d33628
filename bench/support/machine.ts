/** The machine a benchmark ran on, printed above its figures (figures only compare on one machine). */
import os from "node:os";

export function machineLine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() || "unknown CPU";
  const memGiB = (os.totalmem() / 2 ** 30).toFixed(1);
  return [
    `machine: ${cpus.length} cores, ${model}, ${memGiB} GiB RAM`,
    `node ${process.version} (${process.platform}/${process.arch}), ${new Date().toISOString()}`,
    loadLine(),
  ].join("\n");
}

/** Other work on the machine skews every figure: say how busy it was. */
export function loadLine(): string {
  const [one = 0, five = 0] = os.loadavg();
  return `load average ${one.toFixed(2)} (1 min) / ${five.toFixed(2)} (5 min) on ${os.cpus().length} cores${one > os.cpus().length * 0.5 ? " — machine busy, figures are noisy" : ""}`;
}

/** `--name value` and `--flag` options; unknown names are refused so typos do not go unnoticed. */
export function parseArgs<T extends Record<string, string | number | boolean>>(
  defaults: T,
  argv = process.argv.slice(2),
): T {
  const out: Record<string, string | number | boolean> = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unexpected argument ${arg}`);
    const key = m[1]!.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (!(key in defaults)) {
      throw new Error(`unknown option --${m[1]}; known: ${Object.keys(defaults).join(", ")}`);
    }
    const current = defaults[key];
    if (typeof current === "boolean") {
      out[key] = m[2] === undefined ? true : !["0", "false", "no"].includes(m[2]);
      continue;
    }
    const raw = m[2] ?? argv[++i];
    if (raw === undefined) throw new Error(`--${m[1]} needs a value`);
    if (typeof current === "number") {
      const n = Number(raw.replace(/_/g, "").replace(/k$/i, "000").replace(/m$/i, "000000"));
      if (!Number.isFinite(n)) throw new Error(`--${m[1]}: not a number: ${raw}`);
      out[key] = n;
    } else {
      out[key] = raw;
    }
  }
  return out as T;
}

export const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

export const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}
