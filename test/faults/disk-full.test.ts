/**
 * A full disk (issue 20 point 5), for real: the service's DATA_DIR on a small tmpfs that a filler
 * file then fills. Writes answer 503 `storage_unavailable` with Retry-After, /healthz says the
 * store cannot write, the owner's "I agree" keeps its button with a clear word, and everything
 * works again — without a restart — once space is freed. Needs permission to mount a tmpfs
 * (root, as on CI); skipped with the reason otherwise.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpApp } from "../../src/http/create-http-app.js";
import { toSummary } from "../bot/flow.js";
import { type BotHarness, startBotHarness } from "../support/bot-harness.js";

function mountTmpfs(sizeKb: number): string | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ow-full-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeKb}k`, "tmpfs", dir], { stdio: "ignore" });
    return dir;
  } catch {
    fs.rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

const mounted = mountTmpfs(16 * 1024);

/** Fills the file system at `dir` to the last byte. */
function fill(dir: string): string {
  const filler = path.join(dir, "filler");
  const fd = fs.openSync(filler, "w");
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch {
    // ENOSPC: full. Smaller writes take the last blocks.
    for (let size = 32 * 1024; size >= 1; size = Math.floor(size / 2)) {
      try {
        for (;;) fs.writeSync(fd, chunk.subarray(0, size));
      } catch {}
    }
  } finally {
    fs.closeSync(fd);
  }
  return filler;
}

describe.skipIf(!mounted)(
  mounted
    ? "a full disk under the service"
    : "a full disk under the service (skipped: cannot mount a tmpfs here)",
  () => {
    let h: BotHarness;
    beforeAll(async () => {
      h = await startBotHarness({ dir: mounted! });
    });
    afterAll(async () => {
      await h.close();
      execFileSync("umount", [mounted!]);
      fs.rmSync(mounted!, { recursive: true, force: true });
    });

    it("answers 503 storage_unavailable, keeps the owner's button, and recovers once space is freed", async () => {
      const u = h.user(7001);
      await toSummary(u, ["pingan"]);
      const summaryId = h.fake.sent(7001).at(-1)?.messageId;
      const api = createHttpApp(h.services);
      expect((await api.request("/healthz")).status).toBe(200);
      const { apiKey } = await h.services.insurers.add({ id: "acme", name: "Acme", contact: "400-000-0001" });
      const scrub = () =>
        api.request("/v1/scrub", {
          method: "POST",
          headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
          body: JSON.stringify({ numbers: ["+8613812345678"] }),
        });
      expect((await scrub()).status).toBe(200);

      // The WAL emptied first, so the next write has to grow a file on a disk with no room.
      const side = new Database(path.join(mounted!, "data", "onewindow.db"));
      side.pragma("wal_checkpoint(TRUNCATE)");
      side.close();
      const filler = fill(mounted!);
      await new Promise((r) => setTimeout(r, 1100)); // the health probe's answer lasts a second

      const health = await api.request("/healthz");
      expect(health.status).toBe(503);
      expect(await health.json()).toEqual({ status: "unavailable", store: "cannot_write" });

      // A scrub records its quota and hits: a write, refused as temporary, never "internal".
      const refused = await scrub();
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("5");
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("storage_unavailable");

      const before = h.fake.calls.length;
      const tapped = u.texts(await u.press("ob:agree", summaryId));
      expect(tapped).toContain("I could not save that just now");
      // The summary keeps its "I agree": no call took its buttons away.
      const removed = h.fake.calls
        .slice(before)
        .filter((c) => c.method === "editMessageReplyMarkup" && c.payload.message_id === summaryId);
      expect(removed).toEqual([]);
      expect(await stateConsent(h, 7001)).toBeUndefined();

      // Space again: the same button works, without a restart.
      fs.rmSync(filler);
      await new Promise((r) => setTimeout(r, 1100)); // the health probe's answer lasts a second
      expect((await api.request("/healthz")).status).toBe(200);
      expect((await scrub()).status).toBe(200);
      const agreed = u.texts(await u.press("ob:agree", summaryId));
      expect(agreed).toContain("Done");
      expect(await stateConsent(h, 7001)).toBeTruthy();
    });
  },
);

async function stateConsent(h: BotHarness, telegramId: number) {
  const owner = await h.services.store.getOwnerByTelegramId(telegramId);
  return owner ? (await h.services.store.getOwnerState(owner.id)).consent : undefined;
}
