/** Which errors mean "the store cannot write right now" (store/faults.ts), from real ones. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { isStorageUnavailable } from "../../src/store/faults.js";
import { ConflictError } from "../../src/store/store.js";

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error("did not throw");
}

describe("isStorageUnavailable", () => {
  it("knows a real SQLite full database and a read-only one", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ow-faults-"));
    const db = new Database(path.join(dir, "x.db"));
    db.exec("CREATE TABLE t (v BLOB)");
    db.pragma("max_page_count = 3");
    const full = thrown(() => {
      for (;;) db.prepare("INSERT INTO t VALUES (?)").run(Buffer.alloc(4096));
    });
    expect((full as { code: string }).code).toBe("SQLITE_FULL");
    expect(isStorageUnavailable(full)).toBe(true);
    db.close();
    const ro = new Database(path.join(dir, "x.db"), { readonly: true });
    const readOnly = thrown(() => ro.prepare("INSERT INTO t VALUES (1)").run());
    expect(isStorageUnavailable(readOnly)).toBe(true);
    // A bug in a statement is ours, not the store's.
    expect(isStorageUnavailable(thrown(() => ro.prepare("SELECT nope FROM t").get()))).toBe(false);
    ro.close();
  });

  it("knows a full disk, Redis refusing writes and an unreachable server, also as a cause", () => {
    expect(isStorageUnavailable(Object.assign(new Error("write failed"), { code: "ENOSPC" }))).toBe(true);
    expect(isStorageUnavailable(new Error("OOM command not allowed when used memory > 'maxmemory'."))).toBe(
      true,
    );
    expect(isStorageUnavailable(new Error("MISCONF Redis is configured to save RDB snapshots"))).toBe(true);
    expect(isStorageUnavailable(new Error("READONLY You can't write against a read only replica."))).toBe(
      true,
    );
    expect(isStorageUnavailable(new Error("Connection is closed."))).toBe(true);
    expect(isStorageUnavailable(new TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } }))).toBe(
      true,
    );
    expect(
      isStorageUnavailable(
        new Error("apply failed", { cause: new Error("CLUSTERDOWN The cluster is down") }),
      ),
    ).toBe(true);
  });

  it("leaves our own faults and a busy owner alone", () => {
    expect(isStorageUnavailable(new TypeError("Cannot read properties of undefined"))).toBe(false);
    expect(isStorageUnavailable(new ConflictError())).toBe(false);
    expect(isStorageUnavailable("a string")).toBe(false);
    expect(isStorageUnavailable(undefined)).toBe(false);
    expect(isStorageUnavailable(new Error("ERR wrong number of arguments for 'hset' command"))).toBe(false);
  });
});
