/**
 * docs/insurer-api.md's "Verify in Node" receiver, run as written (only its port changed) in a child
 * process, and fed what our dispatcher's signer sends: a genuine notice is verified and handled
 * once even when retried under the same `webhook-id`; a forged or altered one is refused.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateWebhookSecret } from "../../src/crypto/api-key.js";
import { createWebhookSigner, serializeBody } from "../../src/delivery/webhook-signer.js";
import { ROOT } from "../support/cli.js";
import { freePort } from "../support/ports.js";

/** The first ```js block after docs/insurer-api.md's "Verify in Node" line. */
function readmeReceiver(): string {
  const readme = fs.readFileSync(path.join(ROOT, "docs", "insurer-api.md"), "utf8");
  const from = readme.indexOf("Verify in Node");
  expect(from, "docs/insurer-api.md has a 'Verify in Node' example").toBeGreaterThan(0);
  const block = /```js\n([\s\S]*?)```/.exec(readme.slice(from));
  expect(block, "the 'Verify in Node' example is a ```js block").not.toBeNull();
  return block![1]!;
}

describe("the insurer guide's webhook receiver example", () => {
  const secret = generateWebhookSecret();
  const sign = createWebhookSigner();
  let dir: string;
  let child: ChildProcess;
  let url: string;
  let output = "";

  beforeAll(async () => {
    const source = readmeReceiver();
    expect(source, "the example listens on port 3000").toContain(".listen(3000)");
    const port = await freePort();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ow-readme-receiver-"));
    // The example imports standardwebhooks as an insurer's project would: from its node_modules.
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
    fs.writeFileSync(path.join(dir, "receiver.mjs"), source.replace(".listen(3000)", `.listen(${port})`));
    child = spawn(process.execPath, ["receiver.mjs"], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", ONEWINDOW_WEBHOOK_SECRET: secret },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    url = `http://127.0.0.1:${port}/onewindow`;
    // Until it listens (a refused connection means not yet).
    for (let i = 0; ; i++) {
      try {
        await request(url, { method: "GET" }).then((r) => r.body.dump());
        break;
      } catch (err) {
        if (i > 100 || child.exitCode !== null)
          throw new Error(`receiver did not start: ${output}`, { cause: err });
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });
  afterAll(() => {
    child?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function send(webhookId: string, payload: string, headers?: Record<string, string>) {
    const res = await request(url, {
      method: "POST",
      headers: {
        ...sign(secret, webhookId, new Date(), payload),
        "content-type": "application/json",
        ...headers,
      },
      body: payload,
    });
    await res.body.dump();
    return res.statusCode;
  }

  /** Lines the receiver printed so far (it prints "<type> <id>" once per new notice). */
  async function printed(): Promise<string[]> {
    await new Promise((r) => setTimeout(r, 100));
    return output.split("\n").filter(Boolean);
  }

  it("accepts our signed notices and handles a retried one once", async () => {
    const opened = serializeBody({
      type: "window.opened",
      timestamp: new Date().toISOString(),
      data: { id: "win_1", insurerId: "pingan" },
    });
    const filed = serializeBody({
      type: "optout.filed",
      timestamp: new Date().toISOString(),
      data: { id: "opt_1", insurerId: "pingan", matchKey: "ab".repeat(32) },
    });
    expect(await send("msg_a", opened)).toBe(204);
    expect(await send("msg_b", filed)).toBe(204);
    // A retry: same webhook-id and body, a later timestamp header.
    expect(await send("msg_a", opened)).toBe(204);
    expect(await printed()).toEqual(["window.opened win_1", "optout.filed opt_1"]);
  });

  it("refuses a body changed after signing, another secret's signature, and a stale timestamp", async () => {
    const body = serializeBody({
      type: "optout.filed",
      timestamp: new Date().toISOString(),
      data: { id: "opt_2" },
    });
    const before = (await printed()).length;
    const altered = sign(secret, "msg_c", new Date(), body);
    const res = await request(url, {
      method: "POST",
      headers: { ...altered, "content-type": "application/json" },
      body: body.replace("opt_2", "opt_3"),
    });
    await res.body.dump();
    expect(res.statusCode).toBe(400);
    const forged = createWebhookSigner()(generateWebhookSecret(), "msg_d", new Date(), body);
    expect(await send("msg_d", body, forged as unknown as Record<string, string>)).toBe(400);
    const stale = sign(secret, "msg_e", new Date(Date.now() - 3_600_000), body);
    expect(await send("msg_e", body, stale as unknown as Record<string, string>)).toBe(400);
    expect((await printed()).length).toBe(before);
  });
});
