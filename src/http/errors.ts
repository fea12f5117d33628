/**
 * The one error shape of the API (DESIGN §5): `{"error":{"code","message","details"?}}`, and
 * the translation of zod validation failures into it — which field, and why.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError } from "zod";

export interface ErrorDetail {
  /** Dotted path inside the part named by `in` ("numbers.3", "limit"); "" for the whole part. */
  path: string;
  in: "body" | "query" | "path" | "header";
  message: string;
  /** For array items: the index that failed (e.g. a bad number in a scrub request). */
  index?: number;
}

export interface ApiErrorBody {
  error: { code: string; message: string; details?: ErrorDetail[] };
}

export function errorBody(code: string, message: string, details?: ErrorDetail[]): ApiErrorBody {
  return { error: { code, message, ...(details && details.length > 0 ? { details } : {}) } };
}

/** Answers an API error in the standard shape. */
export function apiError<S extends ContentfulStatusCode>(
  c: Context,
  status: S,
  code: string,
  message: string,
  details?: ErrorDetail[],
  headers?: Record<string, string>,
) {
  return c.json(errorBody(code, message, details), status, headers);
}

const TARGETS: Record<string, ErrorDetail["in"]> = {
  json: "body",
  form: "body",
  query: "query",
  param: "path",
  header: "header",
  cookie: "header",
};

/** Caps the details list so a 10,000-item failure stays a reasonable answer. */
const MAX_DETAILS = 10_000;

/** One detail per failing field; unknown keys become one detail each ("unknown field"). */
export function zodDetails(error: ZodError, target: string): ErrorDetail[] {
  const where = TARGETS[target] ?? "body";
  const out: ErrorDetail[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map(String);
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        out.push({ path: [...path, key].join("."), in: where, message: "unknown field" });
      }
    } else {
      const last = issue.path[issue.path.length - 1];
      out.push({
        path: path.join("."),
        in: where,
        message: issue.message,
        ...(typeof last === "number" ? { index: last } : {}),
      });
    }
    if (out.length >= MAX_DETAILS) break;
  }
  return out;
}

/** A short sentence naming the failing fields, for `message`. */
export function describeDetails(details: readonly ErrorDetail[]): string {
  const fields = [
    ...new Set(details.map((d) => `${d.in === "body" ? "" : `${d.in} `}${d.path || "(whole)"}`)),
  ];
  const shown = fields.slice(0, 5).join(", ");
  return `invalid request: ${shown}${fields.length > 5 ? ` and ${fields.length - 5} more` : ""}`;
}
