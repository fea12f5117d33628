/**
 * What the route modules share: the app's environment type (the authenticated insurer), its
 * dependencies, and the services built from them.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { Logger } from "pino";
import type { Config } from "../config.js";
import type { Keys } from "../crypto/keys.js";
import type { ReceiptSigner } from "../crypto/receipts.js";
import type { Insurer } from "../domain/model.js";
import type { Metrics } from "../metrics.js";
import type { AttemptService } from "../services/attempt-service.js";
import type { ScrubService } from "../services/scrub-service.js";
import type { Store } from "../store/store.js";
import type { Quota } from "./rate-limit.js";

/** What `createHttpApp` needs; `Services` (services/create-services) satisfies all but the optional ones. */
export interface HttpDeps {
  store: Store;
  signer: ReceiptSigner;
  keys: Pick<Keys, "dataKey">;
  clock: () => Date;
  config: Pick<Config, "scrub" | "metricsToken" | "trustProxy">;
  logger?: Logger;
  /** Shared with the dispatcher and bot so one /metrics shows all; created here when absent. */
  metrics?: Metrics;
  /** The one-tap stop link of a window (`telegramStopLink(botUsername)`); a neutral link when absent. */
  optOutLink?: (token: string) => string;
  /** Whether the bot is up, for /healthz (absent: this process runs no bot). */
  botUp?: () => boolean;
}

export interface AppEnv {
  Variables: { insurer: Insurer };
}

export type App = OpenAPIHono<AppEnv>;

export interface RouteContext {
  deps: HttpDeps;
  metrics: Metrics;
  attempts: AttemptService;
  scrub: ScrubService;
  quota: Quota;
  optOutLink: (token: string) => string;
  /** Bearer API key → the insurer, else 401. */
  requireInsurer: MiddlewareHandler<AppEnv>;
}
