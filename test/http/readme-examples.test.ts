/**
 * The insurer's and operator's guides are README's quick start, docs/insurer-api.md and
 * docs/operations.md: every `curl "$API/…"` example in them is run here, as written, against
 * the real server on a loopback port, and the JSON each documents after `# →` is held to what
 * the server answers. A renamed field, a changed status or a new required header fails this
 * test until the page says so too.
 */
import fs from "node:fs";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { serve } from "@hono/node-server";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, startApi } from "./harness.js";

/** The pages whose curl examples are run; together they must cover every route. */
const PAGES = ["README.md", "docs/insurer-api.md", "docs/operations.md"].map((page) =>
  fileURLToPath(new URL(`../../${page}`, import.meta.url)),
);

interface Example {
  /** The command as the page writes it, continuation lines joined. */
  command: string;
  /** The `# → …` lines that follow it, joined (empty when it documents no answer). */
  documented: string;
}

/** Every curl command of a page's ```sh blocks that calls the service (`$API`). */
function readmeCurlExamples(markdown: string): Example[] {
  const examples: Example[] = [];
  const blocks = markdown.matchAll(/^[ \t]*```sh\n([\s\S]*?)^[ \t]*```/gm);
  for (const [, body] of blocks) {
    const lines = body!.split("\n").map((l) => l.trim());
    for (let i = 0; i < lines.length; i++) {
      if (!lines[i]!.startsWith("curl ")) continue;
      let command = lines[i]!;
      while (command.endsWith("\\") && i + 1 < lines.length)
        command = `${command.slice(0, -1)} ${lines[++i]}`;
      let documented = "";
      const inline = command.indexOf(" # →");
      if (inline >= 0) {
        documented = command.slice(inline + 4);
        command = command.slice(0, inline);
      } else if (lines[i + 1]?.startsWith("# →")) {
        documented = lines[++i]!.slice(3);
        // The documented JSON goes on over comment lines until its brackets close.
        while (depth(documented) > 0 && lines[i + 1]?.startsWith("#")) documented += lines[++i]!.slice(1);
      }
      if (command.includes("$API")) examples.push({ command, documented });
    }
  }
  return examples;
}

/** Brackets left open in `text`. */
function depth(text: string): number {
  let open = 0;
  for (const c of text) open += c === "{" || c === "[" ? 1 : c === "}" || c === "]" ? -1 : 0;
  return open;
}

/**
 * Splits a shell command into words: '…' literal, "…" with \" and $VAR, $VAR unquoted, and an
 * unquoted `#` starting a comment. Enough for the pages' examples; anything else is an error.
 */
function shellWords(command: string, vars: Record<string, string>): string[] {
  const words: string[] = [];
  let word: string | undefined;
  const expand = (s: string) =>
    s.replace(/\$([A-Z_]+)/g, (_, name: string) => {
      const value = vars[name];
      if (value === undefined) throw new Error(`an example uses $${name}, which this test does not set`);
      return value;
    });
  let i = 0;
  while (i < command.length) {
    const c = command[i]!;
    if (c === " " || c === "\t") {
      if (word !== undefined) words.push(word);
      word = undefined;
      i++;
    } else if (c === "#" && word === undefined) {
      break;
    } else if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unclosed ' in: ${command}`);
      word = (word ?? "") + command.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      let text = "";
      while (j < command.length && command[j] !== '"') {
        if (command[j] === "\\" && j + 1 < command.length) j++;
        text += command[j];
        j++;
      }
      if (j >= command.length) throw new Error(`unclosed " in: ${command}`);
      // Escaped quotes were unescaped above; only $VAR needs expanding.
      word = (word ?? "") + expand(text);
      i = j + 1;
    } else {
      let j = i;
      while (j < command.length && !" \t'\"".includes(command[j]!)) j++;
      word = (word ?? "") + expand(command.slice(i, j));
      i = j;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

interface CurlRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** The request a curl command line makes (-s, -X, -H, -d: what the pages use). */
function curlRequest(words: string[]): CurlRequest {
  if (words[0] !== "curl") throw new Error(`not a curl command: ${words.join(" ")}`);
  const headers: Record<string, string> = {};
  let method: string | undefined;
  let body: string | undefined;
  let url: string | undefined;
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (w === "-s") continue;
    else if (w === "-X") method = words[++i];
    else if (w === "-H") {
      const [name, ...rest] = words[++i]!.split(":");
      headers[name!.trim().toLowerCase()] = rest.join(":").trim();
    } else if (w === "-d") body = words[++i];
    else if (w.startsWith("-")) throw new Error(`curl option ${w} is not understood by this test`);
    else url = w;
  }
  if (url === undefined) throw new Error(`no URL in: ${words.join(" ")}`);
  return { method: method ?? (body === undefined ? "GET" : "POST"), url, headers, ...(body ? { body } : {}) };
}

/** Every key and every string value anywhere in `value`. */
function namesIn(value: unknown, into = new Set<string>()): Set<string> {
  if (typeof value === "string") into.add(value);
  else if (Array.isArray(value)) for (const v of value) namesIn(v, into);
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      into.add(k);
      namesIn(v, into);
    }
  }
  return into;
}

