import { describe, expect, it } from "vitest";
import { uuidv7 } from "../../src/crypto/uuid-v7.js";

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

  it("shares nothing but the time between ids of one millisecond (nothing links an agreement's ids)", () => {
    const t = Date.UTC(2026, 10, 27, 12, 0, 0);
    const ids = Array.from({ length: 4000 }, () => uuidv7(t));
    // rand_a (the 3 hex digits after the version) is random per id: about 4,096 values, not one.
    const randA = new Set(ids.map((id) => id.slice(15, 18)));
    expect(randA.size).toBeGreaterThan(2000);
    // No counter either: consecutive ids are not in order within the millisecond.
    const ordered = ids.slice(1).filter((id, i) => id > (ids[i] as string)).length;
    expect(ordered).toBeGreaterThan(1500);
    expect(ordered).toBeLessThan(2500);
  });
});
