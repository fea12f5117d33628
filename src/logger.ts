import { inspect } from "node:util";
import pino, { type Logger } from "pino";

/**
 * Paths that may hold personal data. Handlers should never log them in the first place; this is
 * the net under that rule (DESIGN §9: no phone number, name or message text in logs).
 */
const REDACT = [
  "phone",
  "*.phone",
  "phone_number",
  "*.phone_number",
  "*.*.phone_number",
  "text",
  "*.text",
  "*.*.text",
  "name",
  "*.name",
  "first_name",
  "*.first_name",
  "*.*.first_name",
  "last_name",
  "*.last_name",
  "*.*.last_name",
  "vehicle",
  "*.vehicle",
  "contact",
  "*.contact",
  "*.*.contact",
];

/**
 * Secrets by their shape, wherever they appear in a line — a library's error message quoting
 * the Bot API URL (`…/bot123456:AA…/getUpdates`), a stack, a config dump: a Telegram bot token,
 * an insurer API key, a webhook secret.
 */
const SECRET_SHAPES: readonly [RegExp, string][] = [
  [/(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}/g, "[bot-token]"],
  [/\bowk_[A-Za-z0-9_-]{20,}/g, "[api-key]"],
  [/\bwhsec_[A-Za-z0-9+/=]{20,}/g, "[webhook-secret]"],
];

/** `text` with every secret-shaped part replaced. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const [shape, label] of SECRET_SHAPES) out = out.replace(shape, label);
  return out;
}

/** Scrubs strings anywhere in a log argument (an object's fields, an error's message and stack). */
function scrubDeep(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return scrubSecrets(value);
  if (depth > 4 || value === null || typeof value !== "object") return value;
  if (value instanceof Error)
    return { name: value.name, message: scrubSecrets(value.message), stack: scrubSecrets(value.stack ?? "") };
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubDeep(v, depth + 1)]));
}

/** A pino logger writing JSON lines to stderr (stdout is reserved for CLI output). */
export function createLogger(
  level: string,
  destination: pino.DestinationStream = pino.destination(2),
): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT, censor: "[redacted]" },
      base: { service: "onewindow" },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => scrubDeep(a)) as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}

/**
 * Sends what libraries print with console.error / console.warn (grammY's runner prints fetch
 * errors there, quoting the Bot API URL with the token) through `logger`: every stderr line of
 * `serve` is then JSON, and scrubbed. Returns the function that puts the console back.
 */
export function captureConsole(logger: Logger): () => void {
  const { error, warn } = console;
  const text = (args: unknown[]) =>
    args
      .map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : typeof a === "string" ? a : inspect(a)))
      .join(" ");
  console.error = (...args: unknown[]) => logger.error({ console: text(args) }, "console.error");
  console.warn = (...args: unknown[]) => logger.warn({ console: text(args) }, "console.warn");
  return () => {
    console.error = error;
    console.warn = warn;
  };
}

export type { Logger };