describe("the curl examples of README and docs/, run as written", () => {
  const perPage = PAGES.map((page) => readmeCurlExamples(fs.readFileSync(page, "utf8")));
  const examples = perPage.flat();
  let api: Api;
  let server: ReturnType<typeof serve>;
  const vars: Record<string, string> = {};

  beforeAll(async () => {
    // Monday 2027-07-05, 19:30 in Shanghai: the guide's attempt (19:00 that day) falls inside
    // the window of an owner renewing on 2027-07-31.
    // The owners agree days earlier: a window opens no sooner than its consent.
    api = await startApi({ now: new Date("2027-07-01T02:00:00Z"), env: { METRICS_TOKEN: "mt_readme" } });
    const chose = await api.owner({
      phone: "+8613800138000",
      name: "Lin Mei",
      renewalDate: "2027-07-31",
      maxAttempts: 2,
      insurers: ["pingan"],
    });
    // The guide scrubs this second number and documents it as do_not_contact for the caller.
    await api.owner({ phone: "+8613900139000", renewalDate: "2027-07-31", insurers: ["picc"] });
    api.setNow(new Date("2027-07-05T11:30:00Z"));
    const window = chose.windows.find((w) => w.insurerId === "pingan")!;
    const optouts = await api.json("pingan", "GET", "/v1/optouts");
    server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: api.app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
    });
    Object.assign(vars, {
      API: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      KEY: api.creds.pingan!.apiKey,
      WINDOW: window.id,
      OPTOUT: optouts.body.data[0].id,
      JWS: chose.receipts.find((r) => r.insurerId === "pingan")!.jws,
      METRICS_TOKEN: "mt_readme",
    });
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await api.close();
  });

  it("finds examples on every page", () => {
    for (const [i, page] of PAGES.entries()) expect(perPage[i]!.length, page).toBeGreaterThan(0);
  });

  it("has an example for every route in the OpenAPI document, and for health and metrics", async () => {
    const doc = await api.json(null, "GET", "/openapi.json");
    const documented = new Set(
      examples.map(({ command }) => {
        const { method, url } = curlRequest(shellWords(command, PLACEHOLDERS));
        const path = new URL(url).pathname.replace(/\/(W|O)(?=\/|$)/, "/{id}");
        return `${method} ${path}`;
      }),
    );
    const routes = ["GET /healthz", "GET /metrics", "GET /openapi.json"];
    for (const [path, ops] of Object.entries(doc.body.paths as Record<string, object>)) {
      for (const method of Object.keys(ops)) routes.push(`${method.toUpperCase()} ${path}`);
    }
    expect(routes.length).toBeGreaterThanOrEqual(13);
    for (const route of routes)
      expect(documented, `README or docs/ has a curl example for ${route}`).toContain(route);
  });

  it("answers every example with success and the fields the page shows", async () => {
    expect(examples.length).toBeGreaterThanOrEqual(13);
    for (const { command, documented } of examples) {
      const req = curlRequest(shellWords(command, vars));
      const res = await request(req.url, {
        method: req.method as "GET" | "POST",
        headers: req.headers,
        ...(req.body === undefined ? {} : { body: req.body }),
      });
      const text = await res.body.text();
      expect(res.statusCode, `${command}\n→ ${text}`).toBeGreaterThanOrEqual(200);
      expect(res.statusCode, `${command}\n→ ${text}`).toBeLessThan(300);
      if (documented === "") continue;
      // Each quoted word the page shows (a field, or a value such as "open") is in the answer.
      const answer = namesIn(JSON.parse(text));
      for (const [, name] of documented.matchAll(/"(\w+)"/g)) {
        expect(answer.has(name!), `${command}: the page shows "${name}", the answer is ${text}`).toBe(true);
      }
      // Literal values the page shows ("remaining":1, "status":"ok") are the ones answered.
      for (const [, key, literal] of documented.matchAll(/"(\w+)":(\d+|true|false|"\w+")/g)) {
        expect(text, `${command}: the page shows "${key}":${literal}`).toContain(`"${key}":${literal}`);
      }
    }
  });
});

/** Stand-ins for the route check, which only reads paths. */
const PLACEHOLDERS = {
  API: "http://api.test",
  KEY: "k",
  WINDOW: "W",
  OPTOUT: "O",
  JWS: "j",
  METRICS_TOKEN: "m",
};
