import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Weekday } from "../../src/domain/preferences.js";
import { createLogger } from "../../src/logger.js";
import { createExtractor } from "../../src/nlu/create-extractor.js";
import type { ExtractInput } from "../../src/nlu/extractor.js";
import {
  createOpenAIExtractor,
  LlmFailure,
  type LlmFailureReason,
  loadPrompt,
} from "../../src/nlu/openai-extractor.js";
import { extractWithRules } from "../../src/nlu/rules/index.js";
import {
  type FakeOpenAIServer,
  type FakeReply,
  NULL_PATCH,
  NULL_READING,
  preferencesAnswer,
  reply,
  startFakeOpenAIServer,
} from "../fakes/openai-server.js";
import { directory } from "./fixtures/directory.js";

const today = "2026-12-01"; // a Tuesday
const WORKDAYS: Weekday[] = ["mon", "tue", "wed", "thu", "fri"];

let fake: FakeOpenAIServer;
let logLines: string[];
const logger = createLogger("debug", { write: (line: string) => void logLines.push(line) });

beforeAll(async () => {
  fake = await startFakeOpenAIServer();
  // The rules' first readings pay for JIT and chrono's set-up; keep that out of the timings.
  for (const text of [
    "hello",
    "别给我打电话",
    "only Ping An, text me on weekday evenings, expires 2027-03-15",
  ]) {
    for (let i = 0; i < 3; i++) extractWithRules(input(text));
  }
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  fake.setDefault(reply.json(NULL_READING));
  logLines = [];
});

const input = (text: string, lang?: "en" | "zh"): ExtractInput => ({
  text,
  today,
  directory,
  ...(lang ? { lang } : {}),
});

const llmExtractor = (timeoutMs = 2000, baseURL = fake.baseURL) =>
  createExtractor({ openai: { apiKey: "test", baseURL, model: "gpt-test", timeoutMs }, logger });

interface SentBody {
  model: string;
  messages: { role: string; content: string }[];
  response_format: { type: string; json_schema: { name: string; strict: boolean; schema: unknown } };
}
const sent = (i: number) => fake.requests[i]?.body as SentBody;
const userMessage = (i: number) => JSON.parse(sent(i).messages[1]?.content ?? "{}");

