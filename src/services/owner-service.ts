/**
 * What an owner can do, as plain async functions over the store: agree, stop, renewed, delete,
 * export. Each plans with a pure domain function, signs what needs signing, and applies the
 * plan atomically; a concurrent change (another process, a double tap) is re-planned.
 */

import { createHash, randomBytes, randomInt } from "node:crypto";
import type { ReceiptSigner } from "../crypto/receipts.js";
import { payloadHash } from "../crypto/receipts.js";
import { uuidv7 } from "../crypto/uuid-v7.js";
import { CONSENT_TEXT_VERSION, dataCategoriesFor, renderConsentText } from "../domain/consent-text.js";
import type { Changeset, Insurer, Language, Owner, OwnerState, PhoneChange } from "../domain/model.js";
import {
  type PlanContext,
  PlanError,
  planAgreement,
  planBackfill,
  planDeletion,
  planPhoneChange,
  planRenewed,
  planStop,
} from "../domain/plans.js";
import { packFor } from "../domain/policy-packs.js";
import type { Preferences } from "../domain/preferences.js";
import { VERIFICATION_CODE_DIGITS, verificationCodeFrom } from "../domain/verification-code.js";
import { planWindowTimes } from "../domain/window-plan.js";
import { ConflictError, type Store } from "../store/store.js";

export interface OwnerServiceDeps {
  store: Store;
  signer: ReceiptSigner;
  matchKey: (insurerId: string, e164: string) => string;
  /** The keyed hash the store files a phone under (Owner.phoneHash). */
  phoneHash: (e164: string) => string;
  clock: () => Date;
}

/** Random ids and codes; tests may pass deterministic ones. */
export const defaultRandom = {
  /** The id source of one plan: plain UUIDv7s, unrelated but for their time (uuid-v7.ts). */
  newIds: (): (() => string) => () => uuidv7(),
  newToken: () => randomBytes(16).toString("base64url"),
  newCode: () => verificationCodeFrom(randomInt(0, 10 ** VERIFICATION_CODE_DIGITS)),
};

const MAX_REPLANS = 5;

