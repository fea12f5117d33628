/**
 * A loopback fake of an OpenAI-compatible chat-completions server for tests.
 *
 * Point the `openai` SDK (or the app, through OPENAI_BASE_URL) at `fake.baseURL` ("…/v1"). It
 * answers POST /v1/chat/completions and POST /chat/completions, records every request (path,
 * headers, raw body and parsed JSON), and replies from a script: each request takes the next
 * queued reply, or the default one once the queue is empty. Replies cover what a real server
 * does: a structured-output success, a refusal, 429 with retry-after, 5xx, a hang (the
 * response never comes), content that is not JSON, and JSON that breaks the schema.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type FakeReply =
  /** 200, finish_reason "stop", choices[0].message.content = `content` as given. */
  | { kind: "content"; content: string }
  /** 200 with message.refusal set and content null (what a structured-output refusal looks like). */
  | { kind: "refusal"; refusal: string }
  /** An HTTP error with an OpenAI-style error body, e.g. 429 with retry-after, 500, 400. */
  | { kind: "error"; status: number; headers?: Record<string, string>; message?: string }
  /** Never answers; the connection stays open until the client gives up or the fake closes. */
  | { kind: "hang" }
  /** Answers whatever status, headers and raw body are given. */
  | { kind: "raw"; status: number; headers?: Record<string, string>; body: string };

/** Reply builders. */
export const reply = {
  /** A structured-output success: `value` is serialised as the message content. */
  json: (value: unknown): FakeReply => ({ kind: "content", content: JSON.stringify(value) }),
  /** A success whose content is exactly `content` (use for malformed output). */
  content: (content: string): FakeReply => ({ kind: "content", content }),
  /** Content that is not JSON at all. */
  malformed: (): FakeReply => ({ kind: "content", content: '{"renewalDate": "2027-07-31", "insurers": [' }),
  refusal: (refusal = "I'm sorry, I can't help with that."): FakeReply => ({ kind: "refusal", refusal }),
  rateLimited: (retryAfterSeconds = 0): FakeReply => ({
    kind: "error",
    status: 429,
    headers: { "retry-after": String(retryAfterSeconds) },
    message: "Rate limit reached for requests",
  }),
  serverError: (status = 500): FakeReply => ({ kind: "error", status, message: "The server had an error" }),
  hang: (): FakeReply => ({ kind: "hang" }),
} as const;

/** A patch in the LLM schema's shape with every key null: spread it and set what you need. */
export const NULL_PATCH = {
  renewalDate: null,
  insurers: null,
  nobody: null,
  channels: null,
  withoutChannels: null,
  days: null,
  hours: null,
  daysBefore: null,
  maxAttempts: null,
} as const;

/** A whole answer that settles nothing: a preferences reading with every key null. */
export const NULL_READING = { intent: "preferences", patch: NULL_PATCH, report: null, stop: null } as const;

/** The model's answer for a statement of preferences: the patch keys given, the rest null. */
export function preferencesAnswer(patch: Record<string, unknown>) {
  return { ...NULL_READING, patch: { ...NULL_PATCH, ...patch } };
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  /** The request body as sent. */
  raw: string;
  /** The parsed JSON body (undefined when it was not JSON). */
  body: unknown;
  at: number;
}

export interface FakeOpenAIServer {
  /** "http://127.0.0.1:<port>/v1": the SDK's baseURL. */
  baseURL: string;
  /** "http://127.0.0.1:<port>". */
  url: string;
  requests: RecordedRequest[];
  /** Queues replies for the next requests, in order. */
  enqueue(...replies: FakeReply[]): void;
  /** The reply once the queue is empty (initially an all-null patch), or a function of the request. */
  setDefault(reply: FakeReply | ((req: RecordedRequest) => FakeReply)): void;
  /** Forgets recorded requests and queued replies. */
  reset(): void;
  close(): Promise<void>;
}

const COMPLETION_PATHS = new Set(["/v1/chat/completions", "/chat/completions"]);

export async function startFakeOpenAIServer(): Promise<FakeOpenAIServer> {
  const requests: RecordedRequest[] = [];
  let queue: FakeReply[] = [];
  let fallback: FakeReply | ((req: RecordedRequest) => FakeReply) = reply.json(NULL_READING);
  let served = 0;

  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(body);
  };

  const completion = (model: string, message: Record<string, unknown>) =>
    JSON.stringify({
      id: `chatcmpl-fake-${++served}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [
        { index: 0, message: { role: "assistant", ...message }, logprobs: null, finish_reason: "stop" },
      ],
      usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 },
      system_fingerprint: "fp_fake",
    });

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      let body: unknown;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        body = undefined;
      }
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      const recorded: RecordedRequest = {
        method: req.method ?? "",
        path,
        headers: req.headers,
        raw,
        body,
        at: Date.now(),
      };
      requests.push(recorded);

      if (req.method !== "POST" || !COMPLETION_PATHS.has(path)) {
        send(
          res,
          404,
          JSON.stringify({
            error: {
              message: `Unknown route ${req.method} ${path}`,
              type: "invalid_request_error",
              param: null,
              code: null,
            },
          }),
        );
        return;
      }
      if (body === undefined || typeof body !== "object" || body === null) {
        send(
          res,
          400,
          JSON.stringify({
            error: {
              message: "We could not parse the JSON body of your request.",
              type: "invalid_request_error",
              param: null,
              code: null,
            },
          }),
        );
        return;
      }
      const model = String((body as { model?: unknown }).model ?? "fake-model");
      const next = queue.shift() ?? (typeof fallback === "function" ? fallback(recorded) : fallback);
      switch (next.kind) {
        case "content":
          send(res, 200, completion(model, { content: next.content, refusal: null }));
          return;
        case "refusal":
          send(res, 200, completion(model, { content: null, refusal: next.refusal }));
          return;
        case "error":
          send(
            res,
            next.status,
            JSON.stringify({
              error: {
                message: next.message ?? `HTTP ${next.status}`,
                type: next.status === 429 ? "requests" : "server_error",
                param: null,
                code: next.status === 429 ? "rate_limit_exceeded" : null,
              },
            }),
            next.headers,
          );
          return;
        case "hang":
          return; // closeAllConnections() ends it
        case "raw":
          send(res, next.status, next.body, next.headers);
          return;
      }
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    baseURL: `${url}/v1`,
    requests,
    enqueue: (...replies) => {
      queue.push(...replies);
    },
    setDefault: (r) => {
      fallback = r;
    },
    reset: () => {
      requests.length = 0;
      queue = [];
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
