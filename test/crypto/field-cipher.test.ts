import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createFieldCipher } from "../../src/crypto/field-cipher.js";

const cipher = createFieldCipher(randomBytes(32));

function flip(token: string, part: number): string {
  const parts = token.split(".");
  const bytes = Buffer.from(parts[part] ?? "", "base64url");
  bytes[0] = (bytes[0] ?? 0) ^ 1;
  parts[part] = bytes.toString("base64url");
  return parts.join(".");
}

describe("field cipher", () => {
  it("round-trips any text, with a fresh IV every time", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (plain) => {
        const token = cipher.encrypt(plain);
        expect(token).toMatch(/^v1\.[\w-]{16}\.[\w-]*\.[\w-]{22}$/);
        expect(cipher.decrypt(token)).toBe(plain);
      }),
    );
    expect(cipher.encrypt("+8613812345678")).not.toBe(cipher.encrypt("+8613812345678"));
    expect(cipher.encrypt("+8613812345678")).not.toContain("13812345678");
  });

  it("rejects a tampered IV, ciphertext or tag", () => {
    const token = cipher.encrypt("+8613812345678");
    for (const part of [1, 2, 3]) expect(() => cipher.decrypt(flip(token, part))).toThrow();
    expect(() => cipher.decrypt(token.replace(/^v1/, "v2"))).toThrow();
    expect(() => cipher.decrypt("not a token")).toThrow();
  });

  it("cannot be read with another data key", () => {
    const token = cipher.encrypt("secret");
    expect(() => createFieldCipher(randomBytes(32)).decrypt(token)).toThrow();
  });

  it("hashes deterministically, separately per purpose and per key", () => {
    const phone = "+8613812345678";
    expect(cipher.hash(phone)).toMatch(/^[0-9a-f]{64}$/);
    expect(cipher.hash(phone)).toBe(cipher.hash(phone, "phone"));
    expect(cipher.hash(phone)).not.toBe(cipher.hash("+8613812345679"));
    expect(cipher.hash(phone, "session")).not.toBe(cipher.hash(phone, "phone"));
    expect(createFieldCipher(randomBytes(32)).hash(phone)).not.toBe(cipher.hash(phone));
    const sameKey = randomBytes(32);
    expect(createFieldCipher(sameKey).hash(phone)).toBe(createFieldCipher(Buffer.from(sameKey)).hash(phone));
  });

  it("refuses a data key that is not 32 bytes", () => {
    expect(() => createFieldCipher(randomBytes(16))).toThrow();
  });
});
