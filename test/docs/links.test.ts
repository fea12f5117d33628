/**
 * README.md, CONTRIBUTING.md and docs/ are read in a clone, offline: every link must resolve to
 * a file in the repository, and none may leave it (a web address, or ../shared beside the
 * checkout, is broken for whoever reads the clone).
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/cli.js";

/** The Markdown pages a reader of the repository opens. */
function pages(): string[] {
  const docs = fs
    .readdirSync(path.join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => path.join("docs", f));
  return ["README.md", "CONTRIBUTING.md", ...docs];
}

/**
 * Link targets of a Markdown page: `[text](target)`, `![alt](target)`, and bare web addresses
 * (which renderers turn into links); code blocks and code spans left out.
 */
function linkTargets(markdown: string): string[] {
  const prose = markdown.replace(/^[ \t]*```[\s\S]*?^[ \t]*```/gm, "").replace(/`[^`\n]*`/g, "");
  const linked = [...prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
  const bare = [...prose.replace(/\]\([^)]*\)/g, "]").matchAll(/\bhttps?:\/\/[^\s)>\]]+/g)].map((m) => m[0]);
  return [...linked, ...bare];
}

/** Why `target`, linked from `page`, is broken; undefined when it resolves inside the repository. */
function brokenLink(page: string, target: string, exists: (p: string) => boolean): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return "leaves the repository";
  const file = target.split("#")[0]!;
  if (file === "") return undefined; // an anchor on the same page
  const resolved = path.normalize(path.join(path.dirname(page), decodeURI(file)));
  if (resolved.startsWith("..") || path.isAbsolute(resolved)) return "points outside the repository";
  return exists(resolved) ? undefined : `no such file: ${resolved}`;
}

describe("documentation links", () => {
  it("finds the front door and the docs pages", () => {
    const found = pages();
    for (const page of ["README.md", "CONTRIBUTING.md", "docs/design.md", "docs/insurer-api.md"]) {
      expect(found).toContain(page);
    }
  });

  it("resolves every link of README, CONTRIBUTING and docs/ to a file in the repository", () => {
    const exists = (p: string) => fs.existsSync(path.join(ROOT, p));
    const broken: string[] = [];
    let links = 0;
    for (const page of pages()) {
      for (const target of linkTargets(fs.readFileSync(path.join(ROOT, page), "utf8"))) {
        links++;
        const why = brokenLink(page, target, exists);
        if (why) broken.push(`${page}: (${target}) ${why}`);
      }
    }
    expect(broken).toEqual([]);
    expect(links).toBeGreaterThan(10);
  });

  it("refuses the kinds of link that break in a clone", () => {
    const exists = (p: string) => p === "docs/design.md" || p === "README.md";
    expect(brokenLink("README.md", "docs/design.md", exists)).toBeUndefined();
    expect(brokenLink("docs/privacy.md", "design.md#9-privacy", exists)).toBeUndefined();
    expect(brokenLink("docs/privacy.md", "../README.md", exists)).toBeUndefined();
    expect(brokenLink("README.md", "#run-it", exists)).toBeUndefined();
    expect(brokenLink("README.md", "../shared/DESIGN.md", exists)).toBe("points outside the repository");
    expect(brokenLink("README.md", "https://www.standardwebhooks.com/", exists)).toBe(
      "leaves the repository",
    );
    expect(brokenLink("README.md", "docs/missing.md", exists)).toBe("no such file: docs/missing.md");
    expect(
      linkTargets(
        "see [a](x.md), `[b](y.md)` and\n```\n[c](z.md)\n```\n  ```sh\n  [e](w.md)\n  ```\n![d](p.png)",
      ),
    ).toEqual(["x.md", "p.png"]);
    expect(linkTargets("read https://example.com/x, not `http://127.0.0.1:8080`")).toEqual([
      "https://example.com/x,",
    ]);
  });
});
