/**
 * The LLM path of DESIGN §8, measured on the tuning intent set through a loopback server that
 * speaks the OpenAI protocol: what the merged reading does when the model is right, and when the
 * model reads every message as a choice (the worst a model can do to consent). The model's own
 * quality cannot be measured here (no model is reachable); the merge's can.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.js";
import { createExtractor } from "../../src/nlu/create-extractor.js";
import { type EvalCase, evaluate, parseCases } from "../../src/nlu/eval.js";
import type { Reading } from "../../src/nlu/reading.js";
import { readWithRules } from "../../src/nlu/rules/index.js";
import {
  type FakeOpenAIServer,
  NULL_PATCH,
  preferencesAnswer,
  type RecordedRequest,
  reply,
  startFakeOpenAIServer,
} from "../fakes/openai-server.js";
import { intentDirectory as directory } from "./fixtures/directory.js";

const cases = parseCases(
  readFileSync(fileURLToPath(new URL("./intent-cases.jsonl", import.meta.url)), "utf8"),
);
const logger = createLogger("silent");

/** The case a request is about, found by its position in the run (one request per case, in order). */
function messageOf(req: RecordedRequest): string {
  const body = req.body as { messages: { content: string }[] };
  return JSON.parse(body.messages[1]?.content ?? "{}").message as string;
}

/** The model's answer that a perfect model would give for a case, in the strict LLM shape. */
function oracleAnswer(c: EvalCase) {
  const report = c.report
    ? {
        insurer: c.report.insurer ?? null,
        insurerName: c.report.insurerName ?? null,
        channel: c.report.channel ?? null,
        date: c.report.date ?? null,
        time: c.report.time ?? null,
        code: c.report.code ?? null,
        afterRefusal: c.report.afterRefusal ?? null,
      }
    : null;
  const stop = c.stop
    ? "everyone" in c.stop
      ? { insurers: null, unknown: null, everyone: true }
      : { insurers: c.stop.insurers, unknown: c.stop.unknown ?? null, everyone: null }
    : null;
  const hours = c.expected.hours?.map((h) => ({ from: h.from ?? null, to: h.to ?? null })) ?? null;
  return { intent: c.intent, patch: { ...NULL_PATCH, ...c.expected, hours }, report, stop };
}

async function readAll(fake: FakeOpenAIServer): Promise<Reading[]> {
  const extractor = createExtractor({
    openai: { apiKey: "test", baseURL: fake.baseURL, model: "fake", timeoutMs: 5000 },
    logger,
  });
  const out: Reading[] = [];
  for (const c of cases) {
    const run = await extractor.readDetailed({ text: c.text, lang: c.lang, today: c.today, directory });
    expect(run.extractor).toBe("llm");
    out.push(run.reading);
  }
  return out;
}

describe("the LLM path on the intent set, through a loopback OpenAI server", () => {
  let fake: FakeOpenAIServer;
  const rules = evaluate(
    cases,
    cases.map((c) => readWithRules({ text: c.text, lang: c.lang, today: c.today, directory })),
  );
  beforeAll(async () => {
    fake = await startFakeOpenAIServer();
  });
  afterAll(() => fake.close());

  it("with a model that reads every message right, is at least as good as the rules and never unsafe", async () => {
    let i = 0;
    fake.setDefault(() => reply.json(oracleAnswer(cases[i++]!)));
    const merged = evaluate(cases, await readAll(fake));
    expect(i).toBe(cases.length);
    expect(merged.unsafe).toBe(0);
    expect(merged.intentAccuracy).toBeGreaterThanOrEqual(rules.intentAccuracy);
    expect(merged.exact).toBeGreaterThanOrEqual(rules.exact);
  });

  it("with a model that reads every message as a choice of every insurer by call, adds no unsafe reading the rules did not make", async () => {
    fake.setDefault(() =>
      reply.json(preferencesAnswer({ insurers: directory.map((e) => e.id), channels: ["call"] })),
    );
    const readings = await readAll(fake);
    const merged = evaluate(cases, readings);
    // Where the rules read a report, a renewal, a stop or a question, that reading stands.
    cases.forEach((c, i) => {
      const byRules = readWithRules({ text: c.text, lang: c.lang, today: c.today, directory });
      if (!["preferences", "other"].includes(byRules.intent)) {
        expect(readings[i], messageOf(fake.requests[i]!)).toMatchObject({
          intent: byRules.intent,
          patch: {},
        });
      }
    });
    const otherByRules = cases.filter(
      (c) =>
        c.intent !== "preferences" &&
        readWithRules({ text: c.text, lang: c.lang, today: c.today, directory }).intent === "other",
    ).length;
    // Only what the rules call "other" (thanks, greetings) is left to the model's word.
    expect(merged.unsafe).toBeLessThanOrEqual(rules.unsafe + otherByRules);
  });
});
