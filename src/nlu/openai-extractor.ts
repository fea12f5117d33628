import { readFileSync } from "node:fs";
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from "openai";
import { ContentFilterFinishReasonError, LengthFinishReasonError } from "openai/error";
import { zodResponseFormat } from "openai/helpers/zod";
import { z } from "zod";
import { Channel, PreferencePatch, Weekday } from "../domain/preferences.js";
import type { Logger } from "../logger.js";
import type { DirectoryEntry, ExtractInput, Extractor } from "./extractor.js";
import { INTENTS, Reading, ReportChannel, type ReportReading, type StopReading } from "./reading.js";
import { redact } from "./redact.js";

/**
 * What the model must answer (DESIGN §8): the {@link PreferencePatch} fields, every key present
 * and `null` when the message does not settle it, as OpenAI's strict structured outputs require.
 * Formats (dates, clock times, directory ids) are checked afterwards by {@link PreferencePatch}
 * and against the directory, so a model server without full JSON-schema support still works.
 */
export const LlmPatchSchema = z
  .object({
    renewalDate: z.string().describe('Policy expiry date, "YYYY-MM-DD"').nullable(),
    insurers: z.array(z.string()).describe("Directory ids of the insurers allowed to contact").nullable(),
    nobody: z.boolean().describe("true when no insurer may contact the owner at all").nullable(),
    channels: z.array(Channel).describe("Channels named as allowed").nullable(),
    withoutChannels: z.array(Channel).describe("Channels a negation refuses; adds none").nullable(),
    days: z.array(Weekday).nullable(),
    hours: z
      .array(
        z
          .object({
            from: z.string().describe('"HH:MM", 24-hour').nullable(),
            to: z.string().describe('"HH:MM", 24-hour').nullable(),
          })
          .strict(),
      )
      .nullable(),
    daysBefore: z.number().int().describe("Days before expiry that contact may start").nullable(),
    maxAttempts: z.number().int().describe("Most contact attempts per insurer").nullable(),
  })
  .strict();
export type LlmPatch = z.infer<typeof LlmPatchSchema>;

/** The report object of the answer, every key present (strict structured outputs). */
const LlmReportSchema = z
  .object({
    insurer: z.string().describe("Directory id of the company the caller was or claimed to be").nullable(),
    insurerName: z.string().describe("A caller's company name that is not in the directory").nullable(),
    channel: ReportChannel.nullable(),
    date: z.string().describe('The day it happened, "YYYY-MM-DD", not after today').nullable(),
    time: z.string().describe('"HH:MM", 24-hour').nullable(),
    code: z.string().describe("The digits the caller quoted as their code").nullable(),
    afterRefusal: z.boolean().describe("The owner had refused or stopped them before").nullable(),
  })
  .strict();

/** The stop object of the answer. */
const LlmStopSchema = z
  .object({
    insurers: z.array(z.string()).describe("Directory ids asked to stop").nullable(),
    unknown: z.array(z.string()).describe("Names not in the directory").nullable(),
    everyone: z.boolean().describe("Every insurer is asked to stop").nullable(),
  })
  .strict();

/**
 * The whole answer (DESIGN §8): the intent first, then the patch (every key null unless the
 * intent is `preferences`), then the report or the stop. Checked afterwards by {@link Reading}.
 */
export const LlmReadingSchema = z
  .object({
    intent: z.enum(INTENTS),
    patch: LlmPatchSchema,
    report: LlmReportSchema.nullable(),
    stop: LlmStopSchema.nullable(),
  })
  .strict();
export type LlmReading = z.infer<typeof LlmReadingSchema>;

/** Why an LLM reading failed; logged and reported as `fallbackReason`. */
export type LlmFailureReason =
  | "network"
  | "timeout"
  | "rate_limited"
  | "server_error"
  | "refusal"
  | "invalid_output"
  | "other";

/** Any failure of the LLM extractor. Its message never holds the owner's text. */
export class LlmFailure extends Error {
  override readonly name = "LlmFailure";
  constructor(
    readonly reason: LlmFailureReason,
    message: string = reason,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Where the system prompt lives; its first line carries the version. */
export const PROMPT_URL = new URL("../../prompts/read-message.md", import.meta.url);

let promptCache: { text: string; version: string } | undefined;

/** The system prompt and its version line ("prompt-version: …"), read once from `prompts/`. */
export function loadPrompt(): { text: string; version: string } {
  if (!promptCache) {
    const text = readFileSync(PROMPT_URL, "utf8");
    const first = text.split("\n", 1)[0] ?? "";
    const version = /^prompt-version:\s*(\S+)/.exec(first)?.[1] ?? "unknown";
    promptCache = { text, version };
  }
  return promptCache;
}

export interface OpenAIExtractorOptions {
  apiKey?: string;
  /** Any OpenAI-compatible server ("http://127.0.0.1:8080/v1"); default api.openai.com. */
  baseURL?: string;
  model: string;
  /** Bounds the whole reading, the one retry included. */
  timeoutMs: number;
  logger: Pick<Logger, "warn" | "debug">;
  /** A ready client (tests); otherwise one is made from apiKey/baseURL. */
  client?: OpenAI;
}

const WEEKDAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

function weekdayOf(date: string): string {
  const [y, m, d] = date.split("-").map(Number);
  const day = new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1)).getUTCDay();
  return WEEKDAY_NAMES[day] ?? "";
}

