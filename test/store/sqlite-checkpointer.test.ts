/**
 * The background WAL checkpointer that `serve` runs on SQLite: a commit's pages reach the
 * database file without any commit checkpointing them itself. Real file, real thread.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it, vi } from "vitest";
import { startCheckpointer } from "../../src/store/sqlite/checkpointer.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "onewindow-ckpt-"));
  dirs.push(dir);
  return path.join(dir, "onewindow.db");
}

const logger = { warn: vi.fn() };

describe("SQLite checkpointer thread", () => {
  it("copies committed pages from the WAL into the database file while commits never do", async () => {
    const file = tempFile();
    const db = new Database(file);
    db.pragma("journal_mode = WAL");
    // This connection's commits never checkpoint: only the thread can move pages.
    db.pragma("wal_autocheckpoint = 0");
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)");
    db.pragma("wal_checkpoint(TRUNCATE)");
    const before = fs.statSync(file).size;
    const insert = db.prepare("INSERT INTO t (body) VALUES (?)");
    db.transaction(() => {
      for (let i = 0; i < 2000; i++) insert.run("x".repeat(500));
    })();
    expect(fs.statSync(`${file}-wal`).size).toBeGreaterThan(1_000_000);
    expect(fs.statSync(file).size).toBe(before);

    const checkpointer = startCheckpointer(file, { intervalMs: 20, logger });
    await checkpointer.ready;
    await vi.waitFor(() => expect(fs.statSync(file).size).toBeGreaterThan(before + 1_000_000), {
      timeout: 5000,
      interval: 20,
    });
    // Readers see everything throughout; the writer goes on writing.
    expect(db.prepare("SELECT COUNT(*) FROM t").pluck().get()).toBe(2000);
    insert.run("after");
    const started = Date.now();
    await checkpointer.stop();
    await checkpointer.stop();
    expect(Date.now() - started).toBeLessThan(2000);
    db.close();
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it("says so through ready when the file does not exist", async () => {
    const checkpointer = startCheckpointer(path.join(path.dirname(tempFile()), "missing.db"), {
      intervalMs: 20,
      logger,
    });
    await expect(checkpointer.ready).rejects.toThrow();
    await checkpointer.stop();
  });
});
