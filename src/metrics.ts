/**
 * Operator metrics (DESIGN §5 `GET /metrics`): counters the edges increment and gauges read
 * from the store on each scrape. Labels are closed sets (types, outcomes) — never an owner, a
 * number or a message, so the text carries no personal data.
 */
import { Counter, Gauge, Registry } from "prom-client";
import type { OutboxType } from "./domain/model.js";

export interface OutboxStats {
  pending: number;
  retrying: number;
  dead: number;
}

export interface MetricsOptions {
  /** Read on each scrape for the outbox gauges (usually `store.outboxStats`). */
  outboxStats?: () => Promise<OutboxStats>;
}

/** How one delivery attempt ended, for `onewindow_deliveries_total{type,outcome}`. */
export type DeliveryOutcome = "delivered" | "retry" | "dead" | "skipped";

export interface Metrics {
  registry: Registry;
  /** One per webhook delivery attempt, by notice type and how it ended. */
  deliveries: Counter<"type" | "outcome">;
  /** Numbers submitted to scrub and match keys (accepted requests). */
  scrubbedNumbers: Counter<"kind">;
  /** Telegram updates handled. */
  botUpdates: Counter<string>;
  /** Errors while handling Telegram updates. */
  botErrors: Counter<string>;
  /** Outbox gauges (pending incl. retrying, retrying, dead), refreshed on each scrape. */
  outboxPending: Gauge<string>;
  retryBacklog: Gauge<string>;
  deadNotices: Gauge<string>;
  /** Convenience: count a delivery outcome. */
  recordDelivery(type: OutboxType, outcome: DeliveryOutcome): void;
}

/** Creates a fresh registry (not the global one, so several apps can live in one process). */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();

  // One store read per scrape, shared by the three gauges (they are collected concurrently).
  let cached: { at: number; stats: Promise<OutboxStats> } | undefined;
  const stats = (): Promise<OutboxStats> => {
    if (!options.outboxStats) return Promise.resolve({ pending: 0, retrying: 0, dead: 0 });
    const now = Date.now();
    if (!cached || now - cached.at > 500) {
      const p = options
        .outboxStats()
        .catch(() => ({ pending: Number.NaN, retrying: Number.NaN, dead: Number.NaN }));
      cached = { at: now, stats: p };
    }
    return cached.stats;
  };

  const deliveries = new Counter({
    name: "onewindow_deliveries_total",
    help: "Webhook delivery attempts by notice type and outcome",
    labelNames: ["type", "outcome"] as const,
    registers: [registry],
  });
  const scrubbedNumbers = new Counter({
    name: "onewindow_scrubbed_numbers_total",
    help: "Numbers checked through POST /v1/scrub and POST /v1/match-keys",
    labelNames: ["kind"] as const,
    registers: [registry],
  });
  const botUpdates = new Counter({
    name: "onewindow_bot_updates_total",
    help: "Telegram updates handled by the bot",
    registers: [registry],
  });
  const botErrors = new Counter({
    name: "onewindow_bot_errors_total",
    help: "Errors while handling Telegram updates",
    registers: [registry],
  });
  const outboxPending = new Gauge({
    name: "onewindow_outbox_pending",
    help: "Notices waiting to be delivered (retrying ones included)",
    registers: [registry],
    async collect() {
      this.set((await stats()).pending);
    },
  });
  const retryBacklog = new Gauge({
    name: "onewindow_retry_backlog",
    help: "Notices waiting for a retry after a failed delivery",
    registers: [registry],
    async collect() {
      this.set((await stats()).retrying);
    },
  });
  const deadNotices = new Gauge({
    name: "onewindow_dead_notices",
    help: "Notices that finally failed (dead)",
    registers: [registry],
    async collect() {
      this.set((await stats()).dead);
    },
  });

  return {
    registry,
    deliveries,
    scrubbedNumbers,
    botUpdates,
    botErrors,
    outboxPending,
    retryBacklog,
    deadNotices,
    recordDelivery(type, outcome) {
      deliveries.inc({ type, outcome });
    },
  };
}
