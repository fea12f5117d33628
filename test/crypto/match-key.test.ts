import { createHmac, hkdfSync, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createFieldCipher } from "../../src/crypto/field-cipher.js";
import { createMatchKeys } from "../../src/crypto/match-key.js";

const PHONE = "+8613812345678";

describe("match keys", () => {
  const dataKey = randomBytes(32);
  const matchKey = createMatchKeys(dataKey);

  it("follows DESIGN §6: HMAC-SHA256 under a key derived from DATA_KEY and the insurer id", () => {
    const kInsurer = Buffer.from(
      hkdfSync("sha256", dataKey, Buffer.alloc(0), "onewindow match-key v1|pingan", 32),
    );
    const expected = createHmac("sha256", kInsurer).update(PHONE).digest("hex");
    expect(matchKey("pingan", PHONE)).toBe(expected);
  });

  it("is stable for one insurer and unrelated across insurers", () => {
    expect(matchKey("pingan", PHONE)).toBe(createMatchKeys(Buffer.from(dataKey))("pingan", PHONE));
    expect(matchKey("pingan", PHONE)).not.toBe(matchKey("cpic", PHONE));
    expect(matchKey("pingan", PHONE)).not.toBe(matchKey("pingan", "+8613812345679"));
    expect(createMatchKeys(randomBytes(32))("pingan", PHONE)).not.toBe(matchKey("pingan", PHONE));
  });

  it("differs from the internal phone hash", () => {
    expect(matchKey("phone", PHONE)).not.toBe(createFieldCipher(dataKey).hash(PHONE));
  });
});