describe("createExtractor with an OpenAI-compatible server", () => {
  it("merges the LLM's reading into the rules' and reports extractor llm", async () => {
    const text = "保险7月底到期，只要平安，工作日晚上发短信就行，最多两次吧";
    const rules = extractWithRules(input(text, "zh"));
    fake.enqueue(
      reply.json(
        preferencesAnswer({
          renewalDate: "2027-07-30", // a guess: the rules' explicit date wins
          insurers: ["pingan", "not-in-directory"],
          channels: ["sms"],
          days: WORKDAYS,
          hours: [{ from: "18:00", to: null }],
          maxAttempts: 2,
        }),
      ),
    );
    const run = await llmExtractor().readDetailed(input(text, "zh"));
    expect(run.extractor).toBe("llm");
    expect(run.fallbackReason).toBeUndefined();
    expect(run.ms).toBeGreaterThan(0);
    expect(run.reading.intent).toBe("preferences");
    expect(run.reading.patch).toEqual({
      renewalDate: rules.renewalDate,
      insurers: ["pingan"],
      channels: ["sms"],
      days: WORKDAYS,
      hours: [{ from: "18:00" }],
      maxAttempts: 2,
    });
    expect(rules.renewalDate).toBe("2027-07-31");

    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.path).toBe("/v1/chat/completions");
    expect(fake.requests[0]?.headers.authorization).toBe("Bearer test");
    const body = sent(0);
    expect(body.model).toBe("gpt-test");
    expect(body.response_format.type).toBe("json_schema");
    expect(body.response_format.json_schema.name).toBe("reading");
    expect(body.response_format.json_schema.strict).toBe(true);
    expect(body.messages[0]).toEqual({ role: "system", content: loadPrompt().text });
    expect(userMessage(0)).toEqual({
      today,
      weekday: "Tuesday",
      lang: "zh",
      directory: directory.map((e) => ({ id: e.id, name: e.name, aliases: e.aliases })),
      message: text,
    });
  });

  it("sends a strict schema, the intent first, with every key required and nullable", async () => {
    await llmExtractor().readDetailed(input("hello"));
    interface ObjectSchema {
      required: string[];
      additionalProperties: boolean;
      properties: Record<string, ObjectSchema & { anyOf?: ObjectSchema[] }>;
    }
    const schema = sent(0).response_format.json_schema.schema as ObjectSchema;
    expect(schema.required).toEqual(["intent", "patch", "report", "stop"]);
    expect(schema.additionalProperties).toBe(false);
    const patch = schema.properties.patch!;
    expect([...patch.required].sort()).toEqual(
      [
        "channels",
        "days",
        "daysBefore",
        "hours",
        "insurers",
        "maxAttempts",
        "nobody",
        "renewalDate",
        "withoutChannels",
      ].sort(),
    );
    const report = schema.properties.report!.anyOf?.find((s) => s.properties) ?? schema.properties.report!;
    expect([...report.required].sort()).toEqual(
      ["afterRefusal", "channel", "code", "date", "insurer", "insurerName", "time"].sort(),
    );
  });

  it("answers an empty patch when the LLM settles nothing and the rules found nothing", async () => {
    const run = await llmExtractor().readDetailed(input("hello there"));
    expect(run).toMatchObject({ reading: { patch: {} }, extractor: "llm" });
  });

  it("keeps the rules' intent when the LLM reads a report as preferences: the reading that changes nothing wins", async () => {
    const text = "PICC called me yesterday even though I stopped them. How do I report this?";
    fake.enqueue(reply.json(preferencesAnswer({ insurers: ["picc"], channels: ["call"] })));
    const run = await llmExtractor().readDetailed(input(text));
    expect(run.extractor).toBe("llm");
    expect(run.reading).toMatchObject({
      intent: "report",
      patch: {},
      report: { insurer: "picc", afterRefusal: true },
    });
  });

  it("drops every patch field of an LLM reading that is not preferences", async () => {
    fake.enqueue(
      reply.json({
        intent: "report",
        patch: { ...NULL_PATCH, insurers: ["pingan"], channels: ["call"] },
        report: {
          insurer: "pingan",
          insurerName: null,
          channel: "call",
          date: "2026-11-30",
          time: "21:00",
          code: "039 476",
          afterRefusal: null,
        },
        stop: null,
      }),
    );
    const run = await llmExtractor().readDetailed(
      input("someone from ping an rang last night, said 039 476"),
    );
    expect(run.reading).toEqual({
      intent: "report",
      patch: {},
      report: { insurer: "pingan", channel: "call", date: "2026-11-30", time: "21:00", code: "039476" },
    });
  });

  it("moves a stop's names outside the directory to unknown", async () => {
    fake.enqueue(
      reply.json({
        ...NULL_READING,
        intent: "stop",
        stop: { insurers: ["picc", "geico"], unknown: null, everyone: null },
      }),
    );
    const run = await llmExtractor().readDetailed(input("stop PICC and Geico"));
    expect(run.reading).toEqual({
      intent: "stop",
      patch: {},
      stop: { insurers: ["picc"], unknown: ["geico"] },
    });
  });

  it("reads the version line of the prompt", () => {
    expect(loadPrompt().version).toMatch(/^read-message\/\d+$/);
    expect(loadPrompt().text).toContain("[NAME]");
  });

  const TIMEOUT = 1500;
  const MARGIN = 500;
  const failures: [string, FakeReply[], LlmFailureReason, number][] = [
    [
      "429 (retried once)",
      [reply.rateLimited(0), reply.rateLimited(0), reply.json(NULL_READING)],
      "rate_limited",
      2,
    ],
    [
      "500 (retried once)",
      [reply.serverError(500), reply.serverError(500), reply.json(NULL_READING)],
      "server_error",
      2,
    ],
    [
      "503 (retried once)",
      [reply.serverError(503), reply.serverError(503), reply.json(NULL_READING)],
      "server_error",
      2,
    ],
    ["400 (not retried)", [{ kind: "error", status: 400, message: "bad request" }], "other", 1],
    ["a refusal", [reply.refusal()], "refusal", 1],
    ["content that is not JSON", [reply.malformed()], "invalid_output", 1],
    ["an unknown channel", [reply.json(preferencesAnswer({ channels: ["fax"] }))], "invalid_output", 1],
    ["a missing key", [reply.json({ channels: ["sms"] })], "invalid_output", 1],
    [
      "a date that is not a date",
      [reply.json(preferencesAnswer({ renewalDate: "end of July" }))],
      "invalid_output",
      1,
    ],
    [
      "an hour that is not HH:MM",
      [reply.json(preferencesAnswer({ hours: [{ from: "6pm", to: null }] }))],
      "invalid_output",
      1,
    ],
    ["zero attempts", [reply.json(preferencesAnswer({ maxAttempts: 0 }))], "invalid_output", 1],
    [
      "a string where a number belongs",
      [reply.json(preferencesAnswer({ daysBefore: "14" }))],
      "invalid_output",
      1,
    ],
  ];

  it.each(failures)("falls back to the rules on %s", async (_label, replies, reason, requests) => {
    const text = "only Ping An, text me on weekday evenings, expires 2027-03-15";
    fake.enqueue(...replies);
    const started = performance.now();
    const run = await llmExtractor(TIMEOUT).readDetailed(input(text));
    const elapsed = performance.now() - started;
    expect(run).toMatchObject({
      extractor: "rules",
      fallbackReason: reason,
      reading: { intent: "preferences", patch: extractWithRules(input(text)) },
    });
    expect(fake.requests).toHaveLength(requests);
    expect(elapsed).toBeLessThan(TIMEOUT + MARGIN);
    const warned = logLines.map((l) => JSON.parse(l)).filter((l) => l.msg === "llm reading failed");
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ reason, extractor: "llm", model: "gpt-test" });
    expect(logLines.join("")).not.toMatch(/Ping An|weekday|2027-03-15/);
  });

  it("gives up on a hang at the timeout, without waiting for a retry", async () => {
    fake.setDefault(reply.hang());
    const timeoutMs = 300;
    const started = performance.now();
    const run = await llmExtractor(timeoutMs).readDetailed(input("别给我打电话"));
    const elapsed = performance.now() - started;
    expect(run).toMatchObject({ extractor: "rules", fallbackReason: "timeout" });
    expect(run.reading.patch).toEqual({ withoutChannels: ["call"] });
    expect(elapsed).toBeGreaterThanOrEqual(timeoutMs - 20);
    expect(elapsed).toBeLessThan(timeoutMs + MARGIN);
    expect(fake.requests.length).toBeGreaterThanOrEqual(1);
    expect(fake.requests.length).toBeLessThanOrEqual(2);
  });

  it("does not sit out a long retry-after: the timeout bounds the whole reading", async () => {
    fake.setDefault(reply.rateLimited(30));
    const started = performance.now();
    const run = await llmExtractor(400).readDetailed(input("nobody"));
    expect(performance.now() - started).toBeLessThan(400 + MARGIN);
    expect(run).toMatchObject({
      extractor: "rules",
      fallbackReason: "timeout",
      reading: { patch: { nobody: true } },
    });
    expect(fake.requests).toHaveLength(1);
  });

  it("falls back on a network failure (nothing listening), retrying once", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const started = performance.now();
    const run = await llmExtractor(TIMEOUT, `http://127.0.0.1:${port}/v1`).readDetailed(input("only PICC"));
    expect(performance.now() - started).toBeLessThan(TIMEOUT + MARGIN);
    expect(run).toEqual({
      reading: { intent: "preferences", patch: { insurers: ["picc"] } },
      extractor: "rules",
      ms: expect.any(Number),
      fallbackReason: "network",
    });
  });

  it("also serves /chat/completions for servers mounted without /v1", async () => {
    fake.enqueue(reply.json(preferencesAnswer({ nobody: true })));
    const run = await llmExtractor(TIMEOUT, fake.url).readDetailed(input("leave me be"));
    expect(fake.requests[0]?.path).toBe("/chat/completions");
    expect(run).toMatchObject({ extractor: "llm", reading: { patch: { nobody: true } } });
  });

  it("keeps the last run for callers that only call read()", async () => {
    const extractor = llmExtractor();
    expect(extractor.name).toBe("llm");
    fake.enqueue(reply.refusal());
    await expect(extractor.read(input("only Allianz"))).resolves.toEqual({
      intent: "preferences",
      patch: { insurers: ["allianz"] },
    });
    expect(extractor.lastRun).toMatchObject({ extractor: "rules", fallbackReason: "refusal" });
  });
});

