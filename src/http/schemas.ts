/**
 * Every schema of the insurer API (DESIGN §5) in zod: the request schemas validate, and the
 * same objects generate `GET /openapi.json`. Bodies and queries are `.strict()`: unknown fields
 * are rejected by name.
 */
import { z } from "@hono/zod-openapi";
import { MAX_NUMBERS } from "../services/scrub-service.js";
import { decodeCursor } from "./cursor.js";

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "validation_failed" }),
      message: z.string(),
      details: z
        .array(
          z.object({
            path: z.string(),
            in: z.enum(["body", "query", "path", "header"]),
            message: z.string(),
            index: z.number().int().optional(),
          }),
        )
        .optional(),
    }),
  })
  .openapi("Error");

const Instant = z.string().openapi({ format: "date-time", example: "2026-07-01T01:00:00.000Z" });
const ChannelSchema = z.enum(["call", "sms", "telegram", "email"]);
const WeekdaySchema = z.enum(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]);

export const WindowSchema = z
  .object({
    id: z.string(),
    insurerId: z.string(),
    status: z
      .enum(["scheduled", "open", "closed", "revoked", "exhausted"])
      .openapi({ description: "scheduled windows are never served; exhausted counts as open in filters" }),
    owner: z
      .object({ phone: z.string(), name: z.string().optional(), language: z.string() })
      .optional()
      .openapi({ description: "Absent once the window is revoked" }),
    vehicle: z.string().optional(),
    renewalDate: z.string().openapi({ example: "2026-07-31" }),
    opensAt: Instant,
    closesAt: Instant,
    timezone: z.string().openapi({ example: "Asia/Shanghai" }),
    days: z.array(WeekdaySchema),
    hours: z.array(z.object({ from: z.string(), to: z.string() })),
    channels: z.array(ChannelSchema),
    maxAttempts: z.number().int(),
    attemptsUsed: z.number().int(),
    verificationCode: z.string().optional().openapi({
      description: "Six digits the agent quotes on the call; absent once the window is revoked",
      example: "182694",
    }),
    verificationCodeDisplay: z.string().optional().openapi({
      description:
        "The same code as the owner's chat shows it, to read aloud; absent once the window is revoked",
      example: "182-694",
    }),
    optOutLink: z.string(),
    receipt: z.object({ id: z.string(), jws: z.string().optional() }),
    acknowledgedAt: Instant.optional(),
    revokedAt: Instant.optional(),
  })
  .openapi("Window");

export const OptOutSchema = z
  .object({
    id: z.string(),
    insurerId: z.string(),
    matchKey: z.string().openapi({ description: "hex HMAC-SHA256 of the number under this insurer's key" }),
    reason: z.enum(["not_chosen", "owner_request", "refused_on_call", "renewed", "deleted"]),
    effectiveAt: Instant,
    honourBy: Instant,
    until: Instant.nullable(),
    basis: z.string(),
    withdrawnAt: Instant.optional(),
    acknowledgedAt: Instant.optional(),
  })
  .openapi("OptOut");

/** `after` is an opaque cursor from a previous page's `next`. */
const Cursor = z
  .string()
  .max(512)
  .refine((s) => decodeCursor(s) !== undefined, "not a cursor from a previous page")
  .openapi({ description: "The `next` of the previous page" });

/** Digits only: `1e2`, `0x10` or ` 5` are refused rather than read as some other number. */
const Limit = z
  .string()
  .regex(/^\d{1,4}$/, "must be a whole number from 1 to 500")
  .default("100")
  .transform(Number)
  .pipe(z.number().int().min(1).max(500))
  .openapi({ type: "integer", minimum: 1, maximum: 500, default: 100, description: "Page size, 1..500" });

export const WindowListQuery = z
  .object({
    status: z.enum(["open", "closed", "revoked"]).optional(),
    after: Cursor.optional(),
    limit: Limit,
  })
  .strict();

