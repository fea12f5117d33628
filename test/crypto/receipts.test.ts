import { createHash, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { compactVerify, createLocalJWKSet, decodeProtectedHeader } from "jose";
import { afterAll, describe, expect, it } from "vitest";
import { type Keys, loadKeys } from "../../src/crypto/keys.js";
import { createReceiptSigner, payloadHash } from "../../src/crypto/receipts.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "onewindow-receipts-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function freshKeys(): Promise<Keys> {
  const pem = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  return loadKeys({ keysDir: dir, dataKey: Buffer.alloc(32, 7).toString("base64url"), signingKey: pem });
}

const payload = { receiptId: "r1", insurerId: "pingan", agreedAt: "2026-06-01T08:00:00.000Z" };

describe("consent receipts", () => {
  it("signs a compact EdDSA JWS with kid and typ that verifies to the payload", async () => {
    const keys = await freshKeys();
    const signer = createReceiptSigner(keys);
    const jws = await signer.sign(payload);
    expect(jws.split(".")).toHaveLength(3);
    expect(decodeProtectedHeader(jws)).toEqual({ alg: "EdDSA", kid: keys.kid, typ: "consent-receipt+jws" });
    expect(await signer.verify(jws)).toEqual({ valid: true, payload });
  });

  it("verifies with nothing but the published JWKS and a standard library", async () => {
    const keys = await freshKeys();
    const signer = createReceiptSigner(keys);
    const jwks = JSON.parse(JSON.stringify(signer.jwks())) as ReturnType<typeof signer.jwks>;
    expect(jwks.keys.map((k) => k.kid)).toContain(keys.kid);
    expect(jwks.keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
    expect(jwks.keys[0]).not.toHaveProperty("d");
    const result = await compactVerify(await signer.sign(payload), createLocalJWKSet(jwks));
    expect(JSON.parse(new TextDecoder().decode(result.payload))).toEqual(payload);
  });

  it("rejects a tampered payload, a foreign signature and garbage", async () => {
    const signer = createReceiptSigner(await freshKeys());
    const jws = await signer.sign(payload);
    const [header, , signature] = jws.split(".");
    const forged = Buffer.from(JSON.stringify({ ...payload, insurerId: "cpic" })).toString("base64url");
    expect(await signer.verify(`${header}.${forged}.${signature}`)).toEqual({ valid: false });
    const foreign = await createReceiptSigner(await freshKeys()).sign(payload);
    expect((await signer.verify(foreign)).valid).toBe(false);
    expect((await signer.verify("not.a.jws")).valid).toBe(false);
    expect((await signer.verify("")).valid).toBe(false);
  });

  it("still verifies receipts signed with a retired key listed in previousPublicJwks", async () => {
    const old = await freshKeys();
    const oldJws = await createReceiptSigner(old).sign(payload);
    const current = await freshKeys();
    const signer = createReceiptSigner(current, { previousPublicJwks: [old.signingPublicJwk] });
    expect(await signer.verify(oldJws)).toEqual({ valid: true, payload });
    expect(signer.jwks().keys.map((k) => k.kid)).toEqual([current.kid, old.kid]);
    expect((await createReceiptSigner(current).verify(oldJws)).valid).toBe(false);
  });

  it("hashes the decoded payload bytes", async () => {
    const jws = await createReceiptSigner(await freshKeys()).sign(payload);
    const expected = createHash("sha256").update(JSON.stringify(payload)).digest("hex");
    expect(payloadHash(jws)).toBe(expected);
  });
});
