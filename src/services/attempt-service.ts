/**
 * Contact attempts an insurer reports on a window (POST /v1/windows/{id}/attempts): checked by
 * the pure rule in domain/attempts, recorded atomically with the window's counter, and — for a
 * refusal on the call — together with the revocation, the `refused_on_call` opt-out and an owner
 * notice (the owner notifier sends it); a refusal the rules answer 409 still revokes and files. A concurrent change to the owner is re-planned, so two
 * attempts racing for the last slot cannot both pass, and a burst of them is each recorded.
 */

import { createHash, randomBytes, randomInt } from "node:crypto";
import { uuidv7 } from "../crypto/uuid-v7.js";
import { type AttemptConflict, checkAttempt } from "../domain/attempts.js";
import { type AttemptRecord, type ContactWindow, emptyChangeset } from "../domain/model.js";
import { type PlanContext, planStop } from "../domain/plans.js";
import { packFor } from "../domain/policy-packs.js";
import type { Channel } from "../domain/preferences.js";
import { VERIFICATION_CODE_DIGITS, verificationCodeFrom } from "../domain/verification-code.js";
import { hasOpened } from "../domain/window-plan.js";
import { ConflictError, type Store } from "../store/store.js";

export interface AttemptServiceDeps {
  store: Pick<
    Store,
    | "getWindow"
    | "getOwnerState"
    | "listAttempts"
    | "getAttemptByIdempotencyKey"
    | "applyChangeset"
    | "listInsurers"
  >;
  matchKey: (insurerId: string, e164: string) => string;
  clock: () => Date;
  newId?: () => string;
}

export interface AttemptRequest {
  channel: Channel;
  outcome: AttemptRecord["outcome"];
  /** When it happened; defaults to the request time. */
  at?: Date;
  idempotencyKey: string;
}

export type AttemptAnswer =
  | { kind: "recorded"; remaining: number; attempt: AttemptRecord; replay: boolean }
  | { kind: "conflict"; code: AttemptConflict | "idempotency_key_reused" }
  | { kind: "not_found" };

/**
 * Re-plans after a concurrent change to the owner. Every recorded attempt bumps the owner's
 * version, so a burst of attempts on one window conflicts with itself and each round lets only
 * one through: a burst of N needs up to N rounds. The back-off is jittered so the losers spread
 * out instead of colliding again; past the last re-plan the ConflictError reaches the HTTP app,
 * which answers 503 busy with Retry-After.
 */
const MAX_REPLANS = 30;
/** Back-off before re-plan i: a random 0..min(2^i, 64) ms. */
const BACKOFF_CAP_MS = 64;
const backoff = (i: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, randomInt(0, Math.min(2 ** i, BACKOFF_CAP_MS) + 1)));

/**
 * What a retry under the same Idempotency-Key must repeat: channel, outcome and `at` as given
 * (absent stays absent: the request time is not part of it). 48 bits of SHA-256 are plenty to
 * tell one key's bodies apart, and keep each stored attempt small (Redis memory).
 */
export function attemptFingerprint(req: Pick<AttemptRequest, "channel" | "outcome" | "at">): string {
  const at = req.at === undefined ? "" : req.at.toISOString();
  return createHash("sha256").update(`${req.channel}\n${req.outcome}\n${at}`).digest("base64url").slice(0, 8);
}

/**
 * Whether an insurer may see a window: its own, and opened ({@link hasOpened}: scheduled ones,
 * and ones revoked or closed before they opened, are invisible — 404 like an unknown id).
 */
export function visibleTo(window: ContactWindow | undefined, insurerId: string, now: Date): boolean {
  return window !== undefined && window.insurerId === insurerId && hasOpened(window, now);
}

