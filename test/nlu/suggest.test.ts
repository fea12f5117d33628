import { describe, expect, it } from "vitest";
import { suggestInsurers } from "../../src/nlu/suggest.js";
import { directory } from "./fixtures/directory.js";

const ids = (text: string, max?: number) => suggestInsurers(text, directory, max).map((e) => e.id);

describe("suggestInsurers", () => {
  it("offers the insurer a misspelt Latin name is closest to", () => {
    expect(ids("Ping Ann")).toEqual(["pingan"]);
    expect(ids("Alianz")).toEqual(["allianz"]);
    expect(ids("China Pacifc Insurance")).toEqual(["cpic"]);
  });

  it("finds a Chinese alias inside a longer company name", () => {
    expect(ids("太平洋保险公司")).toEqual(["cpic"]);
    expect(ids("中国人保财险")).toEqual(["picc"]);
  });

  it("ranks the closest first and honours max", () => {
    expect(ids("PIC")[0]).toBe("picc");
    expect(ids("PIC", 1)).toEqual(["picc"]);
    expect(ids("PIC", 0)).toEqual([]);
  });

  it("offers nothing for text that names no insurer", () => {
    expect(ids("asdf qwerty")).toEqual([]);
    expect(ids("")).toEqual([]);
    expect(ids("人寿保险")).toEqual([]);
  });
});
