/**
 * Measures language understanding on test/nlu/cases.jsonl (issue 5, DESIGN §8): per-field
 * precision and recall and the share of messages read fully right, for the rules extractor and,
 * when OPENAI_API_KEY or OPENAI_BASE_URL is set, for the LLM extractor side by side.
 *
 *   npm run eval:nlu                      # table
 *   npm run eval:nlu -- --failures        # plus every message the rules got wrong
 *   npm run eval:nlu -- --llm-failures    # plus every message the LLM got wrong
 *   npm run eval:nlu -- --tag zh-only ... # only cases carrying a tag
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { PreferencePatch } from "../src/domain/preferences.js";
import { type EvalCase, parseCases, patchMatches, type Score, scoreCases } from "../src/nlu/eval.js";
import type { DirectoryEntry, ExtractInput } from "../src/nlu/extractor.js";
import { extractWithRules } from "../src/nlu/rules/index.js";
import { directory } from "../test/nlu/fixtures/directory.js";

const CASES = fileURLToPath(new URL("../test/nlu/cases.jsonl", import.meta.url));

interface Reading {
  patch: PreferencePatch;
  ms: number;
  /** Set when the LLM extractor fell back to the rules. */
  fallbackReason?: string;
}

interface Run {
  name: string;
  readings: Reading[];
  score: Score;
}

/** The shape of the LLM factory this script expects; checked loosely, since it may not exist yet. */
interface DetailedExtractor {
  extractDetailed(
    input: ExtractInput,
  ): Promise<{ patch: PreferencePatch; extractor: string; ms: number; fallbackReason?: string }>;
}

function args(argv: string[]) {
  const tags: string[] = [];
  for (let i = 0; i < argv.length; i++)
    if (argv[i] === "--tag" && argv[i + 1]) tags.push(argv[++i] as string);
  return { failures: argv.includes("--failures"), llmFailures: argv.includes("--llm-failures"), tags };
}

function input(c: EvalCase, dir: DirectoryEntry[]): ExtractInput {
  return { text: c.text, lang: c.lang, today: c.today, directory: dir };
}

function runRules(cases: EvalCase[]): Run {
  const readings = cases.map((c) => {
    const t0 = performance.now();
    const patch = extractWithRules(input(c, directory));
    return { patch, ms: performance.now() - t0 };
  });
  return { name: "rules", readings, score: score(cases, readings) };
}

function score(cases: EvalCase[], readings: Reading[]): Score {
  return scoreCases(cases.map((c, i) => ({ expected: c.expected, actual: readings[i]?.patch ?? {} })));
}

/** The LLM extractor when configured and built; undefined (with the reason on stderr) otherwise. */
async function loadLlm(): Promise<DetailedExtractor | undefined> {
  const env = process.env;
  if (!env.OPENAI_API_KEY && !env.OPENAI_BASE_URL) return undefined;
  const spec = "../src/nlu/create-extractor.js";
  let mod: { createExtractor?: unknown };
  try {
    mod = (await import(spec)) as { createExtractor?: unknown };
  } catch (err) {
    console.error(`LLM extractor not available (${(err as Error).message}); rules only.`);
    return undefined;
  }
  if (typeof mod.createExtractor !== "function") {
    console.error("src/nlu/create-extractor.ts exports no createExtractor; rules only.");
    return undefined;
  }
  const { createLogger } = await import("../src/logger.js");
  const extractor = (mod.createExtractor as (deps: unknown) => unknown)({
    openai: {
      apiKey: env.OPENAI_API_KEY,
      baseURL: env.OPENAI_BASE_URL,
      model: env.OPENAI_MODEL || "gpt-4o-mini",
      timeoutMs: Number(env.OPENAI_TIMEOUT_MS) || 8000,
    },
    logger: createLogger(env.LOG_LEVEL || "warn"),
  }) as Partial<DetailedExtractor> | undefined;
  if (typeof extractor?.extractDetailed !== "function") {
    console.error("createExtractor() returned no extractDetailed(); rules only.");
    return undefined;
  }
  return extractor as DetailedExtractor;
}

