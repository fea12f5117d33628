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

/** A pino logger writing JSON lines to stderr (stdout is reserved for CLI output). */
export function createLogger(
  level: string,
  destination: pino.DestinationStream = pino.destination(2),
): Logger {
  return pino(
    { level, redact: { paths: REDACT, censor: "[redacted]" }, base: { service: "onewindow" } },
    destination,
  );
}

export type { Logger };
