/** Opening the SQLite file: pragmas for a shared, crash-safe file, then migrations. */
import { mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { migrations } from "./migrations.js";

export type Db = Database.Database;

/** How long a write waits for another connection's write lock before it fails SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;
/** How long {@link whenWritable} polls without blocking before it waits inside SQLite. */
const POLL_FOR_MS = 1000;

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
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma("journal_mode = WAL");
    // NORMAL is durable against process crashes in WAL mode; only power loss can drop the
    // last commits, never corrupt the file.
    db.pragma("synchronous = NORMAL");
    // A commit checkpoints by itself only once the log passes 10,000 pages (40 MiB; SQLite's
    // default is 1,000). In serve the checkpointer thread copies the log back twice a second
    // well before that, and the longer the log between checkpoints, the fewer times a page that
    // is rewritten again and again (the tails of the feed and claim indexes) is copied: the
    // fan-out wrote 210 KiB per owner instead of 250 (bench/fanout.ts). Elsewhere (the CLI,
    // `onewindow dispatch`) it is the safety net it always was, just rarer.
    db.pragma("wal_autocheckpoint = 10000");
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

/** What one try at the write lock gave: the transaction's value, or "busy" (nothing applied). */
export type WriteTry<R> = { busy: true } | { busy: false; value: R };

/**
 * One try at running `txn` as an IMMEDIATE (write-locked) transaction with no busy wait: when
 * another connection holds the write lock, answers `busy` at once. Nothing is applied by a try
 * that is busy (BEGIN IMMEDIATE takes the lock before anything runs). See {@link whenWritable}.
 */
export function tryWrite<A extends unknown[], R>(
  db: Db,
  txn: { immediate(...args: A): R },
  ...args: A
): WriteTry<R> {
  prepared(db, "PRAGMA busy_timeout = 0").get();
  try {
    return { busy: false, value: txn.immediate(...args) };
  } catch (error) {
    if (isBusy(error) && !db.inTransaction) return { busy: true };
    throw error;
  } finally {
    prepared(db, `PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`).get();
  }
}

/** Per connection: the last write still waiting for the lock, so later ones queue behind it. */
const waitingWrites = new WeakMap<Db, Promise<unknown>>();

/**
 * Runs `txn` as an IMMEDIATE (write-locked) transaction without stalling the event loop while
 * another connection — the dispatcher thread, the checkpointer, another process — holds the
 * write lock. SQLite's own busy handler sleeps inside the call (1, 2, 5, 10 ms… per try), and
 * a thread asleep there answers no HTTP response and sends no webhook: the fan-out benchmark
 * found the dispatcher thread blocked there for 13 % of its time. So: {@link tryWrite}; when
 * the lock is taken, yield a millisecond and try again; after POLL_FOR_MS, wait inside SQLite
 * as before, so polling never starves a writer. Writes through one connection still apply in
 * the order they were asked for: while one waits, later ones wait behind it.
 */
export function whenWritable<A extends unknown[], R>(
  db: Db,
  txn: { immediate(...args: A): R },
  ...args: A
): Promise<R> {
  // Inside another transaction this would be a savepoint of it when run at once, yet its own
  // commit when queued: two different meanings, so neither is allowed.
  if (db.inTransaction) return Promise.reject(new Error("whenWritable called inside a transaction"));
  const ahead = waitingWrites.get(db);
  if (ahead === undefined) {
    try {
      const first = tryWrite(db, txn, ...args);
      if (!first.busy) return Promise.resolve(first.value);
    } catch (error) {
      return Promise.reject(error);
    }
  }
  const poll = () =>
    new Promise<R>((resolve, reject) => {
      const pollUntil = Date.now() + POLL_FOR_MS;
      const retry = () => {
        try {
          if (Date.now() >= pollUntil) {
            resolve(txn.immediate(...args));
            return;
          }
          const next = tryWrite(db, txn, ...args);
          if (next.busy) setTimeout(retry, 1);
          else resolve(next.value);
        } catch (error) {
          reject(error);
        }
      };
      // Queued behind another write: try at once (it has just taken and released the lock).
      if (ahead === undefined) setTimeout(retry, 1);
      else retry();
    });
  const written = ahead === undefined ? poll() : ahead.then(poll, poll);
  const settled = written.catch(() => undefined);
  waitingWrites.set(db, settled);
  void settled.then(() => {
    if (waitingWrites.get(db) === settled) waitingWrites.delete(db);
  });
  return written;
}

/** Resolves once every write waiting on this connection has ended (before closing it). */
export async function writesSettled(db: Db): Promise<void> {
  for (let waiting = waitingWrites.get(db); waiting !== undefined; waiting = waitingWrites.get(db)) {
    await waiting;
  }
}

/** Has the write lock been held by another connection for this long? Then block for it. */
export function pollingTooLong(since: number): boolean {
  return Date.now() - since >= POLL_FOR_MS;
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "SQLITE_BUSY" || (typeof code === "string" && code.startsWith("SQLITE_BUSY_"));
}