async function runLlm(cases: EvalCase[], llm: DetailedExtractor, concurrency = 4): Promise<Run> {
  const readings: Reading[] = new Array(cases.length);
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      const c = cases[i] as EvalCase;
      try {
        const r = await llm.extractDetailed(input(c, directory));
        readings[i] = {
          patch: r.patch,
          ms: r.ms,
          ...(r.extractor !== "llm" ? { fallbackReason: r.fallbackReason ?? "fell back" } : {}),
        };
      } catch (err) {
        readings[i] = { patch: {}, ms: 0, fallbackReason: `threw: ${(err as Error).message}` };
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { name: "llm", readings, score: score(cases, readings) };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`.padStart(6);

function table(runs: Run[]): string {
  const fields = runs[0]?.score.perField.map((f) => f.field) ?? [];
  const head = ["field".padEnd(12), "support".padStart(7)];
  for (const r of runs) head.push(`${r.name} P`.padStart(8), `${r.name} R`.padStart(8));
  const lines = [head.join("  ")];
  for (const field of fields) {
    const row = [field.padEnd(12)];
    const support = runs[0]?.score.perField.find((f) => f.field === field)?.support ?? 0;
    row.push(String(support).padStart(7));
    for (const r of runs) {
      const f = r.score.perField.find((x) => x.field === field);
      row.push(pct(f?.precision ?? 0).padStart(8), pct(f?.recall ?? 0).padStart(8));
    }
    lines.push(row.join("  "));
  }
  const exact = ["fully right".padEnd(12), String(runs[0]?.score.n ?? 0).padStart(7)];
  for (const r of runs) exact.push(pct(r.score.exact).padStart(17));
  lines.push(exact.join("  "));
  const ms = ["mean ms".padEnd(12), "".padStart(7)];
  for (const r of runs) {
    const mean = r.readings.reduce((s, x) => s + x.ms, 0) / Math.max(1, r.readings.length);
    ms.push(mean.toFixed(1).padStart(17));
  }
  lines.push(ms.join("  "));
  return lines.join("\n");
}

function failures(name: string, cases: EvalCase[], run: Run): string {
  const out: string[] = [];
  cases.forEach((c, i) => {
    const r = run.readings[i];
    if (!r || patchMatches(c.expected, r.patch)) return;
    out.push(
      `- ${JSON.stringify(c.text)} (${c.lang}, today ${c.today})`,
      `    expected ${JSON.stringify(c.expected)}`,
      `    actual   ${JSON.stringify(r.patch)}${r.fallbackReason ? `  [fallback: ${r.fallbackReason}]` : ""}`,
    );
  });
  return `\n${name} failures (${out.length / 3}):\n${out.join("\n")}`;
}

async function main() {
  const opts = args(process.argv.slice(2));
  let cases = parseCases(readFileSync(CASES, "utf8"));
  if (opts.tags.length > 0) cases = cases.filter((c) => opts.tags.some((t) => c.tags.includes(t)));
  const runs = [runRules(cases)];
  const llm = await loadLlm();
  if (llm) {
    const run = await runLlm(cases, llm);
    runs.push(run);
    const fellBack = run.readings.filter((r) => r.fallbackReason).length;
    if (fellBack > 0) console.error(`LLM fell back to the rules on ${fellBack} of ${cases.length} messages.`);
  }
  console.log(`NLU evaluation: ${cases.length} messages from test/nlu/cases.jsonl\n`);
  console.log(table(runs));
  const rules = runs[0];
  if (opts.failures && rules) console.log(failures("rules", cases, rules));
  const llmRun = runs[1];
  if (opts.llmFailures && llmRun) console.log(failures("llm", cases, llmRun));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