/** The user message: redacted text, today, the language hint and the directory, as JSON. */
export function buildUserMessage(input: ExtractInput): { content: string; redactions: number } {
  const keep = input.directory.flatMap((e) => [e.name, ...e.aliases]);
  const { text, replacements } = redact(input.text, { keep });
  const content = JSON.stringify({
    today: input.today,
    weekday: weekdayOf(input.today),
    lang: input.lang ?? null,
    directory: input.directory.map((e) => ({ id: e.id, name: e.name, aliases: e.aliases })),
    message: text,
  });
  return { content, redactions: replacements.length };
}

/**
 * The model's answer → a {@link PreferencePatch}: nulls and empty lists dropped, open hour ends
 * dropped, insurer ids outside the directory dropped, `nobody: false` dropped. Anything the
 * patch schema refuses (a malformed date or hour, a count below 1) is an `invalid_output`.
 */
export function toPreferencePatch(llm: LlmPatch, directory: readonly DirectoryEntry[]): PreferencePatch {
  const ids = new Set(directory.map((e) => e.id));
  const patch: Record<string, unknown> = {};
  if (llm.renewalDate !== null) patch.renewalDate = llm.renewalDate;
  const insurers = [...new Set((llm.insurers ?? []).filter((id) => ids.has(id)))];
  if (insurers.length > 0) patch.insurers = insurers;
  else if (llm.nobody === true) patch.nobody = true;
  if (llm.channels && llm.channels.length > 0) patch.channels = [...new Set(llm.channels)];
  if (llm.withoutChannels && llm.withoutChannels.length > 0)
    patch.withoutChannels = [...new Set(llm.withoutChannels)];
  if (llm.days && llm.days.length > 0) patch.days = [...new Set(llm.days)];
  const hours = (llm.hours ?? [])
    .map((h) => ({ ...(h.from !== null ? { from: h.from } : {}), ...(h.to !== null ? { to: h.to } : {}) }))
    .filter((h) => h.from !== undefined || h.to !== undefined);
  if (hours.length > 0) patch.hours = hours;
  if (llm.daysBefore !== null) patch.daysBefore = llm.daysBefore;
  if (llm.maxAttempts !== null) patch.maxAttempts = llm.maxAttempts;
  const checked = PreferencePatch.safeParse(patch);
  if (!checked.success) {
    const fields = [...new Set(checked.error.issues.map((i) => String(i.path[0] ?? "")))].join(",");
    throw new LlmFailure("invalid_output", `output fails the patch schema (${fields})`);
  }
  return checked.data;
}

/**
 * The model's whole answer → a {@link Reading}: the patch only for `preferences` (a report's
 * stray fields are dropped, never applied), the report and the stop only with their intents,
 * ids outside the directory moved to `insurerName` / `unknown`, codes stripped to digits.
 */
export function toReading(
  llm: LlmReading,
  directory: readonly DirectoryEntry[],
  today = "9999-12-31",
): Reading {
  const ids = new Set(directory.map((e) => e.id));
  const reading: Reading = { intent: llm.intent, patch: {} };
  if (llm.intent === "preferences") reading.patch = toPreferencePatch(llm.patch, directory);
  if (llm.intent === "report") {
    const r = llm.report;
    const report: ReportReading = {};
    if (r?.insurer && ids.has(r.insurer)) report.insurer = r.insurer;
    else if (r?.insurerName || r?.insurer)
      report.insurerName = (r.insurerName ?? r.insurer ?? "").slice(0, 80);
    if (r?.channel) report.channel = r.channel;
    // A reported contact has happened: a date after today is the model's mistake, dropped.
    if (r?.date && r.date <= today) report.date = r.date;
    if (r?.time) report.time = r.time;
    const code = r?.code?.replace(/[\s-]/g, "");
    if (code) report.code = code;
    if (r?.afterRefusal === true) report.afterRefusal = true;
    reading.report = report;
  }
  if (llm.intent === "stop") {
    const st = llm.stop;
    let stop: StopReading;
    if (st?.everyone === true && !st.insurers?.length && !st.unknown?.length) stop = { everyone: true };
    else {
      const named = st?.insurers ?? [];
      const insurers = [...new Set(named.filter((id) => ids.has(id)))];
      const unknown = [...new Set([...(st?.unknown ?? []), ...named.filter((id) => !ids.has(id))])].map((u) =>
        u.slice(0, 80),
      );
      stop = unknown.length > 0 ? { insurers, unknown } : { insurers };
    }
    reading.stop = stop;
  }
  const checked = Reading.safeParse(reading);
  if (!checked.success) {
    const fields = [...new Set(checked.error.issues.map((i) => i.path.join(".")))].join(",");
    throw new LlmFailure("invalid_output", `output fails the reading schema (${fields})`);
  }
  return checked.data;
}

