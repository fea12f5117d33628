/**
 * Consent receipts: compact JWS signed with Ed25519 (`alg: "EdDSA"`), verifiable by anyone
 * holding the JWKS served at `/.well-known/jwks.json`.
 */
import { createHash } from "node:crypto";
import { CompactSign, compactVerify, createLocalJWKSet, type JWK } from "jose";
import type { Keys } from "./keys.js";

/** The `typ` header of every receipt. */
export const RECEIPT_TYP = "consent-receipt+jws";

export interface ReceiptSigner {
  /** Signs `payload` (serialised as JSON) with the current key; header carries `kid` and `typ`. */
  sign(payload: object): Promise<string>;
  /** Checks a JWS against the current and retired public keys; never throws. */
  verify(jws: string): Promise<{ valid: boolean; payload?: unknown }>;
  /** The public keys: the current one first, then retired ones. */
  jwks(): { keys: JWK[] };
}

export interface ReceiptSignerOptions {
  /** Retired public keys that still verify old receipts (kept 5 years, DESIGN §4). */
  previousPublicJwks?: JWK[];
}

/** Creates a signer for the given keys. */
export function createReceiptSigner(keys: Keys, options: ReceiptSignerOptions = {}): ReceiptSigner {
  const publicKeys: JWK[] = [
    keys.signingPublicJwk,
    ...(options.previousPublicJwks ?? []).filter((jwk) => jwk.kid !== keys.kid),
  ];
  const keySet = createLocalJWKSet({ keys: publicKeys });
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();

  return {
    async sign(payload) {
      return new CompactSign(encoder.encode(JSON.stringify(payload)))
        .setProtectedHeader({ alg: "EdDSA", kid: keys.kid, typ: RECEIPT_TYP })
        .sign(keys.signingPrivate);
    },
    async verify(jws) {
      try {
        const result = await compactVerify(jws, keySet, { algorithms: ["EdDSA"] });
        if (result.protectedHeader.typ !== RECEIPT_TYP) return { valid: false };
        return { valid: true, payload: JSON.parse(decoder.decode(result.payload)) as unknown };
      } catch {
        return { valid: false };
      }
    },
    jwks() {
      return { keys: publicKeys.map((jwk) => ({ ...jwk })) };
    },
  };
}

/** SHA-256 hex of a compact JWS's decoded payload bytes: what a receipt tombstone keeps. */
export function payloadHash(jws: string): string {
  const part = jws.split(".")[1];
  if (part === undefined) throw new Error("not a compact JWS");
  return createHash("sha256").update(Buffer.from(part, "base64url")).digest("hex");
}
