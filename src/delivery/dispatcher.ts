/**
 * The dispatcher (DESIGN §6, §10): claims due outbox entries under a lease, POSTs each as a
 * signed Standard Webhooks request to its insurer, and records how it ended.
 *
 * - Sends run in a bounded pool (`concurrency`) with at most `perInsurer` in flight per insurer,
 *   so a slow or dead insurer only ever holds its own slots. Claiming is pipelined: new work is
 *   claimed as soon as the insurers that answer promptly have drained, without waiting for the
 *   slow ones (an insurer is "slow" once a request of its has been out for `slowMs`).
 * - 2xx → delivered. 410 → the insurer's webhook is disabled (`webhookDisabledAt`), the operator
 *   is told (logger.warn, `onGone`) and the entry is skipped, like every later one until the URL
 *   is updated. Anything else — another status, a timeout, a reset connection, a URL that is not
 *   allowed — is a failed attempt: retried on the schedule of retry-schedule.ts under the same
 *   `webhook-id` with the same body, or dead once the schedule is exhausted (`onDead`).
 * - An insurer without a webhook URL, disabled or removed: entries are skipped (the pull feeds
 *   hold every record anyway).
 * - Leases: a claimed entry is only sent while its lease has at least `timeoutMs` (+1 s) left;
 *   otherwise it is released (left to lapse) rather than risk a second dispatcher sending it
 *   concurrently. A completion returning false (lease lost) is logged, never counted.
 * - Completions are buffered and written with `completeDeliveries`, one store write per batch:
 *   after FLUSH_MS, at FLUSH_MAX items, as soon as no other send is under way, and on stop.
 *   A request's slot is freed when its result is known, before the write; a run ends only
 *   once all of its results are written.
 * - Logs carry ids, types, status codes and error codes — never a body or a phone number.
 */
import { performance } from "node:perf_hooks";
import { Agent } from "undici";
import type { Insurer, OutboxEntry, OutboxType } from "../domain/model.js";
import type { Logger } from "../logger.js";
import type { DeliveryOutcome } from "../metrics.js";
import type { DeliveryResult, Store } from "../store/store.js";
import { createPayloadBuilder, type OptOutsRead } from "./payload.js";
import { nextAttemptAt } from "./retry-schedule.js";
import { createWebhookSigner } from "./webhook-signer.js";
import { checkWebhookUrl, guardedLookup, type UrlCheck } from "./webhook-url.js";

export interface DispatcherDeps {
  store: Store;
  /** Scheduling time: what is due, leases, next attempts (tests control it). */
  clock: () => Date;
  /** [0, 1) for retry jitter. */
  random: () => number;
  logger: Pick<Logger, "debug" | "info" | "warn" | "error">;
  metrics?: { recordDelivery(type: OutboxType, outcome: DeliveryOutcome): void };
  /** The window's one-tap stop link, the same in every process (services/stop-links). */
  optOutLink: (token: string) => string | Promise<string>;
  /** `ALLOW_PRIVATE_WEBHOOKS`: http and private or loopback addresses allowed. */
  allowPrivateWebhooks: boolean;
  /** This dispatcher's lease owner id (unique per process, e.g. `${hostname}:${pid}:${uuid}`). */
  worker: string;
  /** Per request, connect to last body byte. Default 10 000. */
  timeoutMs?: number;
  /** How long a claim is held. Default 60 000. */
  leaseMs?: number;
  /** Entries per claim. Default 200. */
  batchSize?: number;
  /** At most this many of one insurer per claim and in flight. Default 20. */
  perInsurer?: number;
  /** Requests in flight overall. Default 64. */
  concurrency?: number;
  /** Bound on claims per runOnce, so one run ends even under a steady inflow. Default 1000. */
  maxClaimsPerRun?: number;
  /** Real time for the `webhook-timestamp` header (receivers check it against their clock). */
  wallClock?: () => Date;
  /** Called once per notice that finally failed (after it is marked dead). */
  onDead?(entry: OutboxEntry): void | Promise<void>;
  /** Called when an insurer's endpoint answered 410 and its webhook was disabled. */
  onGone?(insurer: Insurer): void | Promise<void>;
}

export interface RunStats {
  delivered: number;
  retried: number;
  dead: number;
  skipped: number;
}