/** Maps whatever the SDK (or parsing) threw to a reason code; never keeps the error's text. */
export function classifyError(err: unknown): LlmFailure {
  if (err instanceof LlmFailure) return err;
  if (err instanceof APIConnectionTimeoutError) return new LlmFailure("timeout", "request timed out");
  if (err instanceof APIUserAbortError) return new LlmFailure("timeout", "deadline reached");
  if (err instanceof APIConnectionError) return new LlmFailure("network", "connection failed");
  if (err instanceof APIError) {
    const status = err.status;
    if (status === 429) return new LlmFailure("rate_limited", "HTTP 429");
    if (status !== undefined && status >= 500) return new LlmFailure("server_error", `HTTP ${status}`);
    return new LlmFailure("other", `HTTP ${status ?? "?"}`);
  }
  if (err instanceof ContentFilterFinishReasonError) return new LlmFailure("refusal", "content filter");
  if (err instanceof LengthFinishReasonError) return new LlmFailure("invalid_output", "output truncated");
  if (err instanceof SyntaxError) return new LlmFailure("invalid_output", "output is not JSON");
  if (err instanceof z.ZodError) return new LlmFailure("invalid_output", "output fails the LLM schema");
  return new LlmFailure("other", err instanceof Error ? err.name : "unknown error");
}

/**
 * The OpenAI structured-output extractor (DESIGN §8). Sends only redacted text; the SDK makes
 * one retry (429, 5xx, timeouts, connection errors) and each attempt times out after
 * `timeoutMs`, while a deadline of `timeoutMs` bounds the whole reading, so a long
 * `retry-after` or a hang cannot hold the owner up. `read` resolves to the LLM's reading
 * alone and rejects with an {@link LlmFailure} on any failure, after logging the reason (never
 * the text). Combine it with the rules through `createExtractor`.
 */
export function createOpenAIExtractor(options: OpenAIExtractorOptions): Extractor {
  const timeoutMs = Math.max(1, Math.round(options.timeoutMs));
  const client =
    options.client ??
    new OpenAI({
      // A local model server takes any key; the SDK insists on one.
      apiKey: options.apiKey ?? "unused",
      baseURL: options.baseURL ?? "https://api.openai.com/v1",
      maxRetries: 1,
      timeout: timeoutMs,
      // The SDK's own debug log would print request bodies; ours carries reasons only.
      logLevel: "off",
    });
  const prompt = loadPrompt();
  const responseFormat = zodResponseFormat(LlmReadingSchema, "reading");
  const { logger, model } = options;

  async function request(input: ExtractInput, signal: AbortSignal): Promise<Reading> {
    const { content } = buildUserMessage(input);
    const completion = await client.chat.completions.parse(
      {
        model,
        messages: [
          { role: "system", content: prompt.text },
          { role: "user", content },
        ],
        response_format: responseFormat,
      },
      { signal, maxRetries: 1, timeout: timeoutMs },
    );
    const message = completion.choices[0]?.message;
    if (!message) throw new LlmFailure("invalid_output", "no choice in the reply");
    if (message.refusal) throw new LlmFailure("refusal", "the model refused");
    if (!message.parsed) throw new LlmFailure("invalid_output", "no structured output");
    return toReading(message.parsed, input.directory, input.today);
  }

  return {
    name: "llm",
    async read(input) {
      const started = performance.now();
      const controller = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new LlmFailure("timeout", "deadline reached"));
        }, timeoutMs);
      });
      try {
        const reading = await Promise.race([request(input, controller.signal), deadline]);
        logger.debug(
          {
            extractor: "llm",
            model,
            promptVersion: prompt.version,
            ms: Math.round(performance.now() - started),
          },
          "llm reading done",
        );
        return reading;
      } catch (err) {
        const failure = classifyError(err);
        logger.warn(
          {
            extractor: "llm",
            model,
            promptVersion: prompt.version,
            reason: failure.reason,
            detail: failure.message,
            ms: Math.round(performance.now() - started),
          },
          "llm reading failed",
        );
        throw failure;
      } finally {
        clearTimeout(timer);
        controller.abort();
      }
    },
  };
}
