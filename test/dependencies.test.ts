/**
 * Nothing unused (issue 16): every dependency and devDependency in package.json is imported by
 * src/, bench/, test/ or bin/, or — for a tool — run by a package.json script or named by a
 * config file. A package nothing uses fails this test: remove it with `npm uninstall`.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

interface PackageJson {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  scripts?: Record<string, string>;
}

/** What the repository holds: source files (path → text) and config files (name → text). */
interface Evidence {
  sources: Record<string, string>;
  configs: Record<string, string>;
}

const ROOT = path.resolve(import.meta.dirname, "..");
const SOURCE_DIRS = ["src", "bench", "test", "bin"];
const SOURCE_EXT = /\.(?:ts|js|mjs|cjs)$/;
const CONFIG_FILES = ["tsconfig.json", "biome.json", "vitest.config.ts"];

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** `from "name"`, `from "name/sub"`, `import("name…")`, `require("name")`, `import "name"`. */
function importPattern(name: string): RegExp {
  return new RegExp(
    `(?:\\bfrom\\s*|\\bimport\\s*\\(\\s*|\\brequire\\s*\\(\\s*|\\bimport\\s+)["']${escapeRegExp(name)}(?:/[^"']*)?["']`,
  );
}

/** A command in a script: the binary at the start or after a shell separator. */
const runsBinary = (pkg: PackageJson, binary: string) =>
  Object.values(pkg.scripts ?? {}).some((script) =>
    new RegExp(`(?:^|[\\s;&|(])${escapeRegExp(binary)}(?=\\s|$)`).test(script),
  );

type Check = (pkg: PackageJson, evidence: Evidence, imported: (name: string) => boolean) => boolean;

/** Packages used as tools rather than imported, and what counts as their use. */
const TOOL_EVIDENCE: Record<string, Check> = {
  "@biomejs/biome": (pkg) => runsBinary(pkg, "biome"),
  typescript: (pkg) => runsBinary(pkg, "tsc"),
  vitest: (pkg, _e, imported) => runsBinary(pkg, "vitest") || imported("vitest"),
  tsx: (pkg, _e, imported) => runsBinary(pkg, "tsx") || imported("tsx"),
  "@types/node": (_pkg, evidence) =>
    /"types"\s*:\s*\[[^\]]*"node"/.test(evidence.configs["tsconfig.json"] ?? "") ||
    Object.values(evidence.sources).some((text) => /["']node:[a-z_/]+["']/.test(text)),
};

/** `@types/foo` → `foo`, `@types/scope__pkg` → `@scope/pkg`. */
function typedPackage(name: string): string {
  const bare = name.slice("@types/".length);
  return bare.includes("__") ? `@${bare.replace("__", "/")}` : bare;
}

/** The dependency names (both lists) that nothing in `evidence` uses, sorted. */
function unusedDependencies(pkg: PackageJson, evidence: Evidence): string[] {
  const texts = [...Object.values(evidence.sources), ...Object.values(evidence.configs)];
  const imported = (name: string) => {
    const pattern = importPattern(name);
    return texts.some((text) => pattern.test(text));
  };
  const names = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})];
  return names
    .filter((name) => {
      const tool = TOOL_EVIDENCE[name];
      if (tool) return !tool(pkg, evidence, imported);
      if (name.startsWith("@types/")) return !imported(typedPackage(name));
      return !imported(name);
    })
    .sort();
}

function walk(dir: string, out: Record<string, string>): void {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules") walk(full, out);
    } else if (SOURCE_EXT.test(entry.name)) {
      out[path.relative(ROOT, full)] = fs.readFileSync(full, "utf8");
    }
  }
}

/** The repository's sources and configs (without this file, whose examples must not count). */
function repositoryEvidence(): Evidence {
  const sources: Record<string, string> = {};
  for (const dir of SOURCE_DIRS) walk(path.join(ROOT, dir), sources);
  delete sources[path.relative(ROOT, import.meta.filename)];
  const configs: Record<string, string> = {};
  for (const file of CONFIG_FILES) {
    const full = path.join(ROOT, file);
    if (fs.existsSync(full)) configs[file] = fs.readFileSync(full, "utf8");
  }
  return { sources, configs };
}

const readPackage = (): PackageJson =>
  JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as PackageJson;

describe("dependencies", () => {
  it("are all used by src, bench, test, bin, a script or a config file", () => {
    expect(unusedDependencies(readPackage(), repositoryEvidence())).toEqual([]);
  });

  it("fails for a dependency nothing uses", () => {
    const pkg = readPackage();
    const withFake = { ...pkg, dependencies: { ...pkg.dependencies, "left-pad": "^1.3.0" } };
    expect(unusedDependencies(withFake, repositoryEvidence())).toEqual(["left-pad"]);
    const devFake = { ...pkg, devDependencies: { ...pkg.devDependencies, "left-pad": "^1.3.0" } };
    expect(unusedDependencies(devFake, repositoryEvidence())).toEqual(["left-pad"]);
  });

  it("counts static, subpath, dynamic, side-effect and require imports, nothing else", () => {
    const pkg = { dependencies: { a: "1", "@s/b": "1", c: "1", d: "1", e: "1", f: "1" } };
    const sources = {
      "src/x.ts": [
        'import { x } from "a";',
        'import type { Y } from "@s/b/sub/path.js";',
        'const c = await import("c");',
        'import "d";',
        'const e = require("e");',
        '// mentions f, "f-extra" and "f/" without importing them: import { f } from "f-extra";',
      ].join("\n"),
    };
    expect(unusedDependencies(pkg, { sources, configs: {} })).toEqual(["f"]);
  });

  it("counts a tool only when a script runs it, and @types/* only with its package", () => {
    const pkg: PackageJson = {
      dependencies: { "better-sqlite3": "1" },
      devDependencies: {
        "@biomejs/biome": "1",
        typescript: "1",
        "@types/better-sqlite3": "1",
        "@types/left-pad": "1",
        "@types/node": "1",
      },
      scripts: { lint: "biome check . && tsc --noEmit" },
    };
    const used = { sources: { "src/db.ts": 'import Database from "better-sqlite3";' }, configs: {} };
    expect(unusedDependencies(pkg, used)).toEqual(["@types/left-pad", "@types/node"]);
    expect(unusedDependencies({ ...pkg, scripts: { lint: "eslint ." } }, used)).toEqual([
      "@biomejs/biome",
      "@types/left-pad",
      "@types/node",
      "typescript",
    ]);
    const withNode = {
      sources: { ...used.sources, "src/f.ts": 'import fs from "node:fs";' },
      configs: {},
    };
    expect(unusedDependencies(pkg, withNode)).toEqual(["@types/left-pad"]);
    const viaTsconfig = {
      ...used,
      configs: { "tsconfig.json": '{ "compilerOptions": { "types": ["node"] } }' },
    };
    expect(unusedDependencies(pkg, viaTsconfig)).toEqual(["@types/left-pad"]);
  });
});
