import type OpenAI from "openai";
import type { Logger } from "../logger.js";
import type { ExtractInput, Extractor } from "./extractor.js";
import { mergeReadings } from "./merge.js";
import { createOpenAIExtractor, LlmFailure, type LlmFailureReason } from "./openai-extractor.js";
import type { Reading } from "./reading.js";
import { extractWithRules, readWithRules } from "./rules/index.js";

/** One reading with what `onewindow parse` and the bot report about it. */
export interface ExtractRun {
  reading: Reading;
  /** Which extractor's reading this is: "llm" only when the LLM answered and was merged in. */
  extractor: "rules" | "llm";
  /** Wall time of the whole reading, milliseconds (two decimals). */
  ms: number;
  /** Why the LLM's reading is missing, when an LLM is configured and failed. */
  fallbackReason?: LlmFailureReason;
}

export interface DetailedExtractor extends Extractor {
  /** Reads one message and says which extractor answered, how long it took, and why not the LLM. */
  readDetailed(input: ExtractInput): Promise<ExtractRun>;
  /** The most recently finished run (shared by concurrent callers: prefer `extractDetailed`). */
  lastRun?: ExtractRun;
}

export interface CreateExtractorOptions {
  /** config.openai: set when OPENAI_API_KEY or OPENAI_BASE_URL is. */
  openai?: { apiKey?: string; baseURL?: string; model: string; timeoutMs: number } | undefined;
  logger: Pick<Logger, "warn" | "debug">;
  /** A ready OpenAI client (tests); used only with `openai` set. */
  client?: OpenAI;
}

const elapsed = (started: number) => Math.round((performance.now() - started) * 100) / 100;

/**
 * The extractor the app uses (DESIGN §8). Without `openai`: the rules, named "rules". With it:
 * named "llm" — the rules and the LLM both read the message, {@link mergeReadings} combines them
 * (the reading that changes no consent wins a disagreement on intent), and on any
 * {@link LlmFailure} the rules' reading is returned (`extractor: "rules"`, with the
 * `fallbackReason`). Never rejects for an LLM failure; the reason is logged without the text.
 */
export function createExtractor(options: CreateExtractorOptions): DetailedExtractor {
  const { openai } = options;
  if (!openai) {
    const self: DetailedExtractor = {
      name: "rules",
      async readDetailed(input) {
        const started = performance.now();
        const reading = readWithRules(input);
        const run: ExtractRun = { reading, extractor: "rules", ms: elapsed(started) };
        self.lastRun = run;
        return run;
      },
      read: async (input) => (await self.readDetailed(input)).reading,
    };
    return self;
  }

  const llm = createOpenAIExtractor({
    ...(openai.apiKey !== undefined ? { apiKey: openai.apiKey } : {}),
    ...(openai.baseURL !== undefined ? { baseURL: openai.baseURL } : {}),
    model: openai.model,
    timeoutMs: openai.timeoutMs,
    logger: options.logger,
    ...(options.client ? { client: options.client } : {}),
  });
  const self: DetailedExtractor = {
    name: "llm",
    async readDetailed(input) {
      const started = performance.now();
      const rules = readWithRules(input);
      let run: ExtractRun;
      try {
        const fromLlm = await llm.read(input);
        run = {
          reading: mergeReadings(rules, extractWithRules(input), fromLlm, input.directory),
          extractor: "llm",
          ms: elapsed(started),
        };
      } catch (err) {
        // createOpenAIExtractor already logged the reason; anything else is a bug worth a log too.
        const reason: LlmFailureReason = err instanceof LlmFailure ? err.reason : "other";
        if (!(err instanceof LlmFailure))
          options.logger.warn({ extractor: "llm", reason }, "llm merge failed");
        run = { reading: rules, extractor: "rules", ms: elapsed(started), fallbackReason: reason };
      }
      self.lastRun = run;
      return run;
    },
    read: async (input) => (await self.readDetailed(input)).reading,
  };
  return self;
}
