/** What every store does to the scrub records it collected, so all backends answer alike. */
import type { ScrubRecord } from "./store.js";

/** (time, id) order, as the feeds and scrub answers use. */
export const byTimeThenId = (at1: string, id1: string, at2: string, id2: string) =>
  at1 < at2 ? -1 : at1 > at2 ? 1 : id1 < id2 ? -1 : id1 > id2 ? 1 : 0;

/** Drops an unknown owner id and puts windows and opt-outs in (time, id) order, in place. */
export function finishScrubRecords(found: Map<string, ScrubRecord>): Map<string, ScrubRecord> {
  for (const record of found.values()) {
    if (record.ownerId === undefined) delete record.ownerId;
    record.windows.sort((a, b) => byTimeThenId(a.opensAt, a.id, b.opensAt, b.id));
    record.optOuts.sort((a, b) => byTimeThenId(a.effectiveAt, a.id, b.effectiveAt, b.id));
  }
  return found;
}
