/**
 * Scrub and match keys (DESIGN §5, §6, §9): an insurer submits numbers it holds; we answer, per
 * number, what this insurer may do (scrub) or the number's match key for this insurer. Numbers
 * are hashed and looked up in one batch per request; every hit on an owner's number is written
 * to the audit the owner sees in /status. Quotas and input checks live at the HTTP edge.
 */

import { createFieldCipher } from "../crypto/field-cipher.js";
import { createMatchKeys, type MatchKeys } from "../crypto/match-key.js";
import { uuidv7 } from "../crypto/uuid-v7.js";
import type { ScrubHit } from "../domain/model.js";
import { hasOpened, windowStatus } from "../domain/window-plan.js";
import type { ScrubRecord, Store } from "../store/store.js";

/** E.164 as the API accepts it; checked by regex (fast), never parsed per number. */
export const E164 = /^\+[1-9]\d{6,14}$/;

/** Most numbers in one request; more answers 413. */
export const MAX_NUMBERS = 10_000;

/** Longest run of consecutive numbers a request may hold (DESIGN §9); longer answers 400. */
export const MAX_CONSECUTIVE_RUN = 100;

export type ScrubStatus = "consented" | "do_not_contact" | "none";

export interface ScrubResult {
  number: string;
  status: ScrubStatus;
  until?: string;
  windowId?: string;
}

export interface MatchKeyResult {
  number: string;
  matchKey: string;
}

export interface ScrubServiceDeps {
  store: Pick<Store, "scrubLookup" | "recordScrubHits">;
  /** The keyed phone hash the store looks numbers up by (Owner.phoneHash). */
  phoneHash: (e164: string) => string;
  matchKey: MatchKeys;
  clock: () => Date;
  newId?: () => string;
}

/**
 * The answer for one number, for the calling insurer, at `now`:
 * - `consented` with `windowId` — a window that is open now (opensAt ≤ now < closesAt, not
 *   revoked, not closed early, not exhausted) and no opt-out in force;
 * - `do_not_contact` — any other record: an opt-out in force (`until` its end, absent when it
 *   lasts until withdrawn), or a scheduled (`until` its opensAt), closed, exhausted or revoked
 *   window — one revoked or closed before it opened included: no `windowId`, no `until` of its
 *   own, so it tells nothing the feeds do not;
 * - `none` — nothing (withdrawn and expired opt-outs no longer count).
 */
export function scrubStatus(record: ScrubRecord | undefined, now: Date): Omit<ScrubResult, "number"> {
  if (!record) return { status: "none" };
  const t = now.getTime();
  const activeOptOuts = record.optOuts.filter(
    (o) => o.withdrawnAt === undefined && (o.until === undefined || Date.parse(o.until) > t),
  );
  // "open" implies hasOpened; both are asked so consent never rests on a window that never opened.
  const open = record.windows.find((w) => hasOpened(w, now) && windowStatus(w, now) === "open");
  if (open && activeOptOuts.length === 0) return { status: "consented", windowId: open.id };
  if (activeOptOuts.length > 0) {
    const indefinite = activeOptOuts.some((o) => o.until === undefined);
    if (indefinite) return { status: "do_not_contact" };
    const until = activeOptOuts.map((o) => o.until!).sort();
    return { status: "do_not_contact", until: until[until.length - 1]! };
  }
  if (record.windows.length === 0) return { status: "none" };
  const scheduled = record.windows
    .filter((w) => windowStatus(w, now) === "scheduled")
    .map((w) => w.opensAt)
    .sort();
  return scheduled.length > 0
    ? { status: "do_not_contact", until: scheduled[0]! }
    : { status: "do_not_contact" };
}

/**
 * Length of the longest run of numerically consecutive numbers (+1 apart) among E.164 strings;
 * duplicates neither break nor extend a run. Inputs must already match {@link E164} (at most
 * 15 digits, so every number is exact as a double).
 */
export function longestConsecutiveRun(numbers: readonly string[]): number {
  if (numbers.length === 0) return 0;
  const values = Float64Array.from(numbers, (n) => Number(n.slice(1)));
  values.sort();
  let longest = 1;
  let run = 1;
  for (let i = 1; i < values.length; i++) {
    const step = values[i]! - values[i - 1]!;
    if (step === 0) continue;
    run = step === 1 ? run + 1 : 1;
    if (run > longest) longest = run;
  }
  return longest;
}

export function createScrubService(deps: ScrubServiceDeps) {
  const newId = deps.newId ?? (() => uuidv7());

  /** Hashes each distinct number once and looks them all up in one batch. */
  async function lookup(insurerId: string, numbers: readonly string[]) {
    const hashes = new Map<string, string>();
    for (const n of numbers) if (!hashes.has(n)) hashes.set(n, deps.phoneHash(n));
    const records = await deps.store.scrubLookup(insurerId, [...hashes.values()]);
    return { hashes, records };
  }

  async function audit(
    insurerId: string,
    kind: ScrubHit["kind"],
    hits: { hash: string; record: ScrubRecord; answer: string }[],
    at: string,
  ) {
    if (hits.length === 0) return;
    await deps.store.recordScrubHits(
      hits.map((h) => ({
        id: newId(),
        ...(h.record.ownerId !== undefined ? { ownerId: h.record.ownerId } : {}),
        phoneHash: h.hash,
        insurerId,
        kind,
        answer: h.answer,
        at,
      })),
    );
  }

  return {
    /** One status per submitted number, in order; hits are audited against their owners. */
    async scrub(insurerId: string, numbers: readonly string[]): Promise<ScrubResult[]> {
      const now = deps.clock();
      const { hashes, records } = await lookup(insurerId, numbers);
      const byNumber = new Map<string, Omit<ScrubResult, "number">>();
      const hits: { hash: string; record: ScrubRecord; answer: string }[] = [];
      for (const [number, hash] of hashes) {
        const record = records.get(hash);
        const answer = scrubStatus(record, now);
        byNumber.set(number, answer);
        if (record && answer.status !== "none") hits.push({ hash, record, answer: answer.status });
      }
      await audit(insurerId, "scrub", hits, now.toISOString());
      return numbers.map((number) => ({ number, ...byNumber.get(number)! }));
    },

    /** The insurer's match key of each submitted number; numbers on file are audited. */
    async matchKeys(insurerId: string, numbers: readonly string[]): Promise<MatchKeyResult[]> {
      const now = deps.clock();
      const { hashes, records } = await lookup(insurerId, numbers);
      const hits: { hash: string; record: ScrubRecord; answer: string }[] = [];
      for (const hash of hashes.values()) {
        const record = records.get(hash);
        if (record) hits.push({ hash, record, answer: "match_key" });
      }
      await audit(insurerId, "match_key", hits, now.toISOString());
      const keys = new Map<string, string>();
      return numbers.map((number) => {
        let matchKey = keys.get(number);
        if (matchKey === undefined) {
          matchKey = deps.matchKey(insurerId, number);
          keys.set(number, matchKey);
        }
        return { number, matchKey };
      });
    },
  };
}

export type ScrubService = ReturnType<typeof createScrubService>;

/** Builds the service from the data key (the same derivations the owner side uses). */
export function scrubServiceFromKeys(
  store: ScrubServiceDeps["store"],
  dataKey: Buffer,
  clock: () => Date,
): ScrubService {
  const cipher = createFieldCipher(dataKey);
  return createScrubService({
    store,
    phoneHash: (e164) => cipher.hash(e164),
    matchKey: createMatchKeys(dataKey),
    clock,
  });
}
