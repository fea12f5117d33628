/** Opening the SQLite file: pragmas for a shared, crash-safe file, then migrations. */
import { mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { migrations } from "./migrations.js";

export type Db = Database.Database;

/**
 * Opens (creating if needed) the database at `file` and brings its schema up to date.
 * Safe when several processes open the same file at once: migrations run under an
 * immediate (write-locked) transaction that re-reads `user_version`.
 */
export function openDatabase(file: string): Db {
  if (file !== ":memory:") mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  const db = new Database(file);
  try {
    // Wait for another process's write lock instead of failing with SQLITE_BUSY at once.
    db.pragma("busy_timeout = 5000");
    db.pragma("journal_mode = WAL");
    // NORMAL is durable against process crashes in WAL mode; only power loss can drop the
    // last commits, never corrupt the file.
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    // 32 MiB of page cache (default 2 MiB): scrub look-ups hit random index pages.
    db.pragma("cache_size = -32768");
    // Reads through a memory map skip a copy per page: at 1M owners the scrub look-up's index
    // pages are read ~35 % faster (bench/scrub.ts). Address space only; the OS pages it in.
    db.pragma("mmap_size = 1073741824");
    migrate(db);
    // Savepoint and statement journals in memory, not temp files: each changeset of a group
    // commit runs in a savepoint, and its journal wrote ~370 KiB of temp file per agreement
    // (bench/fanout.ts). Set after the migrations, whose index builds may sort a lot.
    db.pragma("temp_store = MEMORY");
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

function migrate(db: Db): void {
  const current = () => Number(db.pragma("user_version", { simple: true }));
  if (current() >= migrations.length) return;
  db.transaction(() => {
    for (let version = current(); version < migrations.length; version++) {
      db.exec(migrations[version] ?? "");
      db.pragma(`user_version = ${version + 1}`);
    }
  }).immediate();
}

const statements = new WeakMap<Db, Map<string, Database.Statement>>();

/** `db.prepare(sql)`, compiled once per connection: changesets reuse a handful of statements. */
export function prepared(db: Db, sql: string): Database.Statement {
  let cache = statements.get(db);
  if (!cache) {
    cache = new Map();
    statements.set(db, cache);
  }
  let statement = cache.get(sql);
  if (!statement) {
    statement = db.prepare(sql);
    cache.set(sql, statement);
  }
  return statement;
}
