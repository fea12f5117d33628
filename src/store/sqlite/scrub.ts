/**
 * Scrub and match-key look-ups by phone hash, and the audit of hits (DESIGN §9: every hit is
 * visible to its owner for 13 months). Look-ups run in batches of one fixed size, so one
 * compiled statement serves 10,000 numbers.
 */
import type { ScrubHit } from "../../domain/model.js";
import {
  type OptOutRow,
  optOutFromRow,
  type ScrubHitRow,
  scrubHitFromRow,
  scrubHitToRow,
  type WindowRow,
  windowFromRow,
} from "../rows.js";
import { finishScrubRecords } from "../scrub-records.js";
import type { ScrubRecord, Store } from "../store.js";
import type { SqliteContext } from "./context.js";
import { prepared, whenWritable } from "./db.js";
import { insertSql } from "./sql.js";

type ScrubPart = Pick<Store, "scrubLookup" | "recordScrubHits" | "listScrubHits" | "purgeScrubHits">;

/** Hashes per statement: well under SQLite's 32,766 host parameters. */
export const SCRUB_BATCH = 500;

const PLACEHOLDERS = Array.from({ length: SCRUB_BATCH }, () => "?").join(", ");

/** Scrub operations of the SQLite store. */
export function createScrubPart({ db }: SqliteContext): ScrubPart {
  // Windows are reached through the owner's current phone hash (erased owners have none);
  // opt-outs carry their own hash and so survive /delete until they expire. Both queries must
  // start from the hash index: CROSS JOIN fixes the join order and `+` keeps the planner off
  // the insurer indexes (which would scan all of an insurer's records per batch). No ORDER BY
  // for the same reason; records are sorted per number below.
  const windowsByHash = prepared(
    db,
    `SELECT o.phone_hash AS scrub_hash, w.* FROM owners o CROSS JOIN windows w ON w.owner_id = o.id
     WHERE o.phone_hash IN (${PLACEHOLDERS}) AND +w.insurer_id = ?`,
  );
  const optOutsByHash = prepared(
    db,
    `SELECT * FROM opt_outs INDEXED BY opt_outs_phone WHERE phone_hash IN (${PLACEHOLDERS}) AND insurer_id = ?`,
  );

  const lookup = db.transaction((insurerId: string, hashes: readonly string[]) => {
    const found = new Map<string, ScrubRecord>();
    const recordFor = (hash: string) => {
      let record = found.get(hash);
      if (!record) {
        record = { windows: [], optOuts: [] };
        found.set(hash, record);
      }
      return record;
    };
    const unique = [...new Set(hashes)];
    for (let start = 0; start < unique.length; start += SCRUB_BATCH) {
      const batch = unique.slice(start, start + SCRUB_BATCH);
      // Padding repeats a hash of the batch: IN ignores duplicates, the statement stays one.
      const params = [...batch, ...Array<string>(SCRUB_BATCH - batch.length).fill(batch[0] ?? ""), insurerId];
      for (const row of windowsByHash.all(params) as (WindowRow & { scrub_hash: string })[]) {
        const record = recordFor(row.scrub_hash);
        record.windows.push(windowFromRow(row));
        record.ownerId ??= row.owner_id ?? undefined;
      }
      for (const row of optOutsByHash.all(params) as OptOutRow[]) {
        const record = recordFor(row.phone_hash);
        record.optOuts.push(optOutFromRow(row));
        record.ownerId ??= row.owner_id ?? undefined;
      }
    }
    return finishScrubRecords(found);
  });

  const insertHits = db.transaction((hits: readonly ScrubHit[]) => {
    for (const hit of hits) {
      const row = scrubHitToRow(hit);
      prepared(db, insertSql("scrub_hits", row)).run(row);
    }
  });
  const hitsOf = prepared(
    db,
    "SELECT * FROM scrub_hits WHERE owner_id = ? AND at >= ? ORDER BY at DESC, rowid DESC",
  );
  const purge = prepared(db, "DELETE FROM scrub_hits WHERE at < ?");

  // A transaction, so whenWritable can run it without blocking on the write lock.
  const purgeTx = db.transaction((before: string) => purge.run(before).changes);

  return {
    async scrubLookup(insurerId, phoneHashes) {
      // One read transaction: a consistent snapshot across all batches.
      return lookup.deferred(insurerId, phoneHashes);
    },
    async recordScrubHits(hits) {
      if (hits.length > 0) await whenWritable(db, insertHits, hits);
    },
    async listScrubHits(ownerId, since) {
      return (hitsOf.all(ownerId, since) as ScrubHitRow[]).map(scrubHitFromRow);
    },
    async purgeScrubHits(before) {
      return whenWritable(db, purgeTx, before);
    },
  };
}
