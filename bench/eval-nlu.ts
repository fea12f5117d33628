/**
 * Measures language understanding (DESIGN §8) on the evaluation sets in test/nlu/: per-intent
 * precision and recall, the count of unsafe readings (a message that is not a statement of
 * preferences read as one, or given a patch), per-field precision and recall of the patch, and
 * the share of messages read fully right — for the rules, and, when OPENAI_API_KEY or
 * OPENAI_BASE_URL is set, for the LLM extractor side by side.
 *
 *   npm run eval:nlu                      # every set
 *   npm run eval:nlu -- --set heldout     # one set: preferences, intents, intents-2 or heldout
 *   npm run eval:nlu -- --failures        # plus every message the rules got wrong
 *   npm run eval:nlu -- --llm-failures    # plus every message the LLM got wrong
 *   npm run eval:nlu -- --tag zh-only ... # only cases carrying a tag
 *
 * The held-out set was written apart from the rules and is never tuned on: read its figures,
 * not its failures, when changing the rules.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createExtractor, type DetailedExtractor } from "../src/nlu/create-extractor.js";
import { type EvalCase, type Evaluation, evaluate, parseCases, readingMatches } from "../src/nlu/eval.js";
import type { DirectoryEntry, ExtractInput } from "../src/nlu/extractor.js";
import type { Reading } from "../src/nlu/reading.js";
import { readWithRules } from "../src/nlu/rules/index.js";
import { directory, intentDirectory } from "../test/nlu/fixtures/directory.js";
import { machineLine } from "./support/machine.js";

/** The evaluation sets, each with the directory its cases were written against. */
const SETS: { name: string; files: string[]; directory: DirectoryEntry[] }[] = [
  { name: "preferences", files: ["cases.jsonl"], directory },
  { name: "intents", files: ["intent-cases.jsonl"], directory: intentDirectory },
  { name: "intents-2", files: ["intent-cases-2.jsonl"], directory: intentDirectory },
  { name: "heldout", files: ["intent-heldout.jsonl", "intent-heldout-2.jsonl"], directory: intentDirectory },
];

interface Timed {
  reading: Reading;
  ms: number;
  /** Set when the LLM extractor fell back to the rules. */
  fallbackReason?: string;
}

interface Run {
  name: string;
  readings: Timed[];
  evaluation: Evaluation;
}

function args(argv: string[]) {
  const tags: string[] = [];
  const sets: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--tag" && argv[i + 1]) tags.push(argv[++i] as string);
    if (argv[i] === "--set" && argv[i + 1]) sets.push(argv[++i] as string);
  }
  return { failures: argv.includes("--failures"), llmFailures: argv.includes("--llm-failures"), tags, sets };
}

function input(c: EvalCase, dir: DirectoryEntry[]): ExtractInput {
  return { text: c.text, lang: c.lang, today: c.today, directory: dir };
}

function runRules(cases: EvalCase[], dir: DirectoryEntry[]): Run {
  const readings = cases.map((c) => {
    const t0 = performance.now();
    const reading = readWithRules(input(c, dir));
    return { reading, ms: performance.now() - t0 };
  });
  return {
    name: "rules",
    readings,
    evaluation: evaluate(
      cases,
      readings.map((r) => r.reading),
    ),
  };
}

/** The LLM extractor when configured; undefined otherwise. */
async function loadLlm(): Promise<DetailedExtractor | undefined> {
  const env = process.env;
  if (!env.OPENAI_API_KEY && !env.OPENAI_BASE_URL) return undefined;
  const { createLogger } = await import("../src/logger.js");
  return createExtractor({
    openai: {
      ...(env.OPENAI_API_KEY ? { apiKey: env.OPENAI_API_KEY } : {}),
      ...(env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : {}),
      model: env.OPENAI_MODEL || "gpt-4o-mini",
      timeoutMs: Number(env.OPENAI_TIMEOUT_MS) || 8000,
    },
    logger: createLogger(env.LOG_LEVEL || "warn"),
  });
}

