/**
 * The webhook body for one outbox entry (DESIGN §6), read from the store at send time:
 * `{"type","timestamp","data"}` where `data` is exactly the insurer view of the subject
 * (services/insurer-views) **as of the event**, and `timestamp` is the event time. Building it
 * from the event rather than from the subject's current state keeps the bytes identical on
 * every retry (a receiver de-duplicating by `webhook-id` sees one notice):
 *
 * - `window.opened` — the window object as it opened (timestamp = dueAt = opensAt; status
 *   "open", attemptsUsed 0, no acknowledgement yet). Never sent — the entry is skipped — once
 *   the window is revoked or closed, when the owner has been erased, or when the phone is not
 *   Telegram-verified: owner data never goes out for a window that no longer stands.
 * - `window.revoked` — `{id, insurerId, status, revokedAt, reason}`, nothing about the owner.
 * - `optout.filed` — the opt-out object without later acknowledgement; skipped when the opt-out
 *   was withdrawn before it could be delivered (the `optout.withdrawn` notice follows).
 * - `optout.withdrawn` — `{id, insurerId, withdrawnAt}`.
 */
import type { ContactWindow, OptOut, OutboxEntry } from "../domain/model.js";
import { optOutView, optOutWithdrawnView, windowRevokedView, windowView } from "../services/insurer-views.js";
import type { Store } from "../store/store.js";
import { serializeBody, type WebhookBody } from "./webhook-signer.js";

export interface PayloadDeps {
  store: Pick<Store, "getWindow" | "getOptOut" | "getOptOuts" | "getOwner" | "getReceipt">;
  /** The dispatcher's clock: "closed" is judged at this instant. */
  now: () => Date;
  /** The one-tap stop link for a window's token, the same in every process (services/stop-links). */
  optOutLink: (token: string) => string | Promise<string>;
}

/** Opt-outs read ahead for a batch of entries, by id (`undefined`: there is none). */
export type OptOutsRead = ReadonlyMap<string, OptOut | undefined>;

export type PayloadResult =
  | { kind: "send"; body: WebhookBody; payload: string }
  | { kind: "skip"; reason: string };

const skip = (reason: string): PayloadResult => ({ kind: "skip", reason });

function send(entry: OutboxEntry, timestamp: string, data: unknown): PayloadResult {
  const body: WebhookBody = { type: entry.type, timestamp, data };
  return { kind: "send", body, payload: serializeBody(body) };
}

/** Builds the body for `entry`, or says why it is not to be sent. */
export function createPayloadBuilder(deps: PayloadDeps) {
  const { store } = deps;

  async function windowFor(entry: OutboxEntry): Promise<ContactWindow | PayloadResult> {
    const window = await store.getWindow(entry.subjectId);
    if (window === undefined) return skip(`window ${entry.subjectId} not found`);
    if (window.insurerId !== entry.insurerId) return skip("window belongs to another insurer");
    return window;
  }

  async function optOutFor(entry: OutboxEntry, read?: OptOutsRead): Promise<OptOut | PayloadResult> {
    const optOut = read?.has(entry.subjectId)
      ? read.get(entry.subjectId)
      : await store.getOptOut(entry.subjectId);
    if (optOut === undefined) return skip(`opt-out ${entry.subjectId} not found`);
    if (optOut.insurerId !== entry.insurerId) return skip("opt-out belongs to another insurer");
    return optOut;
  }

  const isResult = (x: object): x is PayloadResult => "kind" in x;

  /**
   * Reads the opt-outs a batch of entries is about in one store call, for {@link build}: a
   * claimed batch is mostly `optout.filed`, and one read per entry would cost more than the send.
   */
  async function readOptOuts(entries: readonly OutboxEntry[]): Promise<OptOutsRead> {
    const ids = [...new Set(entries.filter((e) => e.type.startsWith("optout.")).map((e) => e.subjectId))];
    const read = new Map<string, OptOut | undefined>();
    if (ids.length === 0) return read;
    const optOuts = await store.getOptOuts(ids);
    for (const [i, id] of ids.entries()) read.set(id, optOuts[i]);
    return read;
  }

  /** The body for `entry`; opt-outs come from `read` when it has them (see readOptOuts). */
  async function build(entry: OutboxEntry, read?: OptOutsRead): Promise<PayloadResult> {
    switch (entry.type) {
      case "window.opened": {
        const window = await windowFor(entry);
        if (isResult(window)) return window;
        if (window.revokedAt !== undefined) return skip("window revoked before delivery");
        const now = deps.now().getTime();
        if (window.closedAt !== undefined || now >= Date.parse(window.closesAt)) {
          return skip("window closed before delivery");
        }
        if (Date.parse(window.opensAt) >= Date.parse(window.closesAt)) return skip("empty window");
        const owner = await store.getOwner(window.ownerId);
        if (owner === undefined || owner.deletedAt !== undefined || owner.phone === undefined) {
          return skip("owner erased");
        }
        if (!owner.phoneVerified) return skip("owner phone not verified");
        const receipt = await store.getReceipt(window.receiptId);
        if (receipt?.revokedAt !== undefined) return skip("receipt revoked before delivery");
        const openedAt = entry.dueAt;
        // The window as it opened: nothing used, nothing acknowledged yet.
        const { acknowledgedAt: _ack, deliveredAt: _del, ...rest } = window;
        const asOpened: ContactWindow = { ...rest, attemptsUsed: 0 };
        const link = await deps.optOutLink(window.stopToken);
        const view = windowView(asOpened, owner, receipt, new Date(openedAt), () => link);
        if (view.owner === undefined) return skip("window not open at its opening time");
        return send(entry, openedAt, view);
      }
      case "window.revoked": {
        const window = await windowFor(entry);
        if (isResult(window)) return window;
        if (window.revokedAt === undefined && window.closedAt === undefined) {
          return skip("window neither revoked nor closed");
        }
        return send(entry, entry.createdAt, windowRevokedView(window));
      }
      case "optout.filed": {
        const optOut = await optOutFor(entry, read);
        if (isResult(optOut)) return optOut;
        if (optOut.withdrawnAt !== undefined) return skip("opt-out withdrawn before delivery");
        const { acknowledgedAt: _ack, withdrawnAt: _w, ...asFiled } = optOut;
        return send(entry, entry.createdAt, optOutView(asFiled));
      }
      case "optout.withdrawn": {
        const optOut = await optOutFor(entry, read);
        if (isResult(optOut)) return optOut;
        if (optOut.withdrawnAt === undefined) return skip("opt-out not withdrawn");
        return send(entry, entry.createdAt, optOutWithdrawnView(optOut));
      }
      default: {
        const unknown: never = entry.type;
        return skip(`unknown notice type ${String(unknown)}`);
      }
    }
  }

  return { build, readOptOuts };
}

export type PayloadBuilder = ReturnType<typeof createPayloadBuilder>;
