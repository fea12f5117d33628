/**
 * findMentions keeps each directory's terms and expressions between calls (names.ts): a
 * directory that changed in any name, alias or id must be read as it is now, never as a
 * directory read before.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { DirectoryEntry } from "../../src/nlu/extractor.js";
import { readWithRules } from "../../src/nlu/rules/index.js";
import { findMentions } from "../../src/nlu/rules/names.js";
import { correctTypos, editDistance, withinOneEdit } from "../../src/nlu/rules/text.js";

const base = (): DirectoryEntry[] => [
  { id: "pingan", name: "Ping An", aliases: ["平安"] },
  { id: "picc", name: "PICC", aliases: ["人保"] },
  { id: "acme", name: "Acme Insurance", aliases: ["阳光保险"] },
];
const ids = (text: string, directory: DirectoryEntry[]) =>
  findMentions(text, directory).map((m) => m.id ?? m.candidates);

describe("findMentions with a directory that changes between calls", () => {
  it("reads a fresh array of the same directory as before", () => {
    expect(ids("Ping An and PICC", base())).toEqual(["pingan", "picc"]);
    expect(ids("Ping An and PICC", base())).toEqual(["pingan", "picc"]);
  });

  it("finds an insurer added, and no longer one removed", () => {
    expect(ids("Allianz called", base())).toEqual([]);
    const added = [...base(), { id: "allianz", name: "Allianz", aliases: [] }];
    expect(ids("Allianz called", added)).toEqual(["allianz"]);
    expect(
      ids(
        "PICC called",
        base().filter((e) => e.id !== "picc"),
      ),
    ).toEqual([]);
    expect(ids("PICC called", base())).toEqual(["picc"]);
  });

  it("follows a renamed insurer, a new alias, and the same names under another id", () => {
    const renamed = base().map((e) => (e.id === "picc" ? { ...e, name: "People's Insurance" } : e));
    expect(ids("PICC called", renamed)).toEqual([]);
    expect(ids("People's Insurance called", renamed)).toEqual(["picc"]);
    const alias = base().map((e) => (e.id === "picc" ? { ...e, aliases: ["人保", "PICC P&C"] } : e));
    expect(ids("PICC P&C called", alias)).toEqual(["picc"]);
    const moved = base().map((e) => (e.id === "picc" ? { ...e, id: "picc2" } : e));
    expect(ids("PICC called", moved)).toEqual(["picc2"]);
    // Names that run together under one key must not collide: ["ab","c"] is not ["a","bc"].
    const one = [{ id: "x", name: "Abcd", aliases: ["Efgh"] }];
    const two = [{ id: "x", name: "Abcd Efgh", aliases: [] }];
    expect(ids("Efgh called", one)).toEqual(["x"]);
    expect(ids("Efgh called", two)).toEqual([]);
  });

  it("finds a part newly shared by two insurers as ambiguous, and hands out its own candidates", () => {
    expect(ids("Acme called", base())).toEqual(["acme"]);
    const shared = [...base(), { id: "acme-life", name: "Acme Life Insurance", aliases: [] }];
    const first = findMentions("Acme called", shared);
    expect(first.map((m) => m.candidates)).toEqual([["acme", "acme-life"]]);
    first[0]?.candidates?.push("changed by a caller");
    expect(findMentions("Acme called", shared).map((m) => m.candidates)).toEqual([["acme", "acme-life"]]);
  });

  it("reads many directories in turn (more than it keeps) as each one is", () => {
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 40; i++) {
        const directory = [...base(), { id: `extra${i}`, name: `Extraco${i} Insurance`, aliases: [] }];
        expect(ids(`Extraco${i} and PICC`, directory)).toEqual([`extra${i}`, "picc"]);
      }
    }
  });

  it("finds nothing in an empty directory, and nothing in text that names no insurer", () => {
    expect(findMentions("PICC called", [])).toEqual([]);
    expect(findMentions("", [])).toEqual([]);
    expect(findMentions("what happens to my data?", base())).toEqual([]);
  });

  it("gives the rules' reading with the directory of the moment", () => {
    const today = "2026-12-01";
    const before = readWithRules({ text: "Allianz called me yesterday", today, directory: base() });
    expect(before.report?.insurer).toBeUndefined();
    const added = [...base(), { id: "allianz", name: "Allianz", aliases: [] }];
    const after = readWithRules({ text: "Allianz called me yesterday", today, directory: added });
    expect(after.report?.insurer).toBe("allianz");
  });
});

describe("withinOneEdit (the typo mender's test)", () => {
  it("agrees with editDistance(a, b, 1) <= 1", () => {
    const word = fc.string({ unit: fc.constantFrom("a", "b", "c", "d"), maxLength: 8 });
    fc.assert(
      fc.property(word, word, (a, b) => withinOneEdit(a, b) === editDistance(a, b, 1) <= 1),
      { numRuns: 5000 },
    );
    for (const [a, b, want] of [
      ["weekdays", "wekdays", true],
      ["weekdays", "weekdasy", true],
      ["weekdays", "weekdayss", true],
      ["weekdays", "veekdays", true],
      ["weekdays", "wkeedays", false],
      ["weekdays", "weekend", false],
      ["", "a", true],
      ["ab", "ba", true],
    ] as const) {
      expect(withinOneEdit(a, b), `${a} ${b}`).toBe(want);
      expect(withinOneEdit(b, a), `${b} ${a}`).toBe(want);
    }
  });

  it("still mends the typos it mended", () => {
    expect(correctTypos("wekdays evenigs tomorow telegarm")).toBe("weekdays evenings tomorrow telegram");
    expect(correctTypos("mourning weekly")).toBe("mourning weekly");
  });
});
