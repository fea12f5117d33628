/** Opt-out notices: the feed and acknowledgements (DESIGN §5). Never a phone number. */
import { createRoute } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { optOutView } from "../../services/insurer-views.js";
import type { App, AppEnv, RouteContext } from "../context.js";
import { decodeCursor, encodeCursor } from "../cursor.js";
import { apiError } from "../errors.js";
import { errors, IdParam, OptOutPage, OptOutSchema, PageQuery } from "../schemas.js";
import { MAX_ID_LENGTH } from "./windows.js";

const security = [{ bearerAuth: [] }];

export function registerOptOutRoutes(app: App, ctx: RouteContext): void {
  const { store, clock } = ctx.deps;
  const middleware: MiddlewareHandler<AppEnv>[] = [ctx.requireInsurer];

  const list = createRoute({
    method: "get",
    path: "/v1/optouts",
    tags: ["optouts"],
    summary: "This insurer's opt-out notices, oldest first (cursor-paged; withdrawn ones included)",
    security,
    middleware,
    request: { query: PageQuery },
    responses: {
      200: { description: "A page of opt-outs", content: { "application/json": { schema: OptOutPage } } },
      ...errors(400, 401),
    },
  });
  const ack = createRoute({
    method: "post",
    path: "/v1/optouts/{id}/ack",
    tags: ["optouts"],
    summary: "Acknowledge an opt-out (records the first time: compliance evidence)",
    security,
    middleware,
    request: { params: IdParam },
    responses: {
      200: {
        description: "The acknowledged opt-out",
        content: { "application/json": { schema: OptOutSchema } },
      },
      ...errors(401, 404),
    },
  });

  app.openapi(list, async (c) => {
    const insurer = c.get("insurer");
    const { after, limit } = c.req.valid("query");
    const rows = await store.listOptOutsForInsurer(insurer.id, {
      after: after === undefined ? undefined : decodeCursor(after),
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const next = rows.length > limit && last ? encodeCursor({ at: last.effectiveAt, id: last.id }) : null;
    return c.json({ data: page.map(optOutView), next }, 200);
  });

  app.openapi(ack, async (c) => {
    const insurer = c.get("insurer");
    const { id } = c.req.valid("param");
    if (id.length === 0 || id.length > MAX_ID_LENGTH) return apiError(c, 404, "not_found", "no such opt-out");
    const acked = await store.acknowledgeOptOut(insurer.id, id, clock().toISOString());
    if (!acked || acked.insurerId !== insurer.id) return apiError(c, 404, "not_found", "no such opt-out");
    return c.json(optOutView(acked), 200);
  });
}