export interface Dispatcher {
  /** Claims and sends until nothing due remains (bounded); concurrent calls share one run. */
  runOnce(): Promise<RunStats>;
  /** Runs `runOnce` every `intervalMs` (after each run ends) until {@link Dispatcher.stop}. */
  start(intervalMs: number): void;
  /**
   * New work was queued: look now rather than at the next interval (a run under way claims
   * again at once instead of waiting for its sends; an idle loop starts a run).
   */
  wake(): void;
  /**
   * Stops claiming, waits for in-flight sends to finish (each ends within `timeoutMs`); entries
   * claimed but not yet sent are left for their leases to lapse. Closes the HTTP agent.
   */
  stop(): Promise<void>;
}

interface Target {
  insurer: Insurer | undefined;
  /** The webhook URL split once for undici: origin, and path with query. */
  endpoint?: { origin: string; path: string };
  secret: string | undefined;
  urlCheck: UrlCheck;
  /** A sandbox insurer's built-in loopback receiver: allowed whatever ALLOW_PRIVATE_WEBHOOKS says. */
  sandboxLoopback: boolean;
}

/**
 * The sandbox's receivers live on this service's own loopback port. Only sandbox insurers get
 * this exception, and only for a literal loopback host, so no real insurer can use it.
 */
function isSandboxLoopback(insurer: Insurer, url: string): boolean {
  if (!insurer.sandbox) return false;
  try {
    const { protocol, hostname } = new URL(url);
    return (
      protocol === "http:" && (hostname === "127.0.0.1" || hostname === "[::1]" || hostname === "localhost")
    );
  } catch {
    return false;
  }
}

/** A claimed entry waiting for its turn, with what its send needs loaded alongside. */
interface Job {
  entry: OutboxEntry;
  target: Promise<Target>;
  /** The batch's opt-outs, read when it was claimed... */
  optOuts: Promise<OptOutsRead | undefined>;
  /** ...at this performance.now(): a job that waited longer than READ_FRESH_MS reads its own. */
  readAt: number;
}

type Outcome = "delivered" | "retried" | "dead" | "skipped" | "released" | "lost";

/** A read of a response, or of why there was none; no body is kept. */
type Attempt = { status: number; retryAfter?: string | string[] } | { error: string };

const LEASE_MARGIN_MS = 1000;
/**
 * How long a batch read of opt-outs stands in for a read at send time. Jobs normally start
 * within milliseconds; one queued behind a slow insurer reads again, so an opt-out withdrawn
 * meanwhile is skipped rather than announced and then withdrawn.
 */
const READ_FRESH_MS = 1000;
/** Completions wait at most this long to be written together... */
const FLUSH_MS = 20;
/** ...or until this many are waiting. */
const FLUSH_MAX = 100;
const URL_CHECK_TTL_MS = 60_000;
const IDLE_POLL_MS = 250;
const MAX_ERROR_LENGTH = 300;
const UNDICI_TIMEOUTS = new Set([
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CONNECT_TIMEOUT",
]);