async function runLlm(cases: EvalCase[], dir: DirectoryEntry[], llm: DetailedExtractor, concurrency = 4) {
  const readings: Timed[] = new Array(cases.length);
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      const c = cases[i] as EvalCase;
      try {
        const r = await llm.readDetailed(input(c, dir));
        readings[i] = {
          reading: r.reading,
          ms: r.ms,
          ...(r.extractor !== "llm" ? { fallbackReason: r.fallbackReason ?? "fell back" } : {}),
        };
      } catch (err) {
        readings[i] = {
          reading: { intent: "other", patch: {} },
          ms: 0,
          fallbackReason: `threw: ${(err as Error).message}`,
        };
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return {
    name: "llm",
    readings,
    evaluation: evaluate(
      cases,
      readings.map((r) => r.reading),
    ),
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const col = (s: string, w = 9) => s.padStart(w);

function table(runs: Run[]): string {
  const first = runs[0]!.evaluation;
  const lines: string[] = [];
  const head = ["".padEnd(22), col("support", 7)];
  for (const r of runs) head.push(col(`${r.name} P`), col(`${r.name} R`));
  lines.push(head.join(" "));
  for (const i of first.perIntent) {
    if (
      i.support === 0 &&
      runs.every((r) => r.evaluation.perIntent.find((x) => x.intent === i.intent)?.predicted === 0)
    )
      continue;
    const row = [`intent ${i.intent}`.padEnd(22), col(String(i.support), 7)];
    for (const r of runs) {
      const s = r.evaluation.perIntent.find((x) => x.intent === i.intent)!;
      row.push(col(pct(s.precision)), col(pct(s.recall)));
    }
    lines.push(row.join(" "));
  }
  for (const f of first.patch.perField) {
    if (
      f.support === 0 &&
      runs.every((r) => r.evaluation.patch.perField.find((x) => x.field === f.field)?.predicted === 0)
    )
      continue;
    const row = [`field ${f.field}`.padEnd(22), col(String(f.support), 7)];
    for (const r of runs) {
      const s = r.evaluation.patch.perField.find((x) => x.field === f.field)!;
      row.push(col(pct(s.precision)), col(pct(s.recall)));
    }
    lines.push(row.join(" "));
  }
  const summary = (label: string, value: (e: Evaluation, r: Run) => string) => {
    const row = [label.padEnd(22), col("", 7)];
    for (const r of runs) row.push(col(value(r.evaluation, r), 19));
    lines.push(row.join(" "));
  };
  summary("intent right", (e) => pct(e.intentAccuracy));
  summary("unsafe", (e) => `${e.unsafe} of ${e.n}`);
  if (first.reportsRight.of > 0)
    summary("reports right", (e) => `${e.reportsRight.right}/${e.reportsRight.of}`);
  if (first.stopsRight.of > 0) summary("stops right", (e) => `${e.stopsRight.right}/${e.stopsRight.of}`);
  summary("fully right", (e) => pct(e.exact));
  summary("mean ms", (_, r) =>
    (r.readings.reduce((s, x) => s + x.ms, 0) / Math.max(1, r.readings.length)).toFixed(2),
  );
  return lines.join("\n");
}

function failures(name: string, cases: EvalCase[], run: Run): string {
  const out: string[] = [];
  cases.forEach((c, i) => {
    const r = run.readings[i];
    if (!r || readingMatches(c, r.reading)) return;
    const extra = c.report ?? c.stop;
    out.push(
      `- ${JSON.stringify(c.text.length > 160 ? `${c.text.slice(0, 160)}…` : c.text)} (${c.lang}, today ${c.today})`,
      `    expected ${c.intent} ${JSON.stringify(c.expected)}${extra ? ` ${JSON.stringify(extra)}` : ""}`,
      `    actual   ${r.reading.intent} ${JSON.stringify(r.reading.patch)}${r.reading.report || r.reading.stop ? ` ${JSON.stringify(r.reading.report ?? r.reading.stop)}` : ""}${r.fallbackReason ? `  [fallback: ${r.fallbackReason}]` : ""}`,
    );
  });
  return `\n${name} failures (${out.length / 3}):\n${out.join("\n")}`;
}

async function main() {
  const opts = args(process.argv.slice(2));
  const llm = await loadLlm();
  console.log(`NLU evaluation — ${machineLine()}`);
  for (const set of SETS) {
    if (opts.sets.length > 0 && !opts.sets.includes(set.name)) continue;
    let cases = set.files.flatMap((f) =>
      parseCases(readFileSync(fileURLToPath(new URL(`../test/nlu/${f}`, import.meta.url)), "utf8")),
    );
    if (opts.tags.length > 0) cases = cases.filter((c) => opts.tags.some((t) => c.tags.includes(t)));
    const runs = [runRules(cases, set.directory)];
    if (llm) {
      const run = await runLlm(cases, set.directory, llm);
      runs.push(run);
      const fellBack = run.readings.filter((r) => r.fallbackReason).length;
      if (fellBack > 0)
        console.error(`LLM fell back to the rules on ${fellBack} of ${cases.length} messages.`);
    }
    console.log(`\n== ${set.name}: ${cases.length} messages from test/nlu/${set.files.join(" + ")}\n`);
    console.log(table(runs));
    if (opts.failures && runs[0]) console.log(failures("rules", cases, runs[0]));
    if (opts.llmFailures && runs[1]) console.log(failures("llm", cases, runs[1]));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
