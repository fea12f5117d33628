/** Consented contact windows: list, one, acknowledge, and report contact attempts (DESIGN §5). */
import { createRoute, type z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { ATTEMPT_CONFLICTS, type AttemptConflict } from "../../domain/attempts.js";
import type { ContactWindow, Owner } from "../../domain/model.js";
import { visibleTo } from "../../services/attempt-service.js";
import { windowView } from "../../services/insurer-views.js";
import type { App, AppEnv, RouteContext } from "../context.js";
import { decodeCursor, encodeCursor } from "../cursor.js";
import { apiError } from "../errors.js";
import {
  AttemptBody,
  AttemptCreated,
  AttemptHeaders,
  ErrorSchema,
  errors,
  IdParam,
  WindowListQuery,
  WindowPage,
  WindowSchema,
} from "../schemas.js";

const security = [{ bearerAuth: [] }];
/** Ids longer than this name nothing; answered 404 without a look-up. */
export const MAX_ID_LENGTH = 128;
/** How far ahead of the server clock an attempt's `at` may be (clock skew). */
const MAX_FUTURE_SKEW_MS = 5 * 60_000;

export function registerWindowRoutes(app: App, ctx: RouteContext): void {
  const { store, clock } = ctx.deps;
  const middleware: MiddlewareHandler<AppEnv>[] = [ctx.requireInsurer];

  const list = createRoute({
    method: "get",
    path: "/v1/windows",
    tags: ["windows"],
    summary: "This insurer's windows that have opened, oldest first (cursor-paged)",
    security,
    middleware,
    request: { query: WindowListQuery },
    responses: {
      200: { description: "A page of windows", content: { "application/json": { schema: WindowPage } } },
      ...errors(400, 401),
    },
  });
  const one = createRoute({
    method: "get",
    path: "/v1/windows/{id}",
    tags: ["windows"],
    summary: "One window",
    security,
    middleware,
    request: { params: IdParam },
    responses: {
      200: { description: "The window", content: { "application/json": { schema: WindowSchema } } },
      ...errors(401, 404),
    },
  });
  const ack = createRoute({
    method: "post",
    path: "/v1/windows/{id}/ack",
    tags: ["windows"],
    summary: "Acknowledge receipt of a window (idempotent: the first time is kept)",
    security,
    middleware,
    request: { params: IdParam },
    responses: {
      200: {
        description: "The acknowledged window",
        content: { "application/json": { schema: WindowSchema } },
      },
      ...errors(401, 404),
    },
  });
  const attempt = createRoute({
    method: "post",
    path: "/v1/windows/{id}/attempts",
    tags: ["windows"],
    summary: "Record a contact attempt; `refused` revokes the window and files an opt-out",
    description:
      "409 codes, the first that applies: revoked, window_closed, channel_not_allowed, outside_hours, attempts_exhausted. A refusal stands even when the attempt answers 409 (other than revoked): the window is revoked and the opt-out filed, the attempt is not counted. A retry with the same Idempotency-Key and the same body returns the first answer; a key already used on another window, or with another channel, outcome or at, answers 409 idempotency_key_reused.",
    security,
    middleware,
    request: {
      params: IdParam,
      headers: AttemptHeaders,
      body: { required: true, content: { "application/json": { schema: AttemptBody } } },
    },
    responses: {
      201: { description: "Recorded", content: { "application/json": { schema: AttemptCreated } } },
      ...errors(400, 401, 404, 413, 503),
      409: {
        description: `Conflict: \`code\` is one of ${[...ATTEMPT_CONFLICTS, "idempotency_key_reused"].join(", ")}`,
        content: { "application/json": { schema: ErrorSchema } },
      },
    },
  });

  /** Window objects for a page, reading each owner and receipt once. */
  async function views(windows: ContactWindow[], now: Date) {
    const owners = new Map<string, Promise<Owner | undefined>>();
    return Promise.all(
      windows.map(async (w) => {
        const showsOwner = w.revokedAt === undefined;
        let owner: Promise<Owner | undefined> | undefined;
        if (showsOwner && w.ownerId) {
          owner = owners.get(w.ownerId) ?? store.getOwner(w.ownerId);
          owners.set(w.ownerId, owner);
        }
        const [o, receipt] = await Promise.all([owner, store.getReceipt(w.receiptId)]);
        // Days and channels are the domain enums; the view types them as strings.
        return windowView(w, o, receipt, now, ctx.optOutLink) as z.infer<typeof WindowSchema>;
      }),
    );
  }

  async function visibleWindow(insurerId: string, id: string, now: Date) {
    if (id.length === 0 || id.length > MAX_ID_LENGTH) return undefined;
    const window = await store.getWindow(id);
    return visibleTo(window, insurerId, now) ? window : undefined;
  }

  app.openapi(list, async (c) => {
    const insurer = c.get("insurer");
    const { status, after, limit } = c.req.valid("query");
    const now = clock();
    const rows = await store.listWindowsForInsurer(insurer.id, {
      now: now.toISOString(),
      status,
      after: after === undefined ? undefined : decodeCursor(after),
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const next = rows.length > limit && last ? encodeCursor({ at: last.opensAt, id: last.id }) : null;
    return c.json({ data: await views(page, now), next }, 200);
  });

  app.openapi(one, async (c) => {
    const now = clock();
    const window = await visibleWindow(c.get("insurer").id, c.req.valid("param").id, now);
    if (!window) return apiError(c, 404, "not_found", "no such window");
    const [view] = await views([window], now);
    return c.json(view!, 200);
  });

  app.openapi(ack, async (c) => {
    const insurer = c.get("insurer");
    const now = clock();
    const window = await visibleWindow(insurer.id, c.req.valid("param").id, now);
    if (!window) return apiError(c, 404, "not_found", "no such window");
    const acked = await store.acknowledgeWindow(insurer.id, window.id, now.toISOString());
    if (!acked) return apiError(c, 404, "not_found", "no such window");
    const [view] = await views([acked], now);
    return c.json(view!, 200);
  });

  app.openapi(attempt, async (c) => {
    const insurer = c.get("insurer");
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const key = c.req.valid("header")["idempotency-key"];
    const now = clock();
    const at = body.at === undefined ? undefined : new Date(body.at);
    if (at !== undefined && at.getTime() > now.getTime() + MAX_FUTURE_SKEW_MS) {
      return apiError(c, 400, "validation_failed", "invalid request: at", [
        { path: "at", in: "body", message: "is in the future" },
      ]);
    }
    if (id.length === 0 || id.length > MAX_ID_LENGTH) return apiError(c, 404, "not_found", "no such window");
    const answer = await ctx.attempts.record(insurer.id, id, {
      channel: body.channel,
      outcome: body.outcome,
      at,
      idempotencyKey: key,
    });
    switch (answer.kind) {
      case "not_found":
        return apiError(c, 404, "not_found", "no such window");
      case "conflict":
        return apiError(c, 409, answer.code, CONFLICT_TEXT[answer.code]);
      case "recorded":
        return c.json({ remaining: answer.remaining }, 201);
    }
  });
}

const CONFLICT_TEXT: Record<AttemptConflict | "idempotency_key_reused", string> = {
  revoked: "the window was revoked: do not contact this owner",
  window_closed: "the attempt is outside the window's dates, or the window has closed",
  channel_not_allowed: "the owner did not allow this channel",
  outside_hours: "the owner did not allow contact at that day or hour (window timezone)",
  attempts_exhausted: "no attempts left (total cap, or the daily cap of the rules)",
  idempotency_key_reused:
    "this Idempotency-Key was already used for another request (another window, channel, outcome or at): use a new key for a new attempt",
};