export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const {
    store,
    clock,
    random,
    logger,
    metrics,
    worker,
    timeoutMs = 10_000,
    leaseMs = 60_000,
    batchSize = 200,
    perInsurer = 20,
    concurrency = 64,
    maxClaimsPerRun = 1000,
    wallClock = () => new Date(),
  } = deps;
  const allowPrivate = deps.allowPrivateWebhooks;
  // Per-attempt debug lines cost an object each: built only when they would be written.
  const debug = (logger as Partial<Pick<Logger, "isLevelEnabled">>).isLevelEnabled?.("debug") ?? true;
  const slowMs = Math.min(1000, Math.max(50, timeoutMs / 2));
  const queueCapPerInsurer = perInsurer * 2;
  /** Sockets open at most, counting those held by slow insurers (see pump). */
  const maxInFlight = concurrency * 8;

  const agent = new Agent({
    keepAliveTimeout: 30_000,
    connections: perInsurer,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connect: allowPrivate ? { timeout: timeoutMs } : { timeout: timeoutMs, lookup: guardedLookup },
  });
  // Without the DNS guard: used only for sandbox loopback targets (see isSandboxLoopback).
  const loopbackAgent = allowPrivate
    ? agent
    : new Agent({
        keepAliveTimeout: 30_000,
        connections: perInsurer,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
  const payloads = createPayloadBuilder({ store, now: clock, optOutLink: deps.optOutLink });
  const sign = createWebhookSigner();
  const urlChecks = new Map<string, { at: number; check: Promise<UrlCheck> }>();

  let stopping = false;
  let closed = false;
  /** wake() was called since the last claim. */
  let woken = false;

  type Completion = {
    id: string;
    worker: string;
    result: DeliveryResult;
    resolve: (ok: boolean) => void;
    reject: (err: unknown) => void;
  };
  let buffered: Completion[] = [];
  let flushTimer: ReturnType<typeof setTimeout> | undefined;

  /** Writes every buffered completion in one store call. */
  function flush(): void {
    if (flushTimer !== undefined) {
      clearTimeout(flushTimer);
      flushTimer = undefined;
    }
    if (buffered.length === 0) return;
    const items = buffered;
    buffered = [];
    let written: Promise<boolean[]>;
    try {
      written = store.completeDeliveries(items.map(({ id, worker, result }) => ({ id, worker, result })));
    } catch (err) {
      written = Promise.reject(err);
    }
    written.then(
      (oks) => {
        for (const [i, item] of items.entries()) item.resolve(oks[i] === true);
      },
      (err: unknown) => {
        for (const item of items) item.reject(err);
      },
    );
  }

  /** Queues one completion; resolves with what completeDelivery would have returned. */
  function completeBuffered(id: string, result: DeliveryResult): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      buffered.push({ id, worker, result, resolve, reject });
      if (buffered.length >= FLUSH_MAX || stopping) flush();
      else flushTimer ??= setTimeout(flush, FLUSH_MS);
    });
  }
  let current: Promise<RunStats> | undefined;
  let loop: Promise<void> | undefined;
  const waiters = new Set<() => void>();

  /** Wakes everything waiting for a change (a send ended, stop was asked). */
  const notify = () => {
    if (waiters.size === 0) return;
    for (const w of [...waiters]) w();
  };
  /** Resolves on the next change or after `ms`. */
  const changeOr = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.add(done);
    });

  function checkUrl(url: string): Promise<UrlCheck> {
    const now = performance.now();
    const hit = urlChecks.get(url);
    if (hit && now - hit.at < URL_CHECK_TTL_MS) return hit.check;
    const check = checkWebhookUrl(url, { allowPrivate });
    if (urlChecks.size > 10_000) urlChecks.clear();
    urlChecks.set(url, { at: now, check });
    return check;
  }

  async function loadTarget(insurerId: string): Promise<Target> {
    const insurer = await store.getInsurer(insurerId);
    if (insurer?.webhookUrl === undefined || insurer.webhookDisabledAt !== undefined || insurer.removedAt) {
      return { insurer, secret: undefined, urlCheck: { ok: true }, sandboxLoopback: false };
    }
    const sandboxLoopback = isSandboxLoopback(insurer, insurer.webhookUrl);
    const [secrets, urlCheck] = await Promise.all([
      store.getInsurerSecrets(insurerId),
      sandboxLoopback ? Promise.resolve<UrlCheck>({ ok: true }) : checkUrl(insurer.webhookUrl),
    ]);
    return {
      insurer,
      endpoint: endpointOf(insurer.webhookUrl),
      secret: secrets?.webhookSecret,
      urlCheck,
      sandboxLoopback,
    };
  }

  async function post(
    endpoint: { origin: string; path: string },
    headers: Record<string, string>,
    payload: string,
    via: Agent,
  ): Promise<Attempt> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    try {
      const res = await via.request({
        origin: endpoint.origin,
        path: endpoint.path,
        method: "POST",
        headers,
        body: payload,
        // The agents carry the headers and body timeouts; the signal bounds the whole request.
        signal: controller.signal,
      });
      const retryAfter = res.headers["retry-after"];
      await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
      return { status: res.statusCode, ...(retryAfter === undefined ? {} : { retryAfter }) };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (timedOut || (code !== undefined && UNDICI_TIMEOUTS.has(code))) {
        return { error: `timeout after ${timeoutMs} ms` };
      }
      return { error: describeError(err) };
    } finally {
      clearTimeout(timer);
    }
  }

  function run(): Promise<RunStats> {
    const stats: RunStats = { delivered: 0, retried: 0, dead: 0, skipped: 0 };
    /** Claimed, not yet started, by insurer (insertion order gives a rough round-robin). */
    const queues = new Map<string, Job[]>();
    /** The requests in flight, by insurer: launch number → start time. */
    const active = new Map<string, Map<number, number>>();
    /** Numbers launches, so two in the same millisecond stay apart. */
    let launches = 0;
    const gone = new Set<string>();
    /** Slots taken: launched and not yet past their request. */
    let inFlight = 0;
    /** Launched and not yet finished (including the completion write and hooks). */
    let jobs = 0;
    let queued = 0;
    let released = 0;
    /** A pump() scheduled for when busy insurers may have turned slow (see pump). */
    let repump: ReturnType<typeof setTimeout> | undefined;

    const activeCount = (insurerId: string) => active.get(insurerId)?.size ?? 0;
    // A map iterates in insertion order and launches start in order, so its first is the oldest.
    const isSlow = (insurerId: string, now: number) => {
      const oldest = active.get(insurerId)?.values().next().value;
      return oldest !== undefined && now - oldest >= slowMs;
    };

    /** Requests in flight to insurers that are slow right now. */
    function stuckCount(now: number): number {
      let n = 0;
      for (const [insurerId, starts] of active) if (isSlow(insurerId, now)) n += starts.size;
      return n;
    }

    /**
     * Starts queued jobs, one per insurer per round (an insurer that got one moves to the back),
     * so a burst shares the pool among insurers instead of filling it with the first few. Requests
     * held by slow insurers do not count against `concurrency`: a handful of hanging endpoints
     * cannot take every slot and hold the others back until their timeouts (each still keeps to
     * `perInsurer`, and `maxInFlight` bounds the sockets).
     */
    function pump(): void {
      if (stopping || queued === 0) return;
      const now = performance.now();
      // Who is slow matters only once the pool looks full.
      let busy = inFlight >= concurrency ? inFlight - stuckCount(now) : inFlight;
      let blocked = false;
      let launched = true;
      while (launched && inFlight < maxInFlight) {
        launched = false;
        for (const [insurerId, queue] of [...queues]) {
          if (queue.length === 0) {
            queues.delete(insurerId);
            continue;
          }
          if (activeCount(insurerId) >= perInsurer) continue;
          const slow = busy >= concurrency && isSlow(insurerId, now);
          if (!slow && busy >= concurrency) {
            blocked = true;
            continue;
          }
          queued--;
          launch(insurerId, queue.shift()!);
          if (!slow) busy++;
          launched = true;
          queues.delete(insurerId);
          if (queue.length > 0) queues.set(insurerId, queue);
          if (inFlight >= maxInFlight) break;
        }
      }
      // Jobs wait only on prompt insurers' slots: look again when the oldest request holding one
      // turns slow, since no request need end before then. (A few ms late: timers may fire a
      // little early against performance.now().)
      if (blocked && repump === undefined) {
        let oldest = now;
        for (const starts of active.values()) {
          const first = starts.values().next().value;
          if (first !== undefined && now - first < slowMs) oldest = Math.min(oldest, first);
        }
        repump = setTimeout(
          () => {
            repump = undefined;
            pump();
          },
          Math.max(1, oldest + slowMs - now) + 5,
        );
      }
    }

    /** A request's place in the pool, given back once by {@link free}. */
    interface Slot {
      insurerId: string;
      starts: Map<number, number>;
      launch: number;
      freed: boolean;
    }

    /** Gives the slot back (once): the request is over, only the bookkeeping is left. */
    function free(slot: Slot): void {
      if (slot.freed) return;
      slot.freed = true;
      inFlight--;
      slot.starts.delete(slot.launch);
      if (slot.starts.size === 0) active.delete(slot.insurerId);
      pump();
      notify();
    }

    function launch(insurerId: string, job: Job): void {
      let starts = active.get(insurerId);
      if (!starts) {
        starts = new Map();
        active.set(insurerId, starts);
      }
      const launch = ++launches;
      starts.set(launch, performance.now());
      inFlight++;
      jobs++;
      void settle(job, { insurerId, starts, launch, freed: false });
    }

    /** Delivers one job and counts how it ended; never rejects. */
    async function settle(job: Job, slot: Slot): Promise<void> {
      let outcome: Outcome;
      try {
        outcome = await deliver(job, slot);
      } catch (err) {
        // Counted as a failed attempt, so an entry that fails this way every time follows the
        // retry schedule and ends dead (visible to the operator) instead of coming back with
        // each lapsed lease forever. Only if even that cannot be written is it left to its lease.
        const { entry } = job;
        const error = `internal error: ${describeError(err)}`;
        logger.error(
          { entryId: entry.id, insurerId: slot.insurerId, type: entry.type, err: error },
          "delivery failed unexpectedly; counted as a failed attempt",
        );
        try {
          outcome = await failEntry(entry, error, slot);
        } catch (again) {
          logger.error(
            { entryId: entry.id, insurerId: slot.insurerId, err: describeError(again) },
            "could not record the failed attempt; the entry is retried when its lease lapses",
          );
          outcome = "released";
        }
      }
      if (outcome === "released") released++;
      else if (outcome !== "lost") stats[outcome]++;
      jobs--;
      if (slot.freed) notify();
      else free(slot);
    }

    async function deliver({ entry, target: targetP, optOuts, readAt }: Job, slot: Slot): Promise<Outcome> {
      const complete = (result: DeliveryResult) => completeEntry(entry, result, slot);
      const fail = (error: string, retryAfter?: string | string[]) =>
        failEntry(entry, error, slot, retryAfter);
      const leaseLeft = Date.parse(entry.leaseUntil!) - clock().getTime();
      if (!(leaseLeft >= timeoutMs + LEASE_MARGIN_MS)) return "released";
      const target = await targetP;
      const { insurer, secret, urlCheck, sandboxLoopback } = target;
      const at = () => clock().toISOString();
      if (insurer === undefined) return complete({ state: "skipped", at: at(), reason: "unknown insurer" });
      if (insurer.removedAt !== undefined) {
        return complete({ state: "skipped", at: at(), reason: "insurer removed" });
      }
      if (insurer.webhookUrl === undefined) {
        return complete({ state: "skipped", at: at(), reason: "no webhook URL (pull feed only)" });
      }
      if (insurer.webhookDisabledAt !== undefined || gone.has(insurer.id)) {
        return complete({
          state: "skipped",
          at: at(),
          reason: "webhook disabled after 410 Gone (pull feed only)",
        });
      }
      const fresh = performance.now() - readAt < READ_FRESH_MS;
      const built = await payloads.build(entry, fresh ? await optOuts : undefined);
      if (built.kind === "skip") return complete({ state: "skipped", at: at(), reason: built.reason });
      if (!urlCheck.ok) return fail(`webhook URL refused: ${urlCheck.reason}`);
      if (secret === undefined) return fail("no webhook secret on file");
      if (target.endpoint === undefined) return fail("webhook URL refused: not a URL");

      const headers = {
        ...sign(secret, entry.webhookId, wallClock(), built.payload),
        "content-type": "application/json",
        "user-agent": "onewindow-webhooks/1",
      };
      const attempt = await post(
        target.endpoint,
        headers,
        built.payload,
        sandboxLoopback ? loopbackAgent : agent,
      );
      if ("error" in attempt) {
        if (debug) logger.debug({ ...logFields(entry), error: attempt.error }, "webhook attempt failed");
        return fail(attempt.error);
      }
      if (debug) logger.debug({ ...logFields(entry), status: attempt.status }, "webhook attempt answered");
      if (attempt.status >= 200 && attempt.status < 300) {
        return complete({ state: "delivered", at: at() });
      }
      if (attempt.status === 410) {
        await disable(insurer);
        return complete({
          state: "skipped",
          at: at(),
          reason: "endpoint answered 410 Gone; webhook disabled (pull feed only)",
        });
      }
      return fail(`HTTP ${attempt.status}`, attempt.retryAfter);
    }

    async function disable(insurer: Insurer): Promise<void> {
      if (gone.has(insurer.id)) return;
      gone.add(insurer.id);
      let updated = insurer;
      try {
        updated = await store.updateInsurer(insurer.id, { webhookDisabledAt: clock().toISOString() });
      } catch (err) {
        logger.error({ insurerId: insurer.id, err: describeError(err) }, "could not disable webhook");
      }
      logger.warn(
        { insurerId: insurer.id },
        "insurer webhook answered 410 Gone: pushes disabled until its webhook URL is updated (`onewindow insurer update --webhook`)",
      );
      try {
        await deps.onGone?.(updated);
      } catch (err) {
        logger.error({ insurerId: insurer.id, err: describeError(err) }, "onGone hook failed");
      }
    }

    async function failEntry(
      entry: OutboxEntry,
      error: string,
      slot: Slot,
      retryAfter?: string | string[],
    ): Promise<Outcome> {
      const attempts = entry.attempts + 1;
      const now = clock();
      const next = nextAttemptAt(attempts, now, random, retryAfter);
      const message = error.slice(0, MAX_ERROR_LENGTH);
      if (next === null) {
        const deadError = `${message} (gave up after ${attempts} attempts)`;
        const outcome = await completeEntry(
          entry,
          { state: "dead", at: now.toISOString(), error: deadError },
          slot,
        );
        if (outcome === "dead") {
          logger.warn(
            {
              entryId: entry.id,
              webhookId: entry.webhookId,
              insurerId: entry.insurerId,
              type: entry.type,
              attempts,
            },
            "webhook notice is dead: retry schedule exhausted (the pull feed still holds it)",
          );
          try {
            await deps.onDead?.({ ...entry, attempts, state: "dead", lastError: deadError });
          } catch (err) {
            logger.error({ entryId: entry.id, err: describeError(err) }, "onDead hook failed");
          }
        }
        return outcome;
      }
      return completeEntry(
        entry,
        { state: "retry", at: now.toISOString(), nextAttemptAt: next.toISOString(), error: message },
        slot,
      );
    }

    async function completeEntry(entry: OutboxEntry, result: DeliveryResult, slot: Slot): Promise<Outcome> {
      const written = completeBuffered(entry.id, result);
      free(slot);
      // Nothing else is being sent, so nothing would join the batch: write it now.
      if (inFlight === 0) flush();
      const ok = await written;
      if (!ok) {
        logger.warn(
          { entryId: entry.id, insurerId: entry.insurerId, type: entry.type },
          "delivery lease was lost to another dispatcher; its result is dropped",
        );
        return "lost";
      }
      const outcome: DeliveryOutcome = result.state;
      metrics?.recordDelivery(entry.type, outcome);
      return result.state === "retry" ? "retried" : result.state;
    }

    /** Queues a claimed batch; returns how many were accepted (the rest are left to lapse). */
    function enqueue(batch: OutboxEntry[], claimedAt: Date): number {
      const targets = new Map<string, Promise<Target>>();
      // One read for the batch's opt-outs; a failed read falls back to one read per entry.
      const optOuts = payloads.readOptOuts(batch).catch(() => undefined);
      const readAt = performance.now();
      // A store that does not echo the lease: it runs leaseMs from the claim.
      const fallbackLease = new Date(claimedAt.getTime() + leaseMs).toISOString();
      let accepted = 0;
      for (const entry of batch) {
        let queue = queues.get(entry.insurerId);
        if (!queue) {
          queue = [];
          queues.set(entry.insurerId, queue);
        }
        if (queue.length >= queueCapPerInsurer) {
          released++;
          continue;
        }
        let target = targets.get(entry.insurerId);
        if (!target) {
          target = loadTarget(entry.insurerId);
          // A failed look-up surfaces in deliver(); don't let it go unhandled meanwhile.
          target.catch(() => undefined);
          targets.set(entry.insurerId, target);
        }
        queue.push({
          entry: entry.leaseUntil ? entry : { ...entry, leaseUntil: fallbackLease },
          target,
          optOuts,
          readAt,
        });
        queued++;
        accepted++;
      }
      for (const [id, q] of queues) if (q.length === 0) queues.delete(id);
      return accepted;
    }

    /** Room to claim: the promptly answering insurers have drained below half the pool. */
    function readyToClaim(): boolean {
      const threshold = Math.max(1, concurrency / 2);
      // Everything queued and out is below the mark: no need to ask who is slow.
      if (queued + inFlight < threshold) return true;
      const now = performance.now();
      let busy = 0;
      for (const [insurerId, queue] of queues) {
        if (!isSlow(insurerId, now)) busy += queue.length;
      }
      for (const [insurerId, starts] of active) {
        if (!isSlow(insurerId, now)) busy += starts.size;
      }
      return busy < threshold;
    }

    /**
     * Resolves once `predicate` holds (checked at every change, and every few ms for the
     * conditions that depend on time alone, like an insurer turning slow) or `maxMs` passed.
     */
    function waitFor(predicate: () => boolean, maxMs = Number.POSITIVE_INFINITY): Promise<void> {
      if (predicate()) return Promise.resolve();
      const until = performance.now() + maxMs;
      return new Promise<void>((resolve) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const check = () => {
          if (!predicate() && performance.now() < until) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const tick = () => {
          check();
          if (waiters.has(check)) arm();
        };
        const arm = () => {
          const left = until - performance.now();
          timer = setTimeout(tick, Math.max(10, Math.min(slowMs / 2, IDLE_POLL_MS, left)));
        };
        waiters.add(check);
        arm();
      });
    }

    return (async () => {
      try {
        let claims = 0;
        while (!stopping && claims < maxClaimsPerRun) {
          await waitFor(() => stopping || readyToClaim());
          if (stopping) break;
          woken = false;
          const claimedAt = clock();
          const batch = await store.claimDue({
            now: claimedAt.toISOString(),
            limit: batchSize,
            perInsurer,
            leaseMs,
            worker,
          });
          claims++;
          if (batch.length === 0) {
            if (jobs === 0 && queued === 0) break;
            // Nothing due but sends still out: look again once they end, or shortly if they are
            // slow (new work must not wait for a hanging insurer).
            await waitFor(() => stopping || woken || (jobs === 0 && queued === 0), IDLE_POLL_MS);
            continue;
          }
          const accepted = enqueue(batch, claimedAt);
          pump();
          if (accepted === 0) await changeOr(IDLE_POLL_MS);
        }
      } finally {
        await waitFor(() => jobs === 0 && (queued === 0 || stopping));
        clearTimeout(repump);
        repump = undefined;
        if (queued > 0) {
          released += queued;
          queued = 0;
          queues.clear();
        }
      }
      const total = stats.delivered + stats.retried + stats.dead + stats.skipped;
      // Debug, not info: with wake-ups a run follows every agreement.
      if (total > 0 || released > 0) logger.debug({ ...stats, released }, "dispatch run finished");
      return stats;
    })();
  }

  function runOnce(): Promise<RunStats> {
    if (closed) return Promise.reject(new Error("dispatcher stopped"));
    if (!current) {
      current = run().finally(() => {
        current = undefined;
      });
    }
    return current;
  }

  return {
    runOnce,
    start(intervalMs: number) {
      if (loop || closed) return;
      loop = (async () => {
        while (!stopping) {
          try {
            await runOnce();
          } catch (err) {
            logger.error({ err: describeError(err) }, "dispatch run failed; trying again");
          }
          if (stopping) break;
          if (!woken) await changeOr(intervalMs);
        }
      })();
    },
    wake() {
      woken = true;
      notify();
    },
    async stop() {
      if (closed) return;
      stopping = true;
      flush();
      notify();
      await loop;
      await current?.catch(() => undefined);
      closed = true;
      await agent.close();
      if (loopbackAgent !== agent) await loopbackAgent.close();
    },
  };
}

/** What a log line says about an entry: ids and type, never a body. */
function logFields(entry: OutboxEntry) {
  return { entryId: entry.id, webhookId: entry.webhookId, insurerId: entry.insurerId, type: entry.type };
}

/** A URL as undici's origin and path (with the query); `undefined` when it does not parse. */
function endpointOf(url: string): { origin: string; path: string } | undefined {
  try {
    const { origin, pathname, search } = new URL(url);
    return { origin, path: `${pathname}${search}` };
  } catch {
    return undefined;
  }
}

/** An error as a short code and message, without request bodies (undici never puts them there). */
function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    const cause = (err as { cause?: unknown }).cause;
    const causeCode = cause instanceof Error ? (cause as NodeJS.ErrnoException).code : undefined;
    const text = `${code ?? err.name}: ${err.message}${causeCode && causeCode !== code ? ` (${causeCode})` : ""}`;
    return text.slice(0, MAX_ERROR_LENGTH);
  }
  return String(err).slice(0, MAX_ERROR_LENGTH);
}