export function createOwnerService(deps: OwnerServiceDeps, random = defaultRandom) {
  const { store, signer, clock } = deps;

  /** The directory as this owner sees it: sandbox owners only ever meet sandbox insurers. */
  async function directoryFor(owner: Owner): Promise<Insurer[]> {
    return (await store.listInsurers()).filter((i) => i.sandbox === owner.sandbox);
  }

  async function context(owner: Owner): Promise<PlanContext> {
    const phone = owner.phone;
    return {
      now: clock(),
      insurers: await directoryFor(owner),
      pack: packFor(owner.jurisdiction),
      matchKeyFor: (insurerId: string) => {
        if (phone) return deps.matchKey(insurerId, phone);
        // After /delete only the stored opt-outs' keys remain; a new opt-out needs the phone.
        throw new Error("owner has no phone number on file");
      },
      newId: random.newIds(),
      newToken: random.newToken,
      newCode: random.newCode,
    };
  }

  /**
   * Plans against fresh state and applies; on a concurrent change, plans again. The plan's
   * context is that of the owner as stored, or as `planFor` sees them (a new phone).
   */
  async function replan(
    ownerId: string,
    plan: (state: OwnerState, ctx: PlanContext) => Promise<Changeset> | Changeset,
    planFor: (owner: Owner) => Owner = (owner) => owner,
  ): Promise<{ state: OwnerState; changeset: Changeset }> {
    for (let i = 0; ; i++) {
      const state = await store.getOwnerState(ownerId);
      const changeset = await plan(state, await context(planFor(state.owner)));
      try {
        await store.applyChangeset(changeset);
        return { state, changeset };
      } catch (err) {
        if (!(err instanceof ConflictError) || i >= MAX_REPLANS) throw err;
      }
    }
  }

  /** The exact consent text an owner agrees to for one insurer, in their language. */
  function consentTextFor(owner: Owner, insurer: Insurer, prefs: Preferences, language: Language): string {
    if (!insurer.contact) throw new PlanError("no_contact_line", `insurer ${insurer.id} has no contact line`);
    const pack = packFor(owner.jurisdiction);
    const { opensAt } = planWindowTimes({
      renewalDate: prefs.renewalDate,
      daysBefore: prefs.daysBefore,
      timezone: owner.timezone,
      consentAt: clock(),
      pack,
    });
    return renderConsentText({
      language,
      insurer: { ...insurer, contact: insurer.contact },
      preferences: prefs,
      opensAt,
      timezone: owner.timezone,
      dataCategories: dataCategoriesFor(owner, prefs),
      pack,
    });
  }

  return {
    directoryFor,
    consentTextFor,

    /**
     * "I agree": one consent, one signed receipt and window per chosen insurer, opt-outs to all
     * others, outbox entries for the dispatcher — in one transaction.
     */
    async agree(ownerId: string, prefs: Preferences, language: Language) {
      return replan(ownerId, async (state, ctx) => {
        const textHashes: Record<string, string> = {};
        for (const insurer of ctx.insurers.filter((i) => prefs.insurers.includes(i.id))) {
          textHashes[insurer.id] = sha256(consentTextFor(state.owner, insurer, prefs, language));
        }
        const { changeset, receiptPayloads } = planAgreement(
          state,
          prefs,
          { textVersion: CONSENT_TEXT_VERSION, textHashes, language },
          ctx,
        );
        for (const receipt of changeset.receipts) {
          const payload = receiptPayloads[receipt.id];
          if (!payload) throw new Error(`planner gave no payload for receipt ${receipt.id}`);
          receipt.jws = await signer.sign(payload);
          receipt.payloadHash = payloadHash(receipt.jws);
        }
        return changeset;
      });
    },

    /** Stops one insurer (or everyone): revokes its windows, files an opt-out. */
    stop(
      ownerId: string,
      target: { insurerId: string } | "all",
      reason: "owner_request" | "refused_on_call",
    ) {
      return replan(ownerId, (state, ctx) => planStop(state, target, reason, ctx));
    },

    /**
     * A newly added insurer: an opt-out for this owner if their current choice excludes it.
     * Sandbox owners never meet real insurers, nor real owners sandbox ones.
     */
    async backfill(ownerId: string, insurer: Insurer) {
      const owner = await store.getOwner(ownerId);
      if (!owner || owner.sandbox !== insurer.sandbox) return undefined;
      return replan(ownerId, (state, ctx) => planBackfill(state, insurer.id, ctx));
    },

    /**
     * A phone number put on file (a shared contact, or a typed one), in one changeset with what
     * it changes (planPhoneChange): a different number revokes the live windows, which named
     * the old one, and gets opt-outs from every insurer the old one had them from. Returns the
     * owner as stored now and the insurers whose windows were revoked (the owner must agree
     * again for them to get the new number).
     */
    async changePhone(ownerId: string, change: PhoneChange) {
      const phoneHash = deps.phoneHash(change.phone);
      const { state, changeset } = await replan(
        ownerId,
        (s, ctx) => planPhoneChange(s, { ...change, phoneHash }, ctx),
        // Match keys of the new number, and the pack of its country.
        (owner) => ({
          ...owner,
          phone: change.phone,
          jurisdiction: change.jurisdiction ?? owner.jurisdiction,
        }),
      );
      const owner = await store.getOwner(ownerId);
      if (!owner) throw new Error(`unknown owner ${ownerId}`);
      const revoked = new Set(changeset.revokeWindows.map((r) => r.id));
      return {
        owner,
        revokedInsurers: [...new Set(state.windows.filter((w) => revoked.has(w.id)).map((w) => w.insurerId))],
        optOuts: changeset.optOuts,
      };
    },

    /** "I already renewed": closes windows, opt-outs where none is active. */
    renewed(ownerId: string) {
      return replan(ownerId, (state, ctx) => planRenewed(state, ctx));
    },

    /** /delete: revoke and opt out first (needs the phone for match keys), then forget. */
    async erase(ownerId: string) {
      const owner = await store.getOwner(ownerId);
      if (owner?.phone) await replan(ownerId, (state, ctx) => planDeletion(state, ctx));
      await store.eraseOwner(ownerId, clock().toISOString());
    },

    /** Everything held about the owner, as one JSON-ready document (/export). */
    async exportData(ownerId: string) {
      const state = await store.getOwnerState(ownerId);
      return {
        exportedAt: clock().toISOString(),
        owner: state.owner,
        consent: state.consent,
        windows: state.windows,
        optOuts: state.optOuts,
        receipts: state.receipts,
      };
    },
  };
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

export type OwnerService = ReturnType<typeof createOwnerService>;
