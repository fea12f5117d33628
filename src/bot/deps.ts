import type { Logger } from "pino";
import type { JurisdictionCode } from "../domain/model.js";
import type { Extractor } from "../nlu/extractor.js";
import type { OwnerService } from "../services/owner-service.js";
import type { Store } from "../store/store.js";

/** What the bot's features need from the rest of the service. */
export interface BotDeps {
  store: Store;
  owners: OwnerService;
  extractor: Extractor;
  clock: () => Date;
  defaults: {
    jurisdiction: JurisdictionCode;
    timezone: string;
    /** Owners created by this bot are sandbox data (DESIGN §9). */
    sandbox: boolean;
  };
  logger: Logger;
  /** Counts updates and errors for /metrics. */
  metrics?: { botUpdates: { inc(): void }; botErrors: { inc(): void } };
  /** Per-user flood limit; default 30 updates per 10 s. */
  rateLimit?: { timeFrameMs: number; limit: number };
}
