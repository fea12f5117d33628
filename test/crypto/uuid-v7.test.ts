import { describe, expect, it } from "vitest";
import { uuidv7, uuidv7Group } from "../../src/crypto/uuid-v7.js";

describe("uuidv7", () => {
  it("is a version-7 RFC 9562 UUID carrying its millisecond time", () => {
    const t = Date.UTC(2026, 10, 27, 12, 0, 0);
    const id = uuidv7(t);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16)).toBe(t);
  });

  it("sorts by creation time across milliseconds, and never repeats", () => {
    const ids = Array.from({ length: 2000 }, (_, i) => uuidv7(1_800_000_000_000 + i));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(Array.from({ length: 10_000 }, () => uuidv7())).size).toBe(10_000);
  });

  it("gives one changeset's ids one random prefix and each its own 62 random bits", () => {
    const t = Date.UTC(2026, 10, 27, 12, 0, 0);
    const group = uuidv7Group();
    const ids = Array.from({ length: 1000 }, () => group(t));
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // Time, version and rand_a shared; the rest unique.
    expect(new Set(ids.map((id) => id.slice(0, 18))).size).toBe(1);
    expect(new Set(ids).size).toBe(1000);
    // Another group in the same millisecond: another rand_a (1 in 4,096 alike; 20 groups here).
    const prefixes = new Set(Array.from({ length: 20 }, () => uuidv7Group()(t).slice(0, 18)));
    expect(prefixes.size).toBeGreaterThan(15);
    // Across milliseconds the time still leads.
    expect(group(t + 1) > group(t)).toBe(true);
  });
});