describe("createExtractor without OpenAI settings", () => {
  it("is the rules extractor", async () => {
    const extractor = createExtractor({ logger });
    expect(extractor.name).toBe("rules");
    const run = await extractor.readDetailed(input("only Ping An, text me on weekday evenings"));
    expect(run).toEqual({
      reading: {
        intent: "preferences",
        patch: extractWithRules(input("only Ping An, text me on weekday evenings")),
      },
      extractor: "rules",
      ms: expect.any(Number),
    });
    expect(extractor.lastRun).toBe(run);
    expect(fake.requests).toHaveLength(0);
  });
});

describe("createOpenAIExtractor", () => {
  it("resolves to the LLM's reading alone", async () => {
    fake.enqueue(reply.json(preferencesAnswer({ days: ["sat", "sun"], insurers: [], nobody: false })));
    const llm = createOpenAIExtractor({
      apiKey: "test",
      baseURL: fake.baseURL,
      model: "m",
      timeoutMs: 2000,
      logger,
    });
    expect(llm.name).toBe("llm");
    await expect(llm.read(input("weekends only"))).resolves.toEqual({
      intent: "preferences",
      patch: { days: ["sat", "sun"] },
    });
  });

  it("rejects with a typed LlmFailure", async () => {
    fake.enqueue(reply.malformed());
    const llm = createOpenAIExtractor({
      apiKey: "test",
      baseURL: fake.baseURL,
      model: "m",
      timeoutMs: 2000,
      logger,
    });
    const err = await llm.read(input("weekends only")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmFailure);
    expect((err as LlmFailure).reason).toBe("invalid_output");
    expect((err as LlmFailure).message).not.toContain("weekends");
  });
});