export function createAttemptService(deps: AttemptServiceDeps) {
  const { store, clock } = deps;
  /** One id source per recorded attempt: its attempt, opt-out and notices are one changeset. */
  const idsForOneAttempt = () => deps.newId ?? (() => uuidv7());

  async function replay(
    insurerId: string,
    windowId: string,
    req: AttemptRequest,
  ): Promise<AttemptAnswer | undefined> {
    const prior = await store.getAttemptByIdempotencyKey(insurerId, req.idempotencyKey);
    if (!prior) return undefined;
    if (prior.windowId !== windowId) return { kind: "conflict", code: "idempotency_key_reused" };
    // Another body under the same key is another report (a later `refused`, say): answering the
    // first would silently drop it, so the insurer is told to use a new key.
    if (prior.fingerprint !== undefined && prior.fingerprint !== attemptFingerprint(req)) {
      return { kind: "conflict", code: "idempotency_key_reused" };
    }
    return { kind: "recorded", remaining: prior.remaining, attempt: prior, replay: true };
  }

  return {
    /**
     * Records one attempt, or says why not. A retry under the same Idempotency-Key and with the
     * same body returns the first recorded answer; a key first used on another window, or with
     * another channel, outcome or `at`, is `idempotency_key_reused`.
     */
    async record(insurerId: string, windowId: string, req: AttemptRequest): Promise<AttemptAnswer> {
      for (let i = 0; ; i++) {
        const newId = idsForOneAttempt();
        const now = clock();
        const window = await store.getWindow(windowId);
        if (!visibleTo(window, insurerId, now)) return { kind: "not_found" };
        const replayed = await replay(insurerId, windowId, req);
        if (replayed) return replayed;
        const at = req.at ?? now;
        if (window!.revokedAt !== undefined) return { kind: "conflict", code: "revoked" };

        const state = await store.getOwnerState(window!.ownerId);
        const fresh = state.windows.find((w) => w.id === windowId) ?? window!;
        const pack = packFor(state.consent?.jurisdiction ?? state.owner.jurisdiction);
        const prior = await store.listAttempts(windowId);
        const check = checkAttempt(
          fresh,
          prior,
          { channel: req.channel, outcome: req.outcome, at },
          now,
          pack,
        );
        // A refusal is the owner's word and stands even when the rules refuse the attempt itself
        // (DESIGN §7: the owner's latest word stands; the one-year rule): the window is revoked and
        // the opt-out filed all the same, and the insurer still gets the 409 that applies. A
        // revoked window has nothing left to revoke, and a consent given after the refusal is the
        // owner's later word (a late report on an old window must not revoke a newer one).
        const consentedSince =
          state.consent !== undefined && at.getTime() < Date.parse(state.consent.agreedAt);
        if (!check.ok && (req.outcome !== "refused" || check.code === "revoked" || consentedSince)) {
          return { kind: "conflict", code: check.code };
        }
        const answer: AttemptAnswer = check.ok
          ? {
              kind: "recorded",
              remaining: check.remaining,
              attempt: {
                id: newId(),
                windowId,
                insurerId,
                channel: req.channel,
                outcome: req.outcome,
                at: at.toISOString(),
                idempotencyKey: req.idempotencyKey,
                remaining: check.remaining,
                fingerprint: attemptFingerprint(req),
              },
              replay: false,
            }
          : { kind: "conflict", code: check.code };
        let changeset = emptyChangeset(state.owner.id, state.owner.version);
        if (req.outcome === "refused") {
          const phone = state.owner.phone;
          const ctx: PlanContext = {
            now,
            insurers: (await store.listInsurers()).filter((x) => x.sandbox === state.owner.sandbox),
            pack: packFor(state.owner.jurisdiction),
            matchKeyFor: (id) => {
              if (phone) return deps.matchKey(id, phone);
              throw new Error("owner has no phone number on file");
            },
            newId,
            newToken: () => randomBytes(16).toString("base64url"),
            newCode: () => verificationCodeFrom(randomInt(0, 10 ** VERIFICATION_CODE_DIGITS)),
          };
          changeset = planStop(state, { insurerId }, "refused_on_call", ctx);
          if (answer.kind === "conflict" && changeset.revokeWindows.length + changeset.optOuts.length === 0) {
            // Closed, and an opt-out already in force: nothing changes, nothing new to tell.
            return answer;
          }
          // Told by the owner notifier; queued here so it exists exactly when the refusal does.
          changeset.ownerNotices = [
            ...(changeset.ownerNotices ?? []),
            {
              id: newId(),
              ownerId: state.owner.id,
              kind: "refused_on_call",
              insurerId,
              createdAt: now.toISOString(),
            },
          ];
        }
        if (answer.kind === "recorded") changeset.attempts = [answer.attempt];
        try {
          await store.applyChangeset(changeset);
          return answer;
        } catch (err) {
          // The same key racing with itself: the loser answers what the winner recorded.
          const raced = await replay(insurerId, windowId, req);
          if (raced) return raced;
          if (!(err instanceof ConflictError) || i >= MAX_REPLANS) throw err;
        }
        await backoff(i);
      }
    },
  };
}

export type AttemptService = ReturnType<typeof createAttemptService>;