export const PageQuery = z.object({ after: Cursor.optional(), limit: Limit }).strict();

export const IdParam = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" }, example: "5f0c…" }),
});

export const WindowPage = z
  .object({ data: z.array(WindowSchema), next: z.string().nullable() })
  .openapi("WindowPage");
export const OptOutPage = z
  .object({ data: z.array(OptOutSchema), next: z.string().nullable() })
  .openapi("OptOutPage");

export const AttemptBody = z
  .object({
    channel: ChannelSchema,
    outcome: z.enum(["answered", "unanswered", "refused"]),
    at: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({ description: "When the attempt happened; defaults to now" }),
  })
  .strict()
  .openapi("AttemptInput");

export const AttemptHeaders = z.object({
  "idempotency-key": z
    .string()
    .min(1)
    .max(200)
    .regex(/^[\x21-\x7e]+$/, "printable ASCII, no spaces")
    .openapi({
      param: {
        in: "header",
        description:
          "Idempotency-Key: a retry with the same key and body returns the first answer; the same key with another window or body answers 409 idempotency_key_reused",
      },
      example: "call-2026-07-01-0001",
    }),
});

export const AttemptCreated = z.object({ remaining: z.number().int() }).openapi("AttemptCreated");

export const NumbersBody = z
  .object({
    numbers: z
      .array(z.string().regex(/^\+[1-9]\d{6,14}$/, "not an E.164 number (+ then 7-15 digits)"))
      .max(MAX_NUMBERS),
  })
  .strict()
  .openapi("Numbers");

export const ScrubResults = z
  .object({
    results: z.array(
      z.object({
        number: z.string(),
        status: z.enum(["consented", "do_not_contact", "none"]),
        until: Instant.optional(),
        windowId: z.string().optional(),
      }),
    ),
  })
  .openapi("ScrubResults");

export const MatchKeyResults = z
  .object({ results: z.array(z.object({ number: z.string(), matchKey: z.string() })) })
  .openapi("MatchKeyResults");

export const VerifyBody = z
  .object({ jws: z.string().min(1).max(20_000) })
  .strict()
  .openapi("VerifyInput");
export const VerifyResult = z
  .object({ valid: z.boolean(), payload: z.unknown().nullable(), revoked: z.boolean() })
  .openapi("VerifyResult");

export const HealthSchema = z
  .object({
    status: z.enum(["ok", "unavailable"]),
    store: z
      .enum(["ok", "unreachable", "cannot_write"])
      .describe(
        "cannot_write: the store answers reads but refuses writes (a full disk, Redis out of memory)",
      ),
    bot: z
      .enum(["up", "starting"])
      .optional()
      .describe(
        "In a process that runs the bot: starting while Telegram does not answer (the API serves meanwhile)",
      ),
  })
  .openapi("Health");
export const JwksSchema = z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).openapi("JWKS");

type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 429 | 503;
type ErrorResponses<S extends ErrorStatus> = {
  [K in S]: { description: string; content: { "application/json": { schema: typeof ErrorSchema } } };
};

const ERROR_TEXT: Record<ErrorStatus, string> = {
  400: "Invalid input: `details` names each field and why",
  401: "Missing or wrong API key",
  403: "Refused to this client: only loopback peers (`forbidden`)",
  404: "Unknown, malformed or another insurer's id",
  409: "Conflict: `code` says which rule",
  413: "Body or number list too large",
  429: "Rate limited: see Retry-After (and the RateLimit-* headers)",
  503: "Busy (`busy`): the owner's records kept changing under the request; retry after Retry-After",
};

/** Response entries for the error statuses a route can answer. */
export function errors<const S extends ErrorStatus[]>(...statuses: S): ErrorResponses<S[number]> {
  return Object.fromEntries(
    statuses.map((s) => [
      s,
      { description: ERROR_TEXT[s], content: { "application/json": { schema: ErrorSchema } } },
    ]),
  ) as ErrorResponses<S[number]>;
}