describe("what leaves for the LLM", () => {
  const messages: { text: string; secrets: string[] }[] = [
    {
      text: "Hi, my name is Wei Zhang, call me on +86 138 0013 8000 after 6pm. Plate 粤B·12345, mail wei.zhang@example.com",
      secrets: [
        "Wei Zhang",
        "Zhang",
        "+86 138 0013 8000",
        "13800138000",
        "粤B·12345",
        "12345",
        "wei.zhang@example.com",
      ],
    },
    {
      text: "我叫张伟，手机13912345678，车牌京A88888，7月31日到期，只要平安",
      secrets: ["张伟", "13912345678", "京A88888", "88888"],
    },
    {
      text: "This is Anna Smith (anna.smith@mail.co.uk), plate 沪AD12345, tel 021-5555 1234. Only PICC, weekdays.",
      secrets: [
        "Anna",
        "Smith",
        "anna.smith@mail.co.uk",
        "沪AD12345",
        "AD12345",
        "021-5555 1234",
        "02155551234",
      ],
    },
    {
      text: "我是王芳，电话：186-1234-5678，邮箱 wangfang88@qq.com，车牌号：浙A·D1234。提前两周联系，别打电话",
      secrets: ["王芳", "186-1234-5678", "18612345678", "wangfang88@qq.com", "浙A·D1234", "D1234"],
    },
    {
      text: "I'm Tom Lee, 2027-03-15 expiry, reach me at 415.555.0100 or tom@lee.dev. Regards, Tom",
      secrets: ["Tom", "Lee", "415.555.0100", "4155550100", "tom@lee.dev"],
    },
    {
      text: "李先生的车，陈伟先生代办，联系人：刘德华 +8613700001111，周末上午可以",
      secrets: ["李先生", "陈伟", "刘德华", "+8613700001111", "13700001111"],
    },
  ];

  it("carries no phone number, plate number, e-mail address or name", async () => {
    const extractor = llmExtractor();
    for (const { text } of messages) await extractor.readDetailed(input(text));
    expect(fake.requests).toHaveLength(messages.length);

    const prompt = loadPrompt().text;
    messages.forEach(({ text, secrets }, i) => {
      const raw = fake.requests[i]?.raw ?? "";
      // The message itself, as the server sees it: the raw body with the system prompt cut out.
      const withoutPrompt = raw.replace(JSON.stringify(prompt).slice(1, -1), "");
      const digitsOnly = withoutPrompt.replace(/[\s\-.()+·]/g, "");
      for (const secret of secrets) {
        expect(raw, `request ${i} leaks ${secret}`).not.toContain(secret);
        const digits = secret.replace(/\D/g, "");
        if (digits.length >= 5) expect(digitsOnly, `request ${i} leaks ${digits}`).not.toContain(digits);
      }
      // What the message still says survives the redaction.
      const sentText: string = userMessage(i).message;
      expect(sentText).toMatch(/\[(PHONE|NAME)\]/);
      if (text.includes("7月31日")) expect(sentText).toContain("7月31日");
      if (text.includes("2027-03-15")) expect(sentText).toContain("2027-03-15");
      if (text.includes("平安")) expect(sentText).toContain("平安");
      if (text.includes("PICC")) expect(sentText).toContain("PICC");
    });
    // Whole numbers, not fragments: a timing figure in a log line can hold "138" by chance.
    expect(logLines.join("")).not.toMatch(/Zhang|张伟|138\d{8}|13912345678|example\.com/);
  });
});
